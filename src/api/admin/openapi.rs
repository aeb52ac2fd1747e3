//! `GET /admin/openapi.json`: the OpenAPI 3.1 document of the admin API. The operations come
//! from the handlers' `#[utoipa::path]` attributes as registered ([`super::routes::Routes`]); this
//! module adds what every operation shares (the bearer scheme, 401/403, and 412/422 for changes)
//! and the request bodies' schemas: the published rule JSON Schema and the shapes below.

use std::borrow::Cow;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use utoipa::openapi::path::Paths;
use utoipa::openapi::{OpenApiBuilder, Ref, RefOr, Schema};

/// Request bodies, documented by name; their schemas are in [`body_schemas`].
macro_rules! bodies {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` request body of the admin API.")]
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::Ref(Ref::from_schema_name(stringify!($name)))
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

bodies!(
    Rule,
    Pack,
    ValueSet,
    Source,
    ParameterChanges,
    StatusChange,
    CodesToAdd,
    CodesToRemove,
    Proposal,
    RunRequest,
    FindingActionRequest
);

fn body_schemas() -> Value {
    json!({
        "Pack": {"type": "object", "required": ["cohort", "valuesets", "rules"], "properties": {
            "cohort": {"type": "object"}, "valuesets": {"type": "object"},
            "rules": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Rule"}}}},
        "ValueSet": {"type": "object", "description": "a value set as in cds-hooks/valuesets/*.yaml", "required": ["id", "title", "description"]},
        "Source": {"type": "object", "description": "a source as in cds-hooks/sources.yaml", "required": ["description", "resources", "code"]},
        "ParameterChanges": {"type": "object", "additionalProperties": {"oneOf": [{"type": "number"}, {"type": "object", "properties": {"value": {"type": "number"}, "products": {"type": "object", "additionalProperties": {"type": "number"}}}, "additionalProperties": false}]},
            "description": "parameter name → new value, or {value, products} (products: product id of cohort.yaml → value for its recipients; replaces the current ones)"},
        "StatusChange": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["draft", "active", "retired"]}}},
        "CodesToAdd": {"type": "object", "properties": {"codes": {"type": "array", "items": {"type": "object"}}, "prefixes": {"type": "array", "items": {"type": "object"}}, "text": {"type": "array", "items": {"type": "object", "properties": {"match": {"type": "string"}}}}}},
        "CodesToRemove": {"type": "object", "properties": {"codes": {"type": "array"}, "prefixes": {"type": "array"}, "text": {"type": "array", "items": {"type": "string"}}}},
        "RunRequest": {"type": "object", "additionalProperties": false, "properties": {
            "source": {"type": "string", "enum": ["ndjson", "bulk"], "description": "ndjson: the NDJSON files of population.ndjson_dir (the default); bulk: a fresh Bulk Data export from the [bulk] server"},
            "directory": {"type": "string", "description": "a sub-directory of population.ndjson_dir: relative, without `..`"}}},
        "FindingActionRequest": {"type": "object", "additionalProperties": false, "required": ["action", "reason"], "properties": {
            "action": {"type": "string", "enum": ["acknowledge", "snooze", "contacted"]},
            "reason": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "why (audited)"},
            "days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "snooze only: quiet through day N after today, on the worklist and in hook calls for this patient and rule"}}},
        "Proposal": {"type": "object", "properties": {"rule": {"$ref": "#/components/schemas/Rule"}, "pack": {"$ref": "#/components/schemas/Pack"},
            "request": {"type": "object", "description": "a CDS Hooks request (dry run)"}, "now": {"type": "string", "format": "date-time"}}},
    })
}

/// The document for the registered operations `paths`.
pub fn document(paths: &Paths) -> Value {
    let api = OpenApiBuilder::new().paths(paths.clone()).build();
    let mut doc = serde_json::to_value(&api).unwrap_or_else(|_| json!({"paths": {}}));
    doc["info"] = json!({"title": "cart-sentinel admin API", "version": env!("CARGO_PKG_VERSION"),
        "description": "Rule administration: every change is validated, versioned and audited. Send `X-Change-Reason` to record why."});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.iter_mut())
        {
            shared_responses(op.0, op.1);
        }
    }
    let (rule, mut schemas) = rule_schema();
    schemas.insert("Rule".into(), rule);
    if let Value::Object(extra) = body_schemas() {
        schemas.extend(extra);
    }
    doc["components"] = json!({
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": schemas,
    });
    doc
}

/// 401 and 403 (naming the scope the operation's security asks for) on every operation; 412
/// and 422 on every pack change.
fn shared_responses(method: &str, op: &mut Value) {
    let scope = op["security"][0]["bearer"][0]
        .as_str()
        .unwrap_or("")
        .to_owned();
    // Only pack changes are validated and guarded by If-Match.
    let pack_change = method != "get" && op["tags"][0] != "population";
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    responses.insert(
        "401".into(),
        json!({"description": "missing or invalid token"}),
    );
    responses.insert(
        "403".into(),
        json!({"description": format!("token lacks scope {scope}")}),
    );
    if pack_change {
        responses.insert(
            "412".into(),
            json!({"description": "If-Match is stale, or another change was committed first"}),
        );
        responses.insert("422".into(), json!({"description": "invalid: every problem with its file and path; nothing changed"}));
    }
    responses.insert("503".into(), json!({"description": "the database or the identity provider is unavailable; retry after Retry-After"}));
}

/// The published rule JSON Schema, its `$defs` moved to OpenAPI components (prefixed `Rule_`)
/// and every `#/$defs/x` reference rewritten to `#/components/schemas/Rule_x`.
fn rule_schema() -> (Value, Map<String, Value>) {
    fn rewrite(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get_mut("$ref") {
                    if let Some(name) = r.strip_prefix("#/$defs/") {
                        *r = format!("#/components/schemas/Rule_{name}");
                    }
                }
                m.values_mut().for_each(rewrite);
            }
            Value::Array(a) => a.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    let mut schema: Value =
        serde_json::from_str(include_str!("../../../cds-hooks/schema/rule.schema.json"))
            .unwrap_or(json!({"type": "object"}));
    rewrite(&mut schema);
    let mut defs = Map::new();
    if let Value::Object(m) = &mut schema {
        for key in ["$schema", "$id"] {
            m.remove(key);
        }
        if let Some(Value::Object(d)) = m.remove("$defs") {
            defs = d
                .into_iter()
                .map(|(k, v)| (format!("Rule_{k}"), v))
                .collect();
        }
    }
    (schema, defs)
}

/// The document, built once when the routes are registered.
pub struct AdminDocument(pub Value);

pub(super) async fn get_openapi(doc: web::Data<AdminDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}
