//! `decode` on realistic and hostile resources of every supported type.

mod common;

use common::{decode_in_time, parse, TEMPERATURE};
use fhir_r4::{decode, Coding, Common, Component, Concept, DecodeError, Facts, ObsValue, Quantity};
use serde_json::{json, Value};

fn coding(system: &str, code: &str, display: Option<&str>) -> Coding {
    Coding {
        system: Some(system.into()),
        code: Some(code.into()),
        display: display.map(Into::into),
    }
}

fn common(id: &str, status: Option<&str>, subject: Option<&str>) -> Common {
    Common {
        id: Some(id.into()),
        status: status.map(Into::into),
        subject: subject.map(Into::into),
    }
}

fn text_concept(text: &str) -> Concept {
    Concept {
        codings: vec![],
        text: Some(text.into()),
    }
}

fn invalid(resource_type: &str) -> Result<Facts, DecodeError> {
    Err(DecodeError::Invalid {
        resource_type: resource_type.into(),
    })
}

#[test]
fn observation_quantity_keeps_decimal_text() {
    let facts = decode_in_time(parse(TEMPERATURE)).expect("decodes");
    assert_eq!(
        facts,
        Facts::Observation {
            common: common("temp-1", Some("final"), Some("Patient/pat-1")),
            code: Concept {
                codings: vec![
                    coding("http://loinc.org", "8310-5", Some("Body temperature")),
                    Coding {
                        system: Some("http://snomed.info/sct".into()),
                        code: Some("386725007".into()),
                        display: None
                    },
                ],
                text: Some("Temperature".into()),
            },
            date: Some("2026-03-02T08:00:00-05:00".into()),
            value: Some(ObsValue::Quantity(Quantity {
                value: 98.6,
                raw: "98.60".into(),
                unit: Some("[degF]".into()),
                comparator: None,
            })),
            interpretation: vec![Concept {
                codings: vec![coding(
                    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    "N",
                    Some("Normal"),
                )],
                text: None,
            }],
            components: vec![],
        }
    );
}

