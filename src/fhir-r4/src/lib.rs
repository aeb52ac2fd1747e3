//! Non-generic wrapper around fhirbolt's R4 model, and the reader of untrusted resources.
//!
//! Every call into fhirbolt's generic (de)serialiser lives in this crate, behind a few plain
//! functions, so that the application crate never pays fhirbolt's monomorphisation cost on a
//! rebuild. It also contains fhirbolt's sharp edges (see `shared/docs/dependencies.md`).
//!
//! Reading untrusted JSON (a prefetch value, a fetched page, a draft order):
//!
//! * it is first *projected* onto the elements cart-sentinel reads, with nulls and empty values
//!   pruned (`project`); the projection checks the JSON type of every element it copies and
//!   never coerces (`"high"` is not a decimal, `"true"` not a boolean);
//! * the projection, written as a `tape` of tokens, is then read into the plain [`Facts`]
//!   types below (`read`), with the checks fhirbolt's strict mode makes on a projection:
//!   required elements present, at most one value per choice element (fhirbolt's typed model
//!   cost 40 % of reading a request for these two checks). fhirbolt's parse is the tests'
//!   reference (`oracle`): both readings are compared over every projected resource of the
//!   fixtures and bench patients and over mutations of them;
//! * the service keeps the resource as parsed (sonic-rs) for the rules' FHIRPath; a resource
//!   [`check`] refuses is skipped and counted.
//!
//! Entry points: [`decode`] (an untrusted resource parsed as a `Value` → [`Facts`], or why
//! not), [`page`] (what the service asks of a prefetch value or fetched page) and [`to_json`]
//! (resources the service builds itself → validated by fhirbolt, normalised JSON).
//!
//! fhirbolt failures in [`to_json`] are caught with `catch_unwind`, so this crate relies on the
//! default `panic = "unwind"`: a profile with `panic = "abort"` would turn a fhirbolt panic on a
//! bad template into a crash. fhirbolt's panic message still reaches the panic hook.

mod facts;
mod fhirbolt_io;
#[cfg(test)]
mod oracle;
pub mod page;
mod project;
mod read;
mod tape;

pub use facts::*;

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
}

/// A resource could not be serialised as valid FHIR R4 (used for suggestion resources).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("invalid FHIR R4 resource: {0}")]
pub struct SerializeError(pub String);

/// Reads one untrusted resource (for example a prefetch entry) into [`Facts`].
///
/// The JSON is first projected onto the elements the engine reads (see the crate docs), so
/// unknown, vendor and other-version elements are ignored, and `null`s and empty values are
/// treated as absent. The projection is then read with fhirbolt's strict checks (`read`).
/// `OperationOutcome` gives [`Facts::OperationOutcome`] and any type the engine does not read
/// gives [`Facts::Other`].
///
/// # Errors
///
/// * not an object, or no string `resourceType` that looks like a type name →
///   [`DecodeError::NotAResource`];
/// * a read element of the wrong JSON type (`"status": 5`, `"valueQuantity": {"value": "high"}`,
///   an object where an array is expected), a required element that is absent (`status`,
///   `Observation.code`, `Condition.subject`…), two values of one choice element, or a decimal
///   that is not a finite `f64` → [`DecodeError::Invalid`].
///
/// A member the projection reads that appears twice in one object is invalid too: which value
/// counts would be a guess.
pub fn check(value: &sonic_rs::Value) -> Result<Facts, DecodeError> {
    decode_with(value, read::facts)
}

/// [`check`] for a resource held as a `serde_json` value (the tests' fixtures and corpus).
pub fn decode(value: &Value) -> Result<Facts, DecodeError> {
    let doc: sonic_rs::Value =
        sonic_rs::from_str(&value.to_string()).map_err(|_| DecodeError::NotAResource)?;
    check(&doc)
}

/// [`decode`] with the reading of the projection as a parameter (tests compare `read`'s
/// with fhirbolt's, `oracle`).
fn decode_with(
    value: &sonic_rs::Value,
    read: fn(&str, &tape::Tape) -> Result<Facts, DecodeError>,
) -> Result<Facts, DecodeError> {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait};
    let object = value.as_object().ok_or(DecodeError::NotAResource)?;
    let resource_type = object
        .get(&"resourceType")
        .and_then(|t| t.as_str())
        .ok_or(DecodeError::NotAResource)?;
    let Some(elements) = projection_of(resource_type) else {
        return unprojected(resource_type);
    };
    let projected =
        project::project(resource_type, elements, object).map_err(|_| DecodeError::Invalid {
            resource_type: resource_type.to_owned(),
        })?;
    read(resource_type, &projected)
}

