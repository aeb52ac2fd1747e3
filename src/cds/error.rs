//! `RequestError`, the one error type of the `cds` layer, and the crate-private helpers that walk a
//! `serde_json::Value` by hand so that every error names the offending field as a path
//! (`context.draftOrders.resourceType`, `feedback[2].outcomeTimestamp`). Validation is done by hand
//! rather than with derived `Deserialize` because `serde_json`'s `arbitrary_precision` feature
//! (switched on by fhirbolt) breaks buffered serde paths, and because derived errors do not name
//! the field. This module must not import actix-web, `SQLx` or reqwest.

use serde_json::{Map, Value};
use std::fmt;

/// The message used for every missing required field; [`RequestError::issue_code`] relies on it.
pub const REQUIRED: &str = "is required";

/// A CDS Hooks request or feedback body that does not conform to the 2.0 specification.
///
/// `field` is the path of the offending element (`hookInstance`, `context.selections[1]`,
/// `feedback[0].card`); it is empty when the problem is the body as a whole (not JSON, not an
/// object). `Display` renders `<field>: <message>`, or only the message when `field` is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Path of the offending element, dot- and bracket-separated; empty for the whole body.
    pub field: String,
    /// What is wrong with it, phrased to follow the field name ("is required").
    pub message: String,
}

impl RequestError {
    /// Builds an error for `field` (a path) with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The FHIR R4 issue-type code that fits this error: `required` for a missing field,
    /// `invalid` for everything else (`structure` is reserved for unparseable bodies).
    pub fn issue_code(&self) -> &'static str {
        if self.message == REQUIRED {
            "required"
        } else if self.field.is_empty() {
            "structure"
        } else {
            "invalid"
        }
    }

    /// This error as an R4 `OperationOutcome` (see [`crate::cds::outcome::operation_outcome`]),
    /// with `expression` set to the field path when there is one.
    pub fn to_operation_outcome(&self) -> Value {
        let expression = (!self.field.is_empty()).then_some(self.field.as_str());
        super::outcome::operation_outcome(self.issue_code(), &self.to_string(), expression)
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for RequestError {}

/// Parses `body` as JSON; the error names the line and column but never echoes the body.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, RequestError> {
    serde_json::from_slice(body).map_err(|e| {
        RequestError::new(
            "",
            format!(
                "body is not valid JSON: line {} column {}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Joins a parent path and a key: `("context", "userId")` gives `context.userId`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A JSON object being validated, together with its path in the document.
#[derive(Debug)]
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a Map<String, Value>,
    pub(crate) path: String,
}

impl<'a> Obj<'a> {
    /// Views `value` as an object, or fails with "must be a JSON object" on `path`.
    pub(crate) fn of(value: &'a Value, path: impl Into<String>) -> Result<Self, RequestError> {
        let path = path.into();
        match value.as_object() {
            Some(map) => Ok(Self { map, path }),
            None if path.is_empty() => Err(RequestError::new("", "body is not a JSON object")),
            None => Err(RequestError::new(path, "must be a JSON object")),
        }
    }

    /// The path of one of this object's members.
    pub(crate) fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// A member, treating an explicit `null` as absent (2.0 forbids `null`, but a `null`
    /// optional member carries no information, so rejecting the whole call would help nobody).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A member that must be present.
    pub(crate) fn req(&self, key: &str) -> Result<&'a Value, RequestError> {
        self.get(key)
            .ok_or_else(|| RequestError::new(self.at(key), REQUIRED))
    }

    /// A required non-empty string member.
    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, RequestError> {
        non_empty_str(self.req(key)?, &self.at(key))
    }

    /// An optional member that, when present, must be a non-empty string.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, RequestError> {
        self.get(key)
            .map(|v| non_empty_str(v, &self.at(key)))
            .transpose()
    }

    /// A required object member.
    pub(crate) fn req_obj(&self, key: &str) -> Result<Obj<'a>, RequestError> {
        Obj::of(self.req(key)?, self.at(key))
    }

    /// An optional member that, when present, must be an object.
    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, RequestError> {
        self.get(key).map(|v| Obj::of(v, self.at(key))).transpose()
    }

    /// A required array member with at least one element (2.0 forbids empty arrays).
    pub(crate) fn req_array(&self, key: &str) -> Result<&'a [Value], RequestError> {
        match self.req(key)?.as_array() {
            Some(items) if !items.is_empty() => Ok(items),
            Some(_) => Err(RequestError::new(
                self.at(key),
                "must not be an empty array",
            )),
            None => Err(RequestError::new(self.at(key), "must be an array")),
        }
    }
}

/// Checks that `value` (at `path`) is a string with at least one non-blank character.
pub(crate) fn non_empty_str<'a>(value: &'a Value, path: &str) -> Result<&'a str, RequestError> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(RequestError::new(path, "must not be empty")),
        None => Err(RequestError::new(path, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_prefixes_the_field_unless_the_error_is_about_the_whole_body() {
        assert_eq!(
            RequestError::new("hook", REQUIRED).to_string(),
            "hook: is required"
        );
        assert_eq!(
            RequestError::new("", "body is not a JSON object").to_string(),
            "body is not a JSON object"
        );
    }

    #[test]
    fn issue_codes_distinguish_missing_from_invalid() {
        assert_eq!(RequestError::new("hook", REQUIRED).issue_code(), "required");
        assert_eq!(
            RequestError::new("hook", "must be a string").issue_code(),
            "invalid"
        );
        assert_eq!(
            RequestError::new("", "body is not valid JSON").issue_code(),
            "structure"
        );
    }

    #[test]
    fn operation_outcome_carries_the_path_as_expression() {
        let oo = RequestError::new("context.patientId", REQUIRED).to_operation_outcome();
        assert_eq!(oo["issue"][0]["code"], "required");
        assert_eq!(oo["issue"][0]["expression"], json!(["context.patientId"]));
        let oo = RequestError::new("", "body is not a JSON object").to_operation_outcome();
        assert!(oo["issue"][0].get("expression").is_none());
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = parse_body(b"{\n  \"hook\": }").unwrap_err();
        assert_eq!(err.field, "");
        assert_eq!(err.message, "body is not valid JSON: line 2 column 11");
    }

    #[test]
    fn helpers_name_the_member_path() {
        let v = json!({"a": {"s": "", "n": 1, "z": null, "e": []}});
        let root = Obj::of(&v, "").unwrap();
        let a = root.req_obj("a").unwrap();
        assert_eq!(
            a.req_str("s").unwrap_err(),
            RequestError::new("a.s", "must not be empty")
        );
        assert_eq!(
            a.req_str("n").unwrap_err(),
            RequestError::new("a.n", "must be a string")
        );
        assert_eq!(
            a.req_str("z").unwrap_err(),
            RequestError::new("a.z", REQUIRED)
        );
        assert_eq!(a.opt_str("z").unwrap(), None);
        assert_eq!(
            a.req_array("e").unwrap_err().message,
            "must not be an empty array"
        );
        assert_eq!(a.req_array("n").unwrap_err().message, "must be an array");
        assert_eq!(
            a.req_obj("n").unwrap_err(),
            RequestError::new("a.n", "must be a JSON object")
        );
        assert_eq!(
            Obj::of(&json!(1), "").err().unwrap().message,
            "body is not a JSON object"
        );
    }
}
