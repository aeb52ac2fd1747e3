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
//! * the projected resource is parsed in strict mode as its concrete fhirbolt type, inside
//!   `catch_unwind` (fhirbolt's concrete entry points mis-read what follows a nested resource,
//!   which a projection never holds, and read decimals only as JSON strings, which the projection
//!   writes; a test checks that they read every fixture resource as the `Resource` enum does);
//! * the typed resource is flattened into the plain [`Facts`] types below, which carry no
//!   fhirbolt type, so the rule engine never sees raw JSON nor fhirbolt generics.
//!
//! Entry points: [`read_page`], [`try_stream`] and the [`PageSeed`] and [`PagesSeed`] seeds
//! (untrusted JSON text → [`Page`]s of decoded resources, projected while they are parsed, in
//! one pass), [`decode`] (an untrusted resource already parsed as a `Value` → [`Facts`]) and
//! [`to_json`] (resources the service builds itself → validated, normalised JSON).
//!
//! Parse failures are caught with `catch_unwind`, so this crate relies on the default
//! `panic = "unwind"`: a profile with `panic = "abort"` would turn a fhirbolt panic on hostile
//! input into a crash. fhirbolt's panic message (no resource content) still reaches the panic
//! hook.

mod extract;
mod fhirbolt_io;
mod project;
mod stream;

pub use extract::*;
pub use stream::{
    prunable, read_page, resource_count, try_stream, Page, PageSeed, Pages, PagesSeed, Read,
};

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
    decode_with(value, fhirbolt_io::parse_projected)
}

/// [`decode`] with the fhirbolt entry point as a parameter (tests compare the concrete types'
/// parse with the `Resource` enum's).
fn decode_with(
    value: &Value,
    parse: fn(&str, &[u8]) -> Result<fhirbolt::model::r4::Resource, Failure>,
) -> Result<Facts, DecodeError> {
    let object = value.as_object().ok_or(DecodeError::NotAResource)?;
    let resource_type = object
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or(DecodeError::NotAResource)?;
    let Some(elements) = projection_of(resource_type) else {
        return unprojected(resource_type);
    };
    let projected =
        project::project(resource_type, elements, object).map_err(|_| DecodeError::Invalid {
            resource_type: resource_type.to_owned(),
        })?;
    decode_projected(resource_type, &projected, parse)
}

/// The elements a resource of type `resource_type` is projected onto; `None` for a type that is
/// not projected (see [`unprojected`]). Shared by [`decode`] and the one-pass reader (`stream`).
fn projection_of(resource_type: &str) -> Option<&'static [project::Element]> {
    match is_type_name(resource_type) && resource_type != "OperationOutcome" {
        true => project::elements_of(resource_type),
        false => None,
    }
}

/// What decoding a resource gives when [`projection_of`] its type is `None`: not a type name,
/// an OperationOutcome, or a type no rule reads.
fn unprojected(resource_type: &str) -> Result<Facts, DecodeError> {
    if !is_type_name(resource_type) {
        Err(DecodeError::NotAResource)
    } else if resource_type == "OperationOutcome" {
        Ok(Facts::OperationOutcome)
    } else {
        Ok(Facts::Other {
            resource_type: resource_type.to_owned(),
        })
    }
}

/// Parses a projected resource with `parse` and extracts its facts (the end of [`decode`],
/// shared with the one-pass reader, `stream`).
fn decode_projected(
    resource_type: &str,
    projected: &[u8],
    parse: fn(&str, &[u8]) -> Result<fhirbolt::model::r4::Resource, Failure>,
) -> Result<Facts, DecodeError> {
    let invalid = || DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    };
    let resource = parse(resource_type, projected).map_err(|failure| match failure {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every resource in the repository's FHIR fixtures and bench patients.
    pub(super) fn corpus() -> Vec<Value> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![
            root.join("benches/data/small.json"),
            root.join("benches/data/typical.json"),
        ];
        let mut dirs = vec![root.join("fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir)
                .expect("fixtures are readable")
                .flatten()
            {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        }
        let mut resources = Vec::new();
        let mut stack: Vec<Value> = files
            .iter()
            .filter_map(|f| serde_json::from_slice(&std::fs::read(f).ok()?).ok())
            .collect();
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if map.get("resourceType").is_some_and(Value::is_string) {
                        resources.push(Value::Object(map.clone()));
                    }
                    stack.extend(map.into_iter().map(|(_, v)| v));
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        resources
    }

    /// The concrete types' parse (fast) reads every projected resource exactly as the
    /// `Resource` enum's (the entry point fhirbolt's own tests use) does.
    #[test]
    fn concrete_parse_reads_what_the_enum_parse_reads() {
        let corpus = corpus();
        assert!(corpus.len() > 1000, "only {} resources found", corpus.len());
        let mut decoded = 0;
        for resource in &corpus {
            let fast = decode(resource);
            let reference = decode_with(resource, |_, text| {
                fhirbolt_io::parse_strict(
                    serde_json::from_slice(text).expect("projections are JSON"),
                )
            });
            assert_eq!(fast, reference, "{resource}");
            decoded += usize::from(fast.is_ok());
        }
        assert!(decoded > 1000, "only {decoded} resources decoded");
    }
}
