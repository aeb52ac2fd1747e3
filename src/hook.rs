//! Answering one hook call: resolve the prefetch, fetch what is missing from `fhirServer`
//! (all keys in parallel, under one deadline, following `next` links up to a page cap), build
//! the patient record, evaluate the pack, and turn findings into cards.
//!
//! Used by the HTTP handler and by `cart-sentinel eval` (offline: nothing is fetched, missing
//! data only produces warnings). Must not import actix_web or sqlx.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use futures::future::join_all;
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::cds::discovery::ServiceDescriptor;
use crate::cds::prefetch::{self, UserIds};
use crate::cds::request::HookRequest;
use crate::cds::response::Card;
use crate::engine::{cards, CompiledPack, EvalInput};
use crate::fhir::{FhirClient, FhirError};
use crate::record::{is_operation_outcome, next_link, RecordBuilder, RecordStats};

/// Limits of the fetch path.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Deadline for all FHIR requests of the call.
    pub deadline: Duration,
    /// Most pages per key.
    pub max_pages: usize,
}

/// The data could not be obtained: the standard's 412. The message names prefetch keys and
/// causes only, never URLs or patient data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Precondition(pub String);

/// What a hook call produced.
#[derive(Debug)]
pub struct Answer {
    /// Cards, ordered critical, warning, info.
    pub cards: Vec<Card>,
    /// What was read.
    pub stats: RecordStats,
    /// FHIR requests made.
    pub fetches: usize,
    /// Warnings for the offline `eval` command.
    pub warnings: Vec<String>,
}

enum Pending {
    Fetch(String),
    Follow(String, String),
}

/// Reads the prefetch of a request into a record builder; returns what still needs the server.
fn read_prefetch(
    service: &ServiceDescriptor,
    req: &HookRequest,
    b: &mut RecordBuilder,
) -> Vec<Pending> {
    let mut pending = Vec::new();
    for key in service.prefetch.keys() {
        match req.prefetch.as_ref().and_then(|p| p.get(key)) {
            None => pending.push(Pending::Fetch(key.clone())),
            Some(Value::Null) => {}
            Some(v) if is_operation_outcome(v) => {
                b.add(v);
                pending.push(Pending::Fetch(key.clone()));
            }
            Some(v) => {
                b.add(v);
                if let Some(next) = next_link(v) {
                    pending.push(Pending::Follow(key.clone(), next.to_owned()));
                }
            }
        }
    }
    pending
}

/// Builds the record for a request. `online`: fetch what is missing (else 412); offline:
/// evaluate on what is there and return warnings.
pub async fn build_record(
    service: &ServiceDescriptor,
    req: &HookRequest,
    fhir: Option<&FhirClient>,
    limits: FetchLimits,
    tz: FixedOffset,
) -> Result<(crate::record::PatientRecord, usize, Vec<String>), Precondition> {
    build_record_for(service, req, fhir, None, limits, tz).await
}

