//! `GET /admin/openapi.json`: the OpenAPI 3.0 document of the admin API, generated from the
//! endpoint table below (a test checks that every entry is a real route and needs a token).

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

/// One admin endpoint: method, path, required scope, summary, request body kind.
pub struct Endpoint {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path under the server root, OpenAPI style (`{id}`).
    pub path: &'static str,
    /// Scope the token must grant.
    pub scope: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Request body: `rule`, `pack`, `codes`, `remove`, `parameters`, `status`, `proposal`, or "".
    pub body: &'static str,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    scope: &'static str,
    summary: &'static str,
    body: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        scope,
        summary,
        body,
    }
}

/// Every admin endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    ep(
        "get",
        "/admin/rules",
        "rules:read",
        "List rules with status, hooks and ETag",
        "",
    ),
    ep(
        "post",
        "/admin/rules",
        "rules:write",
        "Create a rule (validated with the whole pack)",
        "rule",
    ),
    ep(
        "get",
        "/admin/rules/{id}",
        "rules:read",
        "Get one rule (ETag header)",
        "",
    ),
    ep(
        "put",
        "/admin/rules/{id}",
        "rules:write",
        "Replace a rule (If-Match)",
        "rule",
    ),
    ep(
        "patch",
        "/admin/rules/{id}/parameters",
        "rules:write",
        "Change parameter values (If-Match)",
        "parameters",
    ),
    ep(
        "put",
        "/admin/rules/{id}/status",
        "rules:write",
        "Change status: draft, active, retired (If-Match)",
        "status",
    ),
    ep(
        "get",
        "/admin/valuesets",
        "rules:read",
        "List value sets",
        "",
    ),
    ep(
        "get",
        "/admin/valuesets/{id}",
        "rules:read",
        "Get one value set (ETag header)",
        "",
    ),
    ep(
        "put",
        "/admin/valuesets/{id}",
        "rules:write",
        "Create a value set, or replace one (If-Match)",
        "valueset",
    ),
    ep(
        "get",
        "/admin/sources",
        "rules:read",
        "List the sources queries draw from (sources.yaml)",
        "",
    ),
    ep(
        "get",
        "/admin/sources/{id}",
        "rules:read",
        "Get one source (ETag header)",
        "",
    ),
    ep(
        "put",
        "/admin/sources/{id}",
        "rules:write",
        "Create a source, or replace one (If-Match): resource types, FHIRPath and prefetch",
        "source",
    ),
    ep(
        "post",
        "/admin/valuesets/{id}/codes",
        "rules:write",
        "Add codes, prefixes or text matches (If-Match)",
        "codes",
    ),
    ep(
        "delete",
        "/admin/valuesets/{id}/codes",
        "rules:write",
        "Remove codes, prefixes or text matches (If-Match)",
        "remove",
    ),
    ep(
        "post",
        "/admin/validate",
        "rules:read",
        "Validate a proposed rule or pack without activating it",
        "proposal",
    ),
    ep(
        "post",
        "/admin/dry-run",
        "rules:read",
        "Cards of a hook request under the proposed and the active pack",
        "proposal",
    ),
    ep(
        "get",
        "/admin/versions",
        "rules:read",
        "List pack versions",
        "",
    ),
    ep(
        "get",
        "/admin/versions/diff",
        "rules:read",
        "Diff two versions (?from=&to=)",
        "",
    ),
    ep(
        "get",
        "/admin/versions/{version}",
        "rules:read",
        "Get one pack version",
        "",
    ),
    ep(
        "post",
        "/admin/versions/{version}/rollback",
        "rules:write",
        "Roll back to a version (a new, audited version)",
        "",
    ),
    ep(
        "get",
        "/admin/export",
        "rules:read",
        "Export the active pack",
        "",
    ),
    ep(
        "post",
        "/admin/import",
        "rules:write",
        "Import a whole pack (validated as a whole; If-Match on the export ETag)",
        "pack",
    ),
    ep(
        "get",
        "/admin/audit",
        "audit:read",
        "Audit log (?rule=&actor=&from=&to=&limit=)",
        "",
    ),
    ep(
        "get",
        "/admin/reports/quality",
        "rules:read",
        "Per rule: cards issued, accepted, overridden, override reasons (?from=&to=)",
        "",
    ),
];

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").route(web::get().to(get_openapi)));
}

