//! FHIR Bulk Data export client: runs `$export` against a FHIR server and leaves the NDJSON files
//! in a directory, where a population run reads them.
//!
//! The flow follows the Bulk Data Access IG: a kick-off (`Group/{id}/$export` or
//! `Patient/$export`, `Prefer: respond-async`, `_type`, `_since`) answered 202 with a
//! `Content-Location`; polling that URL (`status.rs`: 202 with `Retry-After` and `X-Progress`,
//! 429/503 and transient 5xx retried within bounds, 404/410 an expired job, 200 the manifest);
//! downloading every output and error file (`download.rs`: streamed to disk, retried from the
//! start when cut, size-limited); and a `DELETE` of the status URL so the server can clean up.
//! Authorisation is SMART Backend Services (`smart.rs`): a client assertion signed with the
//! client's private key, exchanged for an access token that is refreshed before it expires.
//!
//! Every URL the client calls (base, status URL, output files) must be under an entry of
//! [`BulkSettings::allowed_servers`], matched as the hook path matches `fhirServer`
//! ([`crate::fhir::FhirClient::check_server`]): a manifest pointing elsewhere is refused before
//! anything is sent there, so the access token never leaves the configured servers. Nothing here
//! logs a URL, a token, an assertion or a file's content. Must not import `actix_web` or sqlx.

mod access;
mod config;
mod download;
mod session;
mod smart;
mod status;
mod wire;
#[cfg(test)]
mod wire_tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use access::FhirAccess;
pub use config::BulkConfig;
pub use smart::{BackendAuth, SigningAlgorithm};
pub use wire::Manifest;

/// How to reach the FHIR server and how patient to be with it. The command line fills this from
/// its configuration; nothing here reads configuration itself.
#[derive(Debug, Clone)]
pub struct BulkSettings {
    /// The FHIR server's base URL (`https://fhir.example.org/r4`).
    pub fhir_base: String,
    /// Base URLs that may be called (and, where needed, receive the access token): the same
    /// entries and matching as `fhir.allowed_servers`. The base, the status URL and every file
    /// URL of the manifest must be under one of them.
    pub allowed_servers: Vec<String>,
    /// SMART Backend Services credentials; `None` for a server that needs no authorisation.
    pub auth: Option<BackendAuth>,
    /// Shortest wait between two status polls, whatever `Retry-After` says.
    pub poll_min: Duration,
    /// Longest wait between two status polls, whatever `Retry-After` says.
    pub poll_max: Duration,
    /// The whole export (kick-off, polling, downloads) ends with an error after this long.
    pub deadline: Duration,
    /// Consecutive failed polls (transport errors, 5xx without `Retry-After`) that end the
    /// export with an error.
    pub max_poll_failures: u32,
    /// Timeout of one request other than a file download (kick-off, poll, token).
    pub request_timeout: Duration,
    /// A file download that receives nothing for this long is broken off (and retried).
    pub read_timeout: Duration,
    /// Largest output or error file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Attempts per file (the first included); each starts the file from the beginning.
    pub download_attempts: u32,
    /// `DELETE` the status URL once the files are downloaded, so the server can free them.
    pub delete_when_done: bool,
}

impl BulkSettings {
    /// Settings for `fhir_base` with the defaults an operator would start from.
    pub fn new(fhir_base: &str, allowed_servers: Vec<String>) -> BulkSettings {
        BulkSettings {
            fhir_base: fhir_base.to_owned(),
            allowed_servers,
            auth: None,
            poll_min: Duration::from_secs(1),
            poll_max: Duration::from_secs(120),
            deadline: Duration::from_secs(6 * 3600),
            max_poll_failures: 5,
            request_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            max_file_bytes: 16 * 1024 * 1024 * 1024,
            download_attempts: 3,
            delete_when_done: true,
        }
    }
}

/// Which patients the export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportLevel {
    /// `[base]/Group/{id}/$export`: the members of one Group (the cohort, when the server has it).
    Group(String),
    /// `[base]/Patient/$export`: every patient.
    Patient,
}

/// A progress report during an export, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The kick-off was accepted; polling starts.
    Accepted,
    /// The server answered a poll with 202; `x_progress` is its `X-Progress` text, if any.
    InProgress {
        polls: u32,
        x_progress: Option<String>,
    },
    /// The manifest arrived and lists this many files (output and error).
    Manifest { files: usize },
    /// One file is on disk.
    Downloaded {
        file: String,
        done: usize,
        of: usize,
    },
}

/// Receives [`Progress`] reports.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// What to export.
#[derive(Clone)]
pub struct ExportRequest {
    pub level: ExportLevel,
    /// Resource types asked for as `_type` (the types the active pack reads); empty: all.
    pub types: Vec<String>,
    /// `_since`, an instant (`2026-01-01T00:00:00Z`): only resources changed after it.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Called with each progress report.
    pub on_progress: Option<ProgressFn>,
}