/// As [`build_record`], for an authenticated client: `fhirServer` must then also be under one
/// of `client_servers` (the client's `fhir_servers`; an empty list allows none).
pub async fn build_record_for(
    service: &ServiceDescriptor,
    req: &HookRequest,
    fhir: Option<&FhirClient>,
    client_servers: Option<&[Url]>,
    limits: FetchLimits,
    tz: FixedOffset,
) -> Result<(crate::record::PatientRecord, usize, Vec<String>), Precondition> {
    let patient_id = req.context.patient_id().unwrap_or_default();
    let mut b = RecordBuilder::new(patient_id, tz);
    if let Some(orders) = req.context.draft_orders() {
        b.add_draft_orders(orders);
    }
    let pending = read_prefetch(service, req, &mut b);
    if pending.is_empty() {
        return Ok((b.finish(), 0, Vec::new()));
    }
    let keys: Vec<&str> = pending
        .iter()
        .map(|p| match p {
            Pending::Fetch(k) | Pending::Follow(k, _) => k.as_str(),
        })
        .collect();
    let Some(fhir) = fhir else {
        let warnings = vec![format!(
            "prefetch incomplete, evaluated without: {}",
            keys.join(", ")
        )];
        return Ok((b.finish(), 0, warnings));
    };
    let Some(server) = req.fhir_server.as_deref() else {
        return Err(Precondition(format!(
            "prefetch keys {} are missing or incomplete and the request has no fhirServer",
            keys.join(", ")
        )));
    };
    let base = fhir
        .check_server(server)
        .and_then(|base| match client_servers {
            Some(list) if !list.iter().any(|a| crate::fhir::is_under(a, &base)) => {
                Err(FhirError::NotAllowed)
            }
            _ => Ok(base),
        })
        .map_err(|e| {
            tracing::warn!(
                host = Url::parse(server)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned)),
                "fhirServer refused: not on the allowlist"
            );
            Precondition(format!(
                "{e}: prefetch keys {} cannot be fetched",
                keys.join(", ")
            ))
        })?;
    let token = req
        .fhir_authorization
        .as_ref()
        .map(|a| SecretString::from(a.access_token.clone()));
    let user = UserIds::from_context(&req.context);
    let jobs = pending.iter().map(|p| {
        let (key, first) = match p {
            Pending::Fetch(k) => {
                let template = &service.prefetch[k];
                let url = prefetch::render(template, &req.context, &user)
                    .map_err(|_| FhirError::Template)
                    .and_then(|rel| FhirClient::query_url(&base, &rel));
                (k.as_str(), url)
            }
            Pending::Follow(k, next) => (
                k.as_str(),
                Url::parse(next).map_err(|_| FhirError::ForeignLink),
            ),
        };
        let (base, token) = (&base, token.as_ref());
        async move {
            let mut pages = Vec::new();
            let mut url = first?;
            let mut requests = 0;
            loop {
                let page = fhir.get(base, &url, token).await?;
                requests += 1;
                let next = next_link(&page).map(str::to_owned);
                pages.push(page);
                match next {
                    Some(n) if requests < limits.max_pages => {
                        url = Url::parse(&n).map_err(|_| FhirError::ForeignLink)?;
                    }
                    Some(_) => {
                        tracing::warn!(
                            prefetch.key = key,
                            pages = requests,
                            "page cap reached; later pages not read"
                        );
                        break;
                    }
                    None => break,
                }
            }
            Ok::<_, FhirError>((pages, requests))
        }
    });
    let results = tokio::time::timeout(limits.deadline, join_all(jobs))
        .await
        .map_err(|_| {
            Precondition(format!(
                "the FHIR server did not answer within {} ms",
                limits.deadline.as_millis()
            ))
        })?;
    let mut fetches = 0;
    for (key, result) in keys.iter().zip(results) {
        match result {
            Ok((pages, n)) => {
                fetches += n;
                for page in &pages {
                    if is_operation_outcome(page) {
                        return Err(Precondition(format!(
                            "prefetch key {key}: the FHIR server answered an OperationOutcome"
                        )));
                    }
                    b.add(page);
                }
            }
            Err(e) => {
                tracing::info!(prefetch.key = key, error = %e, "FHIR fetch failed");
                return Err(Precondition(format!("prefetch key {key}: {e}")));
            }
        }
    }
    Ok((b.finish(), fetches, Vec::new()))
}

/// Answers a hook call.
pub async fn answer(
    pack: &CompiledPack,
    service: &ServiceDescriptor,
    req: &HookRequest,
    fhir: Option<&FhirClient>,
    limits: FetchLimits,
    tz: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Answer, Precondition> {
    answer_for(pack, service, req, fhir, None, limits, tz, now).await
}

/// As [`answer`], for an authenticated client whose `fhir_servers` bound `fhirServer` (see
/// [`build_record_for`]).
#[expect(
    clippy::too_many_arguments,
    reason = "answer's arguments plus the client's servers"
)]
pub async fn answer_for(
    pack: &CompiledPack,
    service: &ServiceDescriptor,
    req: &HookRequest,
    fhir: Option<&FhirClient>,
    client_servers: Option<&[Url]>,
    limits: FetchLimits,
    tz: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Answer, Precondition> {
    let (record, fetches, warnings) =
        build_record_for(service, req, fhir, client_servers, limits, tz).await?;
    let findings = pack.evaluate(&EvalInput {
        record: &record,
        hook: &req.hook,
        now,
        tz,
    });
    let cards = cards::to_cards(findings, &mut || uuid::Uuid::new_v4().to_string());
    tracing::debug!(
        kept = record.stats.kept,
        skipped = record.stats.skipped_invalid,
        other_patient = record.stats.other_patient,
        "record built"
    );
    Ok(Answer {
        cards,
        stats: record.stats,
        fetches,
        warnings,
    })
}
