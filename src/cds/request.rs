//! The CDS Hooks 2.0 service request (`POST {base}/cds-services/{id}`): `HookRequest`, its
//! `fhirAuthorization` and its hook `context`, plus [`parse_hook_request`], which validates a raw
//! body by hand so that every error names the offending field (spec §Calling a CDS Service, hook
//! contexts from the CDS Hooks library v1.0.1). Wire types only: this module must not import
//! actix-web, `SQLx` or reqwest.

pub use super::error::RequestError;
use super::error::{parse_body, Obj};
use super::limits::{check_json_depth, RequestLimits};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The hooks this service knows, as published in the CDS Hooks library v1.0.1.
pub const KNOWN_HOOKS: &[&str] = &[
    "patient-view",
    "order-select",
    "order-sign",
    "encounter-start",
    "encounter-discharge",
];

/// A validated hook call. Build it with [`parse_hook_request`].
#[derive(Debug, Clone, PartialEq)]
pub struct HookRequest {
    /// The hook that triggered the call, e.g. `patient-view`.
    pub hook: String,
    /// The client's unique id for this hook invocation (a UUID in practice).
    pub hook_instance: String,
    /// Base URL of the client's FHIR server; absolute `http` or `https` URL.
    pub fhir_server: Option<String>,
    /// OAuth 2.0 token for `fhir_server`; only present together with it.
    pub fhir_authorization: Option<FhirAuthorization>,
    /// The hook-specific context.
    pub context: HookContext,
    /// Prefetched data by template key; a value may be a resource, a Bundle, an
    /// `OperationOutcome` or `null` (meaning "no data", not "missing"), kept as parsed:
    /// [`crate::hook::build_record`] takes it.
    pub prefetch: Option<fhir_r4::page::Pages>,
    /// Reserved `extension` object, passed through untouched.
    pub extension: Option<Map<String, Value>>,
}

/// The `fhirAuthorization` object. Its members keep their `snake_case` wire names. `Debug` is
/// written by hand so that `access_token` never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FhirAuthorization {
    /// The bearer token for `fhirServer`; transient, never stored or logged.
    pub access_token: String,
    /// Always `Bearer` (compared case-insensitively).
    pub token_type: String,
    /// Token lifetime in seconds.
    pub expires_in: i64,
    /// Granted SMART scopes, space-separated.
    pub scope: String,
    /// OAuth client id of this service at the client's authorization server.
    pub subject: String,
    /// FHIR id of the patient in scope, when the scopes include `patient/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
}

impl fmt::Debug for FhirAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FhirAuthorization")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("subject", &self.subject)
            .field("patient", &self.patient)
            .finish()
    }
}

/// The hook `context`, kept as the raw JSON object (hooks differ, and unknown members must
/// survive), with typed accessors for the members the service reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HookContext {
    raw: Map<String, Value>,
}

impl HookContext {
    /// Wraps a raw context object.
    pub fn new(raw: Map<String, Value>) -> Self {
        Self { raw }
    }

    /// The raw context object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// `context.patientId`, the FHIR id of the patient.
    pub fn patient_id(&self) -> Option<&str> {
        self.token("patientId")
    }

    /// `context.userId`, written `Type/id` (e.g. `Practitioner/123`).
    pub fn user_id(&self) -> Option<&str> {
        self.token("userId")
    }

    /// `context.encounterId`, the FHIR id of the encounter, when given.
    pub fn encounter_id(&self) -> Option<&str> {
        self.token("encounterId")
    }

    /// `context.draftOrders`, a FHIR Bundle of draft orders (order-select, order-sign).
    pub fn draft_orders(&self) -> Option<&Value> {
        self.raw.get("draftOrders")
    }

