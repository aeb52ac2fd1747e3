//! The patient record: the FHIR R4 resources of one patient, as received, which the pack's
//! sources and FHIRPath read.
//!
//! Built from prefetch values and fetched pages. Each resource is first checked by
//! [`fhir_r4::check`] (the JSON types of the elements the shipped sources read, one value per
//! choice element, required elements; nulls and empty values count as absent): one
//! that fails is skipped and counted, never fatal to the call. Resources of another patient
//! (or with no patient reference) are dropped and counted. No I/O, no clock. Must not import
//! `actix_web`, sqlx or reqwest.

mod time;
pub mod units;

use chrono::NaiveDate;
use fhir_r4::Checked;
use serde_json::Value as Json;
use sonic_rs::{JsonValueMutTrait, JsonValueTrait, Value};

pub use time::{parse_when, When};

/// Counters about what was read; logged at debug level, never with content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Resources checked and kept.
    pub kept: usize,
    /// Resources that failed the check.
    pub skipped_invalid: usize,
    /// Resources of another patient, or with no patient reference.
    pub other_patient: usize,
    /// OperationOutcome values (prefetch errors).
    pub operation_outcomes: usize,
}

/// The patient record the engine evaluates.
#[derive(Debug, Clone)]
pub struct PatientRecord {
    /// Patient.id from the hook context.
    pub patient_id: String,
    /// Patient.birthDate.
    pub birth_date: Option<NaiveDate>,
    /// The kept resources as received, which the pack's sources read.
    pub resources: Vec<Value>,
    /// The orders of `context.draftOrders` as received.
    pub draft_resources: Vec<Value>,
    /// What was read.
    pub stats: RecordStats,
}

impl PatientRecord {
    /// An empty record for a patient.
    pub fn new(patient_id: &str) -> PatientRecord {
        PatientRecord {
            patient_id: patient_id.to_owned(),
            birth_date: None,
            resources: Vec::new(),
            draft_resources: Vec::new(),
            stats: RecordStats::default(),
        }
    }
}

/// Builds a [`PatientRecord`] from JSON values (resources or Bundles).
pub struct RecordBuilder {
    record: PatientRecord,
}

impl RecordBuilder {
    /// Starts a record for `patient_id`.
    pub fn new(patient_id: &str) -> RecordBuilder {
        RecordBuilder {
            record: PatientRecord::new(patient_id),
        }
    }

    /// Adds a prefetch value or fetched page: a resource, a Bundle of entries, or null. A
    /// Bundle's resources are moved out of it, not copied.
    pub fn add(&mut self, mut value: Value) {
        match value.get("resourceType").and_then(|t| t.as_str()) {
            Some("Bundle") => {
                let Some(entries) = value.get_mut("entry").and_then(|e| e.as_array_mut()) else {
                    return;
                };
                for (index, entry) in entries.iter_mut().enumerate() {
                    match entry.get_mut("resource") {
                        Some(resource) => {
                            let resource = std::mem::replace(resource, Value::new());
                            self.add_resource(resource, index)
                        }
                        None => self.record.stats.skipped_invalid += 1,
                    }
                }
            }
            Some(_) => self.add_resource(value, 0),
            None if value.is_null() => {}
            None => self.record.stats.skipped_invalid += 1,
        }
    }

    /// Adds the orders of `context.draftOrders` (not attributed by subject: the EHR is
    /// ordering them for this patient now); only a `MedicationRequest` or `ServiceRequest`
    /// that passes the check is kept.
    pub fn add_draft_orders(&mut self, bundle: &Json) {
        let entries = bundle.get("entry").and_then(Json::as_array);
        for (index, entry) in entries.into_iter().flatten().enumerate() {
            let Some(resource) = entry.get("resource") else {
                continue;
            };
            // The context is read as serde_json values; the sources read sonic-rs ones.
            let Ok(resource) = sonic_rs::from_str::<Value>(&resource.to_string()) else {
                self.record.stats.skipped_invalid += 1;
                continue;
            };
            let order = matches!(
                resource.get("resourceType").and_then(|t| t.as_str()),
                Some("MedicationRequest" | "ServiceRequest")
            );
            match fhir_r4::check(&resource) {
                Ok(_) if order => self.record.draft_resources.push(resource),
                Ok(_) => {}
                Err(e) => {
                    self.record.stats.skipped_invalid += 1;
                    tracing::debug!(index, error = %e, "draft order skipped");
                }
            }
        }
    }

    /// The finished record.
    pub fn finish(self) -> PatientRecord {
        self.record
    }

    fn mine(&self, subject: Option<&str>) -> bool {
        subject.is_some_and(|s| refers_to_patient(s, &self.record.patient_id))
    }

    /// Checks one resource and keeps it, or counts why not.
    fn add_resource(&mut self, resource: Value, index: usize) {
        let subject = match fhir_r4::check(&resource) {
            Ok(Checked::Patient { id, birth_date }) => {
                if id.as_deref() != Some(self.record.patient_id.as_str()) {
                    self.record.stats.other_patient += 1;
                    return;
                }
                self.record.birth_date = birth_date
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                None
            }
            Ok(Checked::OperationOutcome) => {
                self.record.stats.operation_outcomes += 1;
                return;
            }
            Ok(Checked::Clinical { subject }) => Some(subject),
            Err(e) => {
                self.record.stats.skipped_invalid += 1;
                tracing::debug!(index, error = %e, "resource skipped");
                return;
            }
        };
        if let Some(subject) = subject {
            if !self.mine(subject.as_deref()) {
                self.record.stats.other_patient += 1;
                tracing::debug!(index, "resource of another patient dropped");
                return;
            }
        }
        self.record.stats.kept += 1;
        self.record.resources.push(resource);
    }
}

/// True when a reference (`Patient/1`, `https://ehr/fhir/Patient/1/_history/2`) names the patient.
pub fn refers_to_patient(reference: &str, patient_id: &str) -> bool {
    referenced_patient(reference) == Some(patient_id)
}

/// The patient id a reference names (`1` for `Patient/1` or
/// `https://ehr/fhir/Patient/1/_history/2`), when it names one.
pub fn referenced_patient(reference: &str) -> Option<&str> {
    // This runs for every resource of a call: the query or fragment is cut at a byte (ASCII,
    // so a character boundary), and the segment after the last `Patient` that has one is read
    // from the end, without collecting the segments.
    let end = reference
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(reference.len());
    let mut after = None;
    for segment in reference[..end].rsplit('/') {
        if segment == "Patient" {
            if let Some(id) = after {
                return Some(id);
            }
        }
        after = Some(segment);
    }
    None
}

#[cfg(test)]
mod tests;
