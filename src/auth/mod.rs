//! CDS client authentication: the CDS Hooks 2.0 client JWT (spec §Trusting CDS Clients).
//!
//! [`Verifier::verify`] checks a bearer token against the configured trusted clients
//! (`[[auth.clients]]`): `typ`, `kid` and `alg` from the header (only [`jsonwebtoken::decode_header`]
//! is read before the signature is checked, and only to pick the key), the signature with a key
//! from the client's JWK Set ([`jwks`]) with `iss`, `aud`, `exp` and `nbf` checked by
//! jsonwebtoken's own `Validation`, then what it cannot check ([`claims`]): `iat`, `tenant`, and
//! last the `jti`, which the store remembers until `exp` so that a replay is refused on every
//! replica; while the store is unavailable, this replica remembers it in memory ([`replay`]).
//! A `jku` that is not on a client's allowlist is never fetched.
//!
//! A rejection is logged at debug level with its reason and, once the signature has verified,
//! the token's `iss` and `jti`; the token itself is never logged. The HTTP layer answers every
//! rejection with the same 401. Must not import `actix_web`.

mod claims;
mod clients;
pub mod jwks;
mod replay;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey};
use url::Url;

use crate::config::AuthSettings;
use crate::storage::{Store, StoreError};
pub use claims::audience_for;
use clients::TrustedClient;
use jwks::JwksCache;
use replay::{Remembered, ReplayWindow};

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
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
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
    /// The hosts this client shows links to, when it says (`link_hosts`).
    pub link_hosts: Option<Vec<String>>,
    /// The FHIR base URLs this client may name as `fhirServer`.
    pub fhir_servers: Vec<Url>,
}

/// Verifies CDS client tokens; one per application, shared by all workers.
pub struct Verifier {
    clients: Vec<TrustedClient>,
    algorithms: Vec<Algorithm>,
    leeway: u64,
    jwks: Arc<JwksCache>,
    store: Arc<dyn Store>,
    replays: ReplayWindow,
}

impl Verifier {
    /// Builds a verifier from `[auth]`, reading keys through the application's `jwks` cache
    /// (which must hold every client's URLs: [`jwks::configured_urls`]). Fails on an unparsable
    /// inline JWKS or URL, or when no usable algorithm is left once `none` and HMAC are removed.
    pub fn new(
        settings: &AuthSettings,
        jwks: Arc<JwksCache>,
        store: Arc<dyn Store>,
    ) -> Result<Verifier, AuthError> {
        let algorithms = clients::algorithms(&settings.algorithms)?;
        let clients = settings
            .clients
            .iter()
            .map(TrustedClient::from_settings)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Verifier {
            clients,
            algorithms,
            leeway: settings.leeway_seconds,
            jwks,
            store,
            replays: ReplayWindow::new(replay::CAPACITY),
        })
    }

    /// Verifies `token` for a call to the endpoint whose absolute URL is `audience`, at `now`.
    /// Logs the reason of a rejection at debug level (never the token).
    pub async fn verify(
        &self,
        token: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<CdsClient, AuthError> {
        let mut seen = claims::Seen::default();
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
        seen: &mut claims::Seen,
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
                let keys = self.jwks.keys_for(jku, Some(kid)).await;
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
        // Each candidate key with its client's `iss`: the first that verifies the signature and
        // the library's claim checks wins. A refusal after a verified signature names its
        // reason; otherwise the signature did not verify with any key.
        let mut refused = AuthError::Signature;
        let mut verified = None;
        for (client, jwk) in &candidates {
            if !claims::key_fits(jwk, header.alg) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let aud = client.audience.as_deref().unwrap_or(audience);
            let rules = claims::validation(header.alg, &client.iss, aud, self.leeway);
            match decode::<claims::Claims>(token, &key, &rules) {
                Ok(data) => {
                    verified = Some((*client, data.claims));
                    break;
                }
                Err(e) => {
                    if let Some(reason) = claims::refusal(&e) {
                        refused = reason;
                        // The signature verified with this key, so its iss and jti may be logged.
                        *seen = jsonwebtoken::dangerous::insecure_decode::<claims::Seen>(token)
                            .map(|d| d.claims)
                            .unwrap_or_default();
                    }
                }
            }
        }
        let (client, claims) = verified.ok_or(refused)?;
        seen.iss = Some(claims.iss.clone());
        seen.jti.clone_from(&claims.jti);
        let leeway = i64::try_from(self.leeway).unwrap_or(i64::MAX);
        claims.check(now.timestamp(), leeway)?;
        if let Some(tenant) = &client.tenant {
            if claims.tenant.as_deref() != Some(tenant.as_str()) {
                return Err(AuthError::Tenant);
            }
        }
        let jti = claims.jti.unwrap_or_default();
        let expires = DateTime::from_timestamp(claims.exp.saturating_add(leeway), 0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.remember(&claims.iss, &jti, expires, now).await?;
        Ok(CdsClient {
            iss: claims.iss,
            jti,
            tenant: client.tenant.clone(),
            link_hosts: client.link_hosts.clone(),
            fhir_servers: client.fhir_servers.clone(),
        })
    }

    /// Records the `jti` in the store, or in this replica's memory while the store is
    /// unavailable; a `jti` seen before, in either, is a replay.
    async fn remember(
        &self,
        iss: &str,
        jti: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        if self.replays.contains(iss, jti, now) {
            return Err(AuthError::Replay);
        }
        let unavailable = if self.replays.store_away(now) {
            StoreError::timed_out()
        } else {
            match self.store.remember_jti(iss, jti, expires).await {
                Ok(true) => return Ok(()),
                Ok(false) => return Err(AuthError::Replay),
                Err(e @ StoreError::Unavailable(_)) => {
                    self.replays.store_failed(now);
                    e
                }
                Err(e) => return Err(e.into()),
            }
        };
        match self.replays.remember(iss, jti, expires, now) {
            Remembered::New => {
                tracing::debug!("replay cache unavailable; jti remembered in memory");
                Ok(())
            }
            Remembered::Replay => Err(AuthError::Replay),
            Remembered::Full => Err(unavailable.into()),
        }
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
                let fetched = self.jwks.keys_for(url, Some(kid)).await;
                out.extend(fetched.into_iter().map(|k| (client, k)));
            }
        }
        out
    }
}
