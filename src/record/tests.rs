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

#[test]
fn a_resource_is_kept_when_its_subject_reference_names_the_patient() {
    #[rustfmt::skip]
    let rows: &[(&str, &str, &str, bool)] = &[
        // (case, subject reference, the record's patient id, kept)
        ("a relative reference", "Patient/1", "1", true),
        ("an absolute reference", "https://ehr.example/fhir/Patient/1", "1", true),
        ("a versioned reference", "https://x/fhir/Patient/1/_history/3", "1", true),
        ("a leading slash", "/Patient/1", "1", true),
        ("another patient whose id starts the same", "Patient/10", "1", false),
        ("an id that only ends the same", "Patient/01", "1", false),
        ("a bare id, no type", "1", "1", false),
        ("another type with the same id", "Group/1", "1", false),
        ("a urn", "urn:uuid:1", "1", false),
        ("an empty id segment", "Patient//1", "1", false),
        ("no id", "Patient/", "1", false),
        ("the type alone", "Patient", "1", false),
        ("the type as another type's id", "Group/Patient", "Patient", false),
        ("the query is not part of the reference", "Patient/1?x=Patient/2", "1", true),
        ("the query names another patient", "Patient/2?x=Patient/1", "1", false),
        ("the fragment is not part of the reference", "Patient/1#Patient/2", "1", true),
        ("the last Patient segment with an id counts", "Patient/2/Patient/1", "1", true),
        ("an earlier Patient segment does not", "Patient/1/Patient/2", "1", false),
        ("a trailing Patient without id is skipped", "Patient/1/Patient", "1", true),
        ("the id Patient itself", "Patient/Patient/1", "1", true),
        ("an id is one segment: a/b is not matched whole", "Patient/a/b", "a/b", false),
        ("an id is one segment: the segment after Patient", "Patient/a/b", "a", true),
        ("an id with a question mark is cut at the query", "Patient/a?b", "a?b", false),
        ("a non-ASCII id", "Patient/é", "é", true),
        ("a non-ASCII id of another patient", "Patient/é", "e", false),
    ];
    for (case, reference, patient, kept) in rows {
        let mut b = RecordBuilder::new(patient);
        b.add(obs("a", reference));
        let r = b.finish();
        assert_eq!(
            r.resources.len() == 1,
            *kept,
            "{case}: {reference} for {patient}"
        );
        assert_eq!(
            r.stats.other_patient == 1,
            !kept,
            "{case}: counted as another patient's"
        );
        assert_eq!(
            refers_to_patient(reference, patient),
            *kept,
            "{case}: {reference}"
        );
    }
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
