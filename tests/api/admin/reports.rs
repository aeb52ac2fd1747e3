//! The quality report: cards and feedback per rule, override reasons offered or not.

use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn the_quality_report_counts_cards_and_feedback_per_rule() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let base = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";
    app.set_now("2026-06-15T12:00:00Z".parse().unwrap());
    let body: Value = app
        .call(
            "cart-monitoring",
            &load_json(format!("{base}.request.json")),
        )
        .await
        .json()
        .await
        .unwrap();
    let card = body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"]["topic"]["code"] == "cbc-surveillance-overdue")
        .unwrap()
        .clone();
    let fb = json!({"feedback": [{"card": card["uuid"], "outcome": "overridden", "overrideReason": {"userComment": "drawn at outside lab"}, "outcomeTimestamp": "2026-06-15T12:01:00Z"}]});
    assert_eq!(app.feedback("cart-monitoring", &fb).await.status(), 200);
    let mut report = Value::Null;
    for _ in 0..40 {
        report = admin(
            &app,
            reqwest::Method::GET,
            "/admin/reports/quality?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
            Some(&t),
            None,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        if report["rules"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r.to_string().contains("cbc-surveillance-overdue"))
        .unwrap_or_else(|| panic!("{report}"))
        .to_string();
    assert!(row.contains("drawn at outside lab"), "{row}");
}

/// An override reason the card did not offer (from the EHR's own list) is stored, and the
/// quality report counts it apart from the reasons the card offers.
#[tokio::test]
async fn override_reasons_the_card_did_not_offer_are_counted_apart() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let live_vaccine = (
        "live-vaccine-after-cart",
        "cart-order-safety-sign",
        "order-sign",
    );
    app.issue_cards_of(live_vaccine, &["lv-1", "lv-2"]).await;
    let reason = |code: &str| json!({"reason": {"system": "urn:cart-sentinel:override-reason", "code": code, "display": code}});
    let fb = json!({"feedback": [
        {"card": "lv-1", "outcome": "overridden", "overrideReason": reason("specialist-approved"), "outcomeTimestamp": "2026-06-15T12:01:00Z"},
        {"card": "lv-2", "outcome": "overridden", "overrideReason": reason("patient-declined"), "outcomeTimestamp": "2026-06-15T12:02:00Z"}
    ]});
    assert_eq!(
        app.feedback("cart-order-safety-sign", &fb).await.status(),
        200
    );
    let report: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/reports/quality?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let row = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "live-vaccine-after-cart")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(row["overridden"], 2, "{row}");
    assert_eq!(row["overriddenWithReasonNotOffered"], 1, "{row}");
    let offered = |code: &str| {
        row["overrideReasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .map(|r| r["offered"].clone())
    };
    assert_eq!(offered("specialist-approved"), Some(json!(true)), "{row}");
    assert_eq!(offered("patient-declined"), Some(json!(false)), "{row}");
}
