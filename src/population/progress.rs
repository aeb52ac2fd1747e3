//! Progress of a run, shared between the run (which writes it) and whoever shows it (a
//! progress bar, a status endpoint): atomics only, so reading never waits for the run.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use serde::Serialize;

/// The stage a run is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Not started.
    Starting,
    /// Reading the files into buckets: progress in bytes.
    Spooling,
    /// Evaluating bucket by bucket: progress in buckets.
    Evaluating,
    /// Finished.
    Done,
}

/// The counters of a running run.
#[derive(Debug, Default)]
pub struct Progress {
    stage: AtomicU8,
    bytes_total: AtomicU64,
    bytes_read: AtomicU64,
    buckets_total: AtomicU64,
    buckets_done: AtomicU64,
    patients_evaluated: AtomicU64,
}

/// What [`Progress`] says at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressSnapshot {
    /// The stage.
    pub stage: Stage,
    /// Bytes of the export.
    pub bytes_total: u64,
    /// Bytes read so far.
    pub bytes_read: u64,
    /// Buckets to evaluate.
    pub buckets_total: u64,
    /// Buckets evaluated.
    pub buckets_done: u64,
    /// Patients evaluated so far.
    pub patients_evaluated: u64,
}

impl Progress {
    /// What the run has done so far.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProgressSnapshot {
            stage: match self.stage.load(Ordering::Relaxed) {
                0 => Stage::Starting,
                1 => Stage::Spooling,
                2 => Stage::Evaluating,
                _ => Stage::Done,
            },
            bytes_total: get(&self.bytes_total),
            bytes_read: get(&self.bytes_read),
            buckets_total: get(&self.buckets_total),
            buckets_done: get(&self.buckets_done),
            patients_evaluated: get(&self.patients_evaluated),
        }
    }

    pub(super) fn set_stage(&self, stage: Stage) {
        self.stage.store(stage as u8, Ordering::Relaxed);
    }

    pub(super) fn start_spool(&self, bytes_total: u64) {
        self.bytes_total.store(bytes_total, Ordering::Relaxed);
        self.set_stage(Stage::Spooling);
    }

    pub(super) fn read_bytes(&self, n: u64) {
        self.bytes_read.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn start_evaluation(&self, buckets: u64) {
        self.buckets_total.store(buckets, Ordering::Relaxed);
        self.set_stage(Stage::Evaluating);
    }

    pub(super) fn bucket_done(&self) {
        self.buckets_done.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn patient_done(&self) {
        self.patients_evaluated.fetch_add(1, Ordering::Relaxed);
    }
}
