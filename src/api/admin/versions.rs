//! `/admin/versions`, `/admin/export`, `/admin/import`: the pack's history, diffs, rollback,
//! and whole-pack export and import (validated as a whole).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{meta, parse_body, AdminUser};
use crate::admin::diff::diff;
use crate::admin::{etag, Admin, AdminError};
use crate::api::ApiError;
use crate::engine::load::{pack_from_json, pack_to_json};
use crate::engine::Pack;
use crate::storage::StoreError;

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_list_versions, list_versions)
        .add(__path_diff_versions, diff_versions)
        .add(__path_get_version, get_version)
        .add(__path_rollback, rollback)
        .add(__path_export_pack, export_pack)
        .add(__path_import_pack, import_pack);
}

fn store_err(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("no such pack version".into()),
        other => other.into(),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/versions",
    tag = "versions",
    summary = "List pack versions",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn list_versions(
    user: AdminUser,
    admin: web::Data<Admin>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let versions = admin
        .store
        .list_packs(q.limit.unwrap_or(100))
        .await
        .map_err(store_err)?;
    Ok(HttpResponse::Ok().json(json!({"active": admin.active.get().1, "versions": versions})))
}

#[utoipa::path(
    get,
    path = "/admin/versions/{version}",
    tag = "versions",
    summary = "Get one pack version",
    params(("version" = i64, Path, description = "pack version number")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn get_version(
    user: AdminUser,
    admin: web::Data<Admin>,
    v: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    Ok(HttpResponse::Ok().json(admin.store.get_pack(*v).await.map_err(store_err)?))
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

#[utoipa::path(
    get,
    path = "/admin/versions/diff",
    tag = "versions",
    summary = "Diff two versions (?from=&to=)",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn diff_versions(
    user: AdminUser,
    admin: web::Data<Admin>,
    q: web::Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let a = admin.store.get_pack(q.from).await.map_err(store_err)?;
    let b = admin.store.get_pack(q.to).await.map_err(store_err)?;
    Ok(HttpResponse::Ok()
        .json(json!({"from": q.from, "to": q.to, "changes": diff(&a.document, &b.document)})))
}

#[utoipa::path(
    post,
    path = "/admin/versions/{version}/rollback",
    tag = "versions",
    summary = "Roll back to a version (a new, audited version)",
    params(("version" = i64, Path, description = "pack version number")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn rollback(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    v: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let target = admin.store.get_pack(*v).await.map_err(store_err)?;
    let pack = pack_from_json(&target.document)
        .map_err(|p| ApiError::from(AdminError::Invalid(vec![p])))?;
    let from = admin.active.get().1;
    let to = *v;
    let committed = admin
        .change(
            meta(&req, actor, "pack.rollback", None),
            |p| {
                *p = pack;
                Ok(())
            },
            move |p: &Pack| {
                Some(if pack_to_json(p) == target.document {
                    json!({"version": to})
                } else {
                    json!({"version": from})
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({"packVersion": committed.version, "restoredFrom": to})))
}

#[utoipa::path(
    get,
    path = "/admin/export",
    tag = "versions",
    summary = "Export the active pack",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn export_pack(user: AdminUser, admin: web::Data<Admin>) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let (pack, version) = admin.active.get();
    let doc = pack_to_json(pack.pack());
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(&doc)))
        .insert_header(("X-Pack-Version", version.to_string()))
        .json(doc))
}

#[utoipa::path(
    post,
    path = "/admin/import",
    tag = "versions",
    summary = "Import a whole pack (validated as a whole; If-Match on the export ETag)",
    request_body(description = "Pack", content((super::openapi::Pack = "application/json"), (super::openapi::Pack = "application/yaml"))),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn import_pack(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let pack: Pack = parse_body(&req, "(imported pack)", &body)?;
    let before = admin.active.get().1;
    let committed = admin
        .change(
            meta(&req, actor, "pack.import", None),
            |p| {
                super::check_if_match(&req, &etag(&pack_to_json(p)))?;
                *p = pack;
                Ok(())
            },
            move |_: &Pack| Some(json!({"replacedVersion": before})),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({"packVersion": committed.version})))
}
