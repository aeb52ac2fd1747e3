use serde_json::{json, Value};

use cart_sentinel::storage::{connect, FeedbackFilter};

use crate::helpers::{spawn_app, spawn_on};

const BATCH_CARDS: [&str; 3] = [
    "0d3a5c39-1e36-4bfa-9b9f-4f0c3fa0f4c1",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "9a1f1b7e-2d3c-4e5f-8a9b-0c1d2e3f4a5b",
];

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
    app.issue_cards(&BATCH_CARDS).await;

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

/// Feedback on a card this service never issued is refused with 404 naming the item, and
/// nothing of the batch is stored.
#[tokio::test]
async fn feedback_on_a_card_never_issued_is_404_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.issue_cards(&BATCH_CARDS[..1]).await;
    let resp = app.feedback("cart-monitoring", &batch()).await;
    assert_eq!(resp.status(), 404);
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let said = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(said.starts_with("feedback[1].card"), "{said}");
    let store = connect(&app.database_url(), 1).await.unwrap();
    let stored = store
        .list_feedback(&FeedbackFilter::default())
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:?}");
}

/// Feedback sent right after the hook call that returned the card is accepted, though issued
/// cards are written in batches after the answer.
#[tokio::test]
async fn feedback_right_after_the_call_on_its_card_is_stored() {
    let app = spawn_app().await;
    let base = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
    let expect = crate::helpers::load_json(format!("{base}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let request = crate::helpers::load_json(format!("{base}.request.json"));
    let answer: Value = app
        .call("cart-monitoring", &request)
        .await
        .json()
        .await
        .unwrap();
    let card = answer["cards"][0]["uuid"]
        .as_str()
        .expect("a card")
        .to_owned();
    let fb = json!({"feedback": [{"card": card, "outcome": "overridden",
        "outcomeTimestamp": "2026-06-15T12:05:31Z"}]});
    let resp = app.feedback("cart-monitoring", &fb).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["inserted"], 1);
}
