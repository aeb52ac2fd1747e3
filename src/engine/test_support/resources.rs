//! FHIR resources of [`PATIENT`] for the engine's tests, written with `serde_json::json!`: only
//! what the shipped sources read, plus what the record's check requires.

use serde_json::{json, Value};

use super::{HCPCS, PATIENT, SYS};

/// A reference to [`PATIENT`].
fn subject() -> Value {
    json!({"reference": format!("Patient/{PATIENT}")})
}

/// `resource` with `key` set to `value` (`Value::Null` removes it).
pub fn with(mut resource: Value, key: &str, value: Value) -> Value {
    let obj = resource.as_object_mut().expect("a resource");
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), value);
    }
    resource
}

/// A CodeableConcept of a test code.
pub fn concept(code: &str) -> Value {
    json!({"coding": [{"system": SYS, "code": code}]})
}

/// A final Observation of `code` at `when` with `value` (`{"valueQuantity": …}`, or `{}`).
pub fn observation(code: Value, when: &str, value: Value) -> Value {
    let mut o = json!({"resourceType": "Observation", "status": "final", "subject": subject(),
        "code": code, "effectiveDateTime": when});
    for (k, v) in value.as_object().cloned().unwrap_or_default() {
        o[k] = v;
    }
    o
}

/// A final result of the test code `code`.
pub fn result(code: &str, when: &str, value: Value) -> Value {
    observation(concept(code), when, value)
}

/// `{"valueQuantity": …}` in a UCUM unit.
pub fn qty(value: f64, unit: &str) -> Value {
    json!({"valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})
}

/// A medication resource (`MedicationAdministration`, `MedicationRequest` or
/// `MedicationStatement`) of the test code `code`, dated `when`.
pub fn medication(kind: &str, status: &str, code: &str, when: &str) -> Value {
    let mut m = json!({"resourceType": kind, "status": status, "subject": subject(),
        "medicationCodeableConcept": concept(code)});
    match kind {
        "MedicationRequest" => {
            m["intent"] = json!("order");
            m["authoredOn"] = json!(when);
        }
        _ => m["effectiveDateTime"] = json!(when),
    }
    m
}

/// A Condition of the test code `code` with these clinical and verification statuses.
pub fn condition(code: &str, clinical: &str, verification: &str, onset: &str) -> Value {
    let status = |system: &str, c: &str| json!({"coding": [{"system": format!("http://terminology.hl7.org/CodeSystem/{system}"), "code": c}]});
    json!({"resourceType": "Condition", "subject": subject(), "code": concept(code),
        "clinicalStatus": status("condition-clinical", clinical),
        "verificationStatus": status("condition-ver-status", verification),
        "onsetDateTime": onset})
}

/// A Procedure with this code and status.
pub fn procedure(code: Value, status: &str, when: &str) -> Value {
    json!({"resourceType": "Procedure", "status": status, "subject": subject(), "code": code,
        "performedDateTime": when})
}

/// A completed administration of a product code of HCPCS (`Q2041` Yescarta, `Q2042` Kymriah,
/// `Q2058` Aucatzyl…).
pub fn administered(hcpcs: &str, when: &str) -> Value {
    json!({"resourceType": "MedicationAdministration", "status": "completed", "subject": subject(),
        "medicationCodeableConcept": {"coding": [{"system": HCPCS, "code": hcpcs}]},
        "effectiveDateTime": when})
}

/// A completed Yescarta (axi-cel) administration.
pub fn yescarta(when: &str) -> Value {
    administered("Q2041", when)
}

/// An Encounter of the test code `code` (its type) with this status, ended at `end`.
pub fn encounter(code: &str, status: &str, end: &str) -> Value {
    json!({"resourceType": "Encounter", "status": status, "subject": subject(),
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [concept(code)], "period": {"start": end, "end": end}})
}

/// An AllergyIntolerance of the test code `code`; `clinical` and `verification` are left out
/// when empty.
pub fn allergy(code: &str, clinical: &str, verification: &str) -> Value {
    let mut a = json!({"resourceType": "AllergyIntolerance", "patient": subject(),
        "code": concept(code), "recordedDate": "2026-03-01"});
    let status = |system: &str, c: &str| json!({"coding": [{"system": format!("http://terminology.hl7.org/CodeSystem/{system}"), "code": c}]});
    if !clinical.is_empty() {
        a["clinicalStatus"] = status("allergyintolerance-clinical", clinical);
    }
    if !verification.is_empty() {
        a["verificationStatus"] = status("allergyintolerance-verification", verification);
    }
    a
}

/// A ServiceRequest of the test code `code` (a draft order, or a record entry).
pub fn service_request(code: &str, status: &str) -> Value {
    json!({"resourceType": "ServiceRequest", "status": status, "intent": "order",
        "subject": subject(), "code": concept(code)})
}
