//! CDS client authentication: JWT verification, JWKS cache, replay protection (issue #5, in progress).
