//! `/worklist`: the stored worklist of population runs, for whoever follows the cohort. Reads
//! need a token with `worklist:read` (verified as for the admin API) and each answer that
//! shows patients writes one audit entry before it is sent: a list counts as a read of every
//! listed patient's findings, so its entry names them; a read that cannot be audited is not
//! answered (503). Logs never carry a patient reference (`super::log_span`).

pub(super) mod actions;
mod query;

use std::collections::BTreeSet;

use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::admin::{AdminUser, Routes};
use super::{ApiError, AppState};
use crate::cds::RequestError;
use crate::storage::{
    NewAudit, PopulationFinding, PopulationFindingFilter, RunStatus, Store, MAX_LIST_LIMIT,
};
use crate::worklist::{self, Sheet};

/// The worklist routes, documented with the admin API.
pub fn register(routes: &mut Routes) {
    routes
        .add(__path_list_findings, list_findings)
        .add(__path_list_findings_csv, list_findings_csv)
        .add(__path_patient_findings, patient_findings)
        .add(actions::__path_act_on_finding, actions::act_on_finding);
}

const READ: &str = "worklist:read";

#[utoipa::path(
    get,
    path = "/worklist/findings",
    tag = "worklist",
    summary = "Open findings of the worklist (the latest successful run's), filtered and paged",
    description = "JSON, or CSV with `Accept: text/csv`. One audit entry per answer, naming the listed patients.",
    params(
        ("rule" = Option<String>, Query, description = "rule id"),
        ("indicator" = Option<String>, Query, description = "info, warning or critical"),
        ("firstSeenAfter" = Option<String>, Query, description = "RFC 3339 date-time: findings first seen by a run whose now is after it"),
        ("product" = Option<String>, Query, description = "a product id of the pack's cohort.yaml: findings of patients whose record names that product"),
        ("prevention" = Option<String>, Query, description = "primary, secondary or tertiary: the rule's level of prevention"),
        ("includeSnoozed" = Option<bool>, Query, description = "true: snoozed findings too (by default a finding whose latest action is a snooze is hidden until it ends)"),
        ("overdueDays" = Option<u32>, Query, description = "findings due more than N days before the latest run's now (0 to 36500); only rules with a `due:` setting give findings a due date, the others never match"),
        ("limit" = Option<i64>, Query, description = "findings per page, 1 to 1000 (JSON default 100; CSV: all)"),
        ("cursor" = Option<String>, Query, description = "the nextCursor of the previous page"),
    ),
    responses((status = 200, description = "OK"), (status = 400, description = "a bad parameter, named")),
    security(("bearer" = ["worklist:read"]))
)]
async fn list_findings(
    req: HttpRequest,
    user: AdminUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let csv = req
        .headers()
        .get(ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    list(&req, &user, (store.as_ref(), &state), csv).await
}

#[utoipa::path(
    get,
    path = "/worklist/findings.csv",
    tag = "worklist",
    summary = "Open findings of the worklist as CSV (every matching finding unless `limit`)",
    description = "The parameters of `/worklist/findings`; cells a spreadsheet would run as formulas are written as text. Audited.",
    responses((status = 200, description = "CSV")),
    security(("bearer" = ["worklist:read"]))
)]
async fn list_findings_csv(
    req: HttpRequest,
    user: AdminUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    list(&req, &user, (store.as_ref(), &state), true).await
}

async fn list(
    req: &HttpRequest,
    user: &AdminUser,
    (store, state): (&dyn Store, &AppState),
    csv: bool,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require(READ)?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| RequestError::new("", "the query string is not URL-encoded"))?;
    // CSV is the export: every matching finding unless a limit is given.
    let page = (!csv).then_some(query::DEFAULT_PAGE);
    let (findings, wanted) = list_audited(pairs.into_inner(), actor, (store, state), page).await?;
    if csv {
        return csv_answer(&findings);
    }
    let as_of = store
        .list_population_runs(MAX_LIST_LIMIT)
        .await?
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded)
        .map(|r| json!({"run": r.id, "runAt": r.run_at}));
    let next = (i64::try_from(findings.len()).ok() == Some(wanted))
        .then(|| findings.last().map(|f| f.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({"asOf": as_of, "findings": findings, "nextCursor": next})))
}

