//! Admin tokens: bearer JWTs from the organisation's identity provider, verified against a
//! configured PEM public key or JWKS (asymmetric algorithms only, never `none` or HMAC), with
//! scopes `rules:read`, `rules:write`, `audit:read`. A JWKS is read through the application's
//! one JWKS cache (the CDS clients' too): nothing is fetched at start-up, so the service starts
//! while the identity provider is down; admin calls answer 503 until its keys arrive, and a
//! rotated key is fetched on its first use (at most once per `auth.jwks_refresh_seconds`).
//!
//! In development mode with no key configured, a P-256 key pair is generated once under the data
//! directory (`admin-dev-key.pem`, mode 0600) and `cart-sentinel admin token` mints tokens with
//! it. In production with no key configured the admin API refuses every call.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::jwks::JwksCache;
use crate::config::{Mode, Settings};

/// Issuer of development tokens.
pub const DEV_ISSUER: &str = "cart-sentinel-dev";
const DEV_KEY_FILE: &str = "admin-dev-key.pem";

/// Who is calling the admin API, and what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's `sub`.
    pub subject: String,
    /// Granted scopes (`scope`, `scp` or `roles` claims).
    pub scopes: HashSet<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scp: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
}

struct Key {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// Verifies admin tokens.
pub struct AdminAuth {
    /// Keys known without a fetch: the PEM file, or the development key.
    keys: Vec<Key>,
    jwks_url: Option<String>,
    jwks: Arc<JwksCache>,
    algorithms: Vec<String>,
    issuer: Option<String>,
    audience: String,
}

fn allowed(configured: &[String], family: &[Algorithm]) -> Vec<Algorithm> {
    configured
        .iter()
        .filter_map(|a| a.parse::<Algorithm>().ok())
        .filter(|a| family.contains(a))
        .collect()
}

const RSA: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];

/// The development key file in a data directory.
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEV_KEY_FILE)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn pem_der(text: &str) -> anyhow::Result<Vec<u8>> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(base64::engine::general_purpose::STANDARD.decode(body.trim())?)
}

/// The development key pair (PKCS#8 DER), generated on first use.
pub fn ensure_dev_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dev_key_path(data_dir);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return pem_der(&text).with_context(|| format!("reading {}", path.display()));
    }
    std::fs::create_dir_all(data_dir)?;
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("generating the development admin key"))?;
    std::fs::write(&path, pem("PRIVATE KEY", pkcs8.as_ref()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(pkcs8.as_ref().to_vec())
}

fn dev_decoding_key(pkcs8: &[u8]) -> anyhow::Result<DecodingKey> {
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
        .map_err(|_| anyhow::anyhow!("the development admin key is not a P-256 PKCS#8 key"))?;
    let point = pair.public_key().as_ref();
    anyhow::ensure!(
        point.len() == 65 && point[0] == 4,
        "unexpected public key encoding"
    );
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Ok(DecodingKey::from_ec_components(
        &b64.encode(&point[1..33]),
        &b64.encode(&point[33..]),
    )?)
}

/// Mints a development admin token (the `admin token` command).
pub fn mint_dev_token(
    settings: &Settings,
    subject: &str,
    scopes: &[String],
    ttl_seconds: i64,
) -> anyhow::Result<String> {
    let pkcs8 = ensure_dev_key(&settings.storage.data_dir)?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: subject.to_owned(),
        exp: u64::try_from(now + ttl_seconds).unwrap_or(0),
        iat: u64::try_from(now).ok(),
        iss: Some(DEV_ISSUER.to_owned()),
        aud: Some(settings.admin.audience.clone()),
        scope: Some(scopes.join(" ")),
        scp: None,
        roles: None,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_der(&pkcs8),
    )?;
    Ok(token)
}

/// Why a token was refused (logged at debug, never returned to the caller).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No verification key is configured.
    #[error("admin authentication is not configured")]
    NotConfigured,
    /// No key for the token's `kid`.
    #[error("no key for this token")]
    UnknownKey,
    /// The identity provider's JWKS has not been read yet (it is down or unreachable).
    #[error("the identity provider's keys are not available yet")]
    KeysUnavailable,
    /// Signature, algorithm, expiry, audience or issuer check failed. Shown by its kind only:
    /// the library's message can quote claim values (a JSON error names the value it refused).
    #[error("token rejected: {}", rejection(.0))]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// The kind of a token's rejection, with no content of the token.
fn rejection(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not yet valid",
        K::InvalidSignature => "bad signature",
        K::InvalidAudience => "wrong audience",
        K::InvalidIssuer => "wrong issuer",
        K::InvalidSubject => "wrong subject",
        K::InvalidAlgorithm | K::MissingAlgorithm | K::InvalidAlgorithmName => {
            "algorithm not allowed"
        }
        K::MissingRequiredClaim(_) => "a required claim is missing",
        K::InvalidClaimFormat(_) | K::Json(_) => "claims are not as expected",
        _ => "malformed or unverifiable",
    }
}

