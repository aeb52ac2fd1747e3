//! `/ui/worklist` and its CSV export: the worklist API's parameters, store reads and audit
//! entries (`worklist.findings.list`, naming every listed patient), answered as a page.

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{html, UiError, UiUser};
use crate::api::worklist::{audit, csv_answer, query, read_findings};
use crate::api::AppState;
use crate::cds::RequestError;
use crate::storage::{PopulationFinding, RunStatus, Store, MAX_LIST_LIMIT};
use crate::ui::layout::{page, Nav};
use crate::ui::worklist::{render, Filters, WorklistView};

const READ: &str = "worklist:read";
/// Rows on one page: a screen or two on a workstation.
const PAGE: i64 = 50;

/// The query string's non-empty pairs, with a form's date (`YYYY-MM-DD`) read as that day's
/// start in UTC; and the filters to show in the form.
fn form_pairs(req: &HttpRequest) -> Result<(Vec<(String, String)>, Filters), UiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|_| RequestError::new("", "the query string is not URL-encoded"))?
        .into_inner();
    let mut filters = Filters::default();
    let mut out = Vec::new();
    for (name, value) in pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()) {
        match name.as_str() {
            "rule" => filters.rule = Some(value.clone()),
            "indicator" => filters.indicator = Some(value.clone()),
            "firstSeenAfter" => filters.first_seen_after = Some(value.clone()),
            _ => {}
        }
        let value = if name == "firstSeenAfter" && value.len() == 10 {
            format!("{value}T00:00:00Z")
        } else {
            value
        };
        out.push((name, value));
    }
    Ok((out, filters))
}

/// Reads the findings the query asks for (at most `wanted`) and audits the read.
async fn read_audited(
    store: &dyn Store,
    actor: &str,
    pairs: Vec<(String, String)>,
    wanted: i64,
) -> Result<Vec<PopulationFinding>, UiError> {
    let q = query::parse(pairs)?;
    let wanted = q.limit.unwrap_or(wanted);
    let findings = read_findings(store, q.filter, wanted).await?;
    let patients: BTreeSet<&str> = findings.iter().map(|f| f.patient.as_str()).collect();
    let entry = json!({"filter": q.given, "findings": findings.len(),
        "patientCount": patients.len(), "patients": patients});
    audit(store, actor, "worklist.findings.list", entry).await?;
    Ok(findings)
}

/// The worklist page.
pub(super) async fn get_worklist(
    req: HttpRequest,
    user: UiUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let actor = user.require(READ)?;
    let (pairs, filters) = form_pairs(&req)?;
    let paged = pairs.iter().any(|(n, _)| n == "cursor");
    let findings = read_audited(store.as_ref(), actor, pairs, PAGE).await?;
    let as_of = store
        .list_population_runs(MAX_LIST_LIMIT)
        .await?
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded)
        .map(|r| (r.id, r.run_at));
    let (pack, _) = state.active_pack();
    let rules: Vec<(String, String)> = pack
        .pack()
        .rules
        .iter()
        .map(|(id, r)| (id.clone(), r.title.clone()))
        .collect();
    let next_cursor = (i64::try_from(findings.len()).ok() == Some(PAGE))
        .then(|| findings.last().map(|f| f.id.to_string()))
        .flatten();
    let view = WorklistView {
        as_of,
        findings: &findings,
        filters: &filters,
        rules: &rules,
        next_cursor,
        paged,
    };
    Ok(html(page(
        &user.chrome("Worklist", Some(Nav::Worklist)),
        &render(&view),
    )))
}

/// Every finding the filters select, as the CSV of `/worklist/findings.csv`.
pub(super) async fn get_worklist_csv(
    req: HttpRequest,
    user: UiUser,
    store: web::Data<dyn Store>,
) -> Result<HttpResponse, UiError> {
    let actor = user.require(READ)?;
    let (pairs, _) = form_pairs(&req)?;
    let pairs = pairs.into_iter().filter(|(n, _)| n != "cursor").collect();
    let findings = read_audited(store.as_ref(), actor, pairs, i64::MAX).await?;
    Ok(csv_answer(&findings)?)
}
