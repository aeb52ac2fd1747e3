//! Non-generic wrapper around fhirbolt's R4 model.
//!
//! Every call into fhirbolt's generic (de)serialiser lives in this crate, behind a few plain
//! functions, so that the application crate never pays fhirbolt's monomorphisation cost on a
//! rebuild. It also contains fhirbolt's sharp edges (see `shared/docs/dependencies.md`):
//!
//! * untrusted JSON is first *projected* onto the elements cart-sentinel reads, with nulls and
//!   empty values pruned, so fhirbolt never sees an unknown element (strict mode would reject
//!   it; lax modes loop forever on unknown arrays) nor an empty array (which can panic); the
//!   projection also checks the JSON type of every element it copies, because fhirbolt's
//!   `from_json_value` coerces (`"high"` is accepted as a decimal, `"true"` as a boolean);
//! * the projected resource is parsed in strict mode as the `Resource` enum (the only entry
//!   point that parses reliably), inside `catch_unwind`;
//! * the typed resource is flattened into the plain [`Facts`] types below, which carry no
//!   fhirbolt type, so the rule engine never sees raw JSON nor fhirbolt generics.
//!
//! Entry points: [`decode`] (untrusted resources from the EHR → [`Facts`]) and [`to_json`]
//! (resources the service builds itself → validated, normalised JSON).
//!
//! Parse failures are caught with `catch_unwind`, so this crate relies on the default
//! `panic = "unwind"`: a profile with `panic = "abort"` would turn a fhirbolt panic on hostile
//! input into a crash. fhirbolt's panic message (no resource content) still reaches the panic
//! hook.

mod extract;
mod fhirbolt_io;
mod project;

pub use extract::*;

use fhirbolt_io::Failure;
use serde_json::Value;

/// A resource could not be turned into [`Facts`]. The message never contains resource content.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DecodeError {
    /// The value is not a JSON object with a string `resourceType` that looks like a type name
    /// (ASCII letters and digits, upper-case first, at most 64 characters).
    #[error("not a FHIR resource (no resourceType)")]
    NotAResource,
    /// The resource does not conform: a read element of the wrong JSON type, a missing required
    /// element, two values of one choice element, or a decimal that is not a finite number.
    #[error("{resource_type} does not conform to FHIR R4")]
    Invalid {
        /// The declared resource type.
        resource_type: String,
    },
    /// fhirbolt panicked on the input; caught and reported as a skipped resource.
    #[error("{resource_type} could not be parsed (parser fault)")]
    ParserFault {
        /// The declared resource type.
        resource_type: String,
    },
}

/// A resource could not be serialised as valid FHIR R4 (used for suggestion resources).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("invalid FHIR R4 resource: {0}")]
pub struct SerializeError(pub String);

/// Reads one untrusted resource (for example a prefetch entry) into [`Facts`].
///
/// The JSON is first projected onto the elements the engine reads (see the crate docs), so
/// unknown, vendor and other-version elements are ignored, and `null`s and empty values are
/// treated as absent. The projection is then parsed by fhirbolt in strict mode.
/// `OperationOutcome` gives [`Facts::OperationOutcome`] and any type the engine does not read
/// gives [`Facts::Other`]; neither reaches fhirbolt.
///
/// # Errors
///
/// * not an object, or no string `resourceType` that looks like a type name →
///   [`DecodeError::NotAResource`];
/// * a read element of the wrong JSON type (`"status": 5`, `"valueQuantity": {"value": "high"}`,
///   an object where an array is expected), a required element that is absent (`status`,
///   `Observation.code`, `Condition.subject`…), two values of one choice element, or a decimal
///   that is not a finite `f64` → [`DecodeError::Invalid`];
/// * a fhirbolt panic → [`DecodeError::ParserFault`].
pub fn decode(value: &Value) -> Result<Facts, DecodeError> {
    let object = value.as_object().ok_or(DecodeError::NotAResource)?;
    let resource_type = object
        .get("resourceType")
        .and_then(Value::as_str)
        .filter(|name| is_type_name(name))
        .ok_or(DecodeError::NotAResource)?;
    if resource_type == "OperationOutcome" {
        return Ok(Facts::OperationOutcome);
    }
    let Some(elements) = project::elements_of(resource_type) else {
        return Ok(Facts::Other {
            resource_type: resource_type.to_owned(),
        });
    };
    let invalid = || DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    };
    let projected = project::project(resource_type, elements, object).map_err(|_| invalid())?;
    let resource = fhirbolt_io::parse_strict(projected).map_err(|failure| match failure {
        Failure::Error(_) => invalid(),
        Failure::Panic => DecodeError::ParserFault {
            resource_type: resource_type.to_owned(),
        },
    })?;
    extract(&resource).map_err(|_| invalid())
}

/// Validates and normalises a resource the service itself builds (a suggestion's draft
/// `ServiceRequest`, `MedicationRequest`, `AdverseEvent`…): parsed by fhirbolt in strict mode with
/// no projection, then serialised back by fhirbolt. fhirbolt coerces some primitives
/// (`"true"` → `true`, `["x"]` → `"x"` for a single code): the output is what it understood.
///
/// # Errors
///
/// Unknown elements, unknown resource types, missing required elements and empty arrays are
/// errors, so a bad template is caught when the rules are loaded. The message quotes
/// fhirbolt's and may contain template content (never patient data, as long as only templates
/// are passed here).
pub fn to_json(value: &Value) -> Result<Value, SerializeError> {
    if !value.get("resourceType").is_some_and(Value::is_string) {
        return Err(SerializeError(
            "not a FHIR resource (no resourceType)".to_owned(),
        ));
    }
    let resource = fhirbolt_io::parse_strict(value.clone()).map_err(|failure| match failure {
        Failure::Error(message) => SerializeError(message),
        Failure::Panic => {
            SerializeError("fhirbolt panicked while parsing (an empty array?)".to_owned())
        }
    })?;
    fhirbolt_io::serialize(resource).map_err(|failure| match failure {
        Failure::Error(message) => SerializeError(message),
        Failure::Panic => SerializeError("fhirbolt panicked while serialising".to_owned()),
    })
}

/// A plausible resource type name: an ASCII letter-and-digit word starting with an upper-case
/// letter, at most 64 characters (so arbitrary text never travels on as a type name).
fn is_type_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}
