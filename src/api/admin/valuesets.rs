//! `/admin/valuesets`: list, get, add and remove codes (sites add their local codes here).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    check_if_match, committed_entry, get_entry, meta, parse_body, put_entry, AdminUser, Entries,
};
use crate::admin::{etag, Admin, AdminError};
use crate::api::ApiError;
use crate::engine::valueset::{CodeEntry, TextEntry, ValueSet};
use crate::engine::{Pack, Problem};

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_list_valuesets, list_valuesets)
        .add(__path_get_valueset, get_valueset)
        .add(__path_put_valueset, put_valueset)
        .add(__path_add_codes, add_codes)
        .add(__path_remove_codes, remove_codes);
}

const VALUESETS: Entries<ValueSet> = Entries {
    get: |p| &p.valuesets,
    get_mut: |p| &mut p.valuesets,
};

fn vs_json(vs: &ValueSet) -> Value {
    serde_json::to_value(vs).unwrap_or(Value::Null)
}

fn vs_of<'p>(pack: &'p mut Pack, id: &str) -> Result<&'p mut ValueSet, AdminError> {
    pack.valuesets
        .get_mut(id)
        .ok_or_else(|| AdminError::NotFound(format!("no value set `{id}`")))
}

#[utoipa::path(
    get,
    path = "/admin/valuesets",
    tag = "valuesets",
    summary = "List value sets",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn list_valuesets(
    user: AdminUser,
    admin: web::Data<Admin>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let (pack, version) = admin.active.get();
    let sets: Vec<Value> = pack
        .pack()
        .valuesets
        .values()
        .map(|v| json!({"id": v.id, "title": v.title, "codes": v.codes.len(), "prefixes": v.prefixes.len(), "text": v.text.len(), "etag": etag(&vs_json(v))}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"packVersion": version, "valuesets": sets})))
}

#[utoipa::path(
    get,
    path = "/admin/valuesets/{id}",
    tag = "valuesets",
    summary = "Get one value set (ETag header)",
    params(("id" = String, Path, description = "its id")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn get_valueset(
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    get_entry(&admin, &id, "value set", VALUESETS)
}

/// Creates a value set, or replaces one (If-Match with its current `ETag`).
#[utoipa::path(
    put,
    path = "/admin/valuesets/{id}",
    tag = "valuesets",
    summary = "Create a value set, or replace one (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::ValueSet, description = "ValueSet"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn put_valueset(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let file = format!("valuesets/{id}.yaml");
    let vs: ValueSet = parse_body(&req, &file, &body)?;
    let version = put_entry(&req, actor, &admin, ("valueset.put", &id), vs, VALUESETS).await?;
    respond(&admin, &id, version)
}

/// Codes, prefixes and text matches to add or remove.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CodesChange {
    #[serde(default)]
    codes: Vec<CodeEntry>,
    #[serde(default)]
    prefixes: Vec<CodeEntry>,
    #[serde(default)]
    text: Vec<TextEntry>,
}

fn same_code(a: &CodeEntry, b: &CodeEntry) -> bool {
    a.system.trim_end_matches('/') == b.system.trim_end_matches('/') && a.code == b.code
}

#[utoipa::path(
    post,
    path = "/admin/valuesets/{id}/codes",
    tag = "valuesets",
    summary = "Add codes, prefixes or text matches (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::CodesToAdd, description = "CodesToAdd"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn add_codes(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let change: CodesChange = parse_body(&req, &format!("valuesets/{id}.yaml"), &body)?;
    let view_id = id.to_string();
    let committed = admin
        .change(
            meta(&req, actor, "valueset.add", None),
            |p| {
                let vs = vs_of(p, &id)?;
                check_if_match(&req, &etag(&vs_json(vs)))?;
                for c in change.codes {
                    if !vs.codes.iter().any(|e| same_code(e, &c)) {
                        vs.codes.push(c);
                    }
                }
                for c in change.prefixes {
                    if !vs.prefixes.iter().any(|e| same_code(e, &c)) {
                        vs.prefixes.push(c);
                    }
                }
                for t in change.text {
                    if !vs
                        .text
                        .iter()
                        .any(|e| e.pattern.eq_ignore_ascii_case(&t.pattern))
                    {
                        vs.text.push(t);
                    }
                }
                Ok(())
            },
            move |p: &Pack| p.valuesets.get(&view_id).map(vs_json),
        )
        .await?;
    respond(&admin, &id, committed.version)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeKey {
    system: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveRequest {
    #[serde(default)]
    codes: Vec<CodeKey>,
    #[serde(default)]
    prefixes: Vec<CodeKey>,
    #[serde(default)]
    text: Vec<String>,
}

#[utoipa::path(
    delete,
    path = "/admin/valuesets/{id}/codes",
    tag = "valuesets",
    summary = "Remove codes, prefixes or text matches (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::CodesToRemove, description = "CodesToRemove"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn remove_codes(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let body: RemoveRequest = parse_body(&req, &format!("valuesets/{id}.yaml"), &body)?;
    let view_id = id.to_string();
    let committed = admin
        .change(
            meta(&req, actor, "valueset.remove", None),
            |p| {
                let vs = vs_of(p, &id)?;
                check_if_match(&req, &etag(&vs_json(vs)))?;
                let before = vs.codes.len() + vs.prefixes.len() + vs.text.len();
                let hit = |e: &CodeEntry, keys: &[CodeKey]| {
                    keys.iter().any(|k| {
                        k.system.trim_end_matches('/') == e.system.trim_end_matches('/')
                            && k.code == e.code
                    })
                };
                vs.codes.retain(|e| !hit(e, &body.codes));
                vs.prefixes.retain(|e| !hit(e, &body.prefixes));
                vs.text
                    .retain(|t| !body.text.iter().any(|x| x.eq_ignore_ascii_case(&t.pattern)));
                let removed = before - (vs.codes.len() + vs.prefixes.len() + vs.text.len());
                let asked = body.codes.len() + body.prefixes.len() + body.text.len();
                if removed < asked {
                    return Err(AdminError::Invalid(vec![Problem {
                        file: format!("valuesets/{id}.yaml"),
                        path: "codes".into(),
                        message: format!(
                            "{} of the entries to remove are not in the value set",
                            asked - removed
                        ),
                    }]));
                }
                Ok(())
            },
            move |p: &Pack| p.valuesets.get(&view_id).map(vs_json),
        )
        .await?;
    respond(&admin, &id, committed.version)
}

fn respond(admin: &Admin, id: &str, version: i64) -> Result<HttpResponse, ApiError> {
    Ok(committed_entry(admin, ("valueset", id), version, VALUESETS))
}
