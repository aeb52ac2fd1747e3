//! `POST /cds-services/{id}`: a hook call.

use std::time::Instant;

use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use futures::StreamExt;

use super::slots::{BodySlots, HookSlots};
use super::{ApiError, AppState};
use crate::auth::CdsClient;
use crate::cds::hook_limits::check_hook_limits;
use crate::cds::limits::RequestLimits;
use crate::cds::request::{HookRequest, ParsedBody};
use crate::cds::response::CdsResponse;
use crate::cds::ServiceDescriptor;
use crate::hook;
use crate::metrics::Metrics;
use crate::storage::{CardIndicator, IssuedCard, Store};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/{id}").route(web::post().to(call_service)));
}

/// The service entry for `id`; when several hooks share the id, the request's `hook` picks
/// one (the first when none matches).
fn find_service<'a>(
    state: &'a AppState,
    id: &str,
    hook: Option<&str>,
) -> Result<&'a ServiceDescriptor, ApiError> {
    let mut matching = state.services.iter().filter(|s| s.id == id);
    let first = matching
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no CDS service `{id}`")))?;
    let mut all = std::iter::once(first).chain(matching);
    Ok(all.find(|s| Some(s.hook.as_str()) == hook).unwrap_or(first))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per actix extractor"
)]
async fn call_service(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    slots: web::Data<HookSlots>,
    bodies: web::Data<BodySlots>,
    limits: web::Data<RequestLimits>,
    store: web::Data<dyn Store>,
    client: Option<CdsClient>,
    id: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    // Refused before the body is read; then the body waits for room in memory, and is
    // dropped once parsed into the request.
    let _slot = slots.try_enter().ok_or(ApiError::Unavailable)?;
    find_service(&state, &id, None)?;
    let (service, mut req) = {
        let _body_slot = bodies.enter().await.ok_or(ApiError::Unavailable)?;
        let body = read_body(&request, payload, &bodies).await?;
        let parsed = ParsedBody::within(&body, &limits)?;
        let service = find_service(&state, &id, parsed.hook())?;
        (service, parsed.into_request(&service.hook)?)
    };
    check_hook_limits(&req, &limits)?;
    if req
        .prefetch
        .as_ref()
        .is_some_and(|p| p.values().any(|v| !sonic_rs::JsonValueTrait::is_null(v)))
    {
        metrics.fhir_read("prefetch");
    }
    let source = hook::Source::Online {
        client: &state.fhir,
        client_servers: client.as_ref().map(|c| c.fhir_servers.as_slice()),
        limits: state.limits,
    };
    let (pack, version) = state.active_pack();
    let now = (state.clock)();
    let caller = client.as_ref().map_or("anonymous", |c| c.iss.as_str());
    let labels = (service.id.as_str(), service.hook.as_str(), caller);
    let answer = hook::answer(&pack, service, &mut req, source, state.tz, now)
        .await
        .map_err(|e| {
            metrics.prefetch(labels, &e.missing, None);
            log_call(service, &req, 412, 0, 0, started);
            ApiError::Precondition(e.message)
        })?;
    metrics.prefetch(labels, &answer.missing, answer.fetch_time);
    metrics.fhirpath_failures(answer.fhirpath_failures);
    let mut answer = answer;
    if let (Some(base), Some(patient)) = (&state.timeline_base, req.context.patient_id()) {
        crate::timeline::card_link(&mut answer.cards, base, patient);
    }
    if let Some(hosts) = client.as_ref().and_then(|c| c.link_hosts.as_deref()) {
        keep_links_to(&mut answer.cards, hosts);
    }
    let patient_key = req.context.patient_id().map(|p| state.patient_keys.of(p));
    if let Some(key) = &patient_key {
        let reads = (&state.snooze_reads, store.get_ref());
        super::snooze::drop_snoozed(reads, key, now, &mut answer.cards).await;
    }
    let issued = (version, now, patient_key);
    record_issued(&state, &metrics, service, &answer.cards, issued);
    log_call(
        service,
        &req,
        200,
        answer.cards.len(),
        answer.fetches,
        started,
    );
    Ok(HttpResponse::Ok().json(CdsResponse {
        cards: answer.cards,
        system_actions: Vec::new(),
    }))
}

