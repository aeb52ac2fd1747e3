//! `POST /cds-services/{id}`: a hook call.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use chrono::Utc;

use super::{ApiError, AppState};
use crate::auth::CdsClient;
use crate::cds::limits::{check_hook_limits, check_json_depth, HookSlots, RequestLimits};
use crate::cds::request::parse_hook_request;
use crate::cds::response::CdsResponse;
use crate::cds::ServiceDescriptor;
use crate::hook;
use crate::metrics::Metrics;
use crate::storage::{CardIndicator, IssuedCard};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/{id}", web::post().to(call_service));
}

/// The service entry for `id`; when several hooks share the id, the request's hook picks one.
fn find_service<'a>(
    state: &'a AppState,
    id: &str,
    body: &[u8],
) -> Result<&'a ServiceDescriptor, ApiError> {
    let mut matching = state.services.iter().filter(|s| s.id == id).peekable();
    let first = matching
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no CDS service `{id}`")))?;
    if matching.peek().is_none() {
        return Ok(first);
    }
    let hook = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("hook").and_then(|h| h.as_str()).map(str::to_owned));
    Ok(state
        .services
        .iter()
        .find(|s| s.id == id && Some(&s.hook) == hook.as_ref())
        .unwrap_or(first))
}

async fn call_service(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    slots: web::Data<HookSlots>,
    limits: web::Data<RequestLimits>,
    client: Option<CdsClient>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let _slot = slots.try_enter().ok_or(ApiError::Unavailable)?;
    check_json_depth(&body, limits.max_json_depth)?;
    let service = find_service(&state, &id, &body)?;
    // `limits::parse_hook_request_within` without its depth check, already done above (a
    // 550 KB body costs 0.5 ms per scan).
    let req = parse_hook_request(&body, &service.hook)?;
    check_hook_limits(&req, &limits)?;
    let servers = client.as_ref().map(|c| c.fhir_servers.as_slice());
    let (pack, version) = state.active_pack();
    let now = (state.clock)();
    let answer = hook::answer_for(&pack, service, &req, Some(&state.fhir), servers, state.limits, state.tz, now)
        .await
        .map_err(|e| {
            tracing::info!(cds.service_id = %service.id, cds.hook = %req.hook, cds.hook_instance = %req.hook_instance, outcome = 412, duration_ms = started.elapsed().as_millis() as u64, "hook call");
            ApiError::Precondition(e.0)
        })?;
    record_issued(&state, &metrics, service, &answer.cards, version, now);
    tracing::info!(cds.service_id = %service.id, cds.hook = %req.hook, cds.hook_instance = %req.hook_instance, cards = answer.cards.len(), fhir.requests = answer.fetches, outcome = 200, duration_ms = started.elapsed().as_millis() as u64, "hook call");
    Ok(HttpResponse::Ok().json(CdsResponse {
        cards: answer.cards,
        system_actions: Vec::new(),
    }))
}

fn record_issued(
    state: &AppState,
    metrics: &Metrics,
    service: &ServiceDescriptor,
    cards: &[crate::cds::response::Card],
    version: i64,
    now: chrono::DateTime<Utc>,
) {
    use crate::cds::response::Indicator;
    let issued: Vec<IssuedCard> = cards
        .iter()
        .filter_map(|c| {
            let rule = &c.source.topic.as_ref()?.code;
            metrics.card_issued(
                rule,
                match c.indicator {
                    Indicator::Critical => "critical",
                    Indicator::Warning => "warning",
                    Indicator::Info => "info",
                },
            );
            Some(IssuedCard {
                card_uuid: c.uuid.clone()?,
                rule_id: c.source.topic.as_ref()?.code.clone(),
                service_id: service.id.clone(),
                hook: service.hook.clone(),
                indicator: match c.indicator {
                    Indicator::Critical => CardIndicator::Critical,
                    Indicator::Warning => CardIndicator::Warning,
                    Indicator::Info => CardIndicator::Info,
                },
                pack_version: version,
                issued_at: now,
            })
        })
        .collect();
    if !issued.is_empty() && state.issued.try_send(issued).is_err() {
        tracing::warn!("issued-card queue full; quality counters will miss these cards");
    }
}