/// The open findings a worklist query (`/worklist/findings`' parameters) selects, at most its
/// `limit`, else `page` (`None`: all), read and audited as `worklist.findings.list` with every
/// listed patient; with the number asked for (a full page means there may be more). The
/// `/ui/worklist` page lists through this too.
pub(super) async fn list_audited(
    pairs: Vec<(String, String)>,
    actor: &str,
    (store, state): (&dyn Store, &AppState),
    page: Option<i64>,
) -> Result<(Vec<PopulationFinding>, i64), ApiError> {
    let mut q = query::parse(pairs)?;
    if let Some(days) = q.overdue_days {
        q.filter.due_before = Some(worklist::due_before(store, days, state.tz).await?);
    }
    if !q.include_snoozed {
        q.filter.hide_snoozed_at = Some((state.clock)());
    }
    let wanted = q.limit.or(page).unwrap_or(i64::MAX);
    let findings = read_findings(store, q.filter, wanted).await?;
    let patients: BTreeSet<&str> = findings.iter().map(|f| f.patient.as_str()).collect();
    let entry = json!({"filter": q.given, "findings": findings.len(),
        "patientCount": patients.len(), "patients": patients});
    audit(store, actor, "worklist.findings.list", entry).await?;
    Ok((findings, wanted))
}

/// Up to `wanted` findings from `filter`, page by page.
pub(super) async fn read_findings(
    store: &dyn Store,
    mut filter: PopulationFindingFilter,
    wanted: i64,
) -> Result<Vec<PopulationFinding>, ApiError> {
    let mut out = Vec::new();
    loop {
        let left = wanted - i64::try_from(out.len()).unwrap_or(i64::MAX);
        if left <= 0 {
            return Ok(out);
        }
        filter.limit = Some(left.min(MAX_LIST_LIMIT));
        let page = store.list_population_findings(&filter).await?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        filter.after_id = Some(last.id);
        out.extend(page);
    }
}

pub(super) fn csv_answer(findings: &[PopulationFinding]) -> Result<HttpResponse, ApiError> {
    let write = || -> Result<Vec<u8>, csv::Error> {
        let mut sheet = Sheet::new(Vec::new(), true)?;
        for f in findings {
            sheet.add(f)?;
        }
        sheet.finish()
    };
    let body = write().map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((CONTENT_DISPOSITION, "attachment; filename=\"worklist.csv\""))
        .body(body))
}

/// Writes the audit entry of a read; the read is not answered without it.
pub(super) async fn audit(
    store: &dyn Store,
    actor: &str,
    action: &str,
    after: Value,
) -> Result<(), ApiError> {
    let entry = NewAudit {
        actor: actor.to_owned(),
        action: action.to_owned(),
        rule_id: None,
        before: None,
        after: Some(after),
        reason: None,
    };
    store.record_audit(&entry, Utc::now()).await?;
    Ok(())
}

/// `Patient/{id}` from `123` or `Patient/123`, when the id is a FHIR id. The refusal does not
/// repeat the value (it is a patient identifier).
pub(super) fn patient_reference(given: &str) -> Result<String, ApiError> {
    let id = given.strip_prefix("Patient/").unwrap_or(given);
    let fhir_id = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if fhir_id {
        Ok(format!("Patient/{id}"))
    } else {
        Err(RequestError::new("ref", "must be a Patient id or Patient/{id}").into())
    }
}

/// Every finding of `patient` (`Patient/{id}`), open and closed, oldest first.
pub(super) async fn findings_of(
    store: &dyn Store,
    patient: &str,
) -> Result<Vec<PopulationFinding>, ApiError> {
    let filter = PopulationFindingFilter {
        patient: Some(patient.to_owned()),
        include_closed: true,
        ..Default::default()
    };
    read_findings(store, filter, i64::MAX).await
}

#[utoipa::path(
    get,
    path = "/worklist/patients/{ref}/findings",
    tag = "worklist",
    summary = "One patient's findings, open and closed, oldest first",
    description = "Audited: who, which patient, when.",
    params(("ref" = String, Path, description = "the Patient id, or Patient/{id} URL-encoded")),
    responses((status = 200, description = "OK"), (status = 400, description = "not a Patient id")),
    security(("bearer" = ["worklist:read"]))
)]
async fn patient_findings(
    user: AdminUser,
    store: web::Data<dyn Store>,
    given: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require(READ)?;
    let patient = patient_reference(&given)?;
    let findings = findings_of(store.as_ref(), &patient).await?;
    let entry = json!({"patient": patient, "findings": findings.len()});
    audit(store.as_ref(), actor, "worklist.patient.read", entry).await?;
    Ok(HttpResponse::Ok().json(json!({"patient": patient, "findings": findings})))
}
