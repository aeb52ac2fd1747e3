//! `population run` and `population findings`: a population run over local NDJSON files into
//! the configured store, and the worklist it leaves. Joins the runner (`crate::population`,
//! which knows no store) to the store: findings are staged in batches as patients are
//! evaluated, and the run's end merges them (`Store::finish_population_run`).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::engine::CompiledPack;
use crate::population::{self, Counts, PatientFindings, Progress, RunInput, Stage};
use crate::storage::{
    self, CardIndicator, NewPopulationFinding, NewPopulationRun, PopulationCounts,
    PopulationFinding, PopulationFindingFilter, PopulationRunEnd, RunStatus, Store,
};

/// Findings staged in one store transaction.
const BATCH: usize = 500;

async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&settings.storage.data_dir).with_context(|| {
        format!(
            "creating data directory {}",
            settings.storage.data_dir.display()
        )
    })?;
    storage::connect_with_timeout(
        &settings.database_url(),
        settings.storage.max_connections,
        Duration::from_millis(settings.storage.timeout_ms.max(1)),
    )
    .await
    .context("connecting the store")
}

/// `population run --ndjson DIR [--now T]`: exit 0 when the run succeeded.
pub async fn run(dir: &Path, now: Option<DateTime<Utc>>) -> anyhow::Result<ExitCode> {
    let settings = Settings::load().context("loading settings")?;
    let store = open_store(&settings).await?;
    let (pack, version) = crate::startup::active_pack(store.as_ref(), &settings.rules.dir).await?;
    let tz = settings.time_zone().map_err(anyhow::Error::msg)?;
    let now = now.unwrap_or_else(Utc::now);
    let new = NewPopulationRun {
        pack_version: version,
        run_at: now,
        started_at: Utc::now(),
    };
    let run_id = store.start_population_run(&new).await?;
    eprintln!("population run {run_id}: pack v{version}, now {now}");
    let job = Job {
        pack: Arc::new(pack),
        tz,
        now,
        spool_dir: settings.storage.data_dir.clone(),
        store: store.clone(),
        run_id,
    };
    let result = job.execute(dir).await;
    let end = match &result {
        Ok(counts) => PopulationRunEnd::Succeeded(store_counts(counts)),
        Err(e) => PopulationRunEnd::Failed {
            message: format!("{e:#}"),
            counts: None,
        },
    };
    let retention = settings.population.retention_days;
    let run = store
        .finish_population_run(run_id, &end, Utc::now(), retention)
        .await
        .context("recording the end of the run")?;
    match (&result, run.status) {
        (Ok(counts), RunStatus::Succeeded) => {
            println!("run {run_id} succeeded: {}", counts_text(counts));
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            let message = run.message.unwrap_or_default();
            println!("run {run_id} failed: {message}; the worklist is unchanged");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn counts_text(c: &Counts) -> String {
    let s = &c.skipped;
    format!(
        "{} files, {} lines, {} resources read, {} skipped (not JSON {}, not a resource {}, \
         type not read {}, no patient {}, invalid {}, too long {}), {} patients, \
         cohort {}, {} findings",
        c.files,
        c.lines,
        c.resources_read,
        s.total(),
        s.not_json,
        s.not_a_resource,
        s.unread_type,
        s.no_patient,
        s.invalid,
        s.too_long,
        c.patients_read,
        c.cohort_size,
        c.findings
    )
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
fn store_findings(p: PatientFindings) -> impl Iterator<Item = NewPopulationFinding> {
    p.findings.into_iter().map(move |f| NewPopulationFinding {
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

/// A run in progress.
struct Job {
    pack: Arc<CompiledPack>,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    spool_dir: std::path::PathBuf,
    store: Arc<dyn Store>,
    run_id: i64,
}

impl Job {
    /// Runs the runner on a blocking thread; its findings come back in batches over a
    /// bounded channel and are staged here, so the runner waits when the store is slow.
    async fn execute(self, dir: &Path) -> anyhow::Result<Counts> {
        let files = population::ndjson_files(dir)?;
        let progress = Arc::new(Progress::default());
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
                    batch.extend(store_findings(p));
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
        let bar = show_progress(progress.clone());
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
        bar.abort();
        staged.context("storing findings")?;
        counts
    }
}

/// A progress bar on standard error (hidden when it is not a terminal), updated from the
/// run's counters until the task is aborted.
fn show_progress(progress: Arc<Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        loop {
            let p = progress.snapshot();
            match p.stage {
                Stage::Starting => {}
                Stage::Spooling => {
                    bar.set_message("reading MiB");
                    bar.set_length(p.bytes_total >> 20);
                    bar.set_position(p.bytes_read >> 20);
                }
                Stage::Evaluating => {
                    bar.set_message(format!("{} patients", p.patients_evaluated));
                    bar.set_length(p.buckets_total);
                    bar.set_position(p.buckets_done);
                }
                Stage::Done => {
                    bar.finish_and_clear();
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// `population findings [--rule R] [--patient P] [--all] [--csv]`: the worklist, oldest
/// finding first.
pub async fn findings(
    rule: Option<String>,
    patient: Option<String>,
    include_closed: bool,
    csv: bool,
) -> anyhow::Result<ExitCode> {
    let settings = Settings::load().context("loading settings")?;
    let store = open_store(&settings).await?;
    let mut filter = PopulationFindingFilter {
        rule_id: rule,
        patient,
        include_closed,
        limit: Some(storage::MAX_LIST_LIMIT),
        ..Default::default()
    };
    let stdout = std::io::stdout();
    // A table for people is tab-separated; `--csv` is for spreadsheets.
    let mut out = csv::WriterBuilder::new()
        .delimiter(if csv { b',' } else { b'\t' })
        .from_writer(stdout.lock());
    out.write_record(COLUMNS)?;
    loop {
        let page = store.list_population_findings(&filter).await?;
        let Some(last) = page.last() else { break };
        filter.after_id = Some(last.id);
        for f in &page {
            out.write_record(
                row(f)
                    .iter()
                    .map(|v| if csv { defuse(v) } else { v.clone() }),
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

const COLUMNS: [&str; 11] = [
    "patient",
    "name",
    "rule",
    "indicator",
    "summary",
    "first_seen_run",
    "first_seen_at",
    "last_seen_run",
    "closed_by_run",
    "closed_at",
    "id",
];

fn row(f: &PopulationFinding) -> [String; 11] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    [
        f.patient.clone(),
        opt(f.display_name.clone()),
        f.rule_id.clone(),
        f.indicator.as_str().to_owned(),
        f.summary.clone(),
        f.first_seen_run.to_string(),
        f.first_seen_at.to_rfc3339(),
        f.last_seen_run.to_string(),
        opt(f.closed_by_run.map(|r| r.to_string())),
        opt(f.closed_at.map(|t| t.to_rfc3339())),
        f.id.to_string(),
    ]
}

/// A cell a spreadsheet would run as a formula (a name in an export is untrusted) gets a
/// leading apostrophe, which spreadsheets show as text.
fn defuse(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn a_cell_that_looks_like_a_formula_is_kept_as_text() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("Toni Fixture"), "Toni Fixture");
    }
}
