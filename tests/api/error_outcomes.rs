//! Every error answer a client can provoke without credentials trouble is a FHIR
//! OperationOutcome, whatever produced it: an unknown path (404), a method a path does not take
//! (405), a body over the limit on any endpoint (413), as well as the service's own errors.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{admin_token, spawn_with};

#[tokio::test]
async fn unknown_paths_wrong_methods_and_oversized_bodies_get_an_operation_outcome() {
    let app = spawn_with(|s| s.server.max_body_bytes = 4096).await;
    let token = admin_token(
        app.data_dir.path(),
        "alice",
        &["rules:read", "rules:write"],
        300,
    );
    let big = format!("{{\"feedback\": [\"{}\"]}}", "x".repeat(8192));
    #[rustfmt::skip]
    let cases: &[(&str, Method, &str, Option<&str>, u16, &str)] = &[
        ("unknown path", Method::GET, "/no-such-endpoint", None, 404, "not-found"),
        ("unknown admin path", Method::GET, "/admin/no-such-endpoint", None, 404, "not-found"),
        ("discovery takes GET only", Method::DELETE, "/cds-services", None, 405, "not-supported"),
        ("a service takes POST only", Method::GET, "/cds-services/cart-monitoring", None, 405, "not-supported"),
        ("feedback takes POST only", Method::PUT, "/cds-services/cart-monitoring/feedback", None, 405, "not-supported"),
        ("rules cannot be deleted", Method::DELETE, "/admin/rules", None, 405, "not-supported"),
        ("feedback over the limit", Method::POST, "/cds-services/cart-monitoring/feedback", Some(big.as_str()), 413, "too-costly"),
        ("admin body over the limit", Method::POST, "/admin/validate", Some(big.as_str()), 413, "too-costly"),
        ("hook call over the limit", Method::POST, "/cds-services/cart-monitoring", Some(big.as_str()), 413, "too-costly"),
    ];
    for (case, method, path, body, status, code) in cases {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(&token);
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status().as_u16(), *status, "{case}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.contains("json"), "{case}: {kind}");
        let outcome: Value = resp.json().await.expect("a JSON body");
        assert_eq!(
            outcome["resourceType"], "OperationOutcome",
            "{case}: {outcome}"
        );
        assert_eq!(outcome["issue"][0]["code"], *code, "{case}: {outcome}");
        assert!(
            outcome["issue"][0]["diagnostics"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{case}"
        );
    }
}
