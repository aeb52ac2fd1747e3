//! `/admin/sources`: the named sources queries draw from (`sources.yaml`): list, get, create or
//! replace one. A change is validated with the whole pack, like a rule.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{committed_entry, get_entry, parse_body, put_entry, AdminUser, Entries};
use crate::admin::{etag, Admin};
use crate::api::ApiError;
use crate::engine::source::SourceDef;

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_list_sources, list_sources)
        .add(__path_get_source, get_source)
        .add(__path_put_source, put_source);
}

const SOURCES: Entries<SourceDef> = Entries {
    get: |p| &p.sources,
    get_mut: |p| &mut p.sources,
};

fn source_json(s: &SourceDef) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

#[utoipa::path(
    get,
    path = "/admin/sources",
    tag = "sources",
    summary = "List the sources queries draw from (sources.yaml)",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn list_sources(user: AdminUser, admin: web::Data<Admin>) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let (pack, version) = admin.active.get();
    let sources: Vec<Value> = pack
        .pack()
        .sources
        .iter()
        .map(|(name, s)| json!({"id": name, "resources": s.resources, "etag": etag(&source_json(s))}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"packVersion": version, "sources": sources})))
}

#[utoipa::path(
    get,
    path = "/admin/sources/{id}",
    tag = "sources",
    summary = "Get one source (ETag header)",
    params(("id" = String, Path, description = "its id")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn get_source(
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    get_entry(&admin, &id, "source", SOURCES)
}

/// Creates or replaces a source (If-Match with the current `ETag` when replacing).
#[utoipa::path(
    put,
    path = "/admin/sources/{id}",
    tag = "sources",
    summary = "Create a source, or replace one (If-Match): resource types, FHIRPath and prefetch",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::Source, description = "Source"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn put_source(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let source: SourceDef = parse_body(&req, &format!("sources.yaml: {id}"), &body)?;
    let version = put_entry(&req, actor, &admin, ("source.put", &id), source, SOURCES).await?;
    Ok(committed_entry(&admin, ("source", &id), version, SOURCES))
}
