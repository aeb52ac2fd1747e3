//! The second pass: one bucket at a time, its lines grouped by patient, each patient's record
//! built and evaluated as a `patient-view` hook call would be.

use std::path::PathBuf;
use std::time::Instant;

use rustc_hash::FxHashMap;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::{io_error, Counts, PatientFindings, RunError, RunInput, Timings, HOOK};
use crate::engine::EvalInput;
use crate::record::{PatientRecord, RecordBuilder};

/// Evaluates every patient of every bucket; each bucket file is removed once read.
pub(super) fn evaluate(
    buckets: &[PathBuf],
    input: &RunInput<'_>,
    counts: &mut Counts,
    timings: &mut Timings,
    sink: &mut dyn FnMut(PatientFindings) -> Result<(), String>,
) -> Result<(), RunError> {
    input.progress.start_evaluation(buckets.len() as u64);
    for path in buckets {
        let started = Instant::now();
        let what = || format!("reading the spool file {}", path.display());
        let bytes = std::fs::read(path).map_err(io_error(what()))?;
        std::fs::remove_file(path).map_err(io_error(what()))?;
        let mut by_patient: FxHashMap<&[u8], Vec<&[u8]>> = FxHashMap::default();
        for line in bytes.split(|b| *b == b'\n') {
            if let Some(tab) = memchr::memchr(b'\t', line) {
                by_patient
                    .entry(&line[..tab])
                    .or_default()
                    .push(&line[tab + 1..]);
            }
        }
        let mut patients: Vec<_> = by_patient.into_iter().collect();
        patients.sort_unstable_by_key(|(id, _)| *id);
        timings.group += started.elapsed();
        for (id, lines) in patients {
            // The spool wrote the id from a String.
            let id = String::from_utf8_lossy(id);
            let started = Instant::now();
            let record = build(&id, &lines, counts);
            timings.record += started.elapsed();
            let started = Instant::now();
            let found = evaluate_patient(&record, input, counts);
            timings.evaluate += started.elapsed();
            input.progress.patient_done();
            if let Some(found) = found {
                sink(found).map_err(RunError::Sink)?;
            }
        }
        input.progress.bucket_done();
    }
    Ok(())
}

/// One patient's record from their spooled lines, through the hook path's builder and checks.
fn build(id: &str, lines: &[&[u8]], counts: &mut Counts) -> PatientRecord {
    let mut b = RecordBuilder::new(id);
    for line in lines {
        match sonic_rs::from_slice::<Value>(line) {
            Ok(value) => b.add(value),
            Err(_) => counts.skipped.not_json += 1,
        }
    }
    let record = b.finish();
    // The first pass checked every line and bucketed it by this patient, so these stay zero
    // unless the two passes read a resource differently.
    counts.skipped.invalid += record.stats.skipped_invalid as u64;
    counts.skipped.no_patient += record.stats.other_patient as u64;
    counts.resources_read += record.stats.kept as u64;
    if record.stats.kept > 0 {
        counts.patients_read += 1;
    }
    record
}

/// The patient's findings, when the patient is a CAR-T recipient with at least one.
fn evaluate_patient(
    record: &PatientRecord,
    input: &RunInput<'_>,
    counts: &mut Counts,
) -> Option<PatientFindings> {
    let eval = EvalInput {
        record,
        hook: HOOK,
        now: input.now,
        tz: input.tz,
    };
    let cohort = input.pack.cohort(&eval);
    if !cohort.member {
        return None;
    }
    counts.cohort_size += 1;
    let findings = input.pack.evaluate(&eval);
    if findings.is_empty() {
        return None;
    }
    counts.findings += findings.len() as u64;
    Some(PatientFindings {
        patient: format!("Patient/{}", record.patient_id),
        display_name: display_name(record),
        product: cohort.product,
        day0: cohort.day0,
        findings,
    })
}

/// The Patient's name as a person reads it: the official name (else the first), its `text`,
/// else its given names and family name.
pub(super) fn display_name(record: &PatientRecord) -> Option<String> {
    let patient = record
        .resources
        .iter()
        .find(|r| r.get("resourceType").and_then(|t| t.as_str()) == Some("Patient"))?;
    let names = patient.get("name")?.as_array()?;
    let name = names
        .iter()
        .find(|n| n.get("use").and_then(|u| u.as_str()) == Some("official"))
        .or_else(|| names.iter().next())?;
    if let Some(text) = name
        .get("text")
        .and_then(|t| t.as_str())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(text.to_owned());
    }
    let mut parts: Vec<&str> = name
        .get("given")
        .and_then(|g| g.as_array())
        .into_iter()
        .flat_map(|g| g.iter().filter_map(|v| v.as_str()))
        .collect();
    parts.extend(name.get("family").and_then(|f| f.as_str()));
    let joined = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}
