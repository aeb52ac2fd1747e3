//! The kick-off request and the status polling of the Bulk Data Access IG.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_LOCATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::session::{read_small, Session};
use super::wire::{self, Manifest};
use super::{BulkError, ExportLevel, ExportRequest, Progress};

/// An error body longer than this is cut: only its diagnostics are wanted.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The largest manifest read (tens of thousands of file entries).
const MAX_MANIFEST: usize = 16 * 1024 * 1024;

/// A FHIR `id` (R4 `id` datatype): what may follow `Group/` in the kick-off URL.
fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The kick-off URL: `[base]/Group/{id}/$export` or `[base]/Patient/$export` with `_type` and
/// `_since`.
fn kick_off_url(base: &Url, request: &ExportRequest) -> Result<Url, BulkError> {
    let path = match &request.level {
        ExportLevel::Group(id) if is_fhir_id(id) => format!("Group/{id}/$export"),
        ExportLevel::Group(_) => {
            return Err(BulkError::Settings(
                "the Group id is not a FHIR id (letters, digits, '-', '.', at most 64)".into(),
            ))
        }
        ExportLevel::Patient => "Patient/$export".to_owned(),
    };
    if let Some(bad) = request.types.iter().find(|t| !wire::is_resource_type(t)) {
        return Err(BulkError::Settings(format!(
            "_type: `{bad}` is not a resource type name"
        )));
    }
    let mut url = Url::parse(&format!("{}/{path}", base.as_str().trim_end_matches('/')))
        .map_err(|e| BulkError::Settings(format!("FHIR base URL: {e}")))?;
    {
        let mut query = url.query_pairs_mut();
        if !request.types.is_empty() {
            query.append_pair("_type", &request.types.join(","));
        }
        if let Some(since) = request.since {
            query.append_pair(
                "_since",
                &since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url)
}

/// Sends the kick-off; returns the status URL the server gave in `Content-Location`.
pub(super) async fn kick_off(
    session: &Session<'_>,
    request: &ExportRequest,
) -> Result<Url, BulkError> {
    let url = kick_off_url(&session.base, request)?;
    let what = "export kick-off";
    let resp = session
        .send(
            Method::GET,
            &url,
            &[
                ("Accept", "application/fhir+json"),
                ("Prefer", "respond-async"),
            ],
            true,
            Some(session.settings.request_timeout),
            what,
        )
        .await?;
    let status = resp.status();
    if status != StatusCode::ACCEPTED {
        let body = read_small(resp, MAX_ERROR_BODY, what).await?;
        return Err(BulkError::KickOff {
            status: status.as_u16(),
            diagnostics: wire::diagnostics(&body),
        });
    }
    let location = resp
        .headers()
        .get(CONTENT_LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            BulkError::Protocol("the kick-off was accepted without a Content-Location".into())
        })?;
    let status_url = url
        .join(location)
        .map_err(|_| BulkError::Protocol("the Content-Location is not a URL".into()))?;
    tracing::info!("bulk export: kick-off accepted");
    Ok(status_url)
}

/// The server's `Retry-After`, if it sent a readable one.
fn server_wait(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(RETRY_AFTER)?.to_str().ok()?;
    wire::retry_after(value, SystemTime::now())
}

/// Sleeps `wait` bounded by the settings and by the deadline.
async fn pause(session: &Session<'_>, wait: Duration) {
    let s = session.settings;
    let wait = wait.clamp(s.poll_min, s.poll_max.max(s.poll_min));
    tokio::time::sleep(wait.min(session.remaining())).await;
}

/// Polls the status URL until the manifest arrives; returns it and the number of polls.
pub(super) async fn poll(
    session: &Session<'_>,
    status_url: &Url,
) -> Result<(Manifest, u32), BulkError> {
    let what = "status URL";
    let settings = session.settings;
    // Without a Retry-After the wait doubles from poll_min (the IG asks for exponential backoff).
    let mut backoff = settings.poll_min;
    let mut failures = 0u32;
    let mut polls = 0u32;
    loop {
        if session.remaining().is_zero() {
            tracing::warn!(polls, "bulk export: deadline passed while polling");
            delete(session, status_url).await;
            return Err(BulkError::Deadline(settings.deadline.as_secs()));
        }
        polls += 1;
        let sent = session
            .send(
                Method::GET,
                status_url,
                &[("Accept", "application/json")],
                true,
                // A poll never outlives the deadline by more than the least wait.
                Some(
                    settings
                        .request_timeout
                        .min(session.remaining())
                        .max(settings.poll_min),
                ),
                what,
            )
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(BulkError::Unreachable { kind, .. }) => {
                failures += 1;
                if failures >= settings.max_poll_failures {
                    return Err(BulkError::StatusUnavailable {
                        failures,
                        last: kind.to_owned(),
                    });
                }
                pause(session, backoff).await;
                backoff = (backoff * 2).min(settings.poll_max);
                continue;
            }
            Err(e) => return Err(e),
        };
        let status = resp.status();
        let wait = server_wait(&resp);
        match status.as_u16() {
            200 => {
                let body = read_small(resp, MAX_MANIFEST, what).await?;
                let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| {
                    BulkError::Protocol(format!("the completion manifest is not valid: {e}"))
                })?;
                tracing::info!(
                    polls,
                    output = manifest.output.len(),
                    error = manifest.error.len(),
                    "bulk export: manifest received"
                );
                return Ok((manifest, polls));
            }
            202 => {
                failures = 0;
                let x_progress = resp
                    .headers()
                    .get("X-Progress")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.chars().take(100).collect());
                session.report(&Progress::InProgress { polls, x_progress });
                pause(session, wait.unwrap_or(backoff)).await;
                if wait.is_none() {
                    backoff = (backoff * 2).min(settings.poll_max);
                }
            }
            404 | 410 => return Err(BulkError::Expired(status.as_u16())),
            // Polled too often, or the server asks for time: wait as told, the deadline bounds it.
            429 => pause(session, wait.unwrap_or(backoff)).await,
            503 if wait.is_some() => pause(session, wait.unwrap_or(backoff)).await,
            500..=599 => {
                let body = read_small(resp, MAX_ERROR_BODY, what).await?;
                match wire::read_outcome(&body) {
                    Some(o) if !o.transient => {
                        return Err(BulkError::Failed {
                            status: status.as_u16(),
                            diagnostics: o.text,
                        })
                    }
                    _ => {}
                }
                failures += 1;
                tracing::warn!(
                    status = status.as_u16(),
                    failures,
                    "bulk export: status URL failed"
                );
                if failures >= settings.max_poll_failures {
                    return Err(BulkError::StatusUnavailable {
                        failures,
                        last: format!("HTTP {}", status.as_u16()),
                    });
                }
                pause(session, wait.unwrap_or(backoff)).await;
                backoff = (backoff * 2).min(settings.poll_max);
            }
            _ => {
                let body = read_small(resp, MAX_ERROR_BODY, what).await?;
                return Err(BulkError::Failed {
                    status: status.as_u16(),
                    diagnostics: wire::diagnostics(&body),
                });
            }
        }
    }
}

/// Asks the server to delete the job and its files; a failure is only logged (the server
/// removes them when they expire anyway).
pub(super) async fn delete(session: &Session<'_>, status_url: &Url) {
    let timeout = session
        .settings
        .request_timeout
        .min(Duration::from_secs(10));
    let what = "status URL";
    let sent = session
        .send(
            Method::DELETE,
            status_url,
            &[("Accept", "application/fhir+json")],
            true,
            Some(timeout),
            what,
        )
        .await;
    match sent {
        Ok(resp) => tracing::debug!(
            status = resp.status().as_u16(),
            "bulk export: job deleted on the server"
        ),
        Err(e) => tracing::warn!(error = %e, "bulk export: the job could not be deleted"),
    }
}
