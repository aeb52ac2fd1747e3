//! `/admin/sources`: the named sources queries draw from (`sources.yaml`): list, get, create or
//! replace one. A change is validated with the whole pack, like a rule.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{committed_entry, get_entry, parse_body, put_entry, AdminUser, Entries};
use crate::admin::{etag, Admin};
use crate::api::ApiError;
use crate::engine::source::SourceDef;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sources").route(web::get().to(list_sources)));
    cfg.service(
        web::resource("/sources/{id}")
            .route(web::get().to(get_source))
            .route(web::put().to(put_source)),
    );
}

const SOURCES: Entries<SourceDef> = Entries {
    get: |p| &p.sources,
    get_mut: |p| &mut p.sources,
};

fn source_json(s: &SourceDef) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

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

async fn get_source(
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    get_entry(&admin, &id, "source", SOURCES)
}

/// Creates or replaces a source (If-Match with the current `ETag` when replacing).
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
