//! The first pass: every line of every file, once, into the bucket file of its patient.
//!
//! A bucket line is `<patient id>\t<resource JSON>\n`: the second pass groups by the id without
//! parsing the JSON again. The number of buckets follows the export's size so that one
//! bucket, which the second pass holds in memory, stays near [`BUCKET_BYTES`].

use std::collections::BTreeSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use fhir_r4::{Checked, DecodeError};
use sonic_rs::{JsonValueTrait, Value};

use super::{io_error, Counts, Progress, RunError, Skipped, MAX_LINE_BYTES};
use crate::record::referenced_patient;

/// The size of a bucket the second pass aims at.
pub(super) const BUCKET_BYTES: u64 = 32 * 1024 * 1024;
/// The most buckets (each is an open file during the first pass).
const MAX_BUCKETS: u64 = 512;

/// One line read by [`next_line`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// The line is in the buffer (without its newline).
    Read,
    /// The line was longer than the limit; nothing of it is kept.
    TooLong,
    /// End of file.
    End,
}

/// Reads one line into `buf`, holding at most `max` bytes of it; `read` counts the bytes
/// consumed.
pub(super) fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    read: &mut u64,
) -> std::io::Result<Line> {
    buf.clear();
    let (mut any, mut too_long) = (false, false);
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Read,
            });
        }
        any = true;
        let newline = memchr::memchr(b'\n', available);
        let chunk = &available[..newline.unwrap_or(available.len())];
        if !too_long && buf.len() + chunk.len() > max {
            too_long = true;
            buf.clear();
        }
        if !too_long {
            buf.extend_from_slice(chunk);
        }
        let used = newline.map_or(available.len(), |i| i + 1);
        reader.consume(used);
        *read += used as u64;
        if newline.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Read });
        }
    }
}

/// The patient a line belongs to, or why it is skipped.
pub(super) fn classify(
    line: &[u8],
    types: &BTreeSet<String>,
    skipped: &mut Skipped,
) -> Option<String> {
    let Ok(value) = sonic_rs::from_slice::<Value>(line) else {
        skipped.not_json += 1;
        return None;
    };
    let Some(resource_type) = value
        .get("resourceType")
        .and_then(|t| t.as_str())
        .filter(|_| value.is_object())
    else {
        skipped.not_a_resource += 1;
        return None;
    };
    if !types.contains(resource_type) {
        skipped.unread_type += 1;
        return None;
    }
    let patient = match fhir_r4::check(&value) {
        Ok(Checked::Patient { id, .. }) => id,
        Ok(Checked::Clinical { subject }) => {
            subject.and_then(|s| referenced_patient(&s).map(str::to_owned))
        }
        Ok(Checked::OperationOutcome) => {
            skipped.unread_type += 1;
            return None;
        }
        Err(DecodeError::NotAResource) => {
            skipped.not_a_resource += 1;
            return None;
        }
        Err(DecodeError::Invalid { .. }) => {
            skipped.invalid += 1;
            return None;
        }
    };
    // The id is the bucket line's key, ended by a tab.
    match patient.filter(|id| !id.is_empty() && !id.contains(['\t', '\n', '\r'])) {
        Some(id) => Some(id),
        None => {
            skipped.no_patient += 1;
            None
        }
    }
}

/// The bucket of a patient: a fixed hash (the same on every run and platform).
pub(super) fn bucket_of(patient: &str, buckets: usize) -> usize {
    let mut h = rustc_hash::FxHasher::default();
    patient.hash(&mut h);
    // The remainder is below `buckets`, a usize.
    usize::try_from(h.finish() % buckets as u64).unwrap_or(0)
}

/// Reads `files` into bucket files of about `bucket_bytes` under `dir`; returns the bucket
/// paths.
pub(super) fn spool(
    files: &[PathBuf],
    types: &BTreeSet<String>,
    (dir, bucket_bytes): (&Path, u64),
    progress: &Progress,
    counts: &mut Counts,
) -> Result<Vec<PathBuf>, RunError> {
    let mut total = 0u64;
    for f in files {
        let meta = std::fs::metadata(f).map_err(io_error(format!("reading {}", f.display())))?;
        total += meta.len();
    }
    progress.start_spool(total);
    let n = total.div_ceil(bucket_bytes.max(1)).clamp(1, MAX_BUCKETS);
    let n = usize::try_from(n).unwrap_or(1);
    let paths: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("{i:04}.tsv"))).collect();
    let mut writers = Vec::with_capacity(n);
    for p in &paths {
        let file = File::create(p).map_err(io_error(format!("writing {}", p.display())))?;
        writers.push(BufWriter::with_capacity(64 * 1024, file));
    }
    let spool_error = || io_error(format!("writing the spool in {}", dir.display()));
    let mut buf = Vec::new();
    for f in files {
        let what = || format!("reading {}", f.display());
        let file = File::open(f).map_err(io_error(what()))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        counts.files += 1;
        loop {
            let mut read = 0;
            let line = next_line(&mut reader, &mut buf, MAX_LINE_BYTES, &mut read)
                .map_err(io_error(what()))?;
            progress.read_bytes(read);
            let trimmed = buf.trim_ascii();
            match line {
                Line::End => break,
                Line::TooLong => {
                    counts.lines += 1;
                    counts.skipped.too_long += 1;
                    continue;
                }
                Line::Read if trimmed.is_empty() => continue,
                Line::Read => counts.lines += 1,
            }
            let Some(patient) = classify(trimmed, types, &mut counts.skipped) else {
                continue;
            };
            let w = &mut writers[bucket_of(&patient, n)];
            w.write_all(patient.as_bytes())
                .and_then(|()| w.write_all(b"\t"))
                .and_then(|()| w.write_all(trimmed))
                .and_then(|()| w.write_all(b"\n"))
                .map_err(spool_error())?;
        }
    }
    for w in writers {
        // The spool is read back by this process only: flushed, never synced to disk.
        w.into_inner()
            .map_err(|e| e.into_error())
            .map_err(spool_error())?;
    }
    Ok(paths)
}
