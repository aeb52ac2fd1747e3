//! `check` (through `decode`) on realistic and hostile resources of every type with a schema.

mod common;

use common::{decode_in_time, parse, TEMPERATURE};
use fhir_r4::{decode, Checked, DecodeError};
use serde_json::json;

fn invalid(resource_type: &str) -> Result<Checked, DecodeError> {
    Err(DecodeError::Invalid {
        resource_type: resource_type.into(),
    })
}

fn clinical(subject: &str) -> Checked {
    Checked::Clinical {
        subject: Some(subject.into()),
    }
}

/// A conformant resource of every type with a schema is accepted, and gives its patient.
#[test]
fn every_type_accepted_with_its_patient() {
    let p = json!({"reference": "Patient/p"});
    let concept = json!({"coding": [{"system": "http://loinc.org", "code": "1-8"}], "text": "x"});
    for v in [
        parse(TEMPERATURE),
        json!({"resourceType": "Condition", "id": "c", "subject": p, "code": concept,
               "clinicalStatus": concept, "onsetPeriod": {"start": "2025-12"}}),
        json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
               "subject": p, "medicationReference": {"display": "Tocilizumab"}}),
        json!({"resourceType": "MedicationAdministration", "status": "completed", "subject": p,
               "medicationCodeableConcept": concept, "effectivePeriod": {"start": "2026-01-02"}}),
        json!({"resourceType": "MedicationStatement", "status": "active", "subject": p,
               "medicationCodeableConcept": concept, "dateAsserted": "2026-01-02"}),
        json!({"resourceType": "Procedure", "status": "completed", "subject": p,
               "code": concept, "performedDateTime": "2026-01-02"}),
        json!({"resourceType": "Immunization", "status": "completed", "patient": p,
               "vaccineCode": concept, "occurrenceString": "spring 2019"}),
        json!({"resourceType": "Encounter", "status": "finished", "subject": p,
               "class": {"code": "IMP"}, "type": [concept], "period": {"start": "2026-01-02"}}),
        json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
               "subject": p, "code": concept}),
    ] {
        let expected = match v["resourceType"] == "Observation" {
            true => clinical("Patient/pat-1"),
            false => clinical("Patient/p"),
        };
        assert_eq!(decode_in_time(v.clone()), Ok(expected), "{v}");
    }
    let patient = json!({"resourceType": "Patient", "id": "pat-1", "birthDate": "1971-04-03",
                         "gender": "female", "name": [{"family": "Doe"}]});
    assert_eq!(
        decode_in_time(patient),
        Ok(Checked::Patient {
            id: Some("pat-1".into()),
            birth_date: Some("1971-04-03".into())
        })
    );
}

/// Choice elements hold one value; required ones exactly one.
#[test]
fn choice_elements() {
    let p = json!({"reference": "Patient/p"});
    for (v, ok) in [
        (
            json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "subject": p}),
            false,
        ),
        (
            json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "subject": p, "medicationReference": {"display": "x"},
                "medicationCodeableConcept": {"text": "x"}}),
            false,
        ),
        (
            json!({"resourceType": "MedicationAdministration", "status": "completed", "subject": p,
                "medicationCodeableConcept": {"text": "x"}}),
            false,
        ),
        (
            json!({"resourceType": "Immunization", "status": "completed", "patient": p,
                "vaccineCode": {"text": "x"}, "occurrenceString": "spring",
                "occurrenceDateTime": "2019"}),
            false,
        ),
        (
            json!({"resourceType": "Procedure", "status": "completed", "subject": p,
                "performedDateTime": "2026", "performedPeriod": {"start": "2026"}}),
            false,
        ),
        // A period with nothing the check looks at is not a second value.
        (
            json!({"resourceType": "Procedure", "status": "completed", "subject": p,
                "performedDateTime": "2026", "performedPeriod": {"extension": [{"url": "x"}]}}),
            true,
        ),
    ] {
        assert_eq!(decode_in_time(v.clone()).is_ok(), ok, "{v}");
    }
}

