//! Unit tests of `card_check.rs`: conformant fixtures pass, and each rule is caught with the
//! member's path.

use super::*;
use crate::cds::response::tests::{create, full, minimal, suggestion, UUID_A, UUID_B};
use serde_json::json;
use serde_json::Value;

#[test]
fn conformant_cards_pass() {
    assert_eq!(check_card(&minimal()), Vec::<String>::new());
    assert_eq!(check_card(&full()), Vec::<String>::new());
}

/// Runs `check_card` on `full()` after `edit` and asserts one problem starts with `expected`.
fn assert_flags(edit: impl FnOnce(&mut Card), expected: &str) {
    let mut card = full();
    edit(&mut card);
    let problems = check_card(&card);
    assert!(
        problems.iter().any(|p| p.starts_with(expected)),
        "{expected} not in {problems:?}"
    );
}

#[test]
fn summary_length_is_counted_in_characters() {
    assert_flags(|c| c.summary = " ".into(), "summary:");
    assert_flags(
        |c| c.summary = "é".repeat(140),
        "summary: must have 1 to 139 characters (has 140)",
    );
    let mut card = minimal();
    card.summary = "é".repeat(139); // 278 bytes, 139 characters: allowed
    assert!(check_card(&card).is_empty());
}

#[test]
fn uuids_are_required_bare_and_unique() {
    assert_flags(|c| c.uuid = None, "uuid: is required");
    assert_flags(
        |c| c.uuid = Some(format!("urn:uuid:{UUID_A}")),
        "uuid: must be a bare UUID",
    );
    assert_flags(
        |c| c.uuid = Some(UUID_A.replace('-', "")),
        "uuid: must be a bare UUID",
    );
    assert_flags(
        |c| c.suggestions[0].uuid = Some("s1".into()),
        "suggestions[0].uuid: must be a bare UUID",
    );
    assert_flags(
        |c| c.suggestions[0].uuid = None,
        "suggestions[0].uuid: is required",
    );
    assert_flags(
        |c| c.suggestions.push(suggestion(UUID_B, None)),
        "suggestions[1].uuid: duplicates",
    );
}

#[test]
fn selection_behavior_goes_with_suggestions() {
    assert_flags(
        |c| c.selection_behavior = None,
        "selectionBehavior: is required",
    );
    assert_flags(
        |c| c.suggestions.clear(),
        "selectionBehavior: must be omitted",
    );
    assert_flags(
        |c| c.suggestions.push(suggestion(UUID_A, Some(true))),
        "suggestions: at most one",
    );
    let mut card = full();
    card.suggestions.push(suggestion(UUID_A, Some(true)));
    card.selection_behavior = Some(SelectionBehavior::Any);
    assert!(check_card(&card).is_empty(), "{:?}", check_card(&card));
}

#[test]
fn actions_follow_their_type() {
    let delete = |id: Option<&str>, resource: Option<Value>| Action {
        r#type: ActionType::Delete,
        description: "Remove".into(),
        resource,
        resource_id: id.map(Into::into),
    };
    assert_flags(
        |c| c.suggestions[0].actions = vec![delete(None, None)],
        "suggestions[0].actions[0].resourceId: is required",
    );
    assert_flags(
        |c| c.suggestions[0].actions = vec![delete(Some("MedicationRequest/1"), Some(json!({})))],
        "suggestions[0].actions[0].resource: must be omitted",
    );
    assert_flags(
        |c| c.suggestions[0].actions[0].resource = None,
        "suggestions[0].actions[0].resource: is required",
    );
    assert_flags(
        |c| c.suggestions[0].actions[0].description = "".into(),
        "suggestions[0].actions[0].description",
    );
    assert!(check_action(&Action {
        r#type: ActionType::Update,
        ..create("Update")
    })
    .is_empty());
}

#[test]
fn links_sources_and_codings_are_checked() {
    assert_flags(
        |c| c.links[0].app_context = Some("x".into()),
        "links[0].appContext: is only valid on smart links",
    );
    assert_flags(|c| c.links[0].url = "/relative".into(), "links[0].url");
    assert_flags(
        |c| c.links[1].url = "javascript:alert(1)".into(),
        "links[1].url",
    );
    assert_flags(|c| c.links[0].label = "".into(), "links[0].label");
    assert_flags(|c| c.source.url = Some("www.fda.gov".into()), "source.url");
    assert_flags(|c| c.source.icon = Some("icon.png".into()), "source.icon");
    assert_flags(|c| c.source.label = "".into(), "source.label");
    assert_flags(
        |c| c.override_reasons[0].display = None,
        "overrideReasons[0].display: is required",
    );
    assert_flags(
        |c| c.override_reasons[0].code = "".into(),
        "overrideReasons[0].code",
    );
    assert_flags(
        |c| c.source.topic.as_mut().unwrap().system = "".into(),
        "source.topic.system",
    );
    assert_flags(|c| c.detail = Some("".into()), "detail");
}
