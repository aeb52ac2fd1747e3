//! `to_json`: validation and normalisation of resources the service builds from templates.

mod common;

use common::parse;
use fhir_r4::{to_json, SerializeError};
use serde_json::json;

const DRAFT_SERVICE_REQUEST: &str = r#"{
  "resourceType": "ServiceRequest",
  "status": "draft",
  "intent": "proposal",
  "priority": "urgent",
  "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007", "display": "Laboratory procedure"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5",
                       "display": "C reactive protein [Mass/volume] in Serum or Plasma"}]},
  "subject": {"reference": "Patient/pat-1"},
  "reasonCode": [{"text": "Fever after CAR-T infusion"}],
  "occurrenceTiming": {"repeat": {"frequency": 1, "period": 1.0, "periodUnit": "d", "count": 7}},
  "note": [{"text": "Suggested by cart-sentinel"}]
}"#;

#[test]
fn draft_service_request_round_trips() {
    let input = parse(DRAFT_SERVICE_REQUEST);
    let output = to_json(&input).expect("valid");
    assert_eq!(output, input);
    // Decimal text is kept exactly (1.0 stays 1.0).
    assert_eq!(
        output["occurrenceTiming"]["repeat"]["period"].to_string(),
        "1.0"
    );
    // Normalising twice changes nothing.
    assert_eq!(to_json(&output), Ok(output.clone()));
}

#[test]
fn medication_request_and_adverse_event_templates_round_trip() {
    let mr = parse(
        r#"{"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "612865"}]},
            "subject": {"reference": "Patient/pat-1"},
            "dosageInstruction": [{"text": "8 mg/kg IV", "doseAndRate": [{"doseQuantity":
                {"value": 8.0, "unit": "mg/kg", "system": "http://unitsofmeasure.org", "code": "mg/kg"}}]}]}"#,
    );
    assert_eq!(to_json(&mr), Ok(mr.clone()));
    let ae = json!({"resourceType": "AdverseEvent", "actuality": "potential",
                    "event": {"coding": [{"system": "http://snomed.info/sct", "code": "1251523007"}]},
                    "subject": {"reference": "Patient/pat-1"}, "date": "2026-03-02",
                    "extension": [{"url": "http://example.org/fhir/StructureDefinition/source", "valueString": "cart-sentinel"}]});
    assert_eq!(to_json(&ae), Ok(ae.clone()));
}

#[test]
fn template_errors_are_reported() {
    let mut unknown = parse(DRAFT_SERVICE_REQUEST);
    unknown["reason"] = json!([{"concept": {"text": "R5 element"}}]);
    let err = to_json(&unknown).expect_err("unknown element");
    assert!(err.0.contains("unknown field `reason`"), "{err}");

    let mut nested = parse(DRAFT_SERVICE_REQUEST);
    nested["code"]["coding"][0]["codee"] = json!("typo");
    assert!(to_json(&nested).is_err());

    let mut missing = parse(DRAFT_SERVICE_REQUEST);
    missing.as_object_mut().expect("object").remove("subject");
    let err = to_json(&missing).expect_err("missing subject");
    assert!(err.0.contains("subject"), "{err}");

    assert!(to_json(&json!({"resourceType": "FooBar"})).is_err());
    assert_eq!(
        to_json(&json!({"status": "draft"})),
        Err(SerializeError(
            "not a FHIR resource (no resourceType)".into()
        ))
    );
    assert!(to_json(&json!("ServiceRequest")).is_err());

    // fhirbolt panics on an empty array; caught and reported.
    let mut empty = parse(DRAFT_SERVICE_REQUEST);
    empty["note"] = json!([]);
    let err = to_json(&empty).expect_err("empty array");
    assert!(
        err.to_string().starts_with("invalid FHIR R4 resource:"),
        "{err}"
    );
}

#[test]
fn fhirbolt_coerces_some_primitives() {
    let mut sloppy = parse(DRAFT_SERVICE_REQUEST);
    sloppy["status"] = json!(["draft"]);
    sloppy["doNotPerform"] = json!("true");
    let output = to_json(&sloppy).expect("fhirbolt accepts these");
    assert_eq!(output["status"], json!("draft"));
    assert_eq!(output["doNotPerform"], json!(true));
}
