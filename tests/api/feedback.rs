use serde_json::{json, Value};

use cart_sentinel::storage::{connect, FeedbackFilter};

use crate::helpers::{spawn_app, spawn_on};

fn batch() -> Value {
    json!({"feedback": [
        {"card": "0d3a5c39-1e36-4bfa-9b9f-4f0c3fa0f4c1", "outcome": "accepted", "acceptedSuggestions": [{"id": "8e0b0d5e-5b7f-4c5c-9a0c-1b9d2f0e7a11"}], "outcomeTimestamp": "2026-06-15T12:05:31Z"},
        {"card": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "outcome": "overridden", "overrideReason": {"reason": {"system": "urn:cart-sentinel:override-reason", "code": "already-addressed", "display": "Already addressed"}, "userComment": "seen in clinic"}, "outcomeTimestamp": "2026-06-15T12:06:00Z"},
        {"card": "9a1f1b7e-2d3c-4e5f-8a9b-0c1d2e3f4a5b", "outcome": "overridden", "outcomeTimestamp": "2026-06-15T12:07:00Z"}
    ]})
}

#[tokio::test]
async fn feedback_is_stored_idempotently_and_survives_a_restart() {
    let app = spawn_app().await;

    let first = app.feedback("cart-monitoring", &batch()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["inserted"], 3);
    let again = app.feedback("cart-monitoring", &batch()).await;
    assert_eq!(again.json::<Value>().await.unwrap()["duplicates"], 3);

    let url = app.database_url();
    let (fhir, dir) = app.stop().await;
    let restarted = spawn_on(fhir, dir, |_| {}).await;
    let after = restarted.feedback("cart-monitoring", &batch()).await;
    assert_eq!(after.json::<Value>().await.unwrap()["duplicates"], 3);
    let store = connect(&url, 1).await.unwrap();
    let stored = store
        .list_feedback(&FeedbackFilter::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored
        .iter()
        .any(|f| f.override_comment.as_deref() == Some("seen in clinic")));
}

#[tokio::test]
async fn malformed_feedback_is_400_with_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-06-15T12:05:31Z"}]}),
            "feedback[0].acceptedSuggestions",
        ),
        (
            json!({"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-06-15T12:05:31Z"}]}),
            "feedback[0].outcome",
        ),
        (
            json!({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]}),
            "feedback[0].outcomeTimestamp",
        ),
        (json!({"nope": []}), "feedback"),
    ];
    for (body, field) in cases {
        let resp = app.feedback("cart-monitoring", &body).await;
        assert_eq!(resp.status(), 400, "{field}");
        let out: Value = resp.json().await.unwrap();
        assert_eq!(out["issue"][0]["expression"][0], field, "{out}");
    }
    assert_eq!(app.feedback("nope", &batch()).await.status(), 404);
}
