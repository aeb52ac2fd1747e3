//! The only place that calls fhirbolt's generic entry points, all behind `catch_unwind`: a parse
//! and a serialise of the `Resource` enum, for resources the service builds (and, in tests, the
//! reference reading of projected resources: `oracle`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use fhirbolt::model::r4::Resource;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode};

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
