//! The patient record: a typed, in-memory view of the FHIR R4 resources the rules read.
//!
//! Built from prefetch values and fetched pages through `fhir_r4` (projected, strictly checked);
//! the engine reads only these types, never JSON. Resources that fail to parse are skipped and
//! counted, resources of another patient are dropped and counted, statuses are kept so that
//! rules ignore entered-in-error data explicitly. No I/O, no clock. Must not import actix_web,
//! sqlx or reqwest.

mod time;
pub mod units;

use chrono::{FixedOffset, NaiveDate};
use fhir_r4::{Component, Concept, Facts, ObsValue};
use serde_json::Value;

pub use time::{parse_when, When};

/// An Observation.
#[derive(Debug, Clone)]
pub struct Observation {
    /// `Observation/<id>`.
    pub reference: String,
    /// Status code.
    pub status: String,
    /// Code.
    pub code: Concept,
    /// effective[x], else issued.
    pub when: Option<When>,
    /// value[x].
    pub value: Option<ObsValue>,
    /// interpretation.
    pub interpretation: Vec<Concept>,
    /// components.
    pub components: Vec<Component>,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// A Condition.
#[derive(Debug, Clone)]
pub struct Condition {
    /// `Condition/<id>`.
    pub reference: String,
    /// clinicalStatus code.
    pub clinical_status: Option<String>,
    /// verificationStatus code.
    pub verification_status: Option<String>,
    /// Code.
    pub code: Concept,
    /// onset, else recordedDate.
    pub when: Option<When>,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// Where a medication event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MedKind {
    /// MedicationAdministration.
    Administration,
    /// MedicationRequest.
    Request,
    /// MedicationStatement.
    Statement,
}

/// A medication event.
#[derive(Debug, Clone)]
pub struct MedicationEvent {
    /// `Type/<id>`.
    pub reference: String,
    /// Resource kind.
    pub kind: MedKind,
    /// Status code.
    pub status: String,
    /// The medication.
    pub medication: Concept,
    /// effective, else authoredOn.
    pub when: Option<When>,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// A Procedure.
#[derive(Debug, Clone)]
pub struct Procedure {
    /// `Procedure/<id>`.
    pub reference: String,
    /// Status code.
    pub status: String,
    /// Code.
    pub code: Concept,
    /// performed[x].
    pub when: Option<When>,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// An Encounter.
#[derive(Debug, Clone)]
pub struct Encounter {
    /// `Encounter/<id>`.
    pub reference: String,
    /// Status code.
    pub status: String,
    /// type, serviceType and reasonCode concepts.
    pub concepts: Vec<Concept>,
    /// period.end, else period.start.
    pub when: Option<When>,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// An order in `context.draftOrders`.
#[derive(Debug, Clone)]
pub struct DraftOrder {
    /// `MedicationRequest/<id>` or `ServiceRequest/<id>`.
    pub reference: String,
    /// Status (usually draft).
    pub status: String,
    /// Medication or service code.
    pub concept: Concept,
    /// The resource as received: its index in [`PatientRecord::resources`].
    pub json: Option<usize>,
}

/// Counters about what was read; logged at debug level, never with content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Resources decoded and kept.
    pub kept: usize,
    /// Resources that failed to parse.
    pub skipped_invalid: usize,
    /// Resources of another patient, or with no patient reference.
    pub other_patient: usize,
    /// OperationOutcome values (prefetch errors).
    pub operation_outcomes: usize,
    /// Resource types the rules do not read.
    pub unused_types: usize,
}

/// The patient record the engine evaluates.
#[derive(Debug, Clone)]
pub struct PatientRecord {
    /// Patient.id from the hook context.
    pub patient_id: String,
    /// Patient.birthDate.
    pub birth_date: Option<NaiveDate>,
    /// Observations (all statuses).
    pub observations: Vec<Observation>,
    /// Conditions (all statuses).
    pub conditions: Vec<Condition>,
    /// Medication events (all statuses).
    pub medications: Vec<MedicationEvent>,
    /// Procedures (all statuses).
    pub procedures: Vec<Procedure>,
    /// Encounters (all statuses).
    pub encounters: Vec<Encounter>,
    /// Draft orders of an order hook.
    pub draft_orders: Vec<DraftOrder>,
    /// The kept resources as received, which the pack's sources and `where:` read.
    pub resources: Vec<Value>,
    /// The draft orders as received.
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
            observations: Vec::new(),
            conditions: Vec::new(),
            medications: Vec::new(),
            procedures: Vec::new(),
            encounters: Vec::new(),
            draft_orders: Vec::new(),
            resources: Vec::new(),
            draft_resources: Vec::new(),
            stats: RecordStats::default(),
        }
    }
}

/// Builds a [`PatientRecord`] from JSON values (resources or Bundles).
pub struct RecordBuilder {
    record: PatientRecord,
    tz: FixedOffset,
}

impl RecordBuilder {
    /// Starts a record for `patient_id`, dates read in the `tz` offset.
    pub fn new(patient_id: &str, tz: FixedOffset) -> RecordBuilder {
        RecordBuilder {
            record: PatientRecord::new(patient_id),
            tz,
        }
    }

