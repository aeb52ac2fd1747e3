//! The only place that calls fhirbolt's generic entry points, all behind `catch_unwind`: a parse
//! and a serialise of the `Resource` enum (for resources the service builds), and a parse of
//! each concrete type the engine reads (for projected resources from the EHR).

use std::panic::{catch_unwind, AssertUnwindSafe};

use fhirbolt::model::r4::{resources as r, Resource};
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, DeserializeResourceOwned};

/// Why fhirbolt did not return a value.
#[derive(Debug)]
pub(crate) enum Failure {
    /// fhirbolt returned an error (message from fhirbolt; may quote content).
    Error(String),
    /// fhirbolt panicked.
    Panic,
}

/// Parses a JSON value as an R4 `Resource` in strict mode, catching panics.
pub(crate) fn parse_strict(value: serde_json::Value) -> Result<Resource, Failure> {
    let config = DeserializationConfig {
        mode: DeserializationMode::Strict,
    };
    match catch_unwind(AssertUnwindSafe(move || {
        fhirbolt::json::from_json_value::<Resource>(value, Some(config))
    })) {
        Ok(Ok(resource)) => Ok(resource),
        Ok(Err(e)) => Err(Failure::Error(e.to_string())),
        Err(_) => Err(Failure::Panic),
    }
}

/// Parses a *projected* resource (see `project`) of a type the engine reads straight into its
/// concrete fhirbolt type, in strict mode, catching panics; any other type goes through
/// [`parse_strict`].
///
/// The `Resource` enum first builds fhirbolt's generic element tree of the input and then the
/// typed resource from it; a concrete type is built straight from the projection's text, which
/// roughly halves fhirbolt's cost per resource (issue #6). The concrete entry points mis-parse
/// what follows a nested resource (`shared/docs/dependencies.md`), which a projection never
/// contains (`contained` and Bundle entries are not projected); a test in `lib.rs` decodes every
/// fixture resource both ways. Types without a concrete arm (none today: the arms are the
/// projection's tables) take the enum.
pub(crate) fn parse_projected(resource_type: &str, text: &[u8]) -> Result<Resource, Failure> {
    fn typed<T: DeserializeResourceOwned>(
        text: &[u8],
        wrap: fn(Box<T>) -> Resource,
    ) -> Result<Resource, Failure> {
        let config = DeserializationConfig {
            mode: DeserializationMode::Strict,
        };
        // The concrete types read neither a `Value` holding an arbitrary-precision number nor
        // a JSON number in text; the projection writes decimals as JSON strings holding the
        // number's text, which they read (`project::write_one`).
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
            Ok(value) => parse_strict(value),
            Err(e) => Err(Failure::Error(e.to_string())),
        },
    }
}

/// Serialises a typed resource to a JSON value, catching panics.
pub(crate) fn serialize(resource: Resource) -> Result<serde_json::Value, Failure> {
    match catch_unwind(AssertUnwindSafe(move || {
        fhirbolt::json::to_json_value(resource, None)
    })) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failure::Error(e.to_string())),
        Err(_) => Err(Failure::Panic),
    }
}
