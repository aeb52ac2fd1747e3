//! `/ui/worklist`, its CSV export and its actions: the worklist API's parameters, reads, audit
//! entries (`worklist.findings.list`, naming every listed patient) and actions
//! (`worklist.finding.action`), answered as pages.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::auth::return_path;
use super::{html, see_other, UiError, UiUser};
use crate::api::worklist::actions::{act, parse};
use crate::api::worklist::{csv_answer, list_audited};
use crate::api::AppState;
use crate::cds::RequestError;
use crate::storage::{RunStatus, Store, MAX_LIST_LIMIT};
use crate::ui::layout::{page, Nav};
use crate::ui::worklist::{render, Filters, WorklistView};

const READ: &str = "worklist:read";
const WRITE: &str = "worklist:write";
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
        let slot = match name.as_str() {
            "rule" => Some(&mut filters.rule),
            "indicator" => Some(&mut filters.indicator),
            "firstSeenAfter" => Some(&mut filters.first_seen_after),
            "product" => Some(&mut filters.product),
            "prevention" => Some(&mut filters.prevention),
            "overdueDays" => Some(&mut filters.overdue_days),
            "includeSnoozed" => Some(&mut filters.include_snoozed),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = Some(value.clone());
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
    let (findings, wanted) =
        list_audited(pairs, actor, (store.as_ref(), &state), Some(PAGE)).await?;
    let latest = store
        .list_population_runs(MAX_LIST_LIMIT)
        .await?
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded);
    let (pack, _) = state.active_pack();
    let rules: Vec<(String, String)> = (pack.pack().rules.iter())
        .map(|(id, r)| (id.clone(), r.title.clone()))
        .collect();
    let products: Vec<(String, String)> = (pack.pack().cohort.products.iter())
        .map(|(id, p)| (id.clone(), format!("{} ({})", p.name, p.target)))
        .collect();
    let next_cursor = (i64::try_from(findings.len()).ok() == Some(wanted))
        .then(|| findings.last().map(|f| f.id.to_string()))
        .flatten();
    let here = req
        .uri()
        .path_and_query()
        .map_or("/ui/worklist", |p| p.as_str());
    let view = WorklistView {
        as_of: latest.as_ref().map(|r| (r.id, r.run_at)),
        findings: &findings,
        filters: &filters,
        rules: &rules,
        products: &products,
        can_act: user.principal.scopes.contains(WRITE),
        here,
        today: latest.map(|r| r.run_at.with_timezone(&state.tz).date_naive()),
        next_cursor,
        paged,
    };
    let chrome = user.chrome("Worklist", Some(Nav::Worklist));
    Ok(html(page(&chrome, &render(&view))))
}

/// Every finding the filters select, as the CSV of `/worklist/findings.csv`.
pub(super) async fn get_worklist_csv(
    req: HttpRequest,
    user: UiUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let actor = user.require(READ)?;
    let (pairs, _) = form_pairs(&req)?;
    let pairs = pairs.into_iter().filter(|(n, _)| n != "cursor").collect();
    let (findings, _) = list_audited(pairs, actor, (store.as_ref(), &state), None).await?;
    Ok(csv_answer(&findings)?)
}

/// An action's form (`action`, `reason`, `days`, `back`), checked as the API's JSON body is,
/// recorded and audited as the API does; then back to the page it came from.
pub(super) async fn post_action(
    user: UiUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    let actor = user.require(WRITE)?;
    let id: i64 = id
        .parse()
        .map_err(|_| RequestError::new("id", "must be a finding id"))?;
    let mut body = Map::new();
    let mut back = String::new();
    for (name, value) in form.into_inner() {
        match name.as_str() {
            "back" => back = value,
            "days" => {
                let days = value
                    .trim()
                    .parse::<u64>()
                    .map_or(Value::String(value), |n| json!(n));
                body.insert(name, days);
            }
            _ => {
                body.insert(name, Value::String(value));
            }
        }
    }
    let action = parse(&serde_json::to_vec(&body).unwrap_or_default())?;
    act(store.as_ref(), &state, actor, id, action).await?;
    Ok(see_other(&return_path(&back)))
}