    /// Adds a prefetch value or fetched page: a resource, a Bundle of entries, or null.
    pub fn add(&mut self, value: &Value) {
        match value.get("resourceType").and_then(Value::as_str) {
            Some("Bundle") => {
                let entries = value.get("entry").and_then(Value::as_array);
                for (index, entry) in entries.into_iter().flatten().enumerate() {
                    match entry.get("resource") {
                        Some(r) => self.add_resource(r, index),
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
    /// ordering them for this patient now).
    pub fn add_draft_orders(&mut self, bundle: &Value) {
        let entries = bundle.get("entry").and_then(Value::as_array);
        for (index, entry) in entries.into_iter().flatten().enumerate() {
            let Some(resource) = entry.get("resource") else {
                continue;
            };
            let decoded = fhir_r4::decode(resource);
            let json = match decoded {
                Ok(Facts::MedicationRequest { .. } | Facts::ServiceRequest { .. }) => {
                    self.record.draft_resources.push(resource.clone());
                    Some(self.record.draft_resources.len() - 1)
                }
                _ => None,
            };
            match decoded {
                Ok(Facts::MedicationRequest {
                    common, medication, ..
                }) => self.record.draft_orders.push(DraftOrder {
                    reference: reference("MedicationRequest", &common.id),
                    status: common.status.unwrap_or_default(),
                    concept: medication,
                    json,
                }),
                Ok(Facts::ServiceRequest { common, code, .. }) => {
                    self.record.draft_orders.push(DraftOrder {
                        reference: reference("ServiceRequest", &common.id),
                        status: common.status.unwrap_or_default(),
                        concept: code,
                        json,
                    })
                }
                Ok(_) => self.record.stats.unused_types += 1,
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

    /// Keeps a resource as received; its index in the record's resources.
    fn keep(&mut self, resource: Value) -> Option<usize> {
        self.record.resources.push(resource);
        Some(self.record.resources.len() - 1)
    }

    /// [`RecordBuilder::add`] for a value the record may keep: a Bundle's resources are moved
    /// out of it, not copied.
    pub fn add_owned(&mut self, mut value: Value) {
        if value.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            if value.is_null() {
                return;
            }
            let decoded = fhir_r4::decode(&value);
            return self.add_read(decoded, 0, Some(value));
        }
        let entries = match value.get_mut("entry").map(Value::take) {
            Some(Value::Array(entries)) => entries,
            _ => Vec::new(),
        };
        for (index, mut entry) in entries.into_iter().enumerate() {
            match entry.get_mut("resource").map(Value::take) {
                Some(resource) => {
                    let decoded = fhir_r4::decode(&resource);
                    self.add_read(decoded, index, Some(resource));
                }
                None => self.record.stats.skipped_invalid += 1,
            }
        }
    }

    fn mine(&self, subject: Option<&str>) -> bool {
        subject.is_some_and(|s| refers_to_patient(s, &self.record.patient_id))
    }

    fn when(&self, s: Option<&String>) -> Option<When> {
        s.and_then(|s| parse_when(s, self.tz))
    }

    /// Adds a prefetch value or fetched page (a resource, a Bundle's entries, or nothing for
    /// `null`).
    pub fn add_page(&mut self, page: fhir_r4::Page) {
        match page {
            fhir_r4::Page::Null => {}
            fhir_r4::Page::Resource { read, .. } => self.add_read(read.facts, 0, None),
            fhir_r4::Page::Bundle { entries, .. } => {
                // Most of a page is usually one type: room for its observations at once.
                let observations = entries
                    .iter()
                    .filter(|e| {
                        e.as_ref()
                            .is_some_and(|r| matches!(r.facts, Ok(Facts::Observation { .. })))
                    })
                    .count();
                self.record.observations.reserve(observations);
                for (index, entry) in entries.into_iter().enumerate() {
                    match entry {
                        Some(read) => self.add_read(read.facts, index, None),
                        None => self.record.stats.skipped_invalid += 1,
                    }
                }
            }
            fhir_r4::Page::Value(value) => self.add_owned(value),
        }
    }

    fn add_resource(&mut self, value: &Value, index: usize) {
        self.add_read(fhir_r4::decode(value), index, Some(value.clone()));
    }

    /// Adds a decoded resource, or counts why it was skipped.
    fn add_read(
        &mut self,
        decoded: Result<Facts, fhir_r4::DecodeError>,
        index: usize,
        json: Option<Value>,
    ) {
        let facts = match decoded {
            Ok(f) => f,
            Err(e) => {
                self.record.stats.skipped_invalid += 1;
                tracing::debug!(index, error = %e, "resource skipped");
                return;
            }
        };
        let subject = match &facts {
            Facts::Patient { common, .. } => {
                if common.id.as_deref() != Some(self.record.patient_id.as_str()) {
                    self.record.stats.other_patient += 1;
                    return;
                }
                None
            }
            Facts::OperationOutcome => {
                self.record.stats.operation_outcomes += 1;
                return;
            }
            // Any other type is kept for the pack's sources (`cds-hooks/sources.yaml`) when it
            // names this patient as its `subject` or `patient`.
            Facts::Other { .. } => {
                let subject = json.as_ref().and_then(|v| {
                    v.get("subject")
                        .or_else(|| v.get("patient"))
                        .and_then(|r| r.get("reference"))
                        .and_then(Value::as_str)
                });
                if !self.mine(subject) {
                    self.record.stats.other_patient += 1;
                    return;
                }
                self.record.stats.kept += 1;
                self.keep(json.unwrap_or_default());
                return;
            }
            Facts::Observation { common, .. }
            | Facts::Condition { common, .. }
            | Facts::MedicationRequest { common, .. }
            | Facts::MedicationAdministration { common, .. }
            | Facts::MedicationStatement { common, .. }
            | Facts::Procedure { common, .. }
            | Facts::Immunization { common, .. }
            | Facts::Encounter { common, .. }
            | Facts::ServiceRequest { common, .. } => Some(common.subject.clone()),
        };
        if let Some(subject) = subject {
            if !self.mine(subject.as_deref()) {
                self.record.stats.other_patient += 1;
                tracing::debug!(index, "resource of another patient dropped");
                return;
            }
        }
        self.record.stats.kept += 1;
        let json = json.and_then(|v| self.keep(v));
        self.push(facts, json);
    }

    fn push(&mut self, facts: Facts, json: Option<usize>) {
        match facts {
            Facts::Patient { birth_date, .. } => {
                self.record.birth_date = birth_date
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            }
            Facts::Observation {
                common,
                code,
                date,
                value,
                interpretation,
                components,
            } => {
                let when = self.when(date.as_ref());
                self.record.observations.push(Observation {
                    reference: reference("Observation", &common.id),
                    status: common.status.unwrap_or_default(),
                    code,
                    when,
                    value,
                    interpretation,
                    components,
                    json,
                });
            }
            Facts::Condition {
                common,
                clinical_status,
                verification_status,
                code,
                onset,
                recorded_date,
            } => {
                let when = self.when(onset.as_ref().or(recorded_date.as_ref()));
                self.record.conditions.push(Condition {
                    reference: reference("Condition", &common.id),
                    clinical_status: clinical_status.as_ref().and_then(first_code),
                    verification_status: verification_status.as_ref().and_then(first_code),
                    code,
                    when,
                    json,
                });
            }
            Facts::MedicationRequest {
                common,
                medication,
                authored_on,
                ..
            } => self.medication(MedKind::Request, common, medication, authored_on, json),
            Facts::MedicationAdministration {
                common,
                medication,
                effective,
            } => self.medication(MedKind::Administration, common, medication, effective, json),
            Facts::MedicationStatement {
                common,
                medication,
                effective,
            } => self.medication(MedKind::Statement, common, medication, effective, json),
            Facts::Procedure {
                common,
                code,
                performed,
            } => {
                let when = self.when(performed.as_ref());
                self.record.procedures.push(Procedure {
                    reference: reference("Procedure", &common.id),
                    status: common.status.unwrap_or_default(),
                    code,
                    when,
                    json,
                });
            }
            Facts::Encounter {
                common,
                types,
                service_type,
                reason_codes,
                start,
                end,
            } => {
                let when = self.when(end.as_ref().or(start.as_ref()));
                let mut concepts = types;
                concepts.extend(service_type);
                concepts.extend(reason_codes);
                self.record.encounters.push(Encounter {
                    reference: reference("Encounter", &common.id),
                    status: common.status.unwrap_or_default(),
                    concepts,
                    when,
                    json,
                });
            }
            // Kept as received (`resources`) for the sources that read them.
            Facts::Immunization { .. } | Facts::ServiceRequest { .. } => {}
            Facts::OperationOutcome | Facts::Other { .. } => {}
        }
    }

    fn medication(
        &mut self,
        kind: MedKind,
        common: fhir_r4::Common,
        medication: Concept,
        date: Option<String>,
        json: Option<usize>,
    ) {
        let name = match kind {
            MedKind::Administration => "MedicationAdministration",
            MedKind::Request => "MedicationRequest",
            MedKind::Statement => "MedicationStatement",
        };
        let when = self.when(date.as_ref());
        self.record.medications.push(MedicationEvent {
            reference: reference(name, &common.id),
            kind,
            status: common.status.unwrap_or_default(),
            medication,
            when,
            json,
        });
    }
}

fn reference(resource_type: &str, id: &Option<String>) -> String {
    // Not `format!`: this runs for every resource of a call.
    let id = id.as_deref().unwrap_or("unknown");
    let mut reference = String::with_capacity(resource_type.len() + 1 + id.len());
    reference.push_str(resource_type);
    reference.push('/');
    reference.push_str(id);
    reference
}

fn first_code(c: &Concept) -> Option<String> {
    c.codings.iter().find_map(|c| c.code.clone())
}

/// True when a reference (`Patient/1`, `https://ehr/fhir/Patient/1/_history/2`) names the patient.
pub fn refers_to_patient(reference: &str, patient_id: &str) -> bool {
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
                return id == patient_id;
            }
        }
        after = Some(segment);
    }
    false
}

#[cfg(test)]
mod tests;
