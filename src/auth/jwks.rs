//! The JWK Set cache, one per application, for CDS client tokens and admin tokens alike. Only
//! URLs named in the configuration (a client's `jwks_url` and `jku_allowlist`, and
//! `admin.jwks_url`) have an entry, so a token can never make the service fetch anything else.
//! A set is fetched on first use and again when a `kid` is not in it or it is older than an
//! hour, but each URL is fetched at most once per refresh interval, so a flood of unknown
//! `kid`s costs at most one request per interval. Fetches have a short timeout, follow no
//! redirects (the injected client has none) and read at most [`MAX_JWKS_BYTES`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::metrics::Metrics;

/// Largest JWK Set read, in bytes.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Why a fetch failed when the document was read but is not a JWK Set.
const NOT_A_JWK_SET: &str = "not a JWK Set";
/// Timeout of one JWKS request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// A set older than this is refetched (throttled like any refresh) so removed keys expire.
const MAX_AGE: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Entry {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

/// Cached JWK Sets by URL.
pub struct JwksCache {
    http: reqwest::Client,
    entries: HashMap<String, Mutex<Entry>>,
    refresh: Duration,
    metrics: Option<Arc<Metrics>>,
}

/// The keys of a set with this `kid`; every key when the token names none (an identity
/// provider with one key may leave `kid` out).
fn matching(keys: &[Jwk], kid: Option<&str>) -> Vec<Jwk> {
    keys.iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .cloned()
        .collect()
}

/// Every JWKS URL the settings name: each client's `jwks_url` and `jku_allowlist`, and
/// `admin.jwks_url`.
pub fn configured_urls(settings: &crate::config::Settings) -> Vec<String> {
    let clients = settings
        .auth
        .clients
        .iter()
        .flat_map(|c| c.jwks_url.iter().chain(&c.jku_allowlist));
    let mut urls: Vec<String> = clients.chain(&settings.admin.jwks_url).cloned().collect();
    urls.sort_unstable();
    urls.dedup();
    urls
}

/// The usable public signing keys of a JWK Set document; `None` if it is not a JWK Set.
/// Keys that do not parse, symmetric or unknown key types and encryption keys are left out.
pub(super) fn parse_jwk_set(bytes: &[u8]) -> Option<Vec<Jwk>> {
    let doc: Value = serde_json::from_slice(bytes).ok()?;
    let keys = doc.get("keys")?.as_array()?;
    Some(
        keys.iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter(|k| {
                matches!(
                    k.algorithm,
                    AlgorithmParameters::EllipticCurve(_)
                        | AlgorithmParameters::RSA(_)
                        | AlgorithmParameters::OctetKeyPair(_)
                )
            })
            .filter(|k| k.common.public_key_use != Some(PublicKeyUse::Encryption))
            .collect(),
    )
}

impl JwksCache {
    /// A cache for exactly these URLs; each URL is fetched at most once per `refresh`. Nothing
    /// is fetched until a token needs a key, so the service starts while an identity provider
    /// is down.
    pub fn new(http: reqwest::Client, urls: Vec<String>, refresh: Duration) -> JwksCache {
        let entries = urls
            .into_iter()
            .map(|u| (u, Mutex::new(Entry::default())))
            .collect();
        JwksCache {
            http,
            entries,
            refresh,
            metrics: None,
        }
    }

    /// Counts every download in `metrics` (`cart_sentinel_jwks_fetches_total`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> JwksCache {
        self.metrics = Some(metrics);
        self
    }

    /// Whether a set was ever read from `url` (so its keys, possibly none, are known).
    pub async fn ever_fetched(&self, url: &str) -> bool {
        match self.entries.get(url) {
            Some(entry) => entry.lock().await.fetched.is_some(),
            None => false,
        }
    }

    /// Keys with this `kid` already cached for `url` (no fetch).
    pub(super) async fn cached(&self, url: &str, kid: &str) -> Vec<Jwk> {
        let Some(entry) = self.entries.get(url) else {
            return Vec::new();
        };
        let e = entry.lock().await;
        if e.fetched.is_some_and(|t| t.elapsed() < MAX_AGE) {
            matching(&e.keys, Some(kid))
        } else {
            Vec::new()
        }
    }

    /// Keys with this `kid` (every key for `None`) from `url`, fetching the set if it is
    /// missing, stale or lacks the `kid`, unless `url` was fetched less than one refresh
    /// interval ago.
    pub async fn keys_for(&self, url: &str, kid: Option<&str>) -> Vec<Jwk> {
        let Some(entry) = self.entries.get(url) else {
            return Vec::new();
        };
        let mut e = entry.lock().await;
        let found = matching(&e.keys, kid);
        let fresh = e.fetched.is_some_and(|t| t.elapsed() < MAX_AGE);
        if (fresh && !found.is_empty()) || e.attempted.is_some_and(|t| t.elapsed() < self.refresh) {
            return found;
        }
        e.attempted = Some(Instant::now());
        let fetched = self.fetch(url).await;
        if let Some(m) = &self.metrics {
            m.jwks_fetch(match &fetched {
                Ok(_) => "ok",
                Err(reason) if *reason == NOT_A_JWK_SET => "invalid",
                Err(_) => "error",
            });
        }
        match fetched {
            Ok(keys) => {
                e.keys = keys;
                e.fetched = Some(Instant::now());
            }
            Err(reason) => {
                tracing::warn!(
                    jwks.url = url,
                    reason,
                    "JWKS fetch failed; keeping cached keys"
                );
            }
        }
        matching(&e.keys, kid)
    }

    async fn fetch(&self, url: &str) -> Result<Vec<Jwk>, &'static str> {
        let mut resp = self
            .http
            .get(url)
            .header("Accept", "application/json, application/jwk-set+json")
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|_| "unreachable")?;
        if !resp.status().is_success() {
            return Err("non-success status (redirects are not followed)");
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err("too large");
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| "read failed")? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("too large");
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwk_set(&body).ok_or(NOT_A_JWK_SET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_signing_keys_are_kept() {
        let doc = br#"{"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "h"},
            {"kty": "EC", "crv": "P-384", "kid": "e", "use": "enc",
             "x": "AAAA", "y": "AAAA"},
            {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
            {"kty": "nonsense"}
        ]}"#;
        let keys = parse_jwk_set(doc).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].common.key_id.as_deref(), Some("r"));
        assert!(parse_jwk_set(b"[]").is_none());
    }
}
