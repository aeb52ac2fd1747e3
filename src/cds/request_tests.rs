//! Unit tests of `request.rs`: every validation path of `parse_hook_request`, by field name, top
//! level and `fhirAuthorization` here, the hook context in `request_context_tests.rs`.

use super::*;
use serde_json::json;

pub(super) fn base(hook: &str) -> Value {
    let mut ctx = json!({"userId": "Practitioner/123", "patientId": "p1"});
    if hook.starts_with("encounter-") {
        ctx["encounterId"] = json!("e1");
    }
    if hook == "order-select" {
        ctx["selections"] = json!(["MedicationRequest/m1"]);
    }
    if hook.starts_with("order-") {
        ctx["draftOrders"] = json!({"resourceType": "Bundle", "type": "collection", "entry": []});
    }
    json!({
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {
            "access_token": "s3cr3t", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "cart-sentinel", "patient": "p1"
        },
        "context": ctx,
        "prefetch": {"patient": null, "conditions": {"resourceType": "Bundle", "total": 1.50,
            "entry": [{"fullUrl": "urn:c1", "resource": {"resourceType": "Condition",
                "id": "c1", "meta": {"versionId": "2"}, "onsetDateTime": "2024-05-01"}}]}}
    })
}

/// Applies `edit` to the base body of `hook` and returns the error's (field, message).
pub(super) fn err_of(hook: &str, edit: impl FnOnce(&mut Value)) -> (String, String) {
    let mut body = base(hook);
    edit(&mut body);
    let err = parse_hook_request(body.to_string().as_bytes(), hook).expect_err("must fail");
    (err.field, err.message)
}

pub(super) fn field_of(hook: &str, edit: impl FnOnce(&mut Value)) -> String {
    err_of(hook, edit).0
}

#[test]
fn valid_requests_for_every_known_hook_parse() {
    for hook in KNOWN_HOOKS {
        let req = parse_hook_request(base(hook).to_string().as_bytes(), hook).unwrap();
        assert_eq!(req.hook, *hook);
        assert_eq!(req.context.patient_id(), Some("p1"));
        assert_eq!(req.context.user_id(), Some("Practitioner/123"));
        let prefetch = req.prefetch.as_ref().unwrap();
        assert!(
            sonic_rs::JsonValueTrait::is_null(&prefetch["patient"]),
            "a null prefetch value is kept"
        );
        // Prefetch values are kept as sent, for the rules' FHIRPath; this Condition has no
        // subject, so it is invalid when the record is built.
        let condition = json!({"resourceType": "Condition", "id": "c1",
            "meta": {"versionId": "2"}, "onsetDateTime": "2024-05-01"});
        let kept: Value =
            serde_json::from_str(&prefetch["conditions"]["entry"][0]["resource"].to_string())
                .unwrap();
        assert_eq!(kept, condition);
        assert!(fhir_r4::decode(&condition).is_err());
    }
}

#[test]
fn odd_prefetch_values_are_kept_as_sent() {
    // Not the shapes the one-pass reader takes: parsed the ordinary way, read as before.
    for odd in [
        json!(5),
        json!("x"),
        json!([1, {"a": 2}]),
        json!({"resourceType": "Bundle", "entry": {"resource": {}}}),
        json!({"resourceType": "Bundle", "entry": [null]}),
    ] {
        let mut body = base("patient-view");
        body["prefetch"]["odd"] = odd.clone();
        let req = parse_hook_request(body.to_string().as_bytes(), "patient-view").unwrap();
        let kept: Value = serde_json::from_str(&req.prefetch.unwrap()["odd"].to_string()).unwrap();
        assert_eq!(kept, odd);
    }
    let mut body = base("patient-view");
    body["prefetch"] = json!(5);
    assert_eq!(
        parse_hook_request(body.to_string().as_bytes(), "patient-view")
            .unwrap_err()
            .field,
        "prefetch"
    );
}

#[test]
fn whole_body_errors_have_an_empty_field() {
    let err = parse_hook_request(b"{\"hook\": ", "patient-view").unwrap_err();
    assert_eq!(err.field, "");
    assert!(
        err.message
            .starts_with("body is not valid JSON: line 1 column"),
        "{}",
        err.message
    );
    let err = parse_hook_request(b"[1, 2]", "patient-view").unwrap_err();
    assert_eq!(err.to_string(), "body is not a JSON object");
}

#[test]
fn hook_errors_name_hook() {
    let pv = "patient-view";
    assert_eq!(
        err_of(pv, |b| drop(b.as_object_mut().unwrap().remove("hook"))).1,
        "is required"
    );
    assert_eq!(
        err_of(pv, |b| b["hook"] = json!(7)),
        ("hook".into(), "must be a string".into())
    );
    let (field, msg) = err_of(pv, |b| b["hook"] = json!("order-sign"));
    assert_eq!(field, "hook");
    assert_eq!(
        msg,
        "is \"order-sign\", but this service handles \"patient-view\""
    );
    let (_, msg) = err_of(pv, |b| b["hook"] = json!("<script>"));
    assert!(
        !msg.contains("<script>"),
        "unknown hook names are not echoed"
    );
}

