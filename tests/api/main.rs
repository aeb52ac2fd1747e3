//! The integration test binary: the real service over HTTP.
mod call;
mod discovery;
mod feedback;
mod fixtures;
mod helpers;
mod malformed;
mod prefetch;
