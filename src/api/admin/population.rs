//! `/admin/population/runs`: population runs started over HTTP (in the background, one at a
//! time, over the configured export directory) and watched while they run.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{change_reason, AdminUser};
use crate::api::{ApiError, AppState};
use crate::cds::RequestError;
use crate::storage::{NewAudit, PopulationRun, RunStatus, Store, StoreError};
use crate::worklist::{ExportDirError, RunSource, Runs, StartError};

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_start_run, start_run)
        .add(__path_list_runs, list_runs)
        .add(__path_get_run, get_run);
}

/// What a start request may say.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    /// `ndjson` (the default): the files of `population.ndjson_dir`.
    source: Option<String>,
    /// A sub-directory of `population.ndjson_dir` (relative, no `..`).
    directory: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(RequestError::new(field, message))
}

#[utoipa::path(
    post,
    path = "/admin/population/runs",
    tag = "population",
    summary = "Start a population run over the configured export directory or a fresh Bulk Data export",
    description = "Runs in the background; at most one at a time. Audited (who, which source and directory).",
    request_body(content = super::openapi::RunRequest, description = "optional"),
    responses(
        (status = 202, description = "started; `Location` names the run"),
        (status = 400, description = "a bad `source` or `directory`, no export directory or no `[bulk]` server configured"),
        (status = 409, description = "a run is in progress")
    ),
    security(("bearer" = ["worklist:write"]))
)]
async fn start_run(
    req: HttpRequest,
    user: AdminUser,
    runs: web::Data<Runs>,
    state: web::Data<AppState>,
    store: web::Data<dyn Store>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("worklist:write")?;
    let request: StartRequest = if body.iter().all(u8::is_ascii_whitespace) {
        StartRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad("", format!("body: {e}")))?
    };
    let (source, label) = match request.source.as_deref() {
        None | Some("ndjson") => {
            let dir = runs
                .export_dir(request.directory.as_deref())
                .map_err(|e| match e {
                    ExportDirError::NotConfigured => bad("source", e.to_string()),
                    ExportDirError::Outside | ExportDirError::Missing => {
                        bad("directory", e.to_string())
                    }
                })?;
            (RunSource::Directory(dir), "ndjson")
        }
        Some("bulk") if request.directory.is_some() => {
            return Err(bad("directory", "a bulk run reads its own export; omit it"))
        }
        Some("bulk") => match runs.bulk() {
            Some(bulk) => (RunSource::Export(Box::new(bulk.clone())), "bulk"),
            None => return Err(bad("source", "no Bulk Data server is configured ([bulk])")),
        },
        Some(_) => return Err(bad("source", "must be `ndjson` or `bulk`")),
    };
    if let Some(id) = runs.running() {
        return Err(busy(id));
    }
    let now = (state.clock)();
    // Audited before it starts: no run without the record of who started it.
    let entry = NewAudit {
        actor: actor.to_owned(),
        action: "population.run.start".into(),
        rule_id: None,
        before: None,
        after: Some(json!({"source": label, "directory": request.directory, "runAt": now})),
        reason: change_reason(&req),
    };
    store.record_audit(&entry, Utc::now()).await?;
    let id = runs
        .start(state.active_pack(), now, source)
        .await
        .map_err(|e| match e {
            StartError::Busy(id) => busy(id),
            StartError::Store(e) => e.into(),
        })?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/admin/population/runs/{id}")))
        .json(json!({"id": id, "status": "running", "runAt": now})))
}

fn busy(id: Option<i64>) -> ApiError {
    ApiError::Busy(match id {
        Some(id) => format!("population run {id} is in progress; start another when it ends"),
        None => "a population run is starting; start another when it ends".into(),
    })
}

/// A run as the API shows it: with its live progress while this process runs it.
fn with_progress(runs: &Runs, run: PopulationRun) -> Value {
    // The store may record the end a moment before this process forgets the run's progress.
    let progress = runs
        .progress(run.id)
        .filter(|_| run.status == RunStatus::Running);
    let mut view = serde_json::to_value(run).unwrap_or(Value::Null);
    if let (Some(p), Some(object)) = (progress, view.as_object_mut()) {
        object.insert("progress".into(), json!(p));
    }
    view
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/population/runs",
    tag = "population",
    summary = "List population runs, newest first",
    params(("limit" = Option<i64>, Query, description = "most runs (default 100, at most 1000)")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["worklist:read"]))
)]
async fn list_runs(
    user: AdminUser,
    runs: web::Data<Runs>,
    store: web::Data<dyn Store>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    user.require("worklist:read")?;
    let q = web::Query::<ListQuery>::from_query(req.query_string())
        .map_err(|_| bad("limit", "must be a whole number"))?;
    let limit = q.limit.unwrap_or(crate::storage::DEFAULT_LIST_LIMIT);
    let list = store.list_population_runs(limit).await?;
    let list: Vec<Value> = list.into_iter().map(|r| with_progress(&runs, r)).collect();
    Ok(HttpResponse::Ok().json(json!({"runs": list})))
}

#[utoipa::path(
    get,
    path = "/admin/population/runs/{id}",
    tag = "population",
    summary = "One population run: status, pack version, start and end, counts, live progress",
    params(("id" = i64, Path, description = "run id")),
    responses((status = 200, description = "OK"), (status = 404, description = "no such run")),
    security(("bearer" = ["worklist:read"]))
)]
async fn get_run(
    user: AdminUser,
    runs: web::Data<Runs>,
    store: web::Data<dyn Store>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require("worklist:read")?;
    let not_found = || ApiError::NotFound(format!("no population run `{id}`"));
    let run_id: i64 = id.parse().map_err(|_| not_found())?;
    let run = store.population_run(run_id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    Ok(HttpResponse::Ok().json(with_progress(&runs, run)))
}
