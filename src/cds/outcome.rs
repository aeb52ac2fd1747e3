//! FHIR R4 `OperationOutcome` bodies for error responses. CDS Hooks 3.0-ballot recommends one on
//! every non-2xx response (and the house style requires it on 412), so the API layer builds them
//! here from an issue-type code, a message and an optional field path. This module must not import
//! actix-web, `SQLx` or reqwest.

use serde_json::{json, Map, Value};

/// The FHIR R4 `IssueType` codes (value set `issue-type`), the only valid `code` values.
pub const ISSUE_TYPES: &[&str] = &[
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "unknown",
    "expired",
    "forbidden",
    "suppressed",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "deleted",
    "too-long",
    "code-invalid",
    "extension",
    "too-costly",
    "business-rule",
    "conflict",
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
    "informational",
];

/// Builds an R4 `OperationOutcome` with one `error` issue.
///
/// `code` must be one of [`ISSUE_TYPES`] (e.g. `invalid`, `required`, `not-found`,
/// `exception`, `security`, `too-costly`); an unknown code is replaced by `exception` so the
/// body stays valid FHIR. `diagnostics` is omitted when empty (FHIR forbids empty strings);
/// `expression` becomes `expression: [field]` when given and non-empty. Never put tokens,
/// patient identifiers or resource content in `diagnostics`: clients log these bodies.
pub fn operation_outcome(code: &str, diagnostics: &str, expression: Option<&str>) -> Value {
    debug_assert!(
        ISSUE_TYPES.contains(&code),
        "unknown FHIR issue type {code:?}"
    );
    let code = if ISSUE_TYPES.contains(&code) {
        code
    } else {
        "exception"
    };
    let mut issue = Map::new();
    issue.insert("severity".into(), json!("error"));
    issue.insert("code".into(), json!(code));
    if !diagnostics.is_empty() {
        issue.insert("diagnostics".into(), json!(diagnostics));
    }
    if let Some(field) = expression.filter(|f| !f.is_empty()) {
        issue.insert("expression".into(), json!([field]));
    }
    json!({ "resourceType": "OperationOutcome", "issue": [issue] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_one_error_issue_with_expression() {
        let oo = operation_outcome(
            "required",
            "context.patientId: is required",
            Some("context.patientId"),
        );
        assert_eq!(
            oo,
            json!({"resourceType": "OperationOutcome", "issue": [{
                "severity": "error", "code": "required",
                "diagnostics": "context.patientId: is required",
                "expression": ["context.patientId"]
            }]})
        );
    }

    #[test]
    fn omits_empty_members() {
        let oo = operation_outcome("not-found", "", None);
        assert_eq!(
            oo["issue"][0],
            json!({"severity": "error", "code": "not-found"})
        );
        let oo = operation_outcome("too-costly", "prefetch too large", Some(""));
        assert!(oo["issue"][0].get("expression").is_none());
        assert!(!oo.to_string().contains("null"));
    }

    #[test]
    fn every_code_the_api_uses_is_an_issue_type() {
        for code in [
            "invalid",
            "required",
            "not-found",
            "exception",
            "security",
            "too-costly",
            "structure",
        ] {
            assert_eq!(operation_outcome(code, "x", None)["issue"][0]["code"], code);
        }
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn unknown_codes_fall_back_to_exception_in_release() {
        assert_eq!(
            operation_outcome("oops", "x", None)["issue"][0]["code"],
            "exception"
        );
    }
}