/// The elements a resource of type `resource_type` is projected onto; `None` for a type that is
/// not projected (see [`unprojected`]).
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

    /// Every JSON file of the repository's fixtures, and the small and typical bench patients.
    pub(crate) fn corpus_files() -> Vec<std::path::PathBuf> {
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
        files
    }

    /// Every resource in the repository's FHIR fixtures and bench patients.
    pub(super) fn corpus() -> Vec<Value> {
        let files = corpus_files();
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

    /// `read` gives exactly what fhirbolt's strict parse and the flattening of its typed model
    /// give (through the concrete types and through the `Resource` enum), for every resource of
    /// the fixtures and bench patients.
    #[test]
    fn read_gives_what_fhirbolt_gives_over_the_corpus() {
        let corpus = corpus();
        assert!(corpus.len() > 1000, "only {} resources found", corpus.len());
        let mut decoded = 0;
        for resource in &corpus {
            let read = decode(resource);
            let doc: sonic_rs::Value = sonic_rs::from_str(&resource.to_string()).unwrap();
            assert_eq!(read, decode_with(&doc, oracle::facts), "{resource}");
            assert_eq!(read, decode_with(&doc, oracle::facts_by_enum), "{resource}");
            decoded += usize::from(read.is_ok());
        }
        assert!(decoded > 1000, "only {decoded} resources decoded");
    }

    /// Values of choice elements, added to a projected object that may hold them (its table
    /// lists them) to make a conflict, or to supply a required one.
    fn choice_values() -> Vec<(&'static str, Value)> {
        let concept = serde_json::json!({"text": "x"});
        let period = serde_json::json!({"start": "2020-01-01"});
        vec![
            ("valueQuantity", serde_json::json!({"value": "1"})),
            ("valueCodeableConcept", concept.clone()),
            ("valueString", Value::from("x")),
            ("valueBoolean", Value::from(true)),
            ("valueInteger", Value::from(3)),
            ("effectiveDateTime", Value::from("2020-01-01")),
            ("effectivePeriod", period.clone()),
            ("effectiveInstant", Value::from("2020-01-01T00:00:00Z")),
            ("onsetDateTime", Value::from("2020-01-01")),
            ("onsetPeriod", period.clone()),
            ("performedDateTime", Value::from("2020-01-01")),
            ("performedPeriod", period),
            ("medicationCodeableConcept", concept),
            ("medicationReference", serde_json::json!({"display": "x"})),
            ("occurrenceDateTime", Value::from("2020-01-01")),
            ("occurrenceString", Value::from("spring")),
        ]
    }

    /// Every variant of a projected resource with one member or array item removed (anywhere
    /// but `resourceType`), or with one choice value added to the resource or a component.
    fn variants(resource_type: &str, projected: &Value) -> Vec<Value> {
        fn walk(value: &Value, edit: &mut dyn FnMut(&Value) -> Vec<Value>) -> Vec<Value> {
            let mut out = edit(value);
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        for changed in walk(child, edit) {
                            let mut copy = map.clone();
                            copy.insert(key.clone(), changed);
                            out.push(Value::Object(copy));
                        }
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        for changed in walk(child, edit) {
                            let mut copy = items.clone();
                            copy[i] = changed;
                            out.push(Value::Array(copy));
                        }
                    }
                }
                _ => {}
            }
            out
        }
        let choices = choice_values();
        let table = projection_of(resource_type).expect("a read type");
        // The choice values an object may hold: the resource's, or a component's `value[x]`.
        let may_hold = |map: &serde_json::Map<String, Value>, key: &str| {
            if map.contains_key("resourceType") {
                table.iter().any(|e| e.name == key)
            } else {
                map.get("code").is_some_and(Value::is_object) && key.starts_with("value")
            }
        };
        walk(projected, &mut |value| match value {
            Value::Object(map) => {
                let mut out = Vec::new();
                for key in map.keys().filter(|k| *k != "resourceType") {
                    let mut copy = map.clone();
                    copy.shift_remove(key);
                    out.push(Value::Object(copy));
                }
                for (key, added) in &choices {
                    if !map.contains_key(*key) && may_hold(map, key) {
                        let mut copy = map.clone();
                        copy.insert((*key).to_owned(), added.clone());
                        out.push(Value::Object(copy));
                    }
                }
                out
            }
            Value::Array(items) => (0..items.len())
                .map(|i| {
                    let mut copy = items.clone();
                    copy.remove(i);
                    Value::Array(copy)
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    /// `read` and fhirbolt agree on every variant of a few resources of each type read, valid
    /// or not: what is required, what is a choice conflict, what is kept of each element.
    #[test]
    fn read_gives_what_fhirbolt_gives_over_mutations() {
        let mut per_type: std::collections::BTreeMap<String, Vec<Vec<u8>>> = Default::default();
        // Projections as JSON text (decimals as strings), edited as JSON values.
        for resource in corpus() {
            let Some(resource_type) = resource["resourceType"].as_str() else {
                continue;
            };
            let Some(elements) = projection_of(resource_type) else {
                continue;
            };
            let doc: sonic_rs::Value = sonic_rs::from_str(&resource.to_string()).unwrap();
            use sonic_rs::JsonContainerTrait;
            let Ok(tape) = project::project(resource_type, elements, doc.as_object().unwrap())
            else {
                continue;
            };
            per_type
                .entry(resource_type.to_owned())
                .or_default()
                .push(tape.to_json());
        }
        assert_eq!(
            per_type.len(),
            project::TABLES.len(),
            "a read type has no sample"
        );
        let (mut compared, mut refused) = (0, 0);
        for (resource_type, mut texts) in per_type {
            // The twelve largest projections of each type, and so the most elements.
            texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
            texts.dedup();
            for text in texts.iter().take(12) {
                let projected: Value = serde_json::from_slice(text).unwrap();
                for variant in variants(&resource_type, &projected) {
                    let tape = tape::Tape::of_json(&variant);
                    let read = read::facts(&resource_type, &tape);
                    assert_eq!(read, oracle::facts(&resource_type, &tape), "{variant}");
                    compared += 1;
                    refused += usize::from(read.is_err());
                }
            }
        }
        // Both outcomes are well represented (a removed required element or an added choice
        // value is refused; most removals are not).
        assert!(compared > 2000, "only {compared} variants");
        assert!(
            refused > 400 && compared - refused > 1500,
            "{refused} of {compared} refused"
        );
    }
}
