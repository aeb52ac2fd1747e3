//! CDS client authentication: the CDS Hooks 2.0 client JWT (spec §Trusting CDS Clients).
//!
//! [`Verifier::verify`] checks a bearer token against the configured trusted clients
//! (`[[auth.clients]]`): `typ`, `kid` and `alg` from the header (only [`jsonwebtoken::decode_header`]
//! is read before the signature is checked, and only to pick the key), the signature with a key
//! from the client's JWK Set ([`jwks`]), then `iss`, `aud`, `exp`, `iat`, `tenant` ([`claims`]),
//! and last the `jti`, which the store remembers until `exp` so that a replay is refused on
//! every replica. A `jku` that is not on a client's allowlist is never fetched.
//!
//! A rejection is logged at debug level with its reason and, once the signature has verified,
//! the token's `iss` and `jti`; the token itself is never logged. The HTTP layer answers every
//! rejection with a bare 401. Must not import `actix_web`.

mod claims;
mod clients;
mod jwks;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use url::Url;

use crate::config::AuthSettings;
use crate::storage::{Store, StoreError};
pub use claims::audience_for;
use clients::TrustedClient;
use jwks::JwksCache;

/// Why a CDS client was not authenticated. `Display` is safe to log: it never quotes the token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    Missing,
    /// The header is not a readable JWS header (this includes `alg: none`).
    #[error("token header is unreadable or names an unknown algorithm")]
    Malformed,
    /// `typ` is absent or not `JWT`.
    #[error("token typ is not JWT")]
    Type,
    /// No `kid` in the header.
    #[error("token header has no kid")]
    NoKid,
    /// `alg` is not on the allowlist (HMAC and `none` never are).
    #[error("algorithm is not allowed")]
    Algorithm,
    /// The header names a `jku` that no trusted client may use; it was not fetched.
    #[error("jku is not on any client's allowlist")]
    JkuNotAllowed,
    /// No trusted key has this `kid` (after at most one throttled refresh).
    #[error("no trusted key has this kid")]
    UnknownKey,
    /// The signature does not verify with any trusted key of that `kid`.
    #[error("signature does not verify")]
    Signature,
    /// `iss` is not the client the verifying key belongs to, or not configured at all.
    #[error("iss is not a trusted client")]
    UnknownIssuer,
    /// A required claim is missing or of the wrong type.
    #[error("claim {0} is missing or invalid")]
    Claim(&'static str),
    /// `aud` does not name the endpoint called.
    #[error("aud is not this endpoint")]
    Audience,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `tenant` differs from the client's configured tenant.
    #[error("tenant is not allowed")]
    Tenant,
    /// This `jti` was seen before.
    #[error("jti replayed")]
    Replay,
    /// The replay cache could not be consulted.
    #[error("replay cache unavailable")]
    Store(#[from] StoreError),
    /// The `[auth]` settings are unusable (reported at startup).
    #[error("invalid auth configuration: {0}")]
    Config(String),
}

/// An authenticated CDS client, as placed in the request extensions by the middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdsClient {
    /// The client's `iss`.
    pub iss: String,
    /// The token's `jti` (safe to log).
    pub jti: String,
    /// The client's configured tenant, if any.
    pub tenant: Option<String>,
    /// The FHIR base URLs this client may name as `fhirServer`.
    pub fhir_servers: Vec<Url>,
}

/// Verifies CDS client tokens; one per application, shared by all workers.
pub struct Verifier {
    clients: Vec<TrustedClient>,
    algorithms: Vec<Algorithm>,
    leeway: i64,
    jwks: JwksCache,
    store: Arc<dyn Store>,
}

/// The token's `iss` and `jti`, known only once its signature verified (for the debug log).
#[derive(Default)]
struct Seen {
    iss: Option<String>,
    jti: Option<String>,
}

impl Verifier {
    /// Builds a verifier from `[auth]`. `http` should not follow redirects (see
    /// [`crate::fhir::http_client`]). Fails on an unparsable inline JWKS or URL, or when no
    /// usable algorithm is left once `none` and HMAC are removed.
    pub fn new(
        settings: &AuthSettings,
        http: reqwest::Client,
        store: Arc<dyn Store>,
    ) -> Result<Verifier, AuthError> {
        let algorithms = clients::algorithms(&settings.algorithms)?;
        let clients = settings
            .clients
            .iter()
            .map(TrustedClient::from_settings)
            .collect::<Result<Vec<_>, _>>()?;
        let urls = clients.iter().flat_map(TrustedClient::urls).collect();
        let refresh = Duration::from_secs(settings.jwks_refresh_seconds);
        Ok(Verifier {
            clients,
            algorithms,
            leeway: i64::try_from(settings.leeway_seconds).unwrap_or(i64::MAX),
            jwks: JwksCache::new(http, urls, refresh),
            store,
        })
    }

