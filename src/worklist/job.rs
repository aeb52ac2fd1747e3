//! One population run from start to end: recorded as running, the runner on a blocking
//! thread, its findings staged in batches over a bounded channel as patients are evaluated,
//! and the run's end recorded (`Store::finish_population_run` merges the findings).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use tokio::sync::mpsc;

use super::BulkSource;
use crate::engine::rule::Prevention as RulePrevention;
use crate::engine::CompiledPack;
use crate::population::{self, Counts, PatientFindings, Progress, RunInput};
use crate::storage::{
    CardIndicator, Facets, NewPopulationFinding, NewPopulationRun, PopulationCounts, PopulationRun,
    PopulationRunEnd, Prevention, Store, StoreError,
};

/// Findings staged in one store transaction.
const BATCH: usize = 500;

/// How often a running run writes its sign of life.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

/// A running run silent this long (ten missed signs of life) has lost its process: the next
/// run to start, on any replica, records it as failed. Runs are serialised per process only,
/// so a run whose store writes fail this long is taken for dead too (its end then records
/// nothing; the message says why).
pub const SILENT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A run recorded as running, not executed yet.
pub struct Job {
    pack: Arc<CompiledPack>,
    tz: Tz,
    now: DateTime<Utc>,
    spool_dir: PathBuf,
    store: Arc<dyn Store>,
    /// The run's id.
    pub run_id: i64,
}

/// What a run reads.
#[derive(Debug)]
pub enum RunSource {
    /// The `*.ndjson` files of a directory.
    Directory(PathBuf),
    /// A fresh Bulk Data export, downloaded first into a directory of the run's own (boxed: its
    /// settings are ten times the size of a path).
    Export(Box<BulkSource>),
}

/// How a run ended.
pub struct Ended {
    /// The run as stored at its end.
    pub run: PopulationRun,
    /// What the runner counted, when it read everything.
    pub counts: Option<Counts>,
}

impl Job {
    /// Records a run of `pack` (version `version`) at `now` as running. Bucket files go in a
    /// fresh directory under `spool_dir`.
    ///
    /// # Errors
    ///
    /// The store.
    pub async fn start(
        store: Arc<dyn Store>,
        (pack, version): (Arc<CompiledPack>, i64),
        (now, tz): (DateTime<Utc>, Tz),
        spool_dir: PathBuf,
    ) -> Result<Job, StoreError> {
        let started_at = Utc::now();
        let new = NewPopulationRun {
            pack_version: version,
            run_at: now,
            started_at,
            abandon_silent_since: Some(started_at - SILENT),
        };
        let run_id = store.start_population_run(&new).await?;
        Ok(Job {
            pack,
            tz,
            now,
            spool_dir,
            store,
            run_id,
        })
    }

    /// Runs over what `source` gives, reporting to `progress`, and records the end:
    /// succeeded (the findings become the worklist, then closed findings older than
    /// `retention_days` go) or failed (the worklist is unchanged).
    ///
    /// # Errors
    ///
    /// The end could not be recorded (the run stays `running` in the store).
    pub async fn run_to_end(
        self,
        source: RunSource,
        progress: Arc<Progress>,
        retention_days: Option<u32>,
    ) -> anyhow::Result<Ended> {
        let (store, run_id) = (self.store.clone(), self.run_id);
        let beating = Heartbeat(tokio::spawn(heartbeat(store.clone(), run_id)));
        // An export that fails fails the run like a directory that cannot be read: the
        // worklist stays as it was.
        let result = match source {
            RunSource::Directory(dir) => self.execute(&dir, progress).await,
            RunSource::Export(bulk) => self.export_and_execute(&bulk, progress).await,
        };
        let end = match &result {
            Ok(counts) => PopulationRunEnd::Succeeded(store_counts(counts)),
            Err(e) => PopulationRunEnd::Failed {
                message: format!("{e:#}"),
                counts: None,
            },
        };
        drop(beating);
        let run = store
            .finish_population_run(run_id, &end, Utc::now(), retention_days)
            .await
            .context("recording the end of the run")?;
        Ok(Ended {
            run,
            counts: result.ok(),
        })
    }

