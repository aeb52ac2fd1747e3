//! `POST /cds-services/{id}`: a hook call.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use chrono::Utc;

use super::{ApiError, AppState};
use crate::cds::request::parse_hook_request;
use crate::cds::response::CdsResponse;
use crate::cds::ServiceDescriptor;
use crate::hook;
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
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let service = find_service(&state, &id, &body)?;
    let req = parse_hook_request(&body, &service.hook)?;
    let (pack, version) = state.active_pack();
    let now = (state.clock)();
    let answer = hook::answer(&pack, service, &req, Some(&state.fhir), state.limits, state.tz, now)
        .await
        .map_err(|e| {
            tracing::info!(cds.service_id = %service.id, cds.hook = %req.hook, cds.hook_instance = %req.hook_instance, outcome = 412, duration_ms = started.elapsed().as_millis() as u64, "hook call");
            ApiError::Precondition(e.0)
        })?;
    record_issued(&state, service, &answer.cards, version, now);
    tracing::info!(cds.service_id = %service.id, cds.hook = %req.hook, cds.hook_instance = %req.hook_instance, cards = answer.cards.len(), fhir.requests = answer.fetches, outcome = 200, duration_ms = started.elapsed().as_millis() as u64, "hook call");
    Ok(HttpResponse::Ok().json(CdsResponse {
        cards: answer.cards,
        system_actions: Vec::new(),
    }))
}

fn record_issued(
    state: &AppState,
    service: &ServiceDescriptor,
    cards: &[crate::cds::response::Card],
    version: i64,
    now: chrono::DateTime<Utc>,
) {
    use crate::cds::response::Indicator;
    let issued: Vec<IssuedCard> = cards
        .iter()
        .filter_map(|c| {
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
