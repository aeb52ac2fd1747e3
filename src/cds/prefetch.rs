//! CDS Hooks 2.0 prefetch templates (spec §Prefetch Template): parsing the `{{…}}` tokens, checking
//! that a discovery template uses only 2.0 tokens valid for its hook, rendering a template against
//! a request's context with every value percent-encoded, and spotting the prefetch keys a client
//! left unsatisfied. 3.0-ballot `FHIRPath` tokens (`{{today()}}`, `{{context.draftOrders.entry…}}`)
//! are rejected. This module must not import actix-web, `SQLx` or reqwest.

use super::request::{split_reference, HookContext, KNOWN_HOOKS};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The context members usable as prefetch tokens. For every hook in [`KNOWN_HOOKS`] the
/// library v1.0.1 marks exactly these as "Prefetch Token: Yes".
pub const CONTEXT_TOKENS: &[&str] = &["userId", "patientId", "encounterId"];

/// A 2.0 prefetch token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `{{context.<member>}}`: a root-level primitive member of the hook context.
    Context(String),
    /// `{{userPractitionerId}}`: id of the user's Practitioner.
    UserPractitionerId,
    /// `{{userPractitionerRoleId}}`: id of the user's `PractitionerRole`.
    UserPractitionerRoleId,
    /// `{{userPatientId}}`: id of the user's Patient (patient-facing apps).
    UserPatientId,
    /// `{{userRelatedPersonId}}`: id of the user's `RelatedPerson`.
    UserRelatedPersonId,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Context(member) => write!(f, "{{{{context.{member}}}}}"),
            Token::UserPractitionerId => f.write_str("{{userPractitionerId}}"),
            Token::UserPractitionerRoleId => f.write_str("{{userPractitionerRoleId}}"),
            Token::UserPatientId => f.write_str("{{userPatientId}}"),
            Token::UserRelatedPersonId => f.write_str("{{userRelatedPersonId}}"),
        }
    }
}

/// The FHIR ids derived from `context.userId` (`Type/id`) for the `user*Id` tokens; at most
/// one is set, the one matching the user's resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIds {
    /// Set when `userId` is `Practitioner/<id>`.
    pub practitioner_id: Option<String>,
    /// Set when `userId` is `PractitionerRole/<id>`.
    pub practitioner_role_id: Option<String>,
    /// Set when `userId` is `Patient/<id>`.
    pub patient_id: Option<String>,
    /// Set when `userId` is `RelatedPerson/<id>`.
    pub related_person_id: Option<String>,
}

impl UserIds {
    /// Derives the ids from a `userId` value; a malformed value yields no ids at all.
    pub fn from_user_id(user_id: &str) -> Self {
        let mut ids = Self::default();
        if let Some((kind, id)) = split_reference(user_id) {
            let slot = match kind {
                "Practitioner" => &mut ids.practitioner_id,
                "PractitionerRole" => &mut ids.practitioner_role_id,
                "Patient" => &mut ids.patient_id,
                "RelatedPerson" => &mut ids.related_person_id,
                _ => return ids,
            };
            *slot = Some(id.to_owned());
        }
        ids
    }

    /// Derives the ids from `context.userId`.
    pub fn from_context(ctx: &HookContext) -> Self {
        ctx.user_id().map(Self::from_user_id).unwrap_or_default()
    }
}

enum Piece<'a> {
    Text(&'a str),
    Token(Token),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let text = &rest[..start];
        if text.contains("}}") {
            return Err("template has \"}}\" without a matching \"{{\"".to_owned());
        }
        out.push(Piece::Text(text));
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or("template has \"{{\" without a closing \"}}\"")?;
        out.push(Piece::Token(parse_token(&after[..end])?));
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err("template has \"}}\" without a matching \"{{\"".to_owned());
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn parse_token(inner: &str) -> Result<Token, String> {
    let token = match inner {
        "userPractitionerId" => Token::UserPractitionerId,
        "userPractitionerRoleId" => Token::UserPractitionerRoleId,
        "userPatientId" => Token::UserPatientId,
        "userRelatedPersonId" => Token::UserRelatedPersonId,
        _ => match inner.strip_prefix("context.") {
            Some(m) if m.contains('.') => {
                let msg = "only root-level context members may be tokens in CDS Hooks 2.0";
                return Err(format!("{{{{{inner}}}}}: {msg}"));
            }
            Some(m)
                if m.starts_with(|c: char| c.is_ascii_alphabetic())
                    && m.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                Token::Context(m.to_owned())
            }
            _ => {
                return Err(format!(
                    "{{{{{inner}}}}} is not a CDS Hooks 2.0 prefetch token"
                ))
            }
        },
    };
    Ok(token)
}