#[test]
fn observation_components_period_and_exponent_decimal() {
    let v = parse(
        r#"{"resourceType": "Observation", "id": "bp", "status": "amended",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "subject": {"reference": "Patient/pat-1"},
            "effectivePeriod": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:05:00Z"},
            "issued": "2026-03-01T11:00:00Z",
            "component": [
              {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
               "valueQuantity": {"value": 1.5e2, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
              {"code": {"text": "position"}, "valueCodeableConcept": {"text": "sitting"}},
              {"code": {"text": "cuff ok"}, "valueBoolean": true},
              {"code": {"text": "count"}, "valueInteger": 3},
              {"code": {"text": "comment"}, "valueString": "left arm"},
              {"code": {"text": "ratio"}, "valueRatio": {"numerator": {"value": 1}}},
              {"extension": [{"url": "x", "valueString": "a component with nothing we read"}]}
            ]}"#,
    );
    // serde_json (arbitrary_precision, turned on by fhirbolt) keeps a number's text, but
    // normalises an exponent: what reaches fhirbolt is already "1.5e+2".
    assert_eq!(parse("1.5e2").to_string(), "1.5e+2");
    assert_eq!(parse("98.60").to_string(), "98.60");
    let Facts::Observation {
        date,
        value,
        components,
        ..
    } = decode_in_time(v).expect("decodes")
    else {
        panic!("not an Observation")
    };
    assert_eq!(date.as_deref(), Some("2026-03-01T10:00:00Z"));
    assert_eq!(value, None);
    assert_eq!(
        components,
        vec![
            Component {
                code: Concept {
                    codings: vec![Coding {
                        system: Some("http://loinc.org".into()),
                        code: Some("8480-6".into()),
                        display: None
                    }],
                    text: None
                },
                // serde_json (arbitrary_precision) keeps the number's text, exponent normalised.
                value: Some(ObsValue::Quantity(Quantity {
                    value: 150.0,
                    raw: "1.5e+2".into(),
                    unit: Some("mm[Hg]".into()),
                    comparator: None
                })),
            },
            Component {
                code: text_concept("position"),
                value: Some(ObsValue::Concept(text_concept("sitting")))
            },
            Component {
                code: text_concept("cuff ok"),
                value: Some(ObsValue::Boolean(true))
            },
            Component {
                code: text_concept("count"),
                value: Some(ObsValue::Quantity(Quantity {
                    value: 3.0,
                    raw: "3".into(),
                    unit: None,
                    comparator: None
                })),
            },
            Component {
                code: text_concept("comment"),
                value: Some(ObsValue::Text("left arm".into()))
            },
            Component {
                code: text_concept("ratio"),
                value: None
            },
        ]
    );
}

#[test]
fn observation_value_kinds_and_date_fallbacks() {
    let base = || json!({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}});
    let decode_with = |pairs: Value| {
        let mut v = base();
        for (k, x) in pairs.as_object().expect("object") {
            v[k] = x.clone();
        }
        match decode_in_time(v).expect("decodes") {
            Facts::Observation { date, value, .. } => (date, value),
            other => panic!("unexpected {other:?}"),
        }
    };
    // ICE score (immune effector cell encephalopathy), an integer.
    assert_eq!(
        decode_with(json!({"valueInteger": 7, "effectiveInstant": "2026-03-01T10:00:00.000Z"})),
        (
            Some("2026-03-01T10:00:00.000Z".into()),
            Some(ObsValue::Quantity(Quantity {
                value: 7.0,
                raw: "7".into(),
                unit: None,
                comparator: None
            }))
        )
    );
    assert_eq!(
        decode_with(json!({"valueString": "grade 2", "issued": "2026-03-01"})).1,
        Some(ObsValue::Text("grade 2".into()))
    );
    assert_eq!(
        decode_with(json!({"valueString": "x", "issued": "2026-03-01"}))
            .0
            .as_deref(),
        Some("2026-03-01")
    );
    assert_eq!(
        decode_with(json!({"valueBoolean": false})),
        (None, Some(ObsValue::Boolean(false)))
    );
    // A Period with only an end has no start: the date falls back to issued.
    assert_eq!(
        decode_with(
            json!({"effectivePeriod": {"end": "2026-01-02"}, "issued": "2026-01-03T00:00:00Z"})
        )
        .0
        .as_deref(),
        Some("2026-01-03T00:00:00Z")
    );
    // Comparator, and `unit` when there is no code.
    let crp = parse(r#"{"value": 0.50, "comparator": "<", "unit": "mg/L"}"#);
    assert_eq!(
        decode_with(json!({"valueQuantity": crp})).1,
        Some(ObsValue::Quantity(Quantity {
            value: 0.5,
            raw: "0.50".into(),
            unit: Some("mg/L".into()),
            comparator: Some("<".into())
        }))
    );
    // A non-UCUM code still wins over the human-readable unit.
    let q =
        json!({"value": 2, "unit": "tabs", "system": "http://example.org/units", "code": "TAB"});
    assert!(
        matches!(decode_with(json!({"valueQuantity": q})).1, Some(ObsValue::Quantity(Quantity { unit: Some(u), .. })) if u == "TAB")
    );
    // A Quantity without a value (here only a data-absent extension on it) is no value.
    let q = json!({"unit": "mg/L", "_value": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "error"}]}});
    assert_eq!(decode_with(json!({"valueQuantity": q})).1, None);
    // value[x] of a kind the engine does not read.
    assert_eq!(
        decode_with(json!({"valueRange": {"low": {"value": 1}}})).1,
        None
    );
    assert_eq!(
        decode_with(json!({"valueSampledData": {"data": "1 2 3"}})).1,
        None
    );
}

#[test]
fn condition() {
    let v = parse(
        r#"{"resourceType": "Condition", "id": "crs-1",
            "meta": {"security": [{"code": "R"}]},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"code": "problem-list-item"}]}],
            "severity": {"text": "grade 2"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1251523007", "display": "Cytokine release syndrome"}],
                     "text": "CRS"},
            "subject": {"reference": "Patient/pat-1"},
            "onsetDateTime": "2026-02-20",
            "recordedDate": "2026-02-21T09:30:00Z",
            "evidence": [{"detail": [{"reference": "Observation/temp-1"}]}]}"#,
    );
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::Condition {
            common: common("crs-1", None, Some("Patient/pat-1")),
            clinical_status: Some(Concept {
                codings: vec![Coding {
                    system: Some("http://terminology.hl7.org/CodeSystem/condition-clinical".into()),
                    code: Some("active".into()),
                    display: None
                }],
                text: None
            }),
            verification_status: Some(Concept {
                codings: vec![Coding {
                    system: Some(
                        "http://terminology.hl7.org/CodeSystem/condition-ver-status".into()
                    ),
                    code: Some("confirmed".into()),
                    display: None
                }],
                text: None
            }),
            code: Concept {
                codings: vec![coding(
                    "http://snomed.info/sct",
                    "1251523007",
                    Some("Cytokine release syndrome")
                )],
                text: Some("CRS".into())
            },
            onset: Some("2026-02-20".into()),
            recorded_date: Some("2026-02-21T09:30:00Z".into()),
        }
    );
    // onsetPeriod.start; an onsetAge is not read; no code at all is an empty Concept.
    let v = json!({"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/pat-1"},
                   "onsetPeriod": {"start": "2025-12"}});
    assert!(
        matches!(decode_in_time(v), Ok(Facts::Condition { onset: Some(o), code, .. }) if o == "2025-12" && code == Concept::default())
    );
    let v = json!({"resourceType": "Condition", "id": "c3", "subject": {"reference": "Patient/pat-1"},
                   "onsetAge": {"value": 54, "unit": "a"}});
    assert!(matches!(
        decode_in_time(v),
        Ok(Facts::Condition { onset: None, .. })
    ));
}