impl std::fmt::Debug for ExportRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRequest")
            .field("level", &self.level)
            .field("types", &self.types)
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

/// One file written to the target directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The resource type the manifest gives (`OperationOutcome` for error files).
    pub resource_type: String,
    /// Where it is: `<dir>/<Type>-<n>.ndjson`, error files under `<dir>/errors/`.
    pub path: PathBuf,
    pub bytes: u64,
    /// Non-empty lines (one resource each).
    pub lines: u64,
    /// The manifest's `count`, when it gave one.
    pub manifest_count: Option<u64>,
}

/// The result of a finished export.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The manifest's `transactionTime`: the `_since` of the next incremental export.
    pub transaction_time: String,
    /// The output files, in manifest order.
    pub files: Vec<ExportedFile>,
    /// The error files (OperationOutcome NDJSON), in manifest order.
    pub error_files: Vec<ExportedFile>,
    /// OperationOutcome resources in the error files: resources the server could not export.
    pub errors: u64,
    /// Status polls made.
    pub polls: u32,
}

/// Why an export did not finish. `Display` is safe to log and to show an operator: it names the
/// step and what the server said, never a URL, a token or a file's content.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// A setting is unusable (the message names it).
    #[error("bulk export settings: {0}")]
    Settings(String),
    /// The private key file cannot be read or is not a key of the configured algorithm.
    #[error("bulk export private key: {0}")]
    Key(String),
    /// A URL is not under an allowed server; nothing was sent to it.
    #[error("the {0} is not under an allowed FHIR server; nothing was sent to it")]
    NotAllowed(&'static str),
    /// The token endpoint refused the client or could not be used.
    #[error("SMART token request failed: {0}")]
    Token(String),
    /// A request could not be sent or its answer not read.
    #[error("the {what} could not be reached ({kind})")]
    Unreachable {
        what: &'static str,
        kind: &'static str,
    },
    /// The server refused the kick-off.
    #[error("the FHIR server refused the export (HTTP {status}): {diagnostics}")]
    KickOff { status: u16, diagnostics: String },
    /// The server reported that the export job failed.
    #[error("the export failed on the FHIR server (HTTP {status}): {diagnostics}")]
    Failed { status: u16, diagnostics: String },
    /// The status URL answered 404 or 410: the job expired or was deleted.
    #[error("the export job expired or was deleted on the server (HTTP {0}); start a new export")]
    Expired(u16),
    /// The status URL kept failing.
    #[error("the status URL failed {failures} times in a row (last: {last}); giving up")]
    StatusUnavailable { failures: u32, last: String },
    /// The overall deadline passed.
    #[error("the export did not finish within the deadline of {0} s")]
    Deadline(u64),
    /// The manifest or an answer is not what the IG says.
    #[error("the FHIR server's answer is not usable: {0}")]
    Protocol(String),
    /// A file could not be downloaded within its attempts.
    #[error("file {file} could not be downloaded after {attempts} attempt(s): {reason}")]
    Download {
        file: String,
        attempts: u32,
        reason: String,
    },
    /// A file is larger than `max_file_bytes`.
    #[error("file {file} is larger than the limit of {limit} bytes")]
    TooLarge { file: String, limit: u64 },
    /// The target directory cannot be used or written.
    #[error("target directory: {0}")]
    Disk(String),
}

/// Runs one export and writes its files into `dir` (created when missing; it must be empty, so
/// that a reader never mixes two exports). Each file appears under its final name only once it
/// is complete. Returns what was written; on an error, files already complete stay in `dir`.
pub async fn export_to_dir(
    settings: &BulkSettings,
    request: &ExportRequest,
    dir: &Path,
) -> Result<ExportSummary, BulkError> {
    download::prepare_dir(dir).await?;
    let session = session::Session::new(settings, request.on_progress.clone())?;
    let status_url = status::kick_off(&session, request).await?;
    session.report(&Progress::Accepted);
    let (manifest, polls) = status::poll(&session, &status_url).await?;
    let result = download::all(&session, &manifest, dir).await;
    if settings.delete_when_done && result.is_ok() {
        status::delete(&session, &status_url).await;
    }
    let (files, error_files) = result?;
    let errors = error_files.iter().map(|f| f.lines).sum();
    tracing::info!(
        files = files.len(),
        error_files = error_files.len(),
        errors,
        polls,
        "bulk export downloaded"
    );
    Ok(ExportSummary {
        transaction_time: manifest.transaction_time,
        files,
        error_files,
        errors,
        polls,
    })
}
