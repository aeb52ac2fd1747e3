//! The Bulk Data export a run reads when it is started with the bulk source: downloaded into a
//! directory of its own under the data directory, deleted once the run has read it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::bulk::{self, BulkConfig, BulkSettings, ExportLevel};

/// Told of an export's progress, one line at a time (no URLs, no content).
pub type Report = Arc<dyn Fn(String) + Send + Sync>;

/// Where exports come from: the client settings and the export level of `[bulk]`, and where
/// progress is told (the log, unless [`BulkSource::reporting`] says otherwise).
#[derive(Clone)]
pub struct BulkSource {
    settings: BulkSettings,
    level: ExportLevel,
    report: Report,
}

impl std::fmt::Debug for BulkSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkSource")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl BulkSource {
    /// From `[bulk]` and `fhir.allowed_servers`; an error names the setting at fault.
    pub fn from_config(config: &BulkConfig, allowed: Vec<String>) -> Result<Self, String> {
        Ok(BulkSource {
            settings: config.settings(allowed)?,
            level: config.level(),
            report: Arc::new(|line| tracing::info!("{line}")),
        })
    }

    /// Progress goes to `report` (the command line prints it).
    #[must_use]
    pub fn reporting(mut self, report: Report) -> Self {
        self.report = report;
        self
    }

    /// Downloads an export of `types` (those the active pack reads: a run needs every resource
    /// of each patient, so never `_since`) into a new directory under `under`, deleted when the
    /// returned handle is dropped.
    pub async fn export(
        &self,
        types: Vec<String>,
        under: &Path,
    ) -> anyhow::Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("bulk-export-")
            .tempdir_in(under)
            .context("creating the export directory")?;
        let progress = self.report.clone();
        let request = bulk::ExportRequest {
            level: self.level.clone(),
            types,
            since: None,
            on_progress: Some(Arc::new(move |p: &bulk::Progress| {
                progress(format!("export: {p:?}"));
            })),
        };
        let summary = bulk::export_to_dir(&self.settings, &request, dir.path())
            .await
            .context("the Bulk Data export")?;
        (self.report)(format!(
            "export done: {} files, {} error files ({} errors), {} polls",
            summary.files.len(),
            summary.error_files.len(),
            summary.errors,
            summary.polls
        ));
        Ok(dir)
    }
}
