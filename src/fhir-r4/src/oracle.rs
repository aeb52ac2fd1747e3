//! The tests' reference for [`check`](crate::check): fhirbolt 0.4's strict parse of the
//! resource's projection (`project`) into its concrete type, then what the service reads of
//! it. `check` must give exactly what this gives, over every resource of the fixtures and bench
//! patients and over mutations of them (`lib.rs` tests).

use std::panic::{catch_unwind, AssertUnwindSafe};

use fhirbolt::model::r4::{resources as r, types as t, Resource};
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, DeserializeResourceOwned};

use crate::fhirbolt_io::{self, Failure};
use crate::{Checked, DecodeError};

/// What `check` must give for a resource of type `resource_type` whose projection (decimals
/// as text) is `projected`, or `Invalid` when the projection failed. `by_enum` parses through
/// the `Resource` enum (the entry point fhirbolt's own tests use) instead of the concrete type.
pub(crate) fn verdict(
    resource_type: &str,
    projected: Option<&serde_json::Value>,
    by_enum: bool,
) -> Result<Checked, DecodeError> {
    let invalid = || DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    };
    let text = serde_json::to_vec(projected.ok_or_else(invalid)?).expect("JSON");
    let parsed = match by_enum {
        false => parse_projected(resource_type, &text),
        true => fhirbolt_io::parse_strict(serde_json::from_slice(&text).expect("JSON")),
    };
    let resource = parsed.map_err(|failure| match failure {
        Failure::Error(_) => invalid(),
        Failure::Panic => panic!("fhirbolt panicked on a projected {resource_type}"),
    })?;
    summary(&resource).map_err(|Unusable| invalid())
}

/// Parses a *projected* resource (see `project`) of a type the engine reads straight into its
/// concrete fhirbolt type, in strict mode, catching panics; any other type goes through
/// `parse_strict`.
///
/// The `Resource` enum first builds fhirbolt's generic element tree of the input and then the
/// typed resource from it; a concrete type is built straight from the projection's text, which
/// roughly halves fhirbolt's cost per resource. The concrete entry points mis-parse
/// what follows a nested resource (`shared/docs/dependencies.md`), which a projection never
/// contains (`contained` and Bundle entries are not projected); a test in `lib.rs` decodes every
/// fixture resource both ways. Types without a concrete arm (none today: the arms are the
/// projection's tables) take the enum.
pub(super) fn parse_projected(resource_type: &str, text: &[u8]) -> Result<Resource, Failure> {
    fn typed<T: DeserializeResourceOwned>(
        text: &[u8],
        wrap: fn(Box<T>) -> Resource,
    ) -> Result<Resource, Failure> {
        let config = DeserializationConfig {
            mode: DeserializationMode::Strict,
        };
        // The concrete types read neither a `Value` holding an arbitrary-precision number nor
        // a JSON number in text; the projection writes decimals as JSON strings holding the
        // number's text, which they read (`project`, with `decimal_text`).
        match catch_unwind(AssertUnwindSafe(move || {
            fhirbolt::json::from_slice::<T>(text, Some(config))
        })) {
            Ok(Ok(resource)) => Ok(wrap(Box::new(resource))),
            Ok(Err(e)) => Err(Failure::Error(e.to_string())),
            Err(_) => Err(Failure::Panic),
        }
    }
    match resource_type {
        "Observation" => typed::<r::Observation>(text, Resource::Observation),
        "Condition" => typed::<r::Condition>(text, Resource::Condition),
        "MedicationRequest" => typed::<r::MedicationRequest>(text, Resource::MedicationRequest),
        "MedicationAdministration" => {
            typed::<r::MedicationAdministration>(text, Resource::MedicationAdministration)
        }
        "MedicationStatement" => {
            typed::<r::MedicationStatement>(text, Resource::MedicationStatement)
        }
        "Procedure" => typed::<r::Procedure>(text, Resource::Procedure),
        "Immunization" => typed::<r::Immunization>(text, Resource::Immunization),
        "Encounter" => typed::<r::Encounter>(text, Resource::Encounter),
        "ServiceRequest" => typed::<r::ServiceRequest>(text, Resource::ServiceRequest),
        "Patient" => typed::<r::Patient>(text, Resource::Patient),
        _ => match serde_json::from_slice(text) {
            Ok(value) => fhirbolt_io::parse_strict(value),
            Err(e) => Err(Failure::Error(e.to_string())),
        },
    }
}

/// The typed resource holds a decimal that is not a finite `f64` (such as `1e400`).
struct Unusable;

/// What the service reads of a typed resource, once its decimals are found usable.
fn summary(resource: &Resource) -> Result<Checked, Unusable> {
    let reference = |r: Option<&t::Reference>| {
        r.and_then(|r| r.reference.as_ref())
            .and_then(|s| text(&s.value))
    };
    let clinical = |r: Option<&t::Reference>| Checked::Clinical {
        subject: reference(r),
    };
    Ok(match resource {
        Resource::Patient(p) => Checked::Patient {
            id: p.id.as_ref().and_then(|i| text(&i.value)),
            birth_date: p.birth_date.as_ref().and_then(|d| text(&d.value)),
        },
        Resource::Observation(o) => {
            if let Some(r::ObservationValue::Quantity(q)) = &o.value {
                finite(q)?;
            }
            for c in &o.component {
                if let Some(r::ObservationComponentValue::Quantity(q)) = &c.value {
                    finite(q)?;
                }
            }
            clinical(o.subject.as_deref())
        }
        Resource::Condition(c) => clinical(Some(&c.subject)),
        Resource::MedicationRequest(m) => clinical(Some(&m.subject)),
        Resource::MedicationAdministration(m) => clinical(Some(&m.subject)),
        Resource::MedicationStatement(m) => clinical(Some(&m.subject)),
        Resource::Procedure(p) => clinical(Some(&p.subject)),
        Resource::Immunization(i) => clinical(Some(&i.patient)),
        Resource::Encounter(e) => clinical(e.subject.as_deref()),
        Resource::ServiceRequest(s) => clinical(Some(&s.subject)),
        // Only the types of the schema are projected and parsed.
        _ => return Err(Unusable),
    })
}

/// A primitive's value, with `""` as absent (fhirbolt's primitives hold `Option<String>`).
#[allow(clippy::ref_option)]
fn text(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|s| !s.is_empty()).cloned()
}

/// A Quantity's value, when it has one, is a finite `f64`.
fn finite(q: &t::Quantity) -> Result<(), Unusable> {
    match q.value.as_ref().and_then(|d| text(&d.value)) {
        Some(raw) if !raw.parse::<f64>().is_ok_and(f64::is_finite) => Err(Unusable),
        _ => Ok(()),
    }
}