/// A JWK from the identity provider's set as a verification key, for the algorithms of its
/// key type that `admin.algorithms` allows.
fn jwk_key(jwk: &Jwk, configured: &[String]) -> Option<Key> {
    let family = match jwk.algorithm {
        AlgorithmParameters::RSA(_) => RSA,
        AlgorithmParameters::EllipticCurve(_) => EC,
        _ => return None,
    };
    Some(Key {
        kid: jwk.common.key_id.clone(),
        key: DecodingKey::from_jwk(jwk).ok()?,
        algorithms: allowed(configured, family),
    })
}

impl AdminAuth {
    /// Keys from the settings: a PEM file, a JWKS URL read through `jwks` (which must hold
    /// `admin.jwks_url`: [`crate::auth::jwks::configured_urls`]), or in development with
    /// neither, the local development key.
    pub fn load(settings: &Settings, jwks: Arc<JwksCache>) -> anyhow::Result<AdminAuth> {
        let cfg = &settings.admin;
        let mut keys = Vec::new();
        if let Some(path) = &cfg.public_key_pem {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading admin.public_key_pem {}", path.display()))?;
            if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                keys.push(Key {
                    kid: None,
                    key,
                    algorithms: allowed(&cfg.algorithms, RSA),
                });
            } else {
                let key = DecodingKey::from_ec_pem(&pem)
                    .context("admin.public_key_pem is neither an RSA nor an EC public key")?;
                keys.push(Key {
                    kid: None,
                    key,
                    algorithms: allowed(&cfg.algorithms, EC),
                });
            }
        }
        let mut issuer = cfg.issuer.clone();
        if keys.is_empty() && cfg.jwks_url.is_none() && settings.server.mode == Mode::Development {
            let pkcs8 = ensure_dev_key(&settings.storage.data_dir)?;
            keys.push(Key {
                kid: None,
                key: dev_decoding_key(&pkcs8)?,
                algorithms: vec![Algorithm::ES256],
            });
            issuer = Some(DEV_ISSUER.to_owned());
        }
        if keys.is_empty() && cfg.jwks_url.is_none() {
            tracing::warn!("no admin key configured (admin.public_key_pem or admin.jwks_url): the admin API refuses every call");
        }
        Ok(AdminAuth {
            keys,
            jwks_url: cfg.jwks_url.clone(),
            jwks,
            algorithms: cfg.algorithms.clone(),
            issuer,
            audience: cfg.audience.clone(),
        })
    }

    /// Verifies a bearer token; no claim is read before the signature verifies.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        if self.keys.is_empty() && self.jwks_url.is_none() {
            return Err(TokenError::NotConfigured);
        }
        let header = jsonwebtoken::decode_header(token)?;
        let fits = |k: &Key| {
            k.algorithms.contains(&header.alg)
                && (header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
        };
        let mut fetched = Vec::new();
        if let Some(url) = &self.jwks_url {
            let jwks = self.jwks.keys_for(url, header.kid.as_deref()).await;
            fetched.extend(jwks.iter().filter_map(|j| jwk_key(j, &self.algorithms)));
            if fetched.is_empty() && self.keys.is_empty() && !self.jwks.ever_fetched(url).await {
                return Err(TokenError::KeysUnavailable);
            }
        }
        let mut last = TokenError::UnknownKey;
        for k in self.keys.iter().chain(&fetched).filter(|k| fits(k)) {
            let mut v = Validation::new(header.alg);
            v.algorithms = k.algorithms.clone();
            v.set_audience(&[&self.audience]);
            if let Some(iss) = &self.issuer {
                v.set_issuer(&[iss]);
            }
            v.leeway = 30;
            v.set_required_spec_claims(&["exp", "sub", "aud"]);
            match jsonwebtoken::decode::<Claims>(token, &k.key, &v) {
                Ok(data) => {
                    let c = data.claims;
                    let mut scopes: HashSet<String> = c
                        .scope
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect();
                    scopes.extend(c.scp.unwrap_or_default());
                    scopes.extend(c.roles.unwrap_or_default());
                    return Ok(Principal {
                        subject: c.sub,
                        scopes,
                    });
                }
                Err(e) => last = TokenError::Invalid(e),
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::errors::{Error, ErrorKind};

    /// What is logged of a refused token names the kind of refusal and none of its content,
    /// even when the library's own message quotes a claim value.
    #[test]
    fn a_refusal_is_logged_by_its_kind_only() {
        let expired = TokenError::Invalid(Error::from(ErrorKind::ExpiredSignature));
        assert_eq!(expired.to_string(), "token rejected: expired");
        let json = serde_json::from_str::<u64>("\"patient-mrn-12345\"").unwrap_err();
        let claims = Error::from(json);
        assert!(claims.to_string().contains("patient-mrn-12345"));
        let shown = TokenError::Invalid(claims).to_string();
        assert_eq!(shown, "token rejected: claims are not as expected");
    }
}