    /// Downloads an export of the types the pack reads and runs over it; the downloaded files
    /// are deleted once the run has read them.
    async fn export_and_execute(
        self,
        bulk: &BulkSource,
        progress: Arc<Progress>,
    ) -> anyhow::Result<Counts> {
        let types = population::read_types(&self.pack).into_iter().collect();
        let exported = bulk.export(types, &self.spool_dir).await?;
        self.execute(exported.path(), progress).await
    }

    /// Runs the runner on a blocking thread; its findings come back in batches over a
    /// bounded channel and are staged here, so the runner waits when the store is slow.
    async fn execute(self, dir: &Path, progress: Arc<Progress>) -> anyhow::Result<Counts> {
        let files = population::ndjson_files(dir)?;
        let (tx, mut rx) = mpsc::channel::<Vec<NewPopulationFinding>>(4);
        let runner = {
            let (pack, progress) = (self.pack.clone(), progress.clone());
            let (tz, now, spool_dir) = (self.tz, self.now, self.spool_dir.clone());
            tokio::task::spawn_blocking(move || {
                let input = RunInput {
                    pack: &pack,
                    now,
                    tz,
                    spool_dir: &spool_dir,
                    progress: &progress,
                };
                let mut batch = Vec::new();
                let stopped = || "the store stopped taking findings".to_owned();
                let (counts, _) = population::run(&files, &input, &mut |p| {
                    batch.extend(store_findings(p, &pack));
                    if batch.len() >= BATCH {
                        tx.blocking_send(std::mem::take(&mut batch))
                            .map_err(|_| stopped())?;
                    }
                    Ok(())
                })?;
                tx.blocking_send(batch)
                    .map_err(|_| anyhow::anyhow!(stopped()))?;
                anyhow::Ok(counts)
            })
        };
        let mut staged = Ok(());
        while let Some(batch) = rx.recv().await {
            staged = self
                .store
                .stage_population_findings(self.run_id, &batch)
                .await;
            if staged.is_err() {
                break;
            }
        }
        // A store error closes the channel, which stops the runner at its next batch.
        drop(rx);
        let counts = runner.await.context("the runner stopped")?;
        staged.context("storing findings")?;
        counts
    }
}

/// Stops the heartbeat when the run ends, however it ends.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Writes the run's sign of life every [`HEARTBEAT`]; a failed write is logged and the next
/// one tried (the start wrote the first).
async fn heartbeat(store: Arc<dyn Store>, run_id: i64) {
    let mut every = tokio::time::interval(HEARTBEAT);
    every.tick().await;
    loop {
        every.tick().await;
        if let Err(e) = store.beat_population_run(run_id, Utc::now()).await {
            tracing::warn!(run = run_id, error = %e, "could not record the run's sign of life");
        }
    }
}

fn store_counts(c: &Counts) -> PopulationCounts {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    PopulationCounts {
        patients_read: n(c.patients_read),
        cohort_size: n(c.cohort_size),
        resources_read: n(c.resources_read),
        resources_skipped: n(c.skipped.total()),
        findings: n(c.findings),
        detail: serde_json::to_value(c).unwrap_or_default(),
    }
}

/// One patient's findings as the store keeps them.
fn store_findings(
    p: PatientFindings,
    pack: &CompiledPack,
) -> impl Iterator<Item = NewPopulationFinding> + '_ {
    p.findings.into_iter().map(move |f| NewPopulationFinding {
        facets: Facets {
            product: p.product.clone(),
            prevention: pack
                .pack()
                .rules
                .get(&f.rule_id)
                .map(|r| prevention(r.prevention)),
            due_on: f.due,
            day0: p.day0,
        },
        patient: p.patient.clone(),
        display_name: p.display_name.clone(),
        rule_id: f.rule_id,
        // The engine renders only the three CDS Hooks indicators.
        indicator: f.indicator.parse().unwrap_or(CardIndicator::Info),
        summary: f.summary,
        fired_with: json!({
            "title": f.title,
            "detail": f.detail,
            "source": {"label": f.source_label, "url": f.source_url},
        }),
    })
}

fn prevention(p: RulePrevention) -> Prevention {
    match p {
        RulePrevention::Primary => Prevention::Primary,
        RulePrevention::Secondary => Prevention::Secondary,
        RulePrevention::Tertiary => Prevention::Tertiary,
    }
}
