//! The issued-cards queue while the store cannot take cards: hook calls answer at once, the
//! queue keeps the newest `storage.issued_queue_cards` cards and counts what it drops, and once
//! the store is back the kept cards are written without a restart (feedback on them is then
//! accepted; feedback on a dropped card is refused as never issued).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{load_json, spawn_with, TestApp};
use crate::metrics::{sample, scrape};

const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
const BOUND: usize = 3;
const DROPPED: &str = r#"cart_sentinel_issued_cards_dropped_total{reason="store_unavailable"}"#;
const PENDING: &str = "cart_sentinel_issued_cards_pending";

async fn feedback_on(app: &TestApp, card: &str) -> reqwest::Response {
    let body = json!({"feedback": [{"card": card, "outcome": "overridden",
        "outcomeTimestamp": "2026-06-15T12:01:00Z"}]});
    app.feedback("cart-monitoring", &body).await
}

/// Polls the metrics until `series` has `value`, for at most `within`.
async fn wait_for(app: &TestApp, series: &str, value: f64, within: Duration) {
    let started = Instant::now();
    loop {
        let seen = sample(&scrape(app).await, series);
        if seen == Some(value) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{series} is {seen:?}, expected {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn while_the_store_is_locked_the_newest_cards_are_kept_up_to_the_bound_and_written_later() {
    let app = spawn_with(|s| {
        s.storage.timeout_ms = 200;
        s.storage.issued_queue_cards = BOUND;
    })
    .await;
    let request = load_json(format!("{PJP}.request.json"));
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());

    let mut other = crate::store_down::lock_database(&app).await;

    // Each call answers at once while the writer cannot write.
    let mut uuids = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        let resp = app.call("cart-monitoring", &request).await;
        assert_eq!(resp.status(), 200);
        assert!(started.elapsed() < Duration::from_millis(500));
        let answer: Value = resp.json().await.unwrap();
        for card in answer["cards"].as_array().unwrap() {
            uuids.push(card["uuid"].as_str().unwrap().to_owned());
        }
    }
    assert!(uuids.len() > BOUND, "{} cards", uuids.len());
    let dropped = (uuids.len() - BOUND) as f64;
    wait_for(&app, DROPPED, dropped, Duration::from_secs(5)).await;
    wait_for(&app, PENDING, BOUND as f64, Duration::from_secs(1)).await;

    // The store is back: the kept cards are written by the writer's next try, no restart.
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    wait_for(&app, PENDING, 0.0, Duration::from_secs(10)).await;
    for kept in &uuids[uuids.len() - BOUND..] {
        assert_eq!(feedback_on(&app, kept).await.status(), 200, "kept {kept}");
    }
    for lost in &uuids[..uuids.len() - BOUND] {
        assert_eq!(
            feedback_on(&app, lost).await.status(),
            404,
            "dropped {lost}"
        );
    }
    wait_for(&app, DROPPED, dropped, Duration::from_secs(1)).await;
}
