//! A mock Bulk Data export server that follows the IG: a SMART configuration, a token endpoint
//! that verifies the client assertion (signature with the registered public key, `aud`,
//! `iss` = `sub` = client id, `exp` at most five minutes ahead, `jti` never seen) and issues
//! short-lived tokens, and data endpoints that check the bearer token on every request.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use base64::Engine;
use cart_sentinel::bulk::{BackendAuth, BulkSettings, SigningAlgorithm};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, EncodingKey, Validation};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "cart-sentinel-population";
pub const KID: &str = "bulk-key-1";

/// A client key pair: the private key as a PEM file (what an operator configures), the public
/// key as the JWK the authorisation server has registered.
pub struct ClientKey {
    pub pem: PathBuf,
    pub alg: Algorithm,
    pub public: DecodingKey,
}

fn write_pem(dir: &Path, der: &[u8]) -> PathBuf {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let text = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let path = dir.join("client-key.pem");
    std::fs::write(&path, text).unwrap();
    path
}

impl ClientKey {
    pub fn es384(dir: &Path) -> ClientKey {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        ClientKey::from_pem(write_pem(dir, pkcs8.as_ref()), Algorithm::ES384)
    }

    pub fn rs384(dir: &Path) -> ClientKey {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der = pair.as_der().unwrap();
        ClientKey::from_pem(write_pem(dir, der.as_ref()), Algorithm::RS384)
    }

    fn from_pem(pem: PathBuf, alg: Algorithm) -> ClientKey {
        let text = std::fs::read(&pem).unwrap();
        let private = match alg {
            Algorithm::ES384 => EncodingKey::from_ec_pem(&text),
            _ => EncodingKey::from_rsa_pem(&text),
        }
        .unwrap();
        let jwk: Jwk = Jwk::from_encoding_key(&private, alg).unwrap();
        ClientKey {
            pem,
            alg,
            public: DecodingKey::from_jwk(&jwk).unwrap(),
        }
    }

    pub fn auth(&self) -> BackendAuth {
        BackendAuth {
            client_id: CLIENT_ID.into(),
            private_key_pem: self.pem.clone(),
            key_id: KID.into(),
            algorithm: match self.alg {
                Algorithm::ES384 => SigningAlgorithm::Es384,
                _ => SigningAlgorithm::Rs384,
            },
            token_url: None,
            scope: None,
        }
    }
}

/// What the mock saw; the tests assert on it.
#[derive(Default)]
pub struct Seen {
    pub token_requests: AtomicUsize,
    /// Data requests without a valid, unexpired token (answered 401).
    pub refused: AtomicUsize,
    /// Why assertions were refused.
    pub assertion_problems: Mutex<Vec<String>>,
    jtis: Mutex<HashSet<String>>,
    tokens: Mutex<Vec<(String, Instant)>>,
}

impl Seen {
    pub fn token_is_valid(&self, authorization: Option<&str>) -> bool {
        let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
            return false;
        };
        let now = Instant::now();
        self.tokens
            .lock()
            .unwrap()
            .iter()
            .any(|(t, until)| t == token && now < *until)
    }

    /// Every access token issued so far.
    pub fn issued(&self) -> Vec<String> {
        let tokens = self.tokens.lock().unwrap();
        tokens.iter().map(|(t, _)| t.clone()).collect()
    }

    pub fn tokens(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }
}

struct TokenEndpoint {
    seen: Arc<Seen>,
    public: DecodingKey,
    alg: Algorithm,
    token_url: String,
    ttl: Duration,
}

