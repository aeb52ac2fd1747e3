//! Answering one hook call: resolve the prefetch, fetch what is missing from `fhirServer`
//! (all keys in parallel, under one deadline, following `next` links up to a page cap), build
//! the patient record, evaluate the pack, and turn findings into cards.
//!
//! Used by the HTTP handler and by `cart-sentinel eval` (offline: nothing is fetched, missing
//! data only produces warnings). Must not import `actix_web` or sqlx.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fhir_r4::page::{is_operation_outcome, next_link, Pages};
use futures::future::try_join_all;
use secrecy::SecretString;
use sonic_rs::{JsonValueTrait, Value};
use url::Url;

use crate::cds::discovery::ServiceDescriptor;
use crate::cds::prefetch::{self, UserIds};
use crate::cds::request::HookRequest;
use crate::cds::response::Card;
use crate::engine::{cards, CompiledPack, EvalInput};
use crate::fhir::{FhirClient, FhirError};
use crate::record::{RecordBuilder, RecordStats};

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
#[error("{message}")]
pub struct Precondition {
    /// What could not be obtained, and why.
    pub message: String,
    /// The prefetch keys that were missing or incomplete in the request.
    pub missing: Vec<String>,
}

impl Precondition {
    fn new(message: String) -> Precondition {
        Precondition {
            message,
            missing: Vec::new(),
        }
    }
}

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
    /// Resources a FHIRPath of the pack failed on (skipped for that read).
    pub fhirpath_failures: usize,
    /// Prefetch keys the request lacked or sent incomplete (fetched from `fhirServer` online,
    /// evaluated without offline).
    pub missing: Vec<String>,
    /// How long fetching them took, when anything was fetched.
    pub fetch_time: Option<std::time::Duration>,
}

enum Pending {
    Fetch(String),
    Follow(String, String),
}

/// Moves the prefetch of a request into a record builder; returns what still needs the
/// server.
fn read_prefetch(
    service: &ServiceDescriptor,
    mut prefetch: Option<Pages>,
    b: &mut RecordBuilder,
) -> Vec<Pending> {
    let mut pending = Vec::new();
    for key in service.prefetch.keys() {
        match prefetch.as_mut().and_then(|p| p.remove(key)) {
            None => pending.push(Pending::Fetch(key.clone())),
            Some(page) if page.is_null() => {}
            Some(page) if is_operation_outcome(&page) => {
                b.add(page);
                pending.push(Pending::Fetch(key.clone()));
            }
            Some(page) => {
                if let Some(next) = next_link(&page) {
                    pending.push(Pending::Follow(key.clone(), next.to_owned()));
                }
                b.add(page);
            }
        }
    }
    pending
}

/// Where data missing from the prefetch comes from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Nowhere: evaluate what the request carries; missing keys become warnings (`eval`, dry
    /// runs, benches).
    Offline,
    /// The request's `fhirServer`, through `client`, within `limits`. With client
    /// authentication, `client_servers` (the client's `fhir_servers`; an empty list allows none)
    /// must also contain it.
    Online {
        /// The shared FHIR client (global allowlist, size limit).
        client: &'a FhirClient,
        /// The calling client's allowed servers, when clients authenticate.
        client_servers: Option<&'a [Url]>,
        /// Deadline and page cap.
        limits: FetchLimits,
    },
}

/// A request's patient record and how it was obtained.
pub struct Built {
    /// The record.
    pub record: crate::record::PatientRecord,
    /// FHIR requests made.
    pub fetches: usize,
    /// Warnings (offline only): the keys evaluated without.
    pub warnings: Vec<String>,
    /// Prefetch keys the request lacked or sent incomplete (fetched from `fhirServer` online,
    /// evaluated without offline).
    pub missing: Vec<String>,
    /// How long fetching them took.
    pub fetch_time: Option<std::time::Duration>,
}

/// Builds the record for a request: the prefetch (taken out of the request), then what
/// `source` provides for the rest.
pub async fn build_record(
    service: &ServiceDescriptor,
    req: &mut HookRequest,
    source: Source<'_>,
) -> Result<Built, Precondition> {
    let mut b = RecordBuilder::new(req.context.patient_id().unwrap_or_default());
    if let Some(orders) = req.context.draft_orders() {
        b.add_draft_orders(orders);
    }
    let pending = read_prefetch(service, req.prefetch.take(), &mut b);
    let keys: Vec<&str> = pending
        .iter()
        .map(|p| match p {
            Pending::Fetch(k) | Pending::Follow(k, _) => k.as_str(),
        })
        .collect();
    let missing = || keys.iter().map(|k| (*k).to_owned()).collect();
    let built = |b: RecordBuilder, fetches, warnings, fetch_time| Built {
        record: b.finish(),
        fetches,
        warnings,
        missing: missing(),
        fetch_time,
    };
    if pending.is_empty() {
        return Ok(built(b, 0, Vec::new(), None));
    }
    let Source::Online {
        client,
        client_servers,
        limits,
    } = source
    else {
        let warning = format!(
            "prefetch incomplete, evaluated without: {}",
            keys.join(", ")
        );
        return Ok(built(b, 0, vec![warning], None));
    };
    let started = std::time::Instant::now();
    let online = (client, client_servers, limits);
    let fetched = fetch_into(service, req, online, (&pending, &keys), &mut b)
        .await
        .map_err(|mut e| {
            e.missing = missing();
            e
        })?;
    Ok(built(b, fetched, Vec::new(), Some(started.elapsed())))
}

