//! `population run` and `population findings`: a population run over local NDJSON files into
//! the configured store (through `crate::worklist::Job`, as the admin API does), with a
//! progress bar, and the worklist it leaves.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Settings;
use crate::population::{Counts, Progress, Stage};
use crate::storage::{self, PopulationFindingFilter, Prevention, RunStatus, Store};
use crate::worklist::{self, BulkSource, Job, RunSource, Sheet};

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

/// What a run reads.
#[derive(Debug)]
pub enum Input {
    /// The `*.ndjson` files of a directory.
    Ndjson(std::path::PathBuf),
    /// A full Bulk Data export from the `[bulk]` server, downloaded first. Never `_since`: a
    /// run evaluates each patient on what the export holds and closes the findings of every
    /// patient it does not see, so a partial export would give wrong answers.
    Bulk,
}

/// `population run (--ndjson DIR | --bulk) [--now T]`: exit 0 when the run succeeded.
pub async fn run(input: Input, now: Option<DateTime<Utc>>) -> anyhow::Result<ExitCode> {
    let settings = Settings::load().context("loading settings")?;
    let store = open_store(&settings).await?;
    let (pack, version) = crate::startup::active_pack(store.as_ref(), &settings.rules.dir).await?;
    let tz = settings.time_zone().map_err(anyhow::Error::msg)?;
    let now = now.unwrap_or_else(Utc::now);
    // A `[bulk]` section that cannot be used is a configuration error, refused before a run
    // is recorded.
    let source = match input {
        Input::Ndjson(dir) => RunSource::Directory(dir),
        Input::Bulk => RunSource::Export(Box::new(bulk_source(&settings)?)),
    };
    let job = Job::start(
        store,
        (Arc::new(pack), version),
        (now, tz),
        settings.storage.data_dir.clone(),
    )
    .await?;
    let run_id = job.run_id;
    eprintln!("population run {run_id}: pack v{version}, now {now}");
    let progress = Arc::new(Progress::default());
    let bar = show_progress(progress.clone());
    let ended = job
        .run_to_end(source, progress, settings.population.retention_days)
        .await;
    bar.abort();
    let ended = ended?;
    match (&ended.counts, ended.run.status) {
        (Some(counts), RunStatus::Succeeded) => {
            println!("run {run_id} succeeded: {}", counts_text(counts));
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            let message = ended.run.message.unwrap_or_default();
            println!("run {run_id} failed: {message}; the worklist is unchanged");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The `[bulk]` server, its export progress printed.
fn bulk_source(settings: &Settings) -> anyhow::Result<BulkSource> {
    let config = settings
        .bulk
        .as_ref()
        .context("--bulk needs a [bulk] section in the configuration (bulk.fhir_base, …)")?;
    let source = BulkSource::from_config(config, settings.allowed_fhir_servers())
        .map_err(anyhow::Error::msg)?;
    Ok(source.reporting(Arc::new(|line| eprintln!("{line}"))))
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

/// The filters of `population findings`.
#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    /// Only this rule's findings.
    #[arg(long)]
    rule: Option<String>,
    /// Only this patient's findings (`Patient/{id}`).
    #[arg(long)]
    patient: Option<String>,
    /// Only findings of patients who received this product (a product id of cohort.yaml).
    #[arg(long)]
    product: Option<String>,
    /// Only findings of rules of this level of prevention.
    #[arg(long, value_parser = prevention)]
    prevention: Option<Prevention>,
    /// Only findings due more than N days before the latest run's now (findings of rules
    /// without a `due:` setting have no due date and never match).
    #[arg(long)]
    overdue_days: Option<u32>,
    /// Closed findings too.
    #[arg(long)]
    all: bool,
    /// Findings snoozed on the worklist too (hidden until their snooze ends otherwise, as in
    /// the API).
    #[arg(long)]
    include_snoozed: bool,
    /// The instant snoozes are compared with (RFC 3339); default: now.
    #[arg(long)]
    now: Option<DateTime<Utc>>,
    /// CSV for a spreadsheet.
    #[arg(long)]
    csv: bool,
}

fn prevention(text: &str) -> Result<Prevention, String> {
    text.parse()
        .map_err(|()| "must be primary, secondary or tertiary".to_owned())
}

/// `population findings [filters] [--all] [--include-snoozed] [--csv]`: the worklist, oldest
/// finding first, each with its latest action.
pub async fn findings(args: FindingsArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load().context("loading settings")?;
    let store = open_store(&settings).await?;
    let due_before = match args.overdue_days {
        Some(days) => {
            let tz = settings.time_zone().map_err(anyhow::Error::msg)?;
            Some(worklist::due_before(store.as_ref(), days, tz).await?)
        }
        None => None,
    };
    let mut filter = PopulationFindingFilter {
        rule_id: args.rule,
        patient: args.patient,
        product: args.product,
        prevention: args.prevention,
        due_before,
        include_closed: args.all,
        hide_snoozed_at: (!args.include_snoozed).then(|| args.now.unwrap_or_else(Utc::now)),
        limit: Some(storage::MAX_LIST_LIMIT),
        ..Default::default()
    };
    let stdout = std::io::stdout();
    let mut out = Sheet::new(stdout.lock(), args.csv)?;
    loop {
        let page = store.list_population_findings(&filter).await?;
        let Some(last) = page.last() else { break };
        filter.after_id = Some(last.id);
        for f in &page {
            out.add(f)?;
        }
    }
    out.finish()?.flush()?;
    Ok(ExitCode::SUCCESS)
}