    /// Counts every JWKS download in `metrics` (`cart_sentinel_jwks_fetches_total`).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Verifier {
        self.jwks.metrics = Some(metrics);
        self
    }

    /// Verifies `token` for a call to the endpoint whose absolute URL is `audience`, at `now`.
    /// Logs the reason of a rejection at debug level (never the token).
    pub async fn verify(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<CdsClient, AuthError> {
        let mut seen = Seen::default();
        let result = self.verify_inner(token, audience, now, &mut seen).await;
        if let Err(e) = &result {
            tracing::debug!(auth.iss = seen.iss, auth.jti = seen.jti, reason = %e, "CDS client rejected");
        }
        result
    }

    async fn verify_inner(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
        seen: &mut Seen,
    ) -> Result<CdsClient, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("JWT"))
        {
            return Err(AuthError::Type);
        }
        let kid = header.kid.as_deref().ok_or(AuthError::NoKid)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(AuthError::Algorithm);
        }
        let candidates = match header.jku.as_deref() {
            Some(jku) => {
                let owners: Vec<_> = self.clients.iter().filter(|c| c.allows_jku(jku)).collect();
                if owners.is_empty() {
                    return Err(AuthError::JkuNotAllowed);
                }
                let keys = self.jwks.keys_for(jku, kid).await;
                owners
                    .into_iter()
                    .flat_map(|c| keys.iter().map(move |k| (c, k.clone())))
                    .collect::<Vec<_>>()
            }
            None => self.keys_without_jku(kid).await,
        };
        if candidates.is_empty() {
            return Err(AuthError::UnknownKey);
        }
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let verified = candidates.iter().find_map(|(_, jwk)| {
            if !claims::key_fits(jwk, header.alg) {
                return None;
            }
            let key = DecodingKey::from_jwk(jwk).ok()?;
            let data = decode::<serde_json::Value>(token, &key, &validation).ok()?;
            Some((jwk, data.claims))
        });
        let (jwk, raw) = verified.ok_or(AuthError::Signature)?;
        let claims = claims::Claims::read(&raw)?;
        seen.iss = Some(claims.iss.clone());
        seen.jti = Some(claims.jti.clone());
        // The key that verified must belong to the client the token names (a key may be shared).
        let client = candidates
            .iter()
            .find(|(c, k)| k == jwk && c.iss == claims.iss)
            .map(|(c, _)| *c)
            .ok_or(AuthError::UnknownIssuer)?;
        claims.check(audience, now.timestamp(), self.leeway)?;
        if let Some(tenant) = &client.tenant {
            if claims.tenant.as_deref() != Some(tenant.as_str()) {
                return Err(AuthError::Tenant);
            }
        }
        let expires = DateTime::from_timestamp(claims.exp.saturating_add(self.leeway), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if !self
            .store
            .remember_jti(&claims.iss, &claims.jti, expires)
            .await?
        {
            return Err(AuthError::Replay);
        }
        Ok(CdsClient {
            iss: claims.iss,
            jti: claims.jti,
            tenant: client.tenant.clone(),
            fhir_servers: client.fhir_servers.clone(),
        })
    }

    /// Keys with this `kid` from every client's inline and `jwks_url` sets (no `jku` given).
    async fn keys_without_jku(&self, kid: &str) -> Vec<(&TrustedClient, jsonwebtoken::jwk::Jwk)> {
        let mut out = Vec::new();
        for client in &self.clients {
            out.extend(client.inline_keys(kid).map(|k| (client, k.clone())));
            if let Some(url) = &client.jwks_url {
                let cached = self.jwks.cached(url, kid).await;
                out.extend(cached.into_iter().map(|k| (client, k)));
            }
        }
        if !out.is_empty() {
            return out;
        }
        // Not known yet: fetch or refresh, each URL at most once per refresh interval.
        for client in &self.clients {
            if let Some(url) = &client.jwks_url {
                let fetched = self.jwks.keys_for(url, kid).await;
                out.extend(fetched.into_iter().map(|k| (client, k)));
            }
        }
        out
    }
}