#[test]
fn medication_request_concept_and_reference() {
    let v = parse(
        r#"{"resourceType": "MedicationRequest", "id": "mr-1", "status": "active", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "612865", "display": "tocilizumab"}]},
            "subject": {"reference": "Patient/pat-1"},
            "authoredOn": "2026-02-21T10:00:00Z",
            "requester": {"reference": "Practitioner/dr-2"},
            "dosageInstruction": [{"text": "8 mg/kg IV once",
                                   "doseAndRate": [{"doseQuantity": {"value": 8, "unit": "mg/kg"}}]}]}"#,
    );
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::MedicationRequest {
            common: common("mr-1", Some("active"), Some("Patient/pat-1")),
            intent: Some("order".into()),
            medication: Concept {
                codings: vec![coding(
                    "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "612865",
                    Some("tocilizumab")
                )],
                text: None
            },
            authored_on: Some("2026-02-21T10:00:00Z".into()),
        }
    );
    let v = json!({"resourceType": "MedicationRequest", "id": "mr-2", "status": "completed", "intent": "order",
                   "medicationReference": {"reference": "Medication/m1", "display": "Tocilizumab 20 mg/mL"},
                   "subject": {"reference": "Patient/pat-1"}});
    assert!(matches!(
        decode_in_time(v),
        Ok(Facts::MedicationRequest { medication, authored_on: None, .. }) if medication == text_concept("Tocilizumab 20 mg/mL")
    ));
    // A contained Medication (the usual partner of medicationReference "#m") is dropped, unread.
    let v = json!({"resourceType": "MedicationRequest", "id": "mr-3", "status": "active", "intent": "order",
                   "contained": [{"resourceType": "Medication", "id": "m", "code": {"text": "x"}, "r5Only": []}],
                   "medicationReference": {"reference": "#m"}, "subject": {"reference": "Patient/pat-1"}});
    assert!(
        matches!(decode_in_time(v), Ok(Facts::MedicationRequest { medication, .. }) if medication == Concept::default())
    );
}

#[test]
fn medication_administration_and_statement() {
    let v = json!({"resourceType": "MedicationAdministration", "id": "ma-1", "status": "completed",
                   "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1985580", "display": "axicabtagene ciloleucel"}]},
                   "subject": {"reference": "Patient/pat-1"},
                   "effectivePeriod": {"start": "2026-02-14T09:00:00Z", "end": "2026-02-14T09:30:00Z"},
                   "dosage": {"route": {"text": "IV"}}});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::MedicationAdministration {
            common: common("ma-1", Some("completed"), Some("Patient/pat-1")),
            medication: Concept {
                codings: vec![coding(
                    "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "1985580",
                    Some("axicabtagene ciloleucel")
                )],
                text: None
            },
            effective: Some("2026-02-14T09:00:00Z".into()),
        }
    );
    let v = json!({"resourceType": "MedicationStatement", "id": "ms-1", "status": "active",
                   "medicationCodeableConcept": {"text": "acyclovir 400 mg"},
                   "subject": {"reference": "Patient/pat-1"}, "dateAsserted": "2026-03-01"});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::MedicationStatement {
            common: common("ms-1", Some("active"), Some("Patient/pat-1")),
            medication: text_concept("acyclovir 400 mg"),
            effective: Some("2026-03-01".into()),
        }
    );
    let v = json!({"resourceType": "MedicationStatement", "id": "ms-2", "status": "active",
                   "medicationReference": {"display": "IVIG"}, "subject": {"reference": "Patient/pat-1"},
                   "effectiveDateTime": "2026-02-01", "dateAsserted": "2026-03-01"});
    assert!(
        matches!(decode_in_time(v), Ok(Facts::MedicationStatement { effective: Some(e), medication, .. })
        if e == "2026-02-01" && medication == text_concept("IVIG"))
    );
}

