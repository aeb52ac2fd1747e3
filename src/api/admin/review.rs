//! `/admin/validate`, `/admin/dry-run`, `/admin/audit`, `/admin/reports/quality`: checking a
//! proposal without activating it, and looking back at what happened.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{parse_body, AdminUser};
use crate::admin::Admin;
use crate::api::{ApiError, AppState};
use crate::cds::request::parse_hook_request;
use crate::engine::rule::Rule;
use crate::engine::{compile, CompiledPack, Pack};
use crate::hook::{self, Source};
use crate::storage::AuditFilter;

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_validate, validate)
        .add(__path_dry_run, dry_run)
        .add(__path_audit_log, audit_log)
        .add(__path_quality_report, quality_report);
}

/// A proposed change: one rule (added or replacing the one with its id) or a whole pack.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proposal {
    #[serde(default)]
    rule: Option<Rule>,
    #[serde(default)]
    pack: Option<Pack>,
    /// For dry runs: the hook request to evaluate.
    #[serde(default)]
    request: Option<Value>,
    /// For dry runs: evaluation time (default now).
    #[serde(default)]
    now: Option<DateTime<Utc>>,
}

fn proposed(admin: &Admin, p: &Proposal) -> Pack {
    let mut pack = match &p.pack {
        Some(pack) => pack.clone(),
        None => admin.active.get().0.pack().clone(),
    };
    if let Some(rule) = &p.rule {
        pack.rules.insert(rule.id.clone(), rule.clone());
    }
    pack
}

#[utoipa::path(
    post,
    path = "/admin/validate",
    tag = "review",
    summary = "Validate a proposed rule or pack without activating it",
    request_body(content = super::openapi::Proposal, description = "Proposal"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn validate(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let proposal: Proposal = parse_body(&req, "(proposal)", &body)?;
    Ok(
        HttpResponse::Ok().json(match compile(proposed(&admin, &proposal)) {
            Ok(_) => json!({"valid": true, "problems": []}),
            Err(problems) => json!({"valid": false, "problems": problems}),
        }),
    )
}

async fn evaluate(
    pack: &CompiledPack,
    state: &AppState,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let hook_name = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["hook"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let service = state
        .services
        .iter()
        .find(|s| s.hook == hook_name)
        .ok_or_else(|| ApiError::NotFound(format!("no service answers hook `{hook_name}`")))?;
    let mut request = parse_hook_request(body, &service.hook)?;
    let answer = hook::answer(pack, service, &mut request, Source::Offline, state.tz, now)
        .await
        .map_err(|e| ApiError::Precondition(e.message))?;
    Ok(json!({"cards": answer.cards, "warnings": answer.warnings}))
}

#[utoipa::path(
    post,
    path = "/admin/dry-run",
    tag = "review",
    summary = "Cards of a hook request under the proposed and the active pack",
    request_body(content = super::openapi::Proposal, description = "Proposal"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn dry_run(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let proposal: Proposal = parse_body(&req, "(proposal)", &body)?;
    let request = proposal.request.as_ref().ok_or_else(|| {
        ApiError::BadRequest(crate::cds::RequestError::new("request", "is required"))
    })?;
    let request = serde_json::to_vec(request).map_err(|e| ApiError::Unexpected(e.into()))?;
    let candidate = match compile(proposed(&admin, &proposal)) {
        Ok(p) => p,
        Err(problems) => return Err(crate::admin::AdminError::Invalid(problems).into()),
    };
    let now = proposal.now.unwrap_or_else(|| (state.clock)());
    let (active, version) = admin.active.get();
    Ok(HttpResponse::Ok().json(json!({
        "packVersion": version,
        "active": evaluate(&active, &state, &request, now).await?,
        "proposed": evaluate(&candidate, &state, &request, now).await?,
    })))
}

#[derive(Deserialize)]
struct AuditQuery {
    rule: Option<String>,
    actor: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/audit",
    tag = "review",
    summary = "Audit log (?rule=&actor=&from=&to=&limit=)",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["audit:read"]))
)]
async fn audit_log(
    user: AdminUser,
    admin: web::Data<Admin>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require("audit:read")?;
    let q = q.into_inner();
    let filter = AuditFilter {
        rule_id: q.rule,
        actor: q.actor,
        from: q.from,
        to: q.to,
        limit: q.limit,
    };
    let entries = admin.store.audit_log(&filter).await?;
    Ok(HttpResponse::Ok().json(json!({"entries": entries})))
}

#[derive(Deserialize)]
struct RangeQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

#[utoipa::path(
    get,
    path = "/admin/reports/quality",
    tag = "review",
    summary = "Per rule: cards issued, accepted, overridden, override reasons (?from=&to=)",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn quality_report(
    user: AdminUser,
    admin: web::Data<Admin>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    let mut rules = admin.store.quality_report(from, to).await?;
    let (pack, _) = admin.active.get();
    for rule in &mut rules {
        let offered: Vec<&str> = pack
            .pack()
            .rules
            .get(&rule.rule_id)
            .map(|r| {
                r.card
                    .override_reasons
                    .iter()
                    .map(|c| c.code.as_str())
                    .collect()
            })
            .unwrap_or_default();
        rule.mark_offered(&offered);
    }
    Ok(HttpResponse::Ok().json(json!({"from": from, "to": to, "rules": rules})))
}