fn schema_ref(body: &str) -> Value {
    match body {
        "rule" => json!({"$ref": "#/components/schemas/Rule"}),
        "valueset" => {
            json!({"type": "object", "description": "a value set as in cds-hooks/valuesets/*.yaml", "required": ["id", "title", "description"]})
        }
        "source" => {
            json!({"type": "object", "description": "a source as in cds-hooks/sources.yaml", "required": ["description", "resources", "code"]})
        }
        "pack" => json!({"$ref": "#/components/schemas/Pack"}),
        "parameters" => {
            json!({"type": "object", "additionalProperties": {"oneOf": [{"type": "number"}, {"type": "object", "properties": {"value": {"type": "number"}, "products": {"type": "object", "additionalProperties": {"type": "number"}}}, "additionalProperties": false}]}, "description": "parameter name → new value, or {value, products} (products: product id of cohort.yaml → value for its recipients; replaces the current ones)"})
        }
        "status" => {
            json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["draft", "active", "retired"]}}})
        }
        "codes" => {
            json!({"type": "object", "properties": {"codes": {"type": "array", "items": {"type": "object"}}, "prefixes": {"type": "array", "items": {"type": "object"}}, "text": {"type": "array", "items": {"type": "object", "properties": {"match": {"type": "string"}}}}}})
        }
        "remove" => {
            json!({"type": "object", "properties": {"codes": {"type": "array"}, "prefixes": {"type": "array"}, "text": {"type": "array", "items": {"type": "string"}}}})
        }
        _ => {
            json!({"type": "object", "properties": {"rule": {"$ref": "#/components/schemas/Rule"}, "pack": {"$ref": "#/components/schemas/Pack"}, "request": {"type": "object", "description": "a CDS Hooks request (dry run)"}, "now": {"type": "string", "format": "date-time"}}})
        }
    }
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for e in ENDPOINTS {
        let mut op = json!({
            "summary": e.summary,
            "security": [{"bearer": [e.scope]}],
            "responses": {
                "200": {"description": "OK"},
                "401": {"description": "missing or invalid token"},
                "403": {"description": format!("token lacks scope {}", e.scope)},
            }
        });
        let params: Vec<Value> = ["id", "version"]
            .iter()
            .filter(|p| e.path.contains(&format!("{{{p}}}")))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": if *p == "version" { "integer" } else { "string" }}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if !e.body.is_empty() {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema_ref(e.body)}, "application/yaml": {"schema": schema_ref(e.body)}}});
        }
        if e.method != "get" {
            let r = op["responses"].as_object_mut().expect("object");
            r.insert(
                "412".into(),
                json!({"description": "If-Match is stale, or another change was committed first"}),
            );
            r.insert("422".into(), json!({"description": "invalid: every problem with its file and path; nothing changed"}));
        }
        paths.entry(e.path.to_owned()).or_insert_with(|| json!({}))[e.method] = op;
    }
    let (rule_schema, rule_defs) = rule_schema();
    json!({
        "openapi": "3.0.3",
        "info": {"title": "cart-sentinel admin API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Rule administration: every change is validated, versioned and audited. Send `X-Change-Reason` to record why."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(rule_schema, rule_defs, json!({
                "Pack": {"type": "object", "required": ["cohort", "valuesets", "rules"], "properties": {
                    "cohort": {"type": "object"}, "valuesets": {"type": "object"}, "rules": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Rule"}}}},
            })),
        }
    })
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

fn schemas(rule: Value, defs: Map<String, Value>, extra: Value) -> Value {
    let mut all = defs;
    all.insert("Rule".into(), rule);
    if let Value::Object(m) = extra {
        all.extend(m);
    }
    Value::Object(all)
}

async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