impl TokenEndpoint {
    fn check(&self, request: &Request) -> Result<(), String> {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or(format!("no {name}"))
        };
        if field("grant_type")? != "client_credentials" {
            return Err("grant_type".into());
        }
        if field("client_assertion_type")?
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        {
            return Err("client_assertion_type".into());
        }
        if field("scope")? != "system/*.read" {
            return Err("scope".into());
        }
        let assertion = field("client_assertion")?;
        let header = decode_header(&assertion).map_err(|e| format!("header: {e}"))?;
        if header.kid.as_deref() != Some(KID) || header.typ.as_deref() != Some("JWT") {
            return Err("kid or typ".into());
        }
        let mut validation = Validation::new(self.alg);
        validation.set_audience(&[&self.token_url]);
        validation.set_issuer(&[CLIENT_ID]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.sub = Some(CLIENT_ID.into());
        validation.leeway = 0;
        let claims: Value = decode(&assertion, &self.public, &validation)
            .map_err(|e| format!("assertion: {e}"))?
            .claims;
        let exp = claims["exp"].as_i64().unwrap_or(0);
        if exp > chrono::Utc::now().timestamp() + 300 {
            return Err("exp more than five minutes ahead".into());
        }
        let jti = claims["jti"].as_str().ok_or("no jti")?.to_owned();
        if !self.seen.jtis.lock().unwrap().insert(jti) {
            return Err("jti replayed".into());
        }
        Ok(())
    }
}

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.seen.token_requests.fetch_add(1, Ordering::SeqCst);
        if let Err(problem) = self.check(request) {
            self.seen.assertion_problems.lock().unwrap().push(problem);
            return ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}));
        }
        let token = uuid::Uuid::new_v4().to_string();
        self.seen
            .tokens
            .lock()
            .unwrap()
            .push((token.clone(), Instant::now() + self.ttl));
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "bearer",
            "expires_in": self.ttl.as_secs(), "scope": "system/*.read"}))
    }
}

/// Answers `inner` only to a request with a valid token; 401 otherwise.
pub struct Authed<R>(pub Arc<Seen>, pub R);

impl<R: Respond> Respond for Authed<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if self.0.token_is_valid(auth) {
            self.1.respond(request)
        } else {
            self.0.refused.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(401)
        }
    }
}

/// The given answers in turn; the last one again and again.
pub struct Sequence {
    answers: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Sequence {
    pub fn new(answers: Vec<ResponseTemplate>) -> Sequence {
        Sequence {
            answers,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.answers[n.min(self.answers.len() - 1)].clone()
    }
}

/// The mock server with its authorisation server mounted.
pub struct ExportServer {
    pub server: MockServer,
    pub seen: Arc<Seen>,
    pub key: ClientKey,
    _dir: tempfile::TempDir,
}

impl ExportServer {
    /// A server whose tokens live `ttl`, trusting a fresh key of `alg`.
    pub async fn start(alg: Algorithm, ttl: Duration) -> ExportServer {
        let dir = tempfile::tempdir().unwrap();
        let key = match alg {
            Algorithm::ES384 => ClientKey::es384(dir.path()),
            _ => ClientKey::rs384(dir.path()),
        };
        let server = MockServer::start().await;
        let seen = Arc::new(Seen::default());
        let token_url = format!("{}/auth/token", server.uri());
        Mock::given(method("GET"))
            .and(path("/fhir/.well-known/smart-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_endpoint": token_url,
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"]})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(TokenEndpoint {
                seen: seen.clone(),
                public: key.public.clone(),
                alg,
                token_url,
                ttl,
            })
            .mount(&server)
            .await;
        ExportServer {
            server,
            seen,
            key,
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("{}/fhir", self.server.uri())
    }

    /// Settings for this server with fast polling: the allowlist is exactly this server.
    pub fn settings(&self) -> BulkSettings {
        let mut s = BulkSettings::new(&self.base(), vec![self.server.uri()]);
        s.auth = Some(self.key.auth());
        s.poll_min = Duration::from_millis(10);
        s.poll_max = Duration::from_millis(200);
        s.deadline = Duration::from_secs(20);
        s.request_timeout = Duration::from_secs(5);
        s.read_timeout = Duration::from_secs(5);
        s
    }

    /// An export job: the kick-off at `kick_off` answers 202 with the status URL
    /// `/status/job-1`, which gives `status` answers in turn; `DELETE` on it answers 202.
    pub async fn job(&self, kick_off: &str, status: Vec<ResponseTemplate>) {
        let location = format!("{}/status/job-1", self.server.uri());
        let accepted =
            ResponseTemplate::new(202).insert_header("Content-Location", location.as_str());
        self.serve("GET", kick_off, accepted).await;
        self.serve("GET", "/status/job-1", Sequence::new(status))
            .await;
        self.serve("DELETE", "/status/job-1", ResponseTemplate::new(202))
            .await;
    }

    /// Mounts `respond` behind the token check for `verb` on `at`.
    pub async fn serve(&self, verb: &str, at: &str, respond: impl Respond + 'static) {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(Authed(self.seen.clone(), respond))
            .mount(&self.server)
            .await;
    }
}
