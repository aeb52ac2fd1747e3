//! The timeline lists the cards the service returned for the patient (found by the patient's
//! keyed hash, never by reference) with the clinician's answer, and another patient's page
//! does not show them.

use std::time::Duration;

use serde_json::{json, Value};

use super::card_link::fixture;
use crate::helpers::{admin_token, spawn_with, TestApp};
use crate::timeline::page::get_page;

/// The rule whose card the fixture's patient gets.
const RULE: &str = "pjp-prophylaxis-missing";

/// The timeline page's HTML once it lists a card of `RULE` (cards are recorded off the
/// request path, so the first views may come before it).
async fn page_listing_the_card(app: &TestApp, patient: &str, token: &str) -> String {
    for _ in 0..100 {
        let resp = get_page(app, &format!("/ui/patients/{patient}"), token).await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        if html.contains(&format!("<td>{RULE}</td>")) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the returned card never showed on the timeline");
}

#[tokio::test]
async fn the_cards_returned_for_a_patient_show_on_the_timeline_with_their_feedback() {
    let (request, now) = fixture();
    let patient = request["context"]["patientId"].as_str().unwrap().to_owned();
    let app = spawn_with(|_| {}).await;
    app.set_now(now);
    let resp = app.call("cart-monitoring", &request).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let card = answer["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"]["topic"]["code"] == RULE)
        .expect("the fixture fires the rule")
        .clone();
    let display = "Already on atovaquone";
    let reason = json!({"system": "urn:cart-sentinel:override-reason",
        "code": "already-on-atovaquone", "display": display});

    let nurse = admin_token(app.data_dir.path(), "nurse-1", &["worklist:read"], 600);
    let html = page_listing_the_card(&app, &patient, &nurse).await;
    assert!(
        html.contains("1 card (patient-view); no feedback"),
        "{html}"
    );

    let feedback = json!({"feedback": [{"card": card["uuid"], "outcome": "overridden",
        "overrideReason": {"reason": reason},
        "outcomeTimestamp": now.to_rfc3339()}]});
    let resp = app.feedback("cart-monitoring", &feedback).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let html = page_listing_the_card(&app, &patient, &nurse).await;
    assert!(
        html.contains(&format!("1 card (patient-view); overridden: {display}")),
        "{html}"
    );

    // The card is on record by now: another patient's page does not list it.
    let other = get_page(&app, "/ui/patients/someone-else", &nurse).await;
    let other = other.text().await.unwrap();
    assert!(
        other.contains("No card has been returned for this patient"),
        "{other}"
    );
}
