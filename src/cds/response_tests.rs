//! Unit tests of `response.rs`: wire shape (omitted members, casing), round-trip of a full response
//! and indicator ordering. The card fixtures are shared with `card_check` tests.

use super::*;
use serde_json::json;

pub(crate) const UUID_A: &str = "8d1b4e1a-5c4e-4b8e-9d7a-2f1c3b4a5d6e";
pub(crate) const UUID_B: &str = "0f6b2a9c-1d2e-4f3a-8b7c-6d5e4f3a2b1c";

pub(crate) fn minimal() -> Card {
    Card {
        uuid: Some(UUID_A.into()),
        summary: "CBC overdue after CAR-T".into(),
        detail: None,
        indicator: Indicator::Warning,
        source: Source {
            label: "NCCN".into(),
            url: None,
            icon: None,
            topic: None,
        },
        suggestions: vec![],
        selection_behavior: None,
        override_reasons: vec![],
        links: vec![],
    }
}

pub(crate) fn create(description: &str) -> Action {
    Action {
        r#type: ActionType::Create,
        description: description.into(),
        resource: Some(
            json!({"resourceType": "ServiceRequest", "status": "draft", "quantityQuantity": {"value": 1.0}}),
        ),
        resource_id: None,
    }
}

pub(crate) fn suggestion(uuid: &str, recommended: Option<bool>) -> Suggestion {
    Suggestion {
        label: "Order a CBC".into(),
        uuid: Some(uuid.into()),
        is_recommended: recommended,
        actions: vec![create("Order CBC")],
    }
}

pub(crate) fn full() -> Card {
    Card {
        detail: Some("Last CBC: **none on record**.".into()),
        indicator: Indicator::Critical,
        source: Source {
            label: "FDA boxed warning".into(),
            url: Some("https://www.fda.gov/".into()),
            icon: Some("https://cds.example.org/icon.png".into()),
            topic: Some(Coding {
                code: "cbc-surveillance-overdue".into(),
                system: "https://cart-sentinel.example/rules".into(),
                display: None,
            }),
        },
        suggestions: vec![suggestion(UUID_B, Some(true))],
        selection_behavior: Some(SelectionBehavior::AtMostOne),
        override_reasons: vec![Coding {
            code: "already-done".into(),
            system: "https://x.example/r".into(),
            display: Some("Already done".into()),
        }],
        links: vec![
            Link {
                label: "MedWatch".into(),
                url: "https://www.fda.gov/safety/medwatch".into(),
                r#type: LinkType::Absolute,
                app_context: None,
                autolaunchable: None,
            },
            Link {
                label: "App".into(),
                url: "https://app.example.org/launch".into(),
                r#type: LinkType::Smart,
                app_context: Some("rule=x".into()),
                autolaunchable: Some(false),
            },
        ],
        ..minimal()
    }
}

#[test]
fn empty_response_serialises_cards_only() {
    assert_eq!(
        serde_json::to_string(&CdsResponse::default()).unwrap(),
        r#"{"cards":[]}"#
    );
}

#[test]
fn minimal_card_omits_every_empty_member() {
    let text = serde_json::to_string(&CdsResponse {
        cards: vec![minimal()],
        system_actions: vec![],
    })
    .unwrap();
    assert!(
        !text.contains("null") && !text.contains("[]") && !text.contains("{}"),
        "{text}"
    );
    for absent in [
        "detail",
        "suggestions",
        "selectionBehavior",
        "overrideReasons",
        "links",
        "systemActions",
        "url",
        "icon",
        "topic",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    assert!(text.contains(r#""indicator":"warning""#));
}

#[test]
fn full_card_uses_camel_case_and_round_trips() {
    let resp = CdsResponse {
        cards: vec![full()],
        system_actions: vec![Action {
            r#type: ActionType::Delete,
            description: "Remove draft".into(),
            resource: None,
            resource_id: Some("MedicationRequest/m1".into()),
        }],
    };
    let text = serde_json::to_string(&resp).unwrap();
    for wire in [
        r#""selectionBehavior":"at-most-one""#,
        r#""isRecommended":true"#,
        r#""appContext":"rule=x""#,
        r#""type":"smart""#,
        r#""type":"create""#,
        r#""resourceId":"MedicationRequest/m1""#,
        r#""systemActions""#,
        r#""overrideReasons""#,
        r#""indicator":"critical""#,
    ] {
        assert!(text.contains(wire), "{wire} missing in {text}");
    }
    assert!(!text.contains("null"), "{text}");
    let back: CdsResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(back, resp);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["cards"][0]["suggestions"][0]["actions"][0]["resource"]["quantityQuantity"]["value"]
            .as_f64(),
        Some(1.0)
    );
}

#[test]
fn missing_vec_members_deserialise_as_empty() {
    let card: Card = serde_json::from_value(
        json!({"summary": "s", "indicator": "info", "source": {"label": "l"}}),
    )
    .unwrap();
    assert!(
        card.suggestions.is_empty() && card.links.is_empty() && card.override_reasons.is_empty()
    );
    let resp: CdsResponse = serde_json::from_str("{}").unwrap();
    assert!(resp.cards.is_empty());
}

#[test]
fn indicator_orders_by_urgency() {
    assert!(Indicator::Critical > Indicator::Warning && Indicator::Warning > Indicator::Info);
    let mut v = [Indicator::Warning, Indicator::Critical, Indicator::Info];
    v.sort();
    assert_eq!(v.last(), Some(&Indicator::Critical));
    assert_eq!(
        serde_json::to_value(Indicator::Info).unwrap(),
        json!("info")
    );
}
