//! A population run: the active pack over every patient of a FHIR Bulk Data export (NDJSON
//! files, one resource a line, any resource type in any file, in any order).
//!
//! The export may be far larger than memory, so the run makes two passes (`spool`, then
//! `evaluate`): the first reads each line once and writes it to one of N bucket files on disk
//! chosen by a hash of its patient; the second reads one bucket at a time, groups its lines by
//! patient, builds each patient's record with the same [`RecordBuilder`] and checks as a hook
//! call, and evaluates the pack as a `patient-view` hook would at the run's `now`. Memory holds
//! one bucket and one patient's parsed record at a time. Only CAR-T recipients (the pack's
//! cohort) produce findings, which go to a sink as each patient is evaluated.
//!
//! A bad line (not JSON, not a resource, a type no source of the pack reads, no patient, a
//! failed check) is skipped and counted, never fatal. Nothing here touches the network or the
//! store; the caller gives the files, the pack and `now`. Must not import `actix_web`, sqlx or
//! reqwest.
//!
//! [`RecordBuilder`]: crate::record::RecordBuilder

mod evaluate;
mod progress;
mod spool;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::engine::{CompiledPack, Finding};

pub use progress::{Progress, ProgressSnapshot, Stage};

/// The hook whose rules a population run evaluates: the chart-opening hook, whose rules are
/// about the patient and not about an order being placed.
pub const HOOK: &str = "patient-view";

/// Why a line was not read into a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Not JSON (or not UTF-8).
    pub not_json: u64,
    /// JSON, but not an object with a `resourceType`.
    pub not_a_resource: u64,
    /// A resource type that no source of the pack reads (nor a Patient).
    pub unread_type: u64,
    /// A Patient without an id, or another resource without a patient reference.
    pub no_patient: u64,
    /// Failed the record's check of untrusted resources (`fhir_r4::check`).
    pub invalid: u64,
    /// Longer than [`MAX_LINE_BYTES`].
    pub too_long: u64,
}

impl Skipped {
    /// All skipped lines.
    pub fn total(&self) -> u64 {
        self.not_json
            + self.not_a_resource
            + self.unread_type
            + self.no_patient
            + self.invalid
            + self.too_long
    }
}

/// What a run read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// NDJSON files read.
    pub files: u64,
    /// Non-blank lines read.
    pub lines: u64,
    /// Resources kept in a patient's record.
    pub resources_read: u64,
    /// Lines skipped, by reason.
    pub skipped: Skipped,
    /// Distinct patients with at least one resource kept.
    pub patients_read: u64,
    /// Of those, CAR-T recipients (the pack's cohort).
    pub cohort_size: u64,
    /// Findings of the cohort.
    pub findings: u64,
}

/// How long each stage took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Reading the files and writing the buckets.
    pub spool: Duration,
    /// Reading the buckets and grouping lines by patient.
    pub group: Duration,
    /// Parsing and checking resources into records.
    pub record: Duration,
    /// Evaluating the pack.
    pub evaluate: Duration,
}

/// One CAR-T recipient's findings.
#[derive(Debug, Clone)]
pub struct PatientFindings {
    /// `Patient/{id}`.
    pub patient: String,
    /// The Patient resource's name, when it has one: what a worklist shows.
    pub display_name: Option<String>,
    /// The CAR-T product of the most recent course (a product id of the pack's cohort), when
    /// the record names it: the `{{product}}` of the patient's cards.
    pub product: Option<String>,
    /// Day 0 of the most recent course, when the record gives the infusion date.
    pub day0: Option<NaiveDate>,
    /// The findings, as a `patient-view` hook call would give them.
    pub findings: Vec<Finding>,
}

/// What a run needs besides its files.
pub struct RunInput<'a> {
    /// The pack to evaluate.
    pub pack: &'a CompiledPack,
    /// The run's "now".
    pub now: DateTime<Utc>,
    /// The time zone in which calendar dates are compared (`rules.time_zone`).
    pub tz: Tz,
    /// Where the bucket files go (a fresh directory is made in it and removed at the end).
    pub spool_dir: &'a Path,
    /// Progress, read by whoever shows it.
    pub progress: &'a Progress,
}

/// A run that could not finish: an input that cannot be read, the spool, or the sink.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file or directory could not be read or written.
    #[error("{what}")]
    Io {
        /// What was being done (a path of the export or the spool, never a resource).
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The sink refused a patient's findings.
    #[error("storing findings: {0}")]
    Sink(String),
}

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Longest line read, in bytes; a longer one is skipped (as `too_long`) without being held in
/// memory. The same bound as the default `fhir.max_response_bytes`, a whole FHIR response.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The `*.ndjson` files of a directory, sorted by name.
///
/// # Errors
///
/// The directory cannot be read.
pub fn ndjson_files(dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(io_error(format!("reading {}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(io_error(format!("reading {}", dir.display())))?
            .path();
        if path.extension().is_some_and(|e| e == "ndjson") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The resource types the pack reads through its sources, and Patient (whose birth date the
/// record keeps).
pub fn read_types(pack: &CompiledPack) -> BTreeSet<String> {
    let mut types: BTreeSet<String> = pack
        .pack()
        .sources
        .values()
        .flat_map(|s| s.resources.iter().cloned())
        .collect();
    types.insert("Patient".to_owned());
    types
}

/// Runs the pack over `files`; `sink` receives each recipient's findings (only those with
/// at least one) as the run goes. Returns the counts and stage timings.
///
/// # Errors
///
/// A file that cannot be read, a spool that cannot be written, or a sink error; bad lines are
/// never errors.
pub fn run(
    files: &[PathBuf],
    input: &RunInput<'_>,
    sink: &mut dyn FnMut(PatientFindings) -> Result<(), String>,
) -> Result<(Counts, Timings), RunError> {
    run_in_buckets(files, input, spool::BUCKET_BYTES, sink)
}

/// [`run`] with buckets of about `bucket_bytes`.
fn run_in_buckets(
    files: &[PathBuf],
    input: &RunInput<'_>,
    bucket_bytes: u64,
    sink: &mut dyn FnMut(PatientFindings) -> Result<(), String>,
) -> Result<(Counts, Timings), RunError> {
    let mut counts = Counts::default();
    let mut timings = Timings::default();
    let dir = tempfile::Builder::new()
        .prefix("population-")
        .tempdir_in(input.spool_dir)
        .map_err(io_error(format!(
            "making a spool directory in {}",
            input.spool_dir.display()
        )))?;
    let started = Instant::now();
    let buckets = spool::spool(
        files,
        &read_types(input.pack),
        (dir.path(), bucket_bytes),
        input.progress,
        &mut counts,
    )?;
    timings.spool = started.elapsed();
    evaluate::evaluate(&buckets, input, &mut counts, &mut timings, sink)?;
    input.progress.set_stage(Stage::Done);
    dir.close()
        .map_err(io_error("removing the spool directory"))?;
    Ok((counts, timings))
}

#[cfg(test)]
mod tests;
