//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fhir_r4::{decode, Checked, DecodeError};
use serde_json::Value;

/// Parses JSON text (keeps decimal text such as `98.60` exactly, unlike `json!`).
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("test JSON is valid")
}

/// Decodes on another thread and fails the test if that takes more than a few seconds: a
/// hang guard (fhirbolt's lax modes loop forever on unknown arrays), not a performance test.
pub fn decode_in_time(value: Value) -> Result<Checked, DecodeError> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(decode(&value));
    });
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("decode did not return within 5 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("decode panicked"),
    }
}

/// A realistic Observation: body temperature in °F, with narrative, meta, extensions,
/// identifiers, a reference range and other elements the engine does not read.
pub const TEMPERATURE: &str = r#"{
  "resourceType": "Observation",
  "id": "temp-1",
  "meta": {"versionId": "3", "lastUpdated": "2026-03-02T08:15:00Z",
           "profile": ["http://hl7.org/fhir/StructureDefinition/bodytemp"]},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">98.60 F</div>"},
  "extension": [{"url": "http://example.org/fhir/StructureDefinition/device-site",
                 "valueString": "oral"}],
  "identifier": [{"system": "urn:oid:1.2.3.4", "value": "OBS-778812"}],
  "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs", "display": "Vital Signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5", "display": "Body temperature"},
                      {"system": "http://snomed.info/sct", "code": "386725007"}],
           "text": "Temperature"},
  "subject": {"reference": "Patient/pat-1", "display": "Jane Doe"},
  "encounter": {"reference": "Encounter/enc-1"},
  "effectiveDateTime": "2026-03-02T08:00:00-05:00",
  "issued": "2026-03-02T08:10:00Z",
  "performer": [{"reference": "Practitioner/nurse-9"}],
  "valueQuantity": {"value": 98.60, "unit": "F", "system": "http://unitsofmeasure.org",
                    "code": "[degF]"},
  "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                  "code": "N", "display": "Normal"}]}],
  "note": [{"text": "patient had a hot drink"}],
  "referenceRange": [{"low": {"value": 97.0, "unit": "F"}, "high": {"value": 99.5, "unit": "F"}}]
}"#;