/// The tokens of `template`, in order; fails on malformed delimiters and on anything that is
/// not a 2.0 token (`FHIRPath` expressions, nested context paths, unknown names).
pub fn template_tokens(template: &str) -> Result<Vec<Token>, String> {
    let tokens = pieces(template)?.into_iter().filter_map(|p| match p {
        Piece::Token(t) => Some(t),
        Piece::Text(_) => None,
    });
    Ok(tokens.collect())
}

/// Checks a discovery template for `hook`: a relative FHIR read or search whose tokens are
/// all 2.0 tokens, with context tokens limited to the hook's token members.
pub fn validate_template(template: &str, hook: &str) -> Result<Vec<Token>, String> {
    if template.trim().is_empty() {
        return Err("template must not be empty".to_owned());
    }
    // A template that parses on its own is absolute (it has a scheme); 2.0 wants relative.
    if template.starts_with('/') || url::Url::parse(template).is_ok() {
        return Err(
            "template must be a relative FHIR URL (e.g. Patient/{{context.patientId}})".to_owned(),
        );
    }
    let tokens = template_tokens(template)?;
    let allowed = if KNOWN_HOOKS.contains(&hook) {
        CONTEXT_TOKENS
    } else {
        &[]
    };
    for token in &tokens {
        if let Token::Context(member) = token {
            if !allowed.contains(&member.as_str()) {
                return Err(format!(
                    "{token} is not a prefetch token of the {hook} hook"
                ));
            }
        }
    }
    Ok(tokens)
}

/// Renders `template` for one request: each token is replaced by its value, percent-encoded
/// so that a value such as `a&b=c` cannot add query parameters or path segments. The one
/// exception is a whole `{{context.userId}}` of the form `Type/id`, whose slash is kept so
/// that `"user": "{{context.userId}}"` stays a read. Fails naming the first unavailable token.
pub fn render(template: &str, ctx: &HookContext, user: &UserIds) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template)? {
        let token = match piece {
            Piece::Text(text) => {
                out.push_str(text);
                continue;
            }
            Piece::Token(token) => token,
        };
        let value = match &token {
            Token::Context(member) => ctx.token(member),
            Token::UserPractitionerId => user.practitioner_id.as_deref(),
            Token::UserPractitionerRoleId => user.practitioner_role_id.as_deref(),
            Token::UserPatientId => user.patient_id.as_deref(),
            Token::UserRelatedPersonId => user.related_person_id.as_deref(),
        };
        let value = value.ok_or_else(|| format!("{token} has no value in this request"))?;
        // A bare "." or ".." would become a dot-segment and climb the FHIR server's path.
        if value.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(format!("{token} has a value that is not a FHIR id"));
        }
        match (&token, split_reference(value)) {
            (Token::Context(m), Some((kind, id))) if m == "userId" => {
                out.push_str(&encode(kind));
                out.push('/');
                out.push_str(&encode(id));
            }
            _ => out.push_str(&encode(value)),
        }
    }
    Ok(out)
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The keys of `wanted` the client did not satisfy: absent from `prefetch`, or answered with
/// an `OperationOutcome` (a prefetch error). A `null` value means "no data" and counts as
/// satisfied. The caller fetches these itself, or answers 412 when it cannot.
pub fn unsatisfied_keys<'a>(
    wanted: &'a BTreeMap<String, String>,
    prefetch: Option<&Map<String, Value>>,
) -> Vec<&'a str> {
    let is_satisfied = |key: &str| match prefetch.and_then(|p| p.get(key)) {
        None => false,
        Some(v) => v.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome"),
    };
    wanted
        .keys()
        .map(String::as_str)
        .filter(|k| !is_satisfied(k))
        .collect()
}

#[cfg(test)]
#[path = "prefetch_tests.rs"]
mod tests;
