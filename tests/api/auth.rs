//! CDS client authentication (the standard's JWT): every rejection is the same 401 with
//! `WWW-Authenticate: Bearer` and one OperationOutcome, and valid ES384 and RS384 tokens from a JWKS served by the test
//! are accepted on discovery, service and feedback calls. Key discovery and per-client
//! settings are in `auth/keys.rs` and `auth/clients.rs`.

mod admin_keys;
mod clients;
mod keys;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

use cart_sentinel::config::{ClientSettings, Settings};

use crate::helpers::{patient_view, spawn_with, TestApp};
use crate::signer::{self, claims, serve_jwks, unsigned, Signer, ISS};

/// An application requiring client JWTs, one trusted client (`ISS`) whose ES384 and RS384
/// keys are served by `jwks`.
pub struct AuthApp {
    pub app: TestApp,
    pub jwks: MockServer,
    pub es: Signer,
    pub rs: Signer,
}

impl AuthApp {
    /// The `aud` of an endpoint path (`/cds-services`, `/cds-services/x`…).
    pub fn aud(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    /// Sends `body` (GET when `None`) to `path` with `token` as bearer, if any.
    pub async fn send(
        &self,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let url = format!("{}{path}", self.app.address);
        let mut req = match body {
            Some(b) => self.app.client.post(url).json(b),
            None => self.app.client.get(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// A hook call to `cart-monitoring` carrying `token`.
    pub async fn call(&self, token: &str) -> StatusCode {
        let body = patient_view("p1");
        self.send("/cds-services/cart-monitoring", Some(token), Some(&body))
            .await
            .status()
    }

    /// A valid token for a hook call to `cart-monitoring`.
    pub fn call_token(&self) -> String {
        self.es
            .sign(&claims(&self.aud("/cds-services/cart-monitoring")))
    }
}

/// Spawns an [`AuthApp`]; `client` adjusts the trusted client (its `fhir_servers` default to the
/// app's wiremock FHIR server), `settings` the rest.
pub async fn spawn_auth_with(
    client: impl FnOnce(&mut ClientSettings),
    settings: impl FnOnce(&mut Settings),
) -> AuthApp {
    let jwks = MockServer::start().await;
    let (es, rs) = (Signer::es384("es-1"), Signer::rs384("rs-1"));
    serve_jwks(&jwks, signer::jwks(&[&es, &rs])).await;
    let jwks_url = format!("{}/jwks.json", jwks.uri());
    let app = spawn_with(|s| {
        let mut c = ClientSettings {
            iss: ISS.into(),
            jwks_url: Some(jwks_url),
            jku_allowlist: Vec::new(),
            jwks: None,
            fhir_servers: s.fhir.allowed_servers.clone().unwrap_or_default(),
            tenant: None,
            audience: None,
            link_hosts: None,
        };
        client(&mut c);
        s.auth.required = Some(true);
        s.auth.clients = vec![c];
        settings(s);
    })
    .await;
    AuthApp { app, jwks, es, rs }
}

pub async fn spawn_auth() -> AuthApp {
    spawn_auth_with(|_| {}, |_| {}).await
}

/// Asserts the one 401 every rejection gets: `WWW-Authenticate: Bearer` and the same
/// OperationOutcome whatever the cause (a body that differed by cause would tell an attacker
/// which check failed).
pub async fn assert_401(resp: reqwest::Response, case: &str) {
    assert_eq!(resp.status(), 401, "{case}");
    assert_eq!(resp.headers()["www-authenticate"], "Bearer", "{case}");
    let body: Value = resp.json().await.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(
        body,
        json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error",
            "code": "login", "diagnostics": "a valid bearer token is required"}]}),
        "{case}"
    );
}

fn feedback_body() -> Value {
    json!({"feedback": [{"card": "0d3a5c39-1e36-4bfa-9b9f-4f0c3fa0f4c1", "outcome": "overridden",
        "outcomeTimestamp": "2026-06-15T12:05:31Z"}]})
}

#[tokio::test]
async fn valid_es384_and_rs384_tokens_are_accepted_on_discovery_service_and_feedback_calls() {
    let t = spawn_auth().await;
    for signer in [&t.es, &t.rs] {
        let discovery = signer.sign(&claims(&t.aud("/cds-services")));
        assert_eq!(
            t.send("/cds-services", Some(&discovery), None)
                .await
                .status(),
            200
        );

        let call = signer.sign(&claims(&t.aud("/cds-services/cart-monitoring")));
        assert_eq!(t.call(&call).await, 200, "{:?}", signer.alg);

        let path = "/cds-services/cart-monitoring/feedback";
        t.app
            .issue_cards(&["0d3a5c39-1e36-4bfa-9b9f-4f0c3fa0f4c1"])
            .await;
        let feedback = signer.sign(&claims(&t.aud(path)));
        let resp = t.send(path, Some(&feedback), Some(&feedback_body())).await;
        assert_eq!(resp.status(), 200, "{:?}", signer.alg);
    }
}

#[tokio::test]
async fn an_audience_array_naming_the_endpoint_is_accepted() {
    let t = spawn_auth().await;
    let mut c = claims("x");
    c["aud"] = json!([
        "https://elsewhere.example",
        t.aud("/cds-services/cart-monitoring")
    ]);
    assert_eq!(t.call(&t.es.sign(&c)).await, 200);
}

