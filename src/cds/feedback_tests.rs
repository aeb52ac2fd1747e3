//! Unit tests of `feedback.rs`: a valid batch, the wire shape, and every validation path of
//! `parse_feedback` by field name.

use super::*;
use serde_json::{json, Value};

fn accepted() -> Value {
    json!({"card": "c1", "outcome": "accepted", "acceptedSuggestions": [{"id": "s1"}],
           "outcomeTimestamp": "2021-12-11T10:05:31Z"})
}

fn overridden() -> Value {
    json!({"card": "c2", "outcome": "overridden", "outcomeTimestamp": "2021-12-11T11:05:31+01:00",
           "overrideReason": {"reason": {"code": "x", "system": "https://s.example", "display": "X"},
                              "userComment": "Patient declined"}})
}

/// Puts `item` third in a batch and returns the error as (field, message).
fn err_third(edit: impl FnOnce(&mut Value)) -> (String, String) {
    let mut item = accepted();
    edit(&mut item);
    let body = json!({"feedback": [accepted(), overridden(), item]}).to_string();
    let err = parse_feedback(body.as_bytes()).expect_err("must fail");
    (err.field, err.message)
}

#[test]
fn a_batch_parses_and_normalises_timestamps_to_utc() {
    let body = json!({"feedback": [accepted(), overridden(), {"card": "c3", "outcome": "overridden",
                      "outcomeTimestamp": "2021-12-11T10:05:31.250Z"}]});
    let fb = parse_feedback(body.to_string().as_bytes())
        .unwrap()
        .feedback;
    assert_eq!(fb.len(), 3);
    assert_eq!(fb[0].accepted_suggestions, vec!["s1"]);
    assert_eq!(
        fb[1].outcome_timestamp.to_rfc3339(),
        "2021-12-11T10:05:31+00:00"
    );
    let reason = fb[1].override_reason.as_ref().unwrap();
    assert_eq!(
        reason.reason.as_ref().unwrap().display.as_deref(),
        Some("X")
    );
    assert_eq!(
        fb[2].override_reason, None,
        "overridden without a reason is fine"
    );
}

#[test]
fn serialises_back_to_the_wire_shape() {
    let fb = parse_feedback(json!({"feedback": [accepted()]}).to_string().as_bytes()).unwrap();
    let v = serde_json::to_value(&fb).unwrap();
    assert_eq!(
        v["feedback"][0]["acceptedSuggestions"],
        json!([{"id": "s1"}])
    );
    assert_eq!(v["feedback"][0]["outcome"], "accepted");
    assert!(v["feedback"][0].get("overrideReason").is_none());
}

#[test]
fn body_and_batch_errors() {
    assert_eq!(parse_feedback(b"nope").unwrap_err().field, "");
    assert_eq!(
        parse_feedback(b"[]").unwrap_err().message,
        "body is not a JSON object"
    );
    assert_eq!(
        parse_feedback(b"{}").unwrap_err().to_string(),
        "feedback: is required"
    );
    assert_eq!(
        parse_feedback(br#"{"feedback": []}"#).unwrap_err().message,
        "must not be an empty array"
    );
    assert_eq!(
        parse_feedback(br#"{"feedback": {}}"#).unwrap_err().message,
        "must be an array"
    );
    assert_eq!(
        parse_feedback(br#"{"feedback": [1]}"#).unwrap_err().field,
        "feedback[0]"
    );
}

#[test]
fn card_and_outcome_errors_are_named() {
    assert_eq!(
        err_third(|i| i["card"] = json!("")),
        ("feedback[2].card".into(), "must not be empty".into())
    );
    assert_eq!(
        err_third(|i| drop(i.as_object_mut().unwrap().remove("card"))).0,
        "feedback[2].card"
    );
    assert_eq!(
        err_third(|i| i["outcome"] = json!("ignored")).0,
        "feedback[2].outcome"
    );
    assert_eq!(err_third(|i| i["outcome"] = json!(1)).1, "must be a string");
}

#[test]
fn accepted_requires_suggestion_ids() {
    let drop_key = |i: &mut Value| drop(i.as_object_mut().unwrap().remove("acceptedSuggestions"));
    assert_eq!(
        err_third(drop_key),
        (
            "feedback[2].acceptedSuggestions".into(),
            "is required".into()
        )
    );
    assert_eq!(
        err_third(|i| i["acceptedSuggestions"] = json!([])).1,
        "must not be an empty array"
    );
    assert_eq!(
        err_third(|i| i["acceptedSuggestions"] = json!(["s1"])).0,
        "feedback[2].acceptedSuggestions[0]"
    );
    let (field, _) = err_third(|i| i["acceptedSuggestions"] = json!([{"id": "s1"}, {"id": 2}]));
    assert_eq!(field, "feedback[2].acceptedSuggestions[1].id");
    let (field, msg) = err_third(|i| i["overrideReason"] = json!({"userComment": "x"}));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "feedback[2].overrideReason",
            "is only allowed when outcome is \"overridden\""
        )
    );
}

#[test]
fn overridden_rules() {
    let with = |edit: fn(&mut Value)| {
        err_third(|i| {
            *i = overridden();
            edit(i)
        })
    };
    assert_eq!(
        with(|i| i["acceptedSuggestions"] = json!([{"id": "s"}])).0,
        "feedback[2].acceptedSuggestions"
    );
    let (field, msg) = with(|i| i["overrideReason"] = json!({}));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "feedback[2].overrideReason",
            "must have a reason or a userComment"
        )
    );
    assert_eq!(
        with(|i| i["overrideReason"] = json!("busy")).0,
        "feedback[2].overrideReason"
    );
    assert_eq!(
        with(|i| i["overrideReason"]["reason"] = json!({"code": "x"})).0,
        "feedback[2].overrideReason.reason.system"
    );
    assert_eq!(
        with(|i| i["overrideReason"]["userComment"] = json!("")).0,
        "feedback[2].overrideReason.userComment"
    );
}

#[test]
fn timestamps_need_a_time_zone() {
    for bad in [
        json!("2021-12-11T10:05:31"),
        json!("2021-12-11"),
        json!("yesterday"),
        json!(1639217131),
    ] {
        assert_eq!(
            err_third(|i| i["outcomeTimestamp"] = bad.clone()).0,
            "feedback[2].outcomeTimestamp",
            "{bad}"
        );
    }
    let (_, msg) = err_third(|i| i["outcomeTimestamp"] = json!("2021-12-11 10:05:31"));
    assert!(msg.contains("RFC 3339"), "{msg}");
}
