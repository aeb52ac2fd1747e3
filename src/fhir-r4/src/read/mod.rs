//! Facts from a projected resource: the projection's [`Tape`] read straight into [`Facts`],
//! with the conformance checks fhirbolt's strict mode makes on a projection.
//!
//! The projection ([`crate::project`]) already keeps only whitelisted elements, each of the
//! right JSON type, with blanks pruned. On such input, fhirbolt 0.4's strict parse of the
//! concrete type rejects exactly two things (read in its generated deserialisers; no primitive
//! format is checked there: a code, a date or a decimal is kept as the string it is):
//!
//! * a required element that is absent (`Observation.status`, `Condition.subject`,
//!   `Immunization.occurrence[x]`, `Observation.component.code`…);
//! * two values of one choice element (`valueQuantity` beside `valueString`).
//!
//! This module makes those checks itself and builds the facts in the same pass. Until issue
//! #6's fifth round the projection was JSON text that fhirbolt parsed into its typed model,
//! every string of which was then copied out: 40 % of reading a hook request. The typed structs
//! below mirror the projection's tables ([`crate::project::TABLES`]) and refuse any other
//! member, so a table and its struct cannot drift apart silently. fhirbolt's own parse stays
//! the reference (`crate::oracle`): a test reads every projected resource of the fixtures and
//! bench patients, and every variant of them with one member removed or a choice value added,
//! both ways and compares.

mod datatypes;
mod resources;

use serde::Deserialize;

use crate::tape::Tape;
use crate::{DecodeError, Facts};
use resources::{
    Condition, Encounter, Immunization, MedicationAdministration, MedicationRequest,
    MedicationStatement, Observation, Patient, Procedure, ServiceRequest,
};

/// Reads the projection of a resource of type `resource_type` (one of the projection's tables)
/// into its facts.
///
/// # Errors
///
/// [`DecodeError::Invalid`] when a required element is absent, a choice element holds two
/// values, a decimal is not a finite `f64`, or the tape is not what the projection writes.
pub(crate) fn facts(resource_type: &str, tape: &Tape) -> Result<Facts, DecodeError> {
    let facts = match resource_type {
        "Observation" => parse::<Observation>(tape).and_then(Observation::facts),
        "Condition" => parse::<Condition>(tape).and_then(Condition::facts),
        "MedicationRequest" => parse::<MedicationRequest>(tape).and_then(MedicationRequest::facts),
        "MedicationAdministration" => {
            parse::<MedicationAdministration>(tape).and_then(MedicationAdministration::facts)
        }
        "MedicationStatement" => {
            parse::<MedicationStatement>(tape).and_then(MedicationStatement::facts)
        }
        "Procedure" => parse::<Procedure>(tape).and_then(Procedure::facts),
        "Immunization" => parse::<Immunization>(tape).and_then(Immunization::facts),
        "Encounter" => parse::<Encounter>(tape).and_then(Encounter::facts),
        "ServiceRequest" => parse::<ServiceRequest>(tape).and_then(ServiceRequest::facts),
        "Patient" => parse::<Patient>(tape).map(Patient::facts),
        _ => None,
    };
    facts.ok_or_else(|| DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    })
}

/// The projection as `T`; `None` when it is not.
fn parse<'t, T: Deserialize<'t>>(tape: &'t Tape) -> Option<T> {
    tape.read().ok()
}

/// `Some` when at most one of a choice element's values is present.
fn one_of(present: &[bool]) -> Option<()> {
    (present.iter().filter(|p| **p).count() <= 1).then_some(())
}