    /// `context.selections` (order-select): `Type/id` references into `draftOrders`.
    pub fn selections(&self) -> Vec<&str> {
        let items = self.raw.get("selections").and_then(Value::as_array);
        items
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The value of a root-level context member usable as a prefetch token: only non-empty
    /// strings qualify (objects, arrays and nested paths never do).
    pub fn token(&self, name: &str) -> Option<&str> {
        self.raw
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Splits a `Type/id` reference into its resource type and FHIR id, checking both shapes
/// (type: `[A-Z][A-Za-z]*`; id: `[A-Za-z0-9-.]{1,64}`).
pub fn split_reference(reference: &str) -> Option<(&str, &str)> {
    let (kind, id) = reference.split_once('/')?;
    let kind_ok = kind.starts_with(|c: char| c.is_ascii_uppercase())
        && kind.chars().all(|c| c.is_ascii_alphabetic());
    let id_ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    (kind_ok && id_ok).then_some((kind, id))
}

/// Parses and validates a hook call addressed to a service registered for `service_hook`.
///
/// Checks the 2.0 request shape and the per-hook required context members; the first
/// violation found is returned, its `field` naming the offending element's path.
pub fn parse_hook_request(body: &[u8], service_hook: &str) -> Result<HookRequest, RequestError> {
    ParsedBody::ordinary(body)?.into_request(service_hook)
}

/// A hook call's body parsed as JSON, not yet checked as a request: the prefetch as sonic-rs
/// values (most of a body, read by the rules' FHIRPath), the rest as `serde_json` values (what
/// the request checks walk).
pub struct ParsedBody {
    value: Value,
    prefetch: Option<sonic_rs::Value>,
}

impl ParsedBody {
    /// How a hook call's body is parsed: its nesting is checked first, then the ordinary
    /// parse gives the tree, or the error for what is invalid.
    ///
    /// # Errors
    ///
    /// The body is nested deeper than `limits.max_json_depth`, or is not JSON.
    pub fn within(body: &[u8], limits: &RequestLimits) -> Result<Self, RequestError> {
        check_json_depth(body, limits.max_json_depth)?;
        ParsedBody::ordinary(body)
    }

    /// Parses the body with sonic-rs, moves its `prefetch` out, and gives the rest to
    /// `serde_json` (a prefetch object is left there as `{}`, so that its shape is checked as
    /// every other member's). A body sonic-rs refuses is parsed by `serde_json`, whose error
    /// names the line and column.
    ///
    /// # Errors
    ///
    /// The body is not JSON.
    pub fn ordinary(body: &[u8]) -> Result<Self, RequestError> {
        use sonic_rs::{JsonContainerTrait, JsonValueMutTrait, JsonValueTrait};
        let Ok(mut doc) = sonic_rs::from_slice::<sonic_rs::Value>(body) else {
            parse_body(body)?;
            return Err(RequestError::new("", "body could not be read as JSON"));
        };
        let prefetch = doc
            .as_object_mut()
            .and_then(|root| root.remove(&"prefetch"));
        let mut value: Value = serde_json::from_str(&doc.to_string())
            .map_err(|_| RequestError::new("", "body could not be read as JSON"))?;
        if let (Some(p), Value::Object(root)) = (&prefetch, &mut value) {
            let placeholder = match p.as_object() {
                Some(_) => Value::Object(Map::new()),
                None if p.is_null() => Value::Null,
                None => serde_json::from_str(&p.to_string()).unwrap_or(Value::Null),
            };
            root.insert("prefetch".to_owned(), placeholder);
        }
        let prefetch = prefetch.filter(|p| p.as_object().is_some());
        Ok(ParsedBody { value, prefetch })
    }

    /// The `hook` member, when it is a string.
    pub fn hook(&self) -> Option<&str> {
        self.value.get("hook").and_then(Value::as_str)
    }

    /// Checks the body as a call to a service registered for `service_hook` (see
    /// [`parse_hook_request`]).
    ///
    /// # Errors
    ///
    /// The first violation found, its `field` naming the offending element's path.
    pub fn into_request(self, service_hook: &str) -> Result<HookRequest, RequestError> {
        let ParsedBody {
            value,
            prefetch: read_prefetch,
        } = self;
        let root = Obj::of(&value, "")?;

        let hook = root.req_str("hook")?;
        if hook != service_hook {
            // Echo the received hook only when it is a known name, never arbitrary input.
            let got = match KNOWN_HOOKS.contains(&hook) {
                true => format!("is \"{hook}\""),
                false => "is not a known hook".to_owned(),
            };
            let msg = format!("{got}, but this service handles \"{service_hook}\"");
            return Err(RequestError::new("hook", msg));
        }
        let hook_instance = root.req_str("hookInstance")?;

        let fhir_server = root.opt_str("fhirServer")?;
        if let Some(server) = fhir_server {
            check_absolute_http_url(server).map_err(|m| RequestError::new("fhirServer", m))?;
        }
        let fhir_authorization = match root.opt_obj("fhirAuthorization")? {
            Some(_) if fhir_server.is_none() => {
                return Err(RequestError::new(
                    "fhirAuthorization",
                    "is only allowed with fhirServer",
                ))
            }
            Some(auth) => Some(parse_authorization(&auth)?),
            None => None,
        };

        let context = root.req_obj("context")?;
        check_context(service_hook, &context)?;
        let has_prefetch = root.opt_obj("prefetch")?.is_some();
        let extension = root.opt_obj("extension")?.map(|o| o.map.clone());
        let (hook, hook_instance) = (hook.to_owned(), hook_instance.to_owned());
        let fhir_server = fhir_server.map(str::to_owned);
        let context = HookContext::new(context.map.clone());

        // The prefetch values are moved out of the sonic-rs tree, not copied.
        let prefetch = match read_prefetch {
            Some(mut p) if has_prefetch => {
                use sonic_rs::JsonValueMutTrait;
                p.as_object_mut().map(|o| {
                    o.iter_mut()
                        .map(|(k, v)| (k.to_owned(), std::mem::replace(v, sonic_rs::Value::new())))
                        .collect()
                })
            }
            _ => None,
        };
        Ok(HookRequest {
            hook,
            hook_instance,
            fhir_server,
            fhir_authorization,
            context,
            prefetch,
            extension,
        })
    }
}

/// Checks that `url` is an absolute `http`/`https` URL with a host; the error is a message.
pub(crate) fn check_absolute_http_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err("must be an http or https URL".to_owned()),
        Err(_) => Err("must be an absolute URL".to_owned()),
    }
}

fn parse_authorization(auth: &Obj<'_>) -> Result<FhirAuthorization, RequestError> {
    let access_token = auth.req_str("access_token")?;
    let token_type = auth.req_str("token_type")?;
    if !token_type.eq_ignore_ascii_case("Bearer") {
        return Err(RequestError::new(
            auth.at("token_type"),
            "must be \"Bearer\"",
        ));
    }
    // `as_i64` reads the number's text, which is what `arbitrary_precision` stores.
    let expires_in = match auth.req("expires_in")?.as_i64() {
        Some(n) if n >= 0 => n,
        _ => {
            return Err(RequestError::new(
                auth.at("expires_in"),
                "must be a non-negative integer",
            ))
        }
    };
    Ok(FhirAuthorization {
        access_token: access_token.to_owned(),
        token_type: token_type.to_owned(),
        expires_in,
        scope: auth.req_str("scope")?.to_owned(),
        subject: auth.req_str("subject")?.to_owned(),
        patient: auth.opt_str("patient")?.map(str::to_owned),
    })
}

/// Per-hook required context members (CDS Hooks library v1.0.1 context tables).
fn check_context(hook: &str, ctx: &Obj<'_>) -> Result<(), RequestError> {
    if !KNOWN_HOOKS.contains(&hook) {
        return Ok(());
    }
    ctx.req_str("userId")?;
    ctx.req_str("patientId")?;
    if hook.starts_with("encounter-") {
        ctx.req_str("encounterId")?;
    } else {
        ctx.opt_str("encounterId")?;
    }
    if hook == "order-select" {
        for (i, item) in ctx.req_array("selections")?.iter().enumerate() {
            let path = format!("{}[{i}]", ctx.at("selections"));
            let s = super::error::non_empty_str(item, &path)?;
            if split_reference(s).is_none() {
                return Err(RequestError::new(
                    path,
                    "must be a reference of the form Type/id",
                ));
            }
        }
    }
    if hook == "order-select" || hook == "order-sign" {
        let orders = ctx.req_obj("draftOrders")?;
        if orders.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(RequestError::new(
                orders.at("resourceType"),
                "must be \"Bundle\"",
            ));
        }
        if orders.get("entry").is_some_and(|e| !e.is_array()) {
            return Err(RequestError::new(orders.at("entry"), "must be an array"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
