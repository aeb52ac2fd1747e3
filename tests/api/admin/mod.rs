//! The admin API over HTTP: roles, validation, versions, concurrency, rollback, audit.

mod openapi;
mod pack_data;
mod reports;
mod versions;

use serde_json::Value;

use crate::helpers::{load_json, spawn_app, TestApp};

const ALL: &[&str] = &["rules:read", "rules:write", "audit:read"];

fn token(app: &TestApp, scopes: &[&str]) -> String {
    token_for(app, "pharmacist-1", scopes, 600)
}

fn token_for(app: &TestApp, sub: &str, scopes: &[&str], ttl: i64) -> String {
    crate::helpers::admin_token(app.data_dir.path(), sub, scopes, ttl)
}

async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.request(method, format!("{}{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(m) = if_match {
        req = req.header("If-Match", m);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.header("X-Change-Reason", "integration test")
        .send()
        .await
        .expect("request")
}

async fn cbc_rule_fires(app: &TestApp) -> bool {
    let base = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";
    fixture_cards(app, base)
        .await
        .contains(&"cbc-surveillance-overdue".to_owned())
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// The cards a fixture request gets now.
async fn fixture_cards(app: &TestApp, base: &str) -> Vec<String> {
    let expect = load_json(format!("{base}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let body: Value = app
        .call(
            "cart-monitoring",
            &load_json(format!("{base}.request.json")),
        )
        .await
        .json()
        .await
        .unwrap();
    body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"]["topic"]["code"].as_str().unwrap().to_owned())
        .collect()
}
