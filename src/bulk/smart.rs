//! SMART Backend Services authorisation (SMART App Launch IG, "Backend Services"): a client
//! assertion JWT signed with the client's private key, exchanged at the token endpoint
//! (`client_credentials` grant) for an access token, which is kept until shortly before it
//! expires. Neither the assertion nor the token is ever logged; the token is held as a
//! [`SecretString`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::session::{transport_kind, Endpoint};
use super::BulkError;

/// The scope asked for when none is configured: read access to every resource type, as a
/// system (SMART v1 syntax, which servers of both versions accept).
pub const DEFAULT_SCOPE: &str = "system/*.read";

/// How far ahead `exp` is set. The IG allows at most five minutes; a little less keeps a token
/// endpoint whose clock runs behind ours from finding it too far in the future.
const ASSERTION_LIFETIME_SECS: i64 = 240;

/// A token is refreshed this long before it expires (at most half its lifetime), so that a
/// request never leaves with a token that expires on the way.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The two algorithms the IG requires servers to support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    Rs384,
    Es384,
}

/// What the FHIR server's authorisation server knows this client by.
#[derive(Debug, Clone)]
pub struct BackendAuth {
    /// The client id registered at the authorisation server (`iss` and `sub` of the assertion).
    pub client_id: String,
    /// Path of the PEM private key (PKCS#8; PKCS#1 also for RSA).
    pub private_key_pem: PathBuf,
    /// The `kid` of the matching public key in the JWK Set registered for the client.
    pub key_id: String,
    pub algorithm: SigningAlgorithm,
    /// The token endpoint; `None`: read from `[base]/.well-known/smart-configuration`.
    pub token_url: Option<String>,
    /// The scope asked for ([`DEFAULT_SCOPE`] when `None`).
    pub scope: Option<String>,
}

struct Cached {
    token: SecretString,
    /// `None`: the server gave no `expires_in`; the token is used until it answers 401.
    refresh_at: Option<Instant>,
}

pub(super) struct TokenSource {
    client_id: String,
    key_id: String,
    algorithm: Algorithm,
    key: EncodingKey,
    scope: String,
    token_url: Mutex<Option<Url>>,
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct SmartConfiguration {
    token_endpoint: String,
}

fn http_url(s: &str, what: &str) -> Result<Url, BulkError> {
    let url = Url::parse(s).map_err(|e| BulkError::Settings(format!("{what}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BulkError::Settings(format!("{what} must be http or https")));
    }
    Ok(url)
}

impl TokenSource {
    pub fn new(auth: &BackendAuth) -> Result<TokenSource, BulkError> {
        let path = auth.private_key_pem.display();
        let pem = std::fs::read(&auth.private_key_pem)
            .map_err(|e| BulkError::Key(format!("{path}: {e}")))?;
        let (algorithm, key) = match auth.algorithm {
            SigningAlgorithm::Rs384 => (Algorithm::RS384, EncodingKey::from_rsa_pem(&pem)),
            SigningAlgorithm::Es384 => (Algorithm::ES384, EncodingKey::from_ec_pem(&pem)),
        };
        let key = key.map_err(|_| {
            BulkError::Key(format!("{path} is not a PEM private key for {algorithm:?}"))
        })?;
        let token_url = auth
            .token_url
            .as_deref()
            .map(|u| http_url(u, "token URL"))
            .transpose()?;
        if auth.client_id.is_empty() || auth.key_id.is_empty() {
            return Err(BulkError::Settings(
                "client_id and key_id are required for SMART Backend Services".into(),
            ));
        }
        let source = TokenSource {
            client_id: auth.client_id.clone(),
            key_id: auth.key_id.clone(),
            algorithm,
            key,
            scope: auth.scope.clone().unwrap_or_else(|| DEFAULT_SCOPE.into()),
            token_url: Mutex::new(token_url),
            cached: Mutex::new(None),
        };
        // Signing once now turns a key that cannot sign into a settings error at the start.
        source.assertion(&Url::parse("urn:check").expect("a valid URL"))?;
        Ok(source)
    }

    /// The client assertion for `aud` = the token endpoint.
    fn assertion(&self, aud: &Url) -> Result<String, BulkError> {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": aud.as_str(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.key_id.clone());
        header.typ = Some("JWT".into());
        encode(&header, &claims, &self.key)
            .map_err(|_| BulkError::Key("the key cannot sign a client assertion".into()))
    }

    /// A valid access token: the cached one, or a new one.
    pub async fn token(&self, endpoint: &Endpoint) -> Result<SecretString, BulkError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.refresh_at.is_none_or(|at| Instant::now() < at) {
                return Ok(c.token.clone());
            }
        }
        let fresh = self.request(endpoint).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (the server refused it).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn token_url(&self, endpoint: &Endpoint) -> Result<Url, BulkError> {
        let mut known = self.token_url.lock().await;
        if let Some(url) = known.as_ref() {
            return Ok(url.clone());
        }
        let well_known = Url::parse(&format!(
            "{}/.well-known/smart-configuration",
            endpoint.base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| BulkError::Settings(format!("FHIR base URL: {e}")))?;
        let what = "SMART configuration";
        // Sent directly, not through `Session::send`, which asks this source for a token.
        if !endpoint.allowed(&well_known) {
            return Err(BulkError::NotAllowed(what));
        }
        let resp = endpoint
            .http
            .get(well_known)
            .header("Accept", "application/json")
            .timeout(endpoint.request_timeout)
            .send()
            .await
            .map_err(|e| BulkError::Unreachable {
                what,
                kind: transport_kind(&e),
            })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(BulkError::Token(format!(
                "{what} answered HTTP {}; set the token URL",
                status.as_u16()
            )));
        }
        let config: SmartConfiguration = resp.json().await.map_err(|_| {
            BulkError::Token(format!("{what} has no token_endpoint; set the token URL"))
        })?;
        let url = http_url(
            &config.token_endpoint,
            "token_endpoint of the SMART configuration",
        )?;
        *known = Some(url.clone());
        Ok(url)
    }

    async fn request(&self, endpoint: &Endpoint) -> Result<Cached, BulkError> {
        let token_url = self.token_url(endpoint).await?;
        let assertion = self.assertion(&token_url)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &self.scope)
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", &assertion)
            .finish();
        let resp = endpoint
            .http
            .post(token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout(endpoint.request_timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| BulkError::Unreachable {
                what: "token endpoint",
                kind: transport_kind(&e),
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| BulkError::Unreachable {
            what: "token endpoint",
            kind: transport_kind(&e),
        })?;
        if !status.is_success() {
            let reason = serde_json::from_slice::<TokenRefusal>(&bytes)
                .map(|r| match r.error_description {
                    Some(d) => format!("{}: {}", r.error, d),
                    None => r.error,
                })
                .unwrap_or_else(|_| "no OAuth error in the answer".into());
            return Err(BulkError::Token(format!(
                "the token endpoint answered HTTP {} ({})",
                status.as_u16(),
                reason.chars().take(300).collect::<String>()
            )));
        }
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|_| BulkError::Token("the token answer has no access_token".into()))?;
        let refresh_at = answer.expires_in.map(|secs| {
            let lifetime = Duration::from_secs(secs);
            Instant::now() + lifetime - REFRESH_MARGIN.min(lifetime / 2)
        });
        tracing::debug!(
            expires_in = answer.expires_in,
            "bulk export: access token obtained"
        );
        Ok(Cached {
            token: SecretString::from(answer.access_token),
            refresh_at,
        })
    }
}