#[tokio::test]
async fn a_call_without_a_bearer_token_gets_the_401() {
    let t = spawn_auth().await;
    assert_401(t.send("/cds-services", None, None).await, "discovery").await;
    let body = patient_view("p1");
    let resp = t
        .send("/cds-services/cart-monitoring", None, Some(&body))
        .await;
    assert_401(resp, "service").await;
    let resp = t
        .app
        .client
        .get(format!("{}/cds-services", t.app.address))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_401(resp, "basic").await;
}

#[tokio::test]
async fn alg_none_and_hs256_signed_with_the_public_key_are_refused() {
    let t = spawn_auth().await;
    let c = claims(&t.aud("/cds-services/cart-monitoring"));
    let none = unsigned(&json!({"alg": "none", "typ": "JWT", "kid": "es-1"}), &c);
    let body = patient_view("p1");
    let resp = t
        .send("/cds-services/cart-monitoring", Some(&none), Some(&body))
        .await;
    assert_401(resp, "alg none").await;

    for (kid, public) in [("es-1", t.es.public_bytes()), ("rs-1", t.rs.public_bytes())] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.into());
        let forged = jsonwebtoken::encode(&h, &c, &EncodingKey::from_secret(&public)).unwrap();
        assert_eq!(
            t.call(&forged).await,
            401,
            "HS256 with the {kid} public key"
        );
    }
    assert_eq!(
        t.call(&t.call_token()).await,
        200,
        "the service still works"
    );
}

#[tokio::test]
async fn hmac_stays_refused_even_when_configured() {
    let t = spawn_auth_with(
        |_| {},
        |s| s.auth.algorithms = vec!["HS256".into(), "ES384".into()],
    )
    .await;
    let c = claims(&t.aud("/cds-services/cart-monitoring"));
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("es-1".into());
    let forged =
        jsonwebtoken::encode(&h, &c, &EncodingKey::from_secret(&t.es.public_bytes())).unwrap();
    assert_eq!(t.call(&forged).await, 401);
    assert_eq!(t.call(&t.call_token()).await, 200);
}

#[tokio::test]
async fn a_token_for_another_endpoint_is_refused() {
    let t = spawn_auth().await;
    let discovery_aud = t.es.sign(&claims(&t.aud("/cds-services")));
    assert_eq!(
        t.call(&discovery_aud).await,
        401,
        "discovery URL used on a service call"
    );

    let service_aud = t.es.sign(&claims(&t.aud("/cds-services/cart-monitoring")));
    let path = "/cds-services/cart-monitoring/feedback";
    let resp = t
        .send(path, Some(&service_aud), Some(&feedback_body()))
        .await;
    assert_401(resp, "service URL used on feedback").await;

    let other = t.es.sign(&claims(&t.aud("/cds-services/cart-discharge")));
    assert_eq!(t.call(&other).await, 401, "another service's URL");
}

#[tokio::test]
async fn expired_and_future_tokens_are_refused_beyond_the_leeway() {
    let t = spawn_auth().await;
    let now = chrono::Utc::now().timestamp();
    let aud = t.aud("/cds-services/cart-monitoring");
    let at = |iat: i64, exp: i64| {
        let mut c = claims(&aud);
        c["iat"] = json!(iat);
        c["exp"] = json!(exp);
        t.es.sign(&c)
    };
    assert_eq!(t.call(&at(now - 600, now - 120)).await, 401, "expired");
    assert_eq!(
        t.call(&at(now + 600, now + 900)).await,
        401,
        "iat in the future"
    );
    assert_eq!(
        t.call(&at(now - 300, now - 10)).await,
        200,
        "expired within the leeway"
    );
    assert_eq!(
        t.call(&at(now + 10, now + 300)).await,
        200,
        "iat within the leeway"
    );
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let t = spawn_auth().await;
    let token = t.call_token();
    assert_eq!(t.call(&token).await, 200);
    assert_eq!(t.call(&token).await, 401, "the same token again");
    let mut c = claims(&t.aud("/cds-services/cart-monitoring"));
    c["jti"] = json!("fixed-jti");
    assert_eq!(t.call(&t.es.sign(&c)).await, 200);
    c["iat"] = json!(chrono::Utc::now().timestamp() - 5);
    assert_eq!(
        t.call(&t.es.sign(&c)).await,
        401,
        "a new token reusing the jti"
    );
}

#[tokio::test]
async fn missing_header_fields_and_claims_are_refused() {
    let t = spawn_auth().await;
    let c = claims(&t.aud("/cds-services/cart-monitoring"));
    let mut no_typ = t.es.header();
    no_typ.typ = None;
    assert_eq!(t.call(&t.es.sign_with(no_typ, &c)).await, 401, "no typ");
    let mut no_kid = t.es.header();
    no_kid.kid = None;
    assert_eq!(t.call(&t.es.sign_with(no_kid, &c)).await, 401, "no kid");
    for claim in ["iss", "aud", "exp", "iat", "jti"] {
        let mut partial = claims(&t.aud("/cds-services/cart-monitoring"));
        partial.as_object_mut().unwrap().remove(claim);
        assert_eq!(t.call(&t.es.sign(&partial)).await, 401, "no {claim}");
    }
    let mut tampered = t.call_token();
    tampered.insert(tampered.len() / 2, 'x');
    assert_eq!(t.call(&tampered).await, 401, "tampered");
    assert_eq!(t.call("not-a-jwt").await, 401, "garbage");
}