#[test]
fn hook_instance_errors_name_hook_instance() {
    let pv = "patient-view";
    assert_eq!(
        field_of(pv, |b| drop(
            b.as_object_mut().unwrap().remove("hookInstance")
        )),
        "hookInstance"
    );
    assert_eq!(
        err_of(pv, |b| b["hookInstance"] = json!("")).1,
        "must not be empty"
    );
    assert_eq!(
        err_of(pv, |b| b["hookInstance"] = json!(1)).1,
        "must be a string"
    );
}

#[test]
fn context_must_be_a_present_object() {
    let pv = "patient-view";
    let (field, msg) = err_of(pv, |b| drop(b.as_object_mut().unwrap().remove("context")));
    assert_eq!((field.as_str(), msg.as_str()), ("context", "is required"));
    let (field, msg) = err_of(pv, |b| b["context"] = json!("p1"));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        ("context", "must be a JSON object")
    );
}

#[test]
fn fhir_server_must_be_an_absolute_http_url() {
    let pv = "patient-view";
    for bad in [
        json!("ehr.example.org/fhir"),
        json!("/fhir"),
        json!("ftp://ehr/fhir"),
        json!("file:///etc"),
        json!(1),
    ] {
        assert_eq!(
            field_of(pv, |b| b["fhirServer"] = bad.clone()),
            "fhirServer",
            "{bad}"
        );
    }
    let ok = |url: &str| {
        let mut b = base(pv);
        b["fhirServer"] = json!(url);
        parse_hook_request(b.to_string().as_bytes(), pv).is_ok()
    };
    assert!(ok("http://localhost:8080/fhir") && ok("https://ehr.example.org/fhir/r4"));
}

#[test]
fn fhir_authorization_requires_fhir_server() {
    let (field, msg) = err_of("patient-view", |b| {
        drop(b.as_object_mut().unwrap().remove("fhirServer"))
    });
    assert_eq!(
        (field.as_str(), msg.as_str()),
        ("fhirAuthorization", "is only allowed with fhirServer")
    );
}

#[test]
fn fhir_authorization_members_are_named() {
    let pv = "patient-view";
    for member in [
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "subject",
    ] {
        let remove = |b: &mut Value| {
            drop(
                b["fhirAuthorization"]
                    .as_object_mut()
                    .unwrap()
                    .remove(member),
            )
        };
        assert_eq!(
            err_of(pv, remove),
            (format!("fhirAuthorization.{member}"), "is required".into())
        );
    }
    assert_eq!(
        field_of(pv, |b| b["fhirAuthorization"] = json!("tok")),
        "fhirAuthorization"
    );
    let auth = |k: &str, v: Value| err_of(pv, |b| b["fhirAuthorization"][k] = v);
    assert_eq!(
        auth("token_type", json!("MAC")),
        (
            "fhirAuthorization.token_type".into(),
            "must be \"Bearer\"".into()
        )
    );
    assert_eq!(
        auth("expires_in", json!("300")).0,
        "fhirAuthorization.expires_in"
    );
    assert_eq!(
        auth("expires_in", json!(1.5)).0,
        "fhirAuthorization.expires_in"
    );
    assert_eq!(
        auth("expires_in", json!(-1)).0,
        "fhirAuthorization.expires_in"
    );
    assert_eq!(auth("scope", json!("")).0, "fhirAuthorization.scope");
    assert_eq!(auth("patient", json!(12)).0, "fhirAuthorization.patient");

    let mut body = base(pv);
    body["fhirAuthorization"]["token_type"] = json!("bearer");
    let req = parse_hook_request(body.to_string().as_bytes(), pv).unwrap();
    let auth = req.fhir_authorization.unwrap();
    assert_eq!(auth.expires_in, 300);
    let debug = format!("{auth:?}");
    assert!(
        !debug.contains("s3cr3t") && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn prefetch_and_extension_must_be_objects() {
    let pv = "patient-view";
    assert_eq!(
        err_of(pv, |b| b["prefetch"] = json!([])),
        ("prefetch".into(), "must be a JSON object".into())
    );
    assert_eq!(field_of(pv, |b| b["extension"] = json!("x")), "extension");
}

#[path = "request_context_tests.rs"]
mod context;

#[test]
fn a_lone_surrogate_in_an_unread_prefetch_member_is_refused_as_before() {
    let body = base("patient-view").to_string();
    let body = body.replacen(
        r#""resourceType":"Bundle""#,
        r#""resourceType":"Bundle","meta":{"source":"\ud800"}"#,
        1,
    );
    assert!(body.contains(r#"\ud800"#));
    let err = parse_hook_request(body.as_bytes(), "patient-view").unwrap_err();
    assert_eq!(err.field, "");
    assert!(err.message.starts_with("body is not valid JSON"), "{err}");
}