/// A member the check looks at may appear once; other repeated names are not looked at.
#[test]
fn repeated_members() {
    let twice =
        |inner: &str| format!(r#"{{"resourceType": "Observation", "status": "final", {inner}}}"#);
    let check = |text: String| fhir_r4::check(&sonic_rs::from_str(&text).unwrap());
    assert_eq!(
        check(twice(r#""code": {"text": "a"}, "code": {"text": "b"}"#)),
        invalid("Observation")
    );
    assert_eq!(
        check(twice(r#""code": {"text": "a", "text": "b"}"#)),
        invalid("Observation")
    );
    assert!(check(twice(r#""code": {"text": "a"}, "note": [], "note": []"#)).is_ok());
}

#[test]
fn unknown_elements_are_ignored_at_every_level() {
    let mut v = parse(TEMPERATURE);
    let expected = decode(&v).expect("decodes");
    v["vendorScore"] = json!({"deep": [{"x": [1, 2, {"y": []}]}]});
    v["derivedFrom"] = json!([{"reference": "Observation/1", "r5": []}]);
    v["code"]["coding"][0]["vendorRank"] = json!(1);
    v["code"]["coding"][0]["fhir_comments"] = json!(["from DSTU2"]);
    v["code"]["coding"][0]["version"] = json!("2.77");
    v["code"]["coding"][0]["_code"] = json!({"extension": [{"url": "x", "valueString": "y"}]});
    v["code"]["vendorFlag"] = json!([]);
    v["valueQuantity"]["vendorPrecision"] = json!(2);
    v["subject"]["identifier"] = json!({"system": "urn:mrn", "value": "123"});
    v["subject"]["type"] = json!("Patient");
    assert_eq!(decode_in_time(v), Ok(expected));
}

#[test]
fn unknown_array_elements_return_promptly() {
    let unknown = [
        ("fhir_comments", json!(["x"])),
        ("unknownArray", json!([])),
        ("unknownArrayOfObjects", json!([{"a": [{"b": []}]}])),
    ];
    let resources = [
        (
            json!({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
                "triggeredBy": [{"observation": {"reference": "Observation/1"}, "type": "reflex"}]}),
            "Observation",
        ),
        (
            json!({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"},
                "participant": [{"actor": {"reference": "Practitioner/1"}}]}),
            "Condition",
        ),
        (
            json!({"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/p"},
                "informationSource": [{"reference": "Patient/p"}]}),
            "MedicationRequest",
        ),
        (
            json!({"resourceType": "Procedure", "id": "p", "status": "completed", "subject": {"reference": "Patient/p"},
                "focus": [{"reference": "Patient/p"}], "used": [{"concept": {"text": "x"}}]}),
            "Procedure",
        ),
    ];
    for (resource, resource_type) in &resources {
        let expected = decode_in_time(resource.clone()).expect("decodes");
        for (name, value) in &unknown {
            // At the top level, and inside a datatype.
            let mut top = resource.clone();
            top[*name] = value.clone();
            assert_eq!(
                decode_in_time(top),
                Ok(expected.clone()),
                "{resource_type} {name}"
            );
            let mut nested = resource.clone();
            nested["subject"][*name] = value.clone();
            nested["code"][*name] = value.clone();
            let result = decode_in_time(nested);
            assert!(result.is_ok(), "{resource_type} nested {name}: {result:?}");
        }
    }
}

#[test]
fn nulls_and_empty_values_are_absent() {
    let mut v = parse(TEMPERATURE);
    let expected = decode(&v).expect("decodes");
    // Added empty and null elements, known and unknown, everywhere.
    for key in [
        "effectivePeriod",
        "valueString",
        "component",
        "contained",
        "extension",
        "modifierExtension",
        "_status",
        "_effectiveDateTime",
        "basedOn",
        "hasMember",
        "zzz",
    ] {
        v[key] = json!(null);
    }
    v["component"] = json!([]);
    v["contained"] = json!([]);
    v["extension"] = json!([]);
    v["_status"] = json!({"extension": []});
    v["_issued"] = json!({"extension": [], "id": null});
    v["hasMember"] = json!([null]);
    v["interpretation"].as_array_mut().expect("array").extend([
        json!(null),
        json!({}),
        json!({"coding": []}),
    ]);
    v["code"]["coding"].as_array_mut().expect("array").extend([
        json!(null),
        json!({}),
        json!({"system": null, "code": ""}),
    ]);
    v["code"]["coding"][0]["userSelected"] = json!(null);
    v["code"]["coding"][0]["extension"] = json!([]);
    v["code"]["extension"] = json!([]);
    v["valueQuantity"]["comparator"] = json!(null);
    v["valueQuantity"]["extension"] = json!([]);
    v["subject"]["display"] = json!("");
    v["subject"]["identifier"] = json!(null);
    let decoded = decode_in_time(v).expect("decodes");
    assert_eq!(decoded, expected);

    // Every optional element read by the engine set to null, [] or {}: still decodes.
    for key in [
        "id",
        "subject",
        "effectiveDateTime",
        "issued",
        "valueQuantity",
        "interpretation",
    ] {
        for blank in [json!(null), json!([]), json!({}), json!("")] {
            let mut v = parse(TEMPERATURE);
            v[key] = blank.clone();
            assert!(decode_in_time(v).is_ok(), "{key} = {blank}");
        }
    }
}

#[test]
fn required_elements_missing_or_emptied() {
    // Absent, null or blank required elements: the resource does not conform.
    for (key, blank) in [
        ("status", json!(null)),
        ("status", json!("")),
        ("code", json!(null)),
        ("code", json!([])),
        ("code", json!({"coding": [{}], "text": ""})),
    ] {
        let mut v = parse(TEMPERATURE);
        v[key] = blank;
        assert_eq!(decode_in_time(v), invalid("Observation"), "{key}");
    }
    // A status given only as a primitive extension (data-absent-reason) is absent too: status is
    // a modifier, so a resource whose status cannot be read is skipped.
    let mut v = parse(TEMPERATURE);
    v.as_object_mut().expect("object").remove("status");
    v["_status"] = json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]});
    assert_eq!(decode_in_time(v), invalid("Observation"));
    let v = json!({"resourceType": "Encounter", "status": "finished"});
    assert_eq!(decode_in_time(v), invalid("Encounter"));
    let v = json!({"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "x"},
                   "patient": {"reference": "Patient/p"}});
    assert_eq!(decode_in_time(v), invalid("Immunization"));

    // Present with content the projection drops (an identifier-only subject, a code carrying only
    // an extension): the resource conforms, so it is kept, with nothing to read there.
    let v = json!({"resourceType": "Condition", "id": "c", "subject": {"identifier": {"value": "MRN-1"}},
                   "code": {"extension": [{"url": "x", "valueString": "y"}]}});
    assert_eq!(decode_in_time(v), Ok(Checked::Clinical { subject: None }));
    let mut v = parse(TEMPERATURE);
    v["code"] = json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]});
    assert!(decode_in_time(v).is_ok());
    let v = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "component": [{"code": {"coding": [{"userSelected": true}]}, "valueString": "v"}]});
    assert!(decode_in_time(v).is_ok());
    // A component holding only what the check does not look at is not there: no code needed.
    let v = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "component": [{"extension": [{"url": "x", "valueString": "y"}]}]});
    assert!(decode_in_time(v).is_ok());
    // A component with a value and no code does not conform.
    let v = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "component": [{"valueString": "v"}]});
    assert_eq!(decode_in_time(v), invalid("Observation"));
}

