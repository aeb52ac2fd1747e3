use super::*;
use sonic_rs::{json, JsonValueMutTrait};

/// The `Type/id` of the kept resources.
fn kept(r: &PatientRecord) -> Vec<String> {
    r.resources
        .iter()
        .map(|v| {
            format!(
                "{}/{}",
                v["resourceType"].as_str().unwrap(),
                v["id"].as_str().unwrap()
            )
        })
        .collect()
}

fn obs(id: &str, subject: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
        "subject": {"reference": subject},
        "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
        "effectiveDateTime": "2026-01-02T10:00:00Z",
        "valueQuantity": {"value": 0.8, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"}})
}

#[test]
fn keeps_this_patients_resources_and_drops_everyone_elses() {
    let mut b = RecordBuilder::new("p1");
    b.add(
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": obs("a", "Patient/p1")},
            {"resource": obs("b", "Patient/p2")},
            {"resource": obs("c", "https://ehr.example/fhir/Patient/p1")},
            {"resource": obs("d", "Group/p1")},
        ]}),
    );
    let r = b.finish();
    assert_eq!(kept(&r), ["Observation/a", "Observation/c"]);
    assert_eq!(r.stats.other_patient, 2);
}

#[test]
fn a_broken_resource_is_skipped_not_fatal() {
    let mut broken = obs("x", "Patient/p1");
    *broken
        .get_mut("valueQuantity")
        .and_then(|q| q.get_mut("value"))
        .unwrap() = json!("high");
    let mut b = RecordBuilder::new("p1");
    b.add(json!({"resourceType": "Bundle", "entry": [{"resource": broken}, {"resource": obs("ok", "Patient/p1")}, {"nope": 1}]}));
    let r = b.finish();
    assert_eq!(kept(&r), ["Observation/ok"]);
    assert_eq!(r.stats.skipped_invalid, 2);
}

#[test]
fn null_and_operation_outcome_add_nothing() {
    let mut b = RecordBuilder::new("p1");
    b.add(Value::new());
    b.add(json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}));
    let r = b.finish();
    assert_eq!(r.stats.operation_outcomes, 1);
    assert!(r.resources.is_empty());
}

#[test]
fn a_type_the_checks_do_not_read_is_kept_when_it_names_the_patient() {
    let allergy = |id: &str, patient: &str| {
        json!({"resourceType": "AllergyIntolerance", "id": id, "code": {"text": "Sulfonamide"},
            "patient": {"reference": patient}})
    };
    let mut b = RecordBuilder::new("p1");
    b.add(json!({"resourceType": "Bundle", "entry": [
        {"resource": allergy("a", "Patient/p1")}, {"resource": allergy("b", "Patient/p2")},
        {"resource": {"resourceType": "AllergyIntolerance", "id": "c"}}]}));
    let r = b.finish();
    assert_eq!(kept(&r), ["AllergyIntolerance/a"]);
    assert_eq!(
        r.stats.other_patient, 2,
        "another patient's, and one naming no patient"
    );
}

#[test]
fn patient_birth_date_only_from_the_right_patient() {
    let mut b = RecordBuilder::new("p1");
    b.add(json!({"resourceType": "Patient", "id": "p2", "birthDate": "1950-01-01"}));
    b.add(json!({"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-06"}));
    assert_eq!(b.finish().birth_date.unwrap().to_string(), "1960-05-06");
}

/// `refers_to_patient` as it was before its fast path and reverse scan.
fn refers_to_patient_as_before(reference: &str, patient_id: &str) -> bool {
    let path = reference.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .windows(2)
        .rev()
        .find(|w| w[0] == "Patient")
        .is_some_and(|w| w[1] == patient_id)
}

#[test]
fn patient_references_are_read_as_before() {
    let ids = ["", "1", "Patient", "a/b", "a?b", "a#b", "é", "x"];
    let mut references = Vec::new();
    for id in ids {
        for form in [
            "Patient/{}",
            "{}",
            "Patient/{}/_history/2",
            "https://ehr/fhir/Patient/{}",
            "Patient//{}",
            "/Patient/{}",
            "Patient/{}?a=Patient/x",
            "Patient/{}#Patient/x",
            "Patient/x/Patient/{}",
            "Patient/{}/Patient",
            "Group/{}",
        ] {
            references.push(form.replace("{}", id));
        }
    }
    references.extend(["", "/", "Patient", "Patient/", "Patient//", "?", "#"].map(String::from));
    for reference in &references {
        for id in ids {
            assert_eq!(
                refers_to_patient(reference, id),
                refers_to_patient_as_before(reference, id),
                "{reference} / {id}"
            );
        }
    }
}

#[test]
fn patient_reference_forms() {
    assert!(refers_to_patient("Patient/1", "1"));
    assert!(refers_to_patient(
        "https://x/fhir/Patient/1/_history/3",
        "1"
    ));
    assert!(!refers_to_patient("Patient/10", "1"));
    assert!(!refers_to_patient("urn:uuid:1", "1"));
    // The segment after the last `Patient` that has one; query and fragment ignored.
    assert!(refers_to_patient("Patient/Patient/1", "1"));
    assert!(refers_to_patient("Patient/1/Patient", "1"));
    assert!(!refers_to_patient("Patient/1/Patient/2", "1"));
    assert!(refers_to_patient("Patient/1?x=Patient/2", "1"));
    assert!(refers_to_patient("Patient/1#Patient/2", "1"));
    assert!(!refers_to_patient("Patient/", "1"));
    assert!(!refers_to_patient("Patient", "1"));
    assert!(!refers_to_patient("", "1"));
    assert!(!refers_to_patient("Group/Patient", "Patient"));
    // An id that is not one segment is not matched whole.
    assert!(!refers_to_patient("Patient/a/b", "a/b"));
    assert!(refers_to_patient("Patient/a/b", "a"));
    assert!(!refers_to_patient("Patient/a?b", "a?b"));
}

#[test]
fn a_repeated_member_the_checks_read_makes_the_resource_invalid() {
    // The parser keeps both values; which one counts would be a guess, so neither does.
    let twice = r#"{"resourceType": "Observation", "id": "t", "status": "final", "status": "entered-in-error",
        "subject": {"reference": "Patient/p1"}, "code": {"text": "x"}}"#;
    let ignored = r#"{"resourceType": "Observation", "id": "u", "status": "final", "note": [], "note": [],
        "subject": {"reference": "Patient/p1"}, "code": {"text": "x"}}"#;
    let mut b = RecordBuilder::new("p1");
    b.add(sonic_rs::from_str(twice).unwrap());
    b.add(sonic_rs::from_str(ignored).unwrap());
    let r = b.finish();
    assert_eq!(r.stats.skipped_invalid, 1);
    assert_eq!(
        kept(&r),
        ["Observation/u"],
        "a repeated member no source reads is not looked at"
    );
}
