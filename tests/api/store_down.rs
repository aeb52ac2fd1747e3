//! The database locked by another writer (or away): hook calls keep answering from the pack in
//! memory, writes answer 503 with `Retry-After` and an OperationOutcome within
//! `storage.timeout_ms` (never a 500, never a hang), nothing is changed, and everything works
//! again once the database is back, without a restart.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};

use crate::helpers::{admin_token, load_json, spawn_with, TestApp};

const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
const RULE: &str = "/admin/rules/cbc-surveillance-overdue";

async fn patch_interval(app: &TestApp, token: &str, days: u32) -> reqwest::Response {
    app.client
        .patch(format!("{}{RULE}/parameters", app.address))
        .bearer_auth(token)
        .header("X-Change-Reason", "store-down test")
        .json(&json!({"interval_phase1_days": days}))
        .send()
        .await
        .expect("request")
}

const CARD: &str = "5f0c3b7e-8a2d-4c1e-9b6f-2d4a7e9c1b30";

async fn send_feedback(app: &TestApp) -> reqwest::Response {
    let body = json!({"feedback": [{"card": CARD,
        "outcome": "accepted", "acceptedSuggestions": [{"id": "s1"}],
        "outcomeTimestamp": "2026-06-15T12:01:00Z"}]});
    app.feedback("cart-monitoring", &body).await
}

async fn interval(app: &TestApp, token: &str) -> Value {
    let rule: Value = app
        .client
        .get(format!("{}{RULE}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    rule["parameters"]["interval_phase1_days"]["value"].clone()
}

/// Another connection takes SQLite's write lock and keeps it until `ROLLBACK`.
pub(crate) async fn lock_database(app: &TestApp) -> SqliteConnection {
    let mut other = SqliteConnection::connect(&app.database_url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    other
}

async fn assert_retry_later(resp: reqwest::Response, started: Instant, what: &str) {
    assert_eq!(resp.status(), 503, "{what}");
    assert!(resp.headers().contains_key("retry-after"), "{what}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{what}: answered after {:?}",
        started.elapsed()
    );
    let outcome: Value = resp.json().await.expect("JSON");
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{what}");
    assert_eq!(outcome["issue"][0]["code"], "transient", "{what}");
}

#[tokio::test]
async fn a_locked_database_makes_writes_answer_503_promptly_and_everything_recovers() {
    let app = spawn_with(|s| s.storage.timeout_ms = 300).await;
    let token = admin_token(
        app.data_dir.path(),
        "alice",
        &["rules:read", "rules:write"],
        300,
    );
    let before = interval(&app, &token).await;
    app.issue_cards(&[CARD]).await;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());

    let mut other = lock_database(&app).await;

    let started = Instant::now();
    assert_retry_later(
        patch_interval(&app, &token, 21).await,
        started,
        "admin change",
    )
    .await;
    let started = Instant::now();
    assert_retry_later(send_feedback(&app).await, started, "feedback").await;
    // The point of care is not held up: the hook call answers from the pack in memory.
    let resp = app
        .call("cart-monitoring", &load_json(format!("{PJP}.request.json")))
        .await;
    assert_eq!(resp.status(), 200);
    let cards: Value = resp.json().await.unwrap();
    assert!(!cards["cards"].as_array().unwrap().is_empty(), "{cards}");
    // Nothing was half-changed.
    assert_eq!(interval(&app, &token).await, before);

    // The database is back: the same writes succeed, without a restart.
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(patch_interval(&app, &token, 21).await.status(), 200);
    assert_eq!(interval(&app, &token).await.as_f64(), Some(21.0));
    assert_eq!(send_feedback(&app).await.status(), 200);
}

/// The worklist with the database locked: a run is not started and no list or patient read is
/// answered without its audit entry (503 with `Retry-After`); once the database is back both
/// work, and nothing was started meanwhile.
#[tokio::test]
async fn a_locked_database_makes_worklist_starts_and_reads_answer_503() {
    let exports = tempfile::tempdir().unwrap();
    let root = exports.path().to_path_buf();
    let app = spawn_with(move |s| {
        s.storage.timeout_ms = 300;
        s.population.ndjson_dir = Some(root);
    })
    .await;
    let token = admin_token(
        app.data_dir.path(),
        "pharmacist-1",
        &["worklist:read", "worklist:write"],
        300,
    );
    let get = |path: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&token)
    };
    let start = || {
        app.client
            .post(format!("{}/admin/population/runs", app.address))
            .bearer_auth(&token)
            .json(&json!({}))
    };
    let mut other = lock_database(&app).await;
    let mut calls = crate::worklist::reads(&app, &token);
    // Reading the runs needs no write: SQLite answers it under another writer's lock.
    calls.retain(|(what, _)| *what != "population runs");
    calls.push(("start", start()));
    for (what, request) in calls {
        let started = Instant::now();
        assert_retry_later(request.send().await.unwrap(), started, what).await;
    }
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let runs: Value = get("/admin/population/runs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"], json!([]), "nothing started while locked");
    assert_eq!(
        get("/worklist/findings").send().await.unwrap().status(),
        200
    );
    assert_eq!(start().send().await.unwrap().status(), 202);
}
