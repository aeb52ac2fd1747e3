//! Unit tests of the hook-context validation of `parse_hook_request` (per-hook required members,
//! `selections`, `draftOrders`) and of the `HookContext` accessors.

use super::super::*;
use super::{base, err_of, field_of};
use serde_json::json;

#[test]
fn required_context_members_are_named_per_hook() {
    for hook in KNOWN_HOOKS {
        for member in ["userId", "patientId"] {
            let field = field_of(hook, |b| {
                drop(b["context"].as_object_mut().unwrap().remove(member))
            });
            assert_eq!(field, format!("context.{member}"), "{hook}");
            assert_eq!(
                err_of(hook, |b| b["context"][member] = json!("")).1,
                "must not be empty"
            );
            assert_eq!(
                err_of(hook, |b| b["context"][member] = json!(["x"])).1,
                "must be a string"
            );
        }
    }
    for hook in ["encounter-start", "encounter-discharge"] {
        let remove =
            |b: &mut Value| drop(b["context"].as_object_mut().unwrap().remove("encounterId"));
        assert_eq!(
            err_of(hook, remove),
            ("context.encounterId".into(), "is required".into())
        );
    }
    // Optional elsewhere, but typed when present.
    let body = base("patient-view");
    assert!(parse_hook_request(body.to_string().as_bytes(), "patient-view").is_ok());
    assert_eq!(
        field_of("patient-view", |b| b["context"]["encounterId"] = json!(5)),
        "context.encounterId"
    );
}

#[test]
fn order_select_selections_are_type_id_strings() {
    let os = "order-select";
    let remove = |b: &mut Value| drop(b["context"].as_object_mut().unwrap().remove("selections"));
    assert_eq!(
        err_of(os, remove),
        ("context.selections".into(), "is required".into())
    );
    assert_eq!(
        err_of(os, |b| b["context"]["selections"] = json!([])).1,
        "must not be an empty array"
    );
    assert_eq!(
        err_of(os, |b| b["context"]["selections"] =
            json!("MedicationRequest/m1"))
        .1,
        "must be an array"
    );
    let sel = |v: Value| err_of(os, |b| b["context"]["selections"] = v);
    assert_eq!(
        sel(json!(["MedicationRequest/m1", 3])).0,
        "context.selections[1]"
    );
    let (field, msg) = sel(json!(["m1"]));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "context.selections[0]",
            "must be a reference of the form Type/id"
        )
    );
    assert_eq!(
        sel(json!(["MedicationRequest/a&b"])).0,
        "context.selections[0]"
    );
}

#[test]
fn draft_orders_must_be_a_bundle() {
    for hook in ["order-select", "order-sign"] {
        let remove =
            |b: &mut Value| drop(b["context"].as_object_mut().unwrap().remove("draftOrders"));
        assert_eq!(
            err_of(hook, remove),
            ("context.draftOrders".into(), "is required".into())
        );
        assert_eq!(
            err_of(hook, |b| b["context"]["draftOrders"] = json!([])).1,
            "must be a JSON object"
        );
        let (field, msg) = err_of(hook, |b| {
            b["context"]["draftOrders"]["resourceType"] = json!("List")
        });
        assert_eq!(
            (field.as_str(), msg.as_str()),
            ("context.draftOrders.resourceType", "must be \"Bundle\"")
        );
        let field = field_of(hook, |b| b["context"]["draftOrders"]["entry"] = json!({}));
        assert_eq!(field, "context.draftOrders.entry");
    }
}

#[test]
fn context_accessors_read_root_level_strings_only() {
    let ctx = HookContext::new(
        json!({"userId": "Practitioner/1", "patientId": "p", "n": 3, "empty": "",
               "selections": ["MedicationRequest/a", 4], "draftOrders": {"resourceType": "Bundle"}})
        .as_object()
        .unwrap()
        .clone(),
    );
    assert_eq!(ctx.token("patientId"), Some("p"));
    assert_eq!(
        (ctx.token("n"), ctx.token("empty"), ctx.token("draftOrders")),
        (None, None, None)
    );
    assert_eq!(ctx.encounter_id(), None);
    assert_eq!(ctx.selections(), vec!["MedicationRequest/a"]);
    assert_eq!(ctx.draft_orders().unwrap()["resourceType"], "Bundle");
    assert_eq!(
        split_reference("Practitioner/abc-1.2"),
        Some(("Practitioner", "abc-1.2"))
    );
    assert_eq!(
        split_reference("practitioner/1").or(split_reference("Patient/")),
        None
    );
}