#[test]
fn wrong_types_are_invalid_without_leaking_content() {
    let cases = [
        ("valueQuantity", json!({"value": "high"})),
        ("valueQuantity", json!({"value": "98.6"})),
        ("valueQuantity", json!({"value": true})),
        ("valueQuantity", json!("98.6 F")),
        ("valueQuantity", json!([{"value": 1}])),
        ("status", json!(5)),
        ("status", json!(["final"])),
        ("status", json!({"value": "final"})),
        ("code", json!("8310-5")),
        ("code", json!({"coding": {"code": "8310-5"}})),
        ("code", json!({"coding": ["8310-5"]})),
        ("code", json!({"text": 42})),
        ("interpretation", json!({"text": "H"})),
        ("valueBoolean", json!("true")),
        ("valueInteger", json!("7")),
        ("valueInteger", json!(7.5)),
        ("valueInteger", json!(3_000_000_000_i64)),
        ("effectiveDateTime", json!(20_260_302)),
        ("subject", json!("Patient/pat-1")),
        ("id", json!(12)),
    ];
    for (key, value) in cases {
        let mut v = parse(TEMPERATURE);
        if key.starts_with("value") {
            v.as_object_mut().expect("object").remove("valueQuantity");
        }
        v[key] = value.clone();
        let result = decode_in_time(v);
        assert_eq!(result, invalid("Observation"), "{key} = {value}");
        let message = result.expect_err("invalid").to_string();
        assert_eq!(message, "Observation does not conform to FHIR R4");
    }
    // Two values for one choice element; a decimal too large for f64.
    let mut v = parse(TEMPERATURE);
    v["valueString"] = json!("normal");
    assert_eq!(decode_in_time(v), invalid("Observation"));
    let mut v = parse(TEMPERATURE);
    v["valueQuantity"] = parse(r#"{"value": 1e400}"#);
    assert_eq!(decode_in_time(v), invalid("Observation"));
    let v = json!({"resourceType": "Patient", "gender": 1});
    assert_eq!(decode_in_time(v), invalid("Patient"));
    let v = json!({"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "onsetDateTime": {"value": "2020"}});
    assert_eq!(decode_in_time(v), invalid("Condition"));
}

#[test]
fn not_a_resource() {
    for v in [
        json!(5),
        json!("Observation"),
        json!(null),
        json!([{"resourceType": "Observation"}]),
        json!({}),
        json!({"status": "final"}),
        json!({"resourceType": 5}),
        json!({"resourceType": null}),
        json!({"resourceType": ""}),
        json!({"resourceType": "observation"}),
        json!({"resourceType": "Jane Doe, MRN 123"}),
        json!({"resourceType": "X".repeat(65)}),
    ] {
        assert_eq!(
            decode_in_time(v.clone()),
            Err(DecodeError::NotAResource),
            "{v}"
        );
    }
    assert_eq!(
        DecodeError::NotAResource.to_string(),
        "not a FHIR resource (no resourceType)"
    );
}

#[test]
fn operation_outcome_and_other_types() {
    let oo = json!({"resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "no access"}]});
    assert_eq!(decode_in_time(oo), Ok(Checked::OperationOutcome));
    // Not read, so not parsed: anything goes inside, even what fhirbolt would choke on.
    for name in [
        "FooBar",
        "AllergyIntolerance",
        "Bundle",
        "DiagnosticReport",
        "NutritionIntake",
    ] {
        let v = json!({"resourceType": name, "id": 5, "x": [], "entry": [[]]});
        assert_eq!(decode_in_time(v), Ok(Checked::Clinical { subject: None }));
        let v = json!({"resourceType": name, "patient": {"reference": "Patient/p"}});
        assert_eq!(decode_in_time(v), Ok(clinical("Patient/p")));
    }
}