/// Fetches the `pending` keys (named `keys`, in the same order) into `b`; the number of FHIR
/// requests made.
async fn fetch_into(
    service: &ServiceDescriptor,
    req: &HookRequest,
    (client, client_servers, limits): (&FhirClient, Option<&[Url]>, FetchLimits),
    (pending, keys): (&[Pending], &[&str]),
    b: &mut RecordBuilder,
) -> Result<usize, Precondition> {
    let base = allowed_base(req, client, client_servers, keys)?;
    let results = fetch_all(service, req, client, &base, pending, limits)
        .await
        .map_err(|(key, e)| {
            tracing::info!(prefetch.key = key, error = %e, "FHIR fetch failed");
            Precondition::new(format!("prefetch key {key}: {e}"))
        })?;
    let mut fetches = 0;
    for (key, pages) in keys.iter().zip(results) {
        fetches += pages.len();
        for page in pages {
            if is_operation_outcome(&page) {
                return Err(Precondition::new(format!(
                    "prefetch key {key}: the FHIR server answered an OperationOutcome"
                )));
            }
            b.add(page);
        }
    }
    Ok(fetches)
}

/// The request's `fhirServer` as a base URL, when it may receive the access token.
fn allowed_base(
    req: &HookRequest,
    client: &FhirClient,
    client_servers: Option<&[Url]>,
    keys: &[&str],
) -> Result<Url, Precondition> {
    let Some(server) = req.fhir_server.as_deref() else {
        return Err(Precondition::new(format!(
            "prefetch keys {} are missing or incomplete and the request has no fhirServer",
            keys.join(", ")
        )));
    };
    client
        .check_server(server)
        .and_then(|base| match client_servers {
            Some(list) if !list.iter().any(|a| crate::fhir::is_under(a, &base)) => {
                Err(FhirError::NotAllowed)
            }
            _ => Ok(base),
        })
        .map_err(|e| {
            let host = Url::parse(server)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            tracing::warn!(host, "fhirServer refused: not on the allowlist");
            Precondition::new(format!(
                "{e}: prefetch keys {} cannot be fetched",
                keys.join(", ")
            ))
        })
}

/// Fetches every pending key in parallel under one deadline; the pages of each key, in order.
/// The first key that fails ends the call at once (its other requests are dropped, so nothing
/// waits on a server that has already failed it) and is named with its cause.
async fn fetch_all<'k>(
    service: &ServiceDescriptor,
    req: &HookRequest,
    client: &FhirClient,
    base: &Url,
    pending: &'k [Pending],
    limits: FetchLimits,
) -> Result<Vec<Vec<Value>>, (&'k str, FhirError)> {
    let token = req
        .fhir_authorization
        .as_ref()
        .map(|a| SecretString::from(a.access_token.clone()));
    let user = UserIds::from_context(&req.context);
    let deadline = tokio::time::Instant::now() + limits.deadline;
    let token = token.as_ref();
    let jobs = pending.iter().map(|p| {
        let (key, first) = match p {
            Pending::Fetch(k) => {
                let url = prefetch::render(&service.prefetch[k], &req.context, &user)
                    .map_err(|_| FhirError::Template)
                    .and_then(|rel| FhirClient::query_url(base, &rel));
                (k.as_str(), url)
            }
            Pending::Follow(k, next) => (
                k.as_str(),
                Url::parse(next).map_err(|_| FhirError::ForeignLink),
            ),
        };
        let pages = fetch_pages(client, base, key, first, token, limits.max_pages);
        async move {
            match tokio::time::timeout_at(deadline, pages).await {
                Ok(Ok(pages)) => Ok(pages),
                Ok(Err(e)) => Err((key, e)),
                Err(_) => Err((key, FhirError::Deadline(limits.deadline.as_millis()))),
            }
        }
    });
    try_join_all(jobs).await
}

/// One key: the first page, then `next` links up to `max_pages` pages. A `next` link back to a
/// page already read is a loop (the server would repeat the same resources): the key fails.
async fn fetch_pages(
    client: &FhirClient,
    base: &Url,
    key: &str,
    first: Result<Url, FhirError>,
    token: Option<&SecretString>,
    max_pages: usize,
) -> Result<Vec<Value>, FhirError> {
    let mut pages = Vec::new();
    let mut read = vec![first?];
    loop {
        let page = client.get(base, &read[read.len() - 1], token).await?;
        let next = next_link(&page).map(str::to_owned);
        pages.push(page);
        match next {
            Some(n) if pages.len() < max_pages => {
                let url = Url::parse(&n).map_err(|_| FhirError::ForeignLink)?;
                if read.contains(&url) {
                    return Err(client.refuse(FhirError::Loop));
                }
                read.push(url);
            }
            Some(_) => {
                tracing::warn!(
                    prefetch.key = key,
                    pages = pages.len(),
                    "page cap reached; later pages not read"
                );
                break;
            }
            None => break,
        }
    }
    Ok(pages)
}

/// Answers a hook call (its prefetch is taken out of `req`).
pub async fn answer(
    pack: &CompiledPack,
    service: &ServiceDescriptor,
    req: &mut HookRequest,
    source: Source<'_>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Answer, Precondition> {
    // The keys to read or fetch are the descriptor's and those the active pack's rules need.
    let service = &service.with_prefetch(pack.prefetch(&service.hook));
    let Built {
        record,
        fetches,
        warnings,
        missing,
        fetch_time,
    } = build_record(service, req, source).await?;
    let evaluation = pack.evaluate_counting(&EvalInput {
        record: &record,
        hook: &req.hook,
        now,
        tz,
    });
    let cards = cards::to_cards(evaluation.findings, &mut || {
        uuid::Uuid::new_v4().to_string()
    });
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
        fhirpath_failures: evaluation.fhirpath_failures,
        missing,
        fetch_time,
    })
}
