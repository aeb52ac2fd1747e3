//! Key discovery: unknown `kid`s (and their flood), key rotation, `jku` allowlisting and
//! inline JWK Sets.

use wiremock::MockServer;

use super::{spawn_auth, spawn_auth_with};
use crate::signer::{self, claims, serve_jwks, Signer};

async fn jwks_fetches(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_at_most_one_jwks_fetch() {
    let t = spawn_auth().await;
    let stranger = Signer::es384("unused");
    let aud = t.aud("/cds-services/cart-monitoring");
    for i in 0..25 {
        let mut h = stranger.header();
        h.kid = Some(format!("unknown-{i}"));
        assert_eq!(t.call(&stranger.sign_with(h, &claims(&aud))).await, 401);
    }
    assert_eq!(jwks_fetches(&t.jwks).await, 1, "one fetch, then throttled");

    assert_eq!(
        t.call(&t.call_token()).await,
        200,
        "known keys still verify"
    );
    assert_eq!(jwks_fetches(&t.jwks).await, 1, "from the cache");
    let metrics = reqwest::get(format!("{}/metrics", t.app.address))
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("cart_sentinel_jwks_fetches_total{outcome=\"ok\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_on_its_first_use_after_the_refresh_interval() {
    let t = spawn_auth_with(|_| {}, |s| s.auth.jwks_refresh_seconds = 0).await;
    assert_eq!(t.call(&t.call_token()).await, 200);
    let rotated = Signer::es384("es-2");
    t.jwks.reset().await;
    serve_jwks(&t.jwks, signer::jwks(&[&t.es, &rotated])).await;

    let token = rotated.sign(&claims(&t.aud("/cds-services/cart-monitoring")));
    assert_eq!(t.call(&token).await, 200);
    assert_eq!(
        jwks_fetches(&t.jwks).await,
        1,
        "one refresh for the new kid"
    );
}

#[tokio::test]
async fn a_jku_off_the_allowlist_is_refused_and_never_fetched() {
    let rogue = MockServer::start().await;
    let forger = Signer::es384("es-1");
    serve_jwks(&rogue, signer::jwks(&[&forger])).await;
    let t = spawn_auth().await;

    let mut h = forger.header();
    h.jku = Some(format!("{}/jwks.json", rogue.uri()));
    let token = forger.sign_with(h, &claims(&t.aud("/cds-services/cart-monitoring")));

    assert_eq!(t.call(&token).await, 401);
    assert_eq!(
        jwks_fetches(&rogue).await,
        0,
        "the rogue jku was never fetched"
    );
}

#[tokio::test]
async fn an_allowlisted_jku_is_fetched_and_its_keys_verify() {
    let keys = MockServer::start().await;
    let signer = Signer::rs384("jku-key");
    serve_jwks(&keys, signer::jwks(&[&signer])).await;
    let jku = format!("{}/jwks.json", keys.uri());
    let allowed = jku.clone();
    let t = spawn_auth_with(
        move |c| {
            c.jwks_url = None;
            c.jku_allowlist = vec![allowed];
        },
        |_| {},
    )
    .await;

    let mut h = signer.header();
    h.jku = Some(jku);
    let token = signer.sign_with(h, &claims(&t.aud("/cds-services/cart-monitoring")));
    assert_eq!(t.call(&token).await, 200);
    assert_eq!(jwks_fetches(&keys).await, 1);
    assert_eq!(
        t.call(&t.call_token()).await,
        401,
        "jwks_url is no longer configured"
    );
}

#[tokio::test]
async fn inline_keys_verify_without_any_fetch() {
    let inline = Signer::es384("inline-1");
    let set = signer::jwks(&[&inline]).to_string();
    let t = spawn_auth_with(
        move |c| {
            c.jwks_url = None;
            c.jwks = Some(set);
        },
        |_| {},
    )
    .await;
    let token = inline.sign(&claims(&t.aud("/cds-services/cart-monitoring")));
    assert_eq!(t.call(&token).await, 200);
    assert_eq!(jwks_fetches(&t.jwks).await, 0);
    let mut unknown = inline.header();
    unknown.kid = Some("inline-2".into());
    let token = inline.sign_with(unknown, &claims(&t.aud("/cds-services/cart-monitoring")));
    assert_eq!(t.call(&token).await, 401, "unknown kid");
}

#[tokio::test]
async fn a_key_set_shared_by_two_clients_verifies_each_clients_own_iss() {
    let t = spawn_auth_with(
        |_| {},
        |s| {
            let mut second = s.auth.clients[0].clone();
            second.iss = "https://ehr-b.example.org".into();
            s.auth.clients.push(second);
        },
    )
    .await;
    let mut c = claims(&t.aud("/cds-services/cart-monitoring"));
    c["iss"] = serde_json::json!("https://ehr-b.example.org");
    assert_eq!(t.call(&t.es.sign(&c)).await, 200);
    assert_eq!(t.call(&t.call_token()).await, 200);
}
