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

/// An upload over the limit gets its 413 and OperationOutcome on every endpoint that takes a
/// body, and the upload is not cut off: what keeps arriving is read and dropped before the
/// answer, so a client still sending sees the answer, not a reset connection.
#[tokio::test]
async fn an_upload_over_the_limit_is_read_to_its_end_and_answered_413_on_every_endpoint() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(|s| s.server.max_body_bytes = 64 * 1024).await;
    let token = admin_token(app.data_dir.path(), "alice", &["rules:write"], 300);
    let host = app.address.trim_start_matches("http://").to_owned();
    let chunk = vec![b'a'; 64 * 1024];
    let chunks = 48;
    for path in [
        "/admin/validate",
        "/cds-services/cart-monitoring/feedback",
        "/cds-services/cart-monitoring",
    ] {
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            chunk.len() * chunks
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // A client sending at its own pace: every chunk is taken, none refused by a reset.
        for n in 0..chunks {
            stream
                .write_all(&chunk)
                .await
                .unwrap_or_else(|e| panic!("{path}: chunk {n} refused ({e})"));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("the answer");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("too-costly"), "{path}: {answer}");
    }
}