#[test]
fn procedure_immunization_encounter_service_request_patient() {
    let v = json!({"resourceType": "Procedure", "id": "pr-1", "status": "completed",
                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "65095002", "display": "Leukapheresis"}]},
                   "subject": {"reference": "Patient/pat-1"},
                   "performedPeriod": {"start": "2026-01-10T08:00:00Z"}, "bodySite": [{"text": "arm"}]});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::Procedure {
            common: common("pr-1", Some("completed"), Some("Patient/pat-1")),
            code: Concept {
                codings: vec![coding(
                    "http://snomed.info/sct",
                    "65095002",
                    Some("Leukapheresis")
                )],
                text: None
            },
            performed: Some("2026-01-10T08:00:00Z".into()),
        }
    );

    let v = json!({"resourceType": "Immunization", "id": "im-1", "status": "completed",
                   "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
                   "patient": {"reference": "Patient/pat-1"}, "occurrenceDateTime": "2026-05-01",
                   "lotNumber": "EL9261", "protocolApplied": [{"doseNumberPositiveInt": 1}]});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::Immunization {
            common: common("im-1", Some("completed"), Some("Patient/pat-1")),
            vaccine_code: Concept {
                codings: vec![Coding {
                    system: Some("http://hl7.org/fhir/sid/cvx".into()),
                    code: Some("208".into()),
                    display: None
                }],
                text: None
            },
            occurrence: Some("2026-05-01".into()),
        }
    );
    let v = json!({"resourceType": "Immunization", "id": "im-2", "status": "completed",
                   "vaccineCode": {"text": "MMR"}, "patient": {"reference": "Patient/pat-1"},
                   "occurrenceString": "childhood"});
    assert!(matches!(
        decode_in_time(v),
        Ok(Facts::Immunization {
            occurrence: None,
            ..
        })
    ));

    let v = json!({"resourceType": "Encounter", "id": "en-1", "status": "finished",
                   "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
                   "type": [{"text": "CAR-T infusion admission"}, {"coding": [{"code": "x", "system": "s"}]}],
                   "serviceType": {"text": "Hematology"},
                   "reasonCode": [{"text": "DLBCL"}],
                   "subject": {"reference": "Patient/pat-1"},
                   "period": {"start": "2026-02-13", "end": "2026-02-24"},
                   "hospitalization": {"dischargeDisposition": {"text": "home"}}});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::Encounter {
            common: common("en-1", Some("finished"), Some("Patient/pat-1")),
            types: vec![
                text_concept("CAR-T infusion admission"),
                Concept {
                    codings: vec![coding("s", "x", None)],
                    text: None
                }
            ],
            service_type: Some(text_concept("Hematology")),
            reason_codes: vec![text_concept("DLBCL")],
            start: Some("2026-02-13".into()),
            end: Some("2026-02-24".into()),
        }
    );

    let v = json!({"resourceType": "ServiceRequest", "id": "sr-1", "status": "active", "intent": "order",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5", "display": "CRP"}]},
                   "subject": {"reference": "Patient/pat-1"}, "authoredOn": "2026-02-22",
                   "occurrenceDateTime": "2026-02-23"});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::ServiceRequest {
            common: common("sr-1", Some("active"), Some("Patient/pat-1")),
            intent: Some("order".into()),
            code: Concept {
                codings: vec![coding("http://loinc.org", "1988-5", Some("CRP"))],
                text: None
            },
            authored_on: Some("2026-02-22".into()),
        }
    );

    let v = json!({"resourceType": "Patient", "id": "pat-1", "birthDate": "1971-04-03", "gender": "female",
                   "name": [{"family": "Doe", "given": ["Jane"]}],
                   "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                                  "extension": [{"url": "text", "valueString": "x"}]}],
                   "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                                 "valueDateTime": "1971-04-03T04:00:00Z"}]}});
    assert_eq!(
        decode_in_time(v).expect("decodes"),
        Facts::Patient {
            common: Common {
                id: Some("pat-1".into()),
                status: None,
                subject: None
            },
            birth_date: Some("1971-04-03".into()),
            gender: Some("female".into()),
        }
    );
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
    assert!(matches!(
        decode_in_time(v),
        Ok(Facts::Condition {
            common: Common { subject: None, .. },
            ..
        })
    ));
    let mut v = parse(TEMPERATURE);
    v["code"] = json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]});
    assert!(
        matches!(decode_in_time(v), Ok(Facts::Observation { code, .. }) if code == Concept::default())
    );
    let v = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "component": [{"code": {"coding": [{"userSelected": true}]}, "valueString": "v"}]});
    assert!(
        matches!(decode_in_time(v), Ok(Facts::Observation { components, .. })
        if components == vec![Component { code: Concept::default(), value: Some(ObsValue::Text("v".into())) }])
    );
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
    assert_eq!(decode_in_time(oo), Ok(Facts::OperationOutcome));
    // Not read, so not parsed: anything goes inside, even what fhirbolt would choke on.
    for name in [
        "FooBar",
        "AllergyIntolerance",
        "Bundle",
        "DiagnosticReport",
        "NutritionIntake",
    ] {
        let v = json!({"resourceType": name, "id": 5, "x": [], "entry": [[]]});
        assert_eq!(
            decode_in_time(v),
            Ok(Facts::Other {
                resource_type: name.into()
            })
        );
    }
}
