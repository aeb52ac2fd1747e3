//! Non-generic wrapper around fhirbolt's R4 model, and the check of untrusted resources.
//!
//! Every call into fhirbolt's generic (de)serialiser lives in this crate, behind a few plain
//! functions, so that the application crate never pays fhirbolt's monomorphisation cost on a
//! rebuild. It also contains fhirbolt's sharp edges (see `shared/docs/dependencies.md`).
//!
//! Entry points:
//!
//! * [`check`]: an untrusted resource (a prefetch value's, a fetched page's, a draft order),
//!   parsed by sonic-rs, is checked where it lies against the [`schema`] of the elements the
//!   shipped sources rely on (JSON types, required elements, one value per choice element;
//!   nulls and empty values count as absent), and what the service needs of it is returned (the
//!   patient reference). The service keeps the document itself for the rules' FHIRPath; a
//!   resource refused is skipped and counted. fhirbolt's strict parse is the tests' reference
//!   (`oracle`, on the resource's `project`ion);
//! * [`page`]: what the service asks of a prefetch value or fetched page;
//! * [`to_json`]: resources the service builds itself, validated by fhirbolt and normalised.
//!
//! fhirbolt failures in [`to_json`] are caught with `catch_unwind`, so this crate relies on the
//! default `panic = "unwind"`: a profile with `panic = "abort"` would turn a fhirbolt panic on a
//! bad template into a crash. fhirbolt's panic message still reaches the panic hook.

mod check;
mod facts;
mod fhirbolt_io;
#[cfg(test)]
mod oracle;
pub mod page;
#[cfg(test)]
mod project;
mod schema;

pub use check::{check, Checked};
pub use facts::*;

use fhirbolt_io::Failure;
use serde_json::Value;

/// A resource was refused by [`check`]. The message never contains resource content.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DecodeError {
    /// The value is not a JSON object with a string `resourceType` that looks like a type name
    /// (ASCII letters and digits, upper-case first, at most 64 characters).
    #[error("not a FHIR resource (no resourceType)")]
    NotAResource,
    /// The resource does not conform: an element of the wrong JSON type, a missing required
    /// element, two values of one choice element, a repeated member, or a decimal that is not
    /// a finite number.
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

/// [`check`] for a resource held as a `serde_json` value (tests and the fuzz targets).
///
/// # Errors
///
/// As [`check`]; a value sonic-rs cannot hold (nesting over 128 levels) is
/// [`DecodeError::NotAResource`].
pub fn decode(value: &Value) -> Result<Checked, DecodeError> {
    let doc: sonic_rs::Value =
        sonic_rs::from_str(&value.to_string()).map_err(|_| DecodeError::NotAResource)?;
    check(&doc)
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

    fn sonic(value: &Value) -> sonic_rs::Value {
        sonic_rs::from_str(&value.to_string()).expect("JSON")
    }

    /// What fhirbolt's strict parse of the projection of `value` gives, or `None` for a type
    /// with no schema.
    fn reference(value: &Value, by_enum: bool) -> Option<Result<Checked, DecodeError>> {
        use sonic_rs::JsonContainerTrait;
        let resource_type = value["resourceType"].as_str()?;
        let shape = schema::shape_of(resource_type)?;
        let doc = sonic(value);
        let projected = project::project(resource_type, shape, doc.as_object()?, true).ok();
        Some(oracle::verdict(resource_type, projected.as_ref(), by_enum))
    }

    /// `check` gives exactly what fhirbolt's strict parse of the projection gives (through the
    /// concrete types and through the `Resource` enum), for every resource of the fixtures and
    /// bench patients of a type with a schema.
    #[test]
    fn check_agrees_with_fhirbolt_over_the_corpus() {
        let corpus = corpus();
        assert!(corpus.len() > 1000, "only {} resources found", corpus.len());
        let mut accepted = 0;
        for resource in &corpus {
            let Some(expected) = reference(resource, false) else {
                continue;
            };
            let checked = check(&sonic(resource));
            assert_eq!(checked, expected, "{resource}");
            assert_eq!(checked, reference(resource, true).unwrap(), "{resource}");
            accepted += usize::from(checked.is_ok());
        }
        assert!(accepted > 1000, "only {accepted} resources accepted");
    }

    /// Values of choice elements, added to a projected object that may hold them (its shape
    /// lists them) to make a conflict, or to supply a required one.
    fn choice_values() -> Vec<(&'static str, Value)> {
        let concept = serde_json::json!({"text": "x"});
        let period = serde_json::json!({"start": "2020-01-01"});
        vec![
            ("valueQuantity", serde_json::json!({"value": 1})),
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
        let shape = schema::shape_of(resource_type).expect("a type with a schema");
        // The choice values an object may hold: the resource's, or a component's `value[x]`.
        let may_hold = |map: &serde_json::Map<String, Value>, key: &str| {
            if map.contains_key("resourceType") {
                schema::position(shape.elements, key).is_some()
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

    /// `check` and fhirbolt agree on every variant of a few resources of each type with a
    /// schema, valid or not: what is required, what is a choice conflict.
    #[test]
    fn check_agrees_with_fhirbolt_over_mutations() {
        use sonic_rs::JsonContainerTrait;
        let mut per_type: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for resource in corpus() {
            let Some(resource_type) = resource["resourceType"].as_str() else {
                continue;
            };
            let Some(shape) = schema::shape_of(resource_type) else {
                continue;
            };
            let doc = sonic(&resource);
            let Ok(projected) =
                project::project(resource_type, shape, doc.as_object().unwrap(), false)
            else {
                continue;
            };
            per_type
                .entry(resource_type.to_owned())
                .or_default()
                .push(projected);
        }
        assert_eq!(
            per_type.len(),
            schema::TABLES.len(),
            "a type with a schema has no sample"
        );
        let (mut compared, mut refused) = (0, 0);
        for (resource_type, mut samples) in per_type {
            // The twelve largest projections of each type, and so the most elements.
            samples.sort_by_key(|s| std::cmp::Reverse(s.to_string().len()));
            samples.dedup();
            for sample in samples.iter().take(12) {
                for variant in variants(&resource_type, sample) {
                    let checked = check(&sonic(&variant));
                    assert_eq!(
                        Some(checked.clone()),
                        reference(&variant, false),
                        "{variant}"
                    );
                    compared += 1;
                    refused += usize::from(checked.is_err());
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
