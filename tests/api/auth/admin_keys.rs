//! Admin tokens verified against the identity provider's JWKS through the application's JWKS
//! cache: the service starts while the provider is down, admin calls answer 503 until its keys
//! arrive, and a rotated key works on its first use without a restart.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{spawn_with, TestApp};
use crate::signer::{jwks, serve_jwks, Signer};

const IDP: &str = "https://idp.example.org";

fn admin_claims() -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": "alice", "iss": IDP, "aud": "cart-sentinel-admin",
           "iat": now, "exp": now + 300, "scope": "rules:read"})
}

async fn list_rules(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/admin/rules", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn admin_calls_wait_for_an_identity_provider_that_was_down_at_start_up() {
    let idp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&idp)
        .await;
    let url = format!("{}/jwks.json", idp.uri());
    let app = spawn_with(|s| {
        s.admin.jwks_url = Some(url);
        s.admin.issuer = Some(IDP.into());
        s.auth.jwks_refresh_seconds = 0;
    })
    .await;
    let key = Signer::es384("idp-1");
    let token = key.sign(&admin_claims());

    // The provider is down: the call is told to come back, not refused as unauthorised.
    let resp = list_rules(&app, &token).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let outcome: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");

    // The provider is back: the same token works, without a restart.
    serve_jwks(&idp, jwks(&[&key])).await;
    assert_eq!(list_rules(&app, &token).await.status(), 200);

    // A token signed by a key the provider does not publish is refused as unauthorised.
    let stranger = Signer::es384("idp-1").sign(&admin_claims());
    assert_eq!(list_rules(&app, &stranger).await.status(), 401);

    // The provider rotates to a new key: its first token is accepted (the set is fetched again
    // for the unknown kid).
    let rotated = Signer::es384("idp-2");
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[&key, &rotated])))
        .with_priority(2)
        .mount(&idp)
        .await;
    let resp = list_rules(&app, &rotated.sign(&admin_claims())).await;
    assert_eq!(resp.status(), 200);
}