/// The request body: at most `server.max_body_bytes` (413 beyond), arrived within
/// `limits.body_read_timeout_ms` (408 beyond). The buffer is sized once from `Content-Length`
/// (which actix holds the body to), not grown chunk by chunk: growing copied a typical 550 KB
/// body about twice more. Of a body over the limit, what keeps arriving is read and dropped
/// (within the same time limit, until it ends or pauses for [`DRAIN_PAUSE`]) before the 413 is
/// sent: closing a connection with unread data makes the kernel reset it, and a client still
/// sending then sees a broken connection instead of the answer; a client that waits for the
/// answer before sending gets it after the pause.
async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    bodies: &BodySlots,
) -> Result<web::Bytes, ApiError> {
    let (max, timeout) = (bodies.max_bytes(), bodies.read_timeout());
    let deadline = tokio::time::Instant::now() + timeout;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let read = async {
        if announced.is_some_and(|n| n > max) {
            return Err(ApiError::TooLarge(max));
        }
        let mut body = BytesMut::with_capacity(announced.unwrap_or(0));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::BadRequest(crate::cds::RequestError::new(
                    "",
                    "the body could not be read",
                ))
            })?;
            if body.len() + chunk.len() > max {
                return Err(ApiError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let read = tokio::time::timeout_at(deadline, read)
        .await
        .unwrap_or(Err(ApiError::BodyTimeout(timeout.as_millis())));
    if let Err(ApiError::TooLarge(_)) = read {
        let rest = async {
            while let Ok(Some(Ok(_))) = tokio::time::timeout(DRAIN_PAUSE, payload.next()).await {}
        };
        let _ = tokio::time::timeout_at(deadline, rest).await;
    }
    read
}

/// How long the rest of a body over the limit may pause before the 413 is sent anyway.
const DRAIN_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// The one info line of a hook call: ids, counts, outcome, duration; never patient data.
fn log_call(
    service: &ServiceDescriptor,
    req: &HookRequest,
    outcome: u16,
    cards: usize,
    fetches: usize,
    started: Instant,
) {
    tracing::info!(
        cds.service_id = %service.id,
        cds.hook = %req.hook,
        cds.hook_instance = %req.hook_instance,
        cards,
        fhir.requests = fetches,
        outcome,
        duration_ms = started.elapsed().as_millis() as u64,
        "hook call"
    );
}

fn record_issued(
    state: &AppState,
    metrics: &Metrics,
    service: &ServiceDescriptor,
    cards: &[crate::cds::response::Card],
    (version, now, patient_key): (i64, chrono::DateTime<Utc>, Option<String>),
) {
    use crate::cds::response::Indicator;
    let issued: Vec<IssuedCard> = cards
        .iter()
        .filter_map(|c| {
            let rule_id = c.source.topic.as_ref()?.code.clone();
            let indicator = match c.indicator {
                Indicator::Critical => CardIndicator::Critical,
                Indicator::Warning => CardIndicator::Warning,
                Indicator::Info => CardIndicator::Info,
            };
            metrics.card_issued(&rule_id, indicator.as_str());
            Some(IssuedCard {
                card_uuid: c.uuid.clone()?,
                rule_id,
                service_id: service.id.clone(),
                hook: service.hook.clone(),
                indicator,
                pack_version: version,
                issued_at: now,
                patient_key: patient_key.clone(),
            })
        })
        .collect();
    state.issued.push(issued);
}

/// Leaves out of `cards` every link and source URL whose host is not in `hosts` (a client that
/// would strip them shows nothing in their place, so a dead link is worse than none).
fn keep_links_to(cards: &mut [crate::cds::Card], hosts: &[String]) {
    let shown = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .is_some_and(|h| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&h)))
    };
    for card in cards {
        card.links.retain(|l| shown(&l.url));
        if card.source.url.as_deref().is_some_and(|u| !shown(u)) {
            card.source.url = None;
        }
    }
}
