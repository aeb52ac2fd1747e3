//! Population runs started by a serving process: at most one at a time (a run reads the
//! whole export and holds a store transaction at its end, so two at once would only compete),
//! executed in the background, with the live progress of the running one.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{BulkSource, Job, RunSource};
use crate::engine::CompiledPack;
use crate::population::{Progress, ProgressSnapshot};
use crate::storage::{Store, StoreError};

/// The run of this process that has not ended: its id once the store gave one.
struct Current {
    id: Option<i64>,
    progress: Arc<Progress>,
}

type Slot = Arc<Mutex<Option<Current>>>;

/// Frees the slot when the run ends, however it ends (a panicking task included).
struct Release(Slot);

impl Drop for Release {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Why a run was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A run of this process has not ended yet (its id, once it has one).
    #[error("a population run is in progress")]
    Busy(Option<i64>),
    /// The run could not be recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a requested export directory is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportDirError {
    /// `population.ndjson_dir` is not set.
    #[error("no export directory is configured (population.ndjson_dir)")]
    NotConfigured,
    /// Absolute, or climbing out with `..`, or leading out through a link.
    #[error("must be a relative path inside the configured export directory")]
    Outside,
    /// Not an existing directory.
    #[error("no such directory in the configured export directory")]
    Missing,
}

/// The runs of a serving process.
pub struct Runs {
    bulk: Option<BulkSource>,
    store: Arc<dyn Store>,
    export_root: Option<PathBuf>,
    spool_dir: PathBuf,
    tz: Tz,
    retention_days: Option<u32>,
    current: Slot,
}

impl Runs {
    /// Runs over exports under `export_root` (`population.ndjson_dir`), spooled under
    /// `spool_dir`, with dates in `tz` and the worklist's `retention_days`.
    pub fn new(
        store: Arc<dyn Store>,
        export_root: Option<PathBuf>,
        spool_dir: PathBuf,
        tz: Tz,
        retention_days: Option<u32>,
    ) -> Self {
        Runs {
            bulk: None,
            store,
            export_root,
            spool_dir,
            tz,
            retention_days,
            current: Slot::default(),
        }
    }

    /// The directory to read: the configured export directory, or `sub` inside it.
    ///
    /// # Errors
    ///
    /// No export directory configured; `sub` absolute, with `..`, or leading outside through a
    /// link; not a directory.
    /// Runs may also read a fresh Bulk Data export from `bulk`.
    #[must_use]
    pub fn with_bulk(mut self, bulk: Option<BulkSource>) -> Self {
        self.bulk = bulk;
        self
    }

    /// Where a bulk run exports from, when a `[bulk]` server is configured.
    pub fn bulk(&self) -> Option<&BulkSource> {
        self.bulk.as_ref()
    }

    pub fn export_dir(&self, sub: Option<&str>) -> Result<PathBuf, ExportDirError> {
        let root = self
            .export_root
            .as_deref()
            .ok_or(ExportDirError::NotConfigured)?;
        let sub = Path::new(sub.unwrap_or(""));
        if !sub
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(ExportDirError::Outside);
        }
        let root = root.canonicalize().map_err(|_| ExportDirError::Missing)?;
        let dir = root
            .join(sub)
            .canonicalize()
            .map_err(|_| ExportDirError::Missing)?;
        if !dir.starts_with(&root) {
            return Err(ExportDirError::Outside);
        }
        if !dir.is_dir() {
            return Err(ExportDirError::Missing);
        }
        Ok(dir)
    }

    /// Records a run of `pack` at `now` over `dir` and executes it in the background; its id.
    ///
    /// # Errors
    ///
    /// A run of this process has not ended; the store could not record the run.
    pub async fn start(
        &self,
        pack: (Arc<CompiledPack>, i64),
        now: DateTime<Utc>,
        source: RunSource,
    ) -> Result<i64, StartError> {
        let progress = Arc::new(Progress::default());
        {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = current.as_ref() {
                return Err(StartError::Busy(c.id));
            }
            *current = Some(Current {
                id: None,
                progress: progress.clone(),
            });
        }
        let release = Release(self.current.clone());
        let job = Job::start(
            self.store.clone(),
            pack,
            (now, self.tz),
            self.spool_dir.clone(),
        )
        .await?;
        let id = job.run_id;
        if let Some(c) = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            c.id = Some(id);
        }
        let retention = self.retention_days;
        tokio::spawn(async move {
            let _release = release;
            let ended = job.run_to_end(source, progress, retention).await;
            match ended {
                Ok(ended) => {
                    tracing::info!(run = id, status = ?ended.run.status, "population run ended");
                }
                Err(e) => tracing::error!(run = id, error = %format!("{e:#}"),
                    "population run ended but its end could not be recorded"),
            }
        });
        Ok(id)
    }

    /// Whether a run of this process has not ended (with its id, once it has one).
    pub fn running(&self) -> Option<Option<i64>> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().map(|c| c.id)
    }

    /// The progress of run `id` while this process runs it.
    pub fn progress(&self, id: i64) -> Option<ProgressSnapshot> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|c| c.id == Some(id))
            .map(|c| c.progress.snapshot())
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
