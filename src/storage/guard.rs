//! [`Guarded`]: every [`Store`] call bounded on the client side and every failure reported.
//!
//! The database's own limits (pool acquire timeout, SQLite's busy timeout, PostgreSQL's
//! `statement_timeout`) do not bound a call whose connection stops carrying bytes: behind a
//! network partition a query that was sent waits for an answer that never comes, and
//! `statement_timeout` runs on the server that cannot answer. So each call is also cut off
//! here after `storage.timeout_ms` and fails as [`StoreError::Unavailable`]; sqlx tests the
//! connection it was using before it goes back to the pool, and closes it if it is broken. Failures are passed to a [`FailureHook`]
//! (the application counts them in `cart_sentinel_store_errors_total`) under the operation's
//! stable name.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::{
    AuditFilter, AuditRecord, FeedbackFilter, FeedbackRecord, FeedbackSaved, IssuedCard,
    IssuedCardKey, NewAudit, NewFeedback, NewFindingAction, NewPackVersion, NewPopulationFinding,
    NewPopulationRun, NewSnooze, PackSummary, PackVersion, PatientCard, PopulationFinding,
    PopulationFindingFilter, PopulationRun, PopulationRunEnd, RuleQuality, Store, StoreError,
};

/// The bound of the transaction that ends a population run: merging a large centre's worklist
/// takes far longer than a request's store call (`PostgreSQL`'s `statement_timeout` is raised to
/// the same for it).
const FINISH_RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Told of each failed store call: the operation's name (`record_feedback`, `commit_pack`…) and
/// [`StoreError::kind`].
pub type FailureHook = Arc<dyn Fn(&'static str, &'static str) + Send + Sync>;

/// A [`Store`] whose calls each end within `timeout` and whose failures reach `on_failure`.
pub struct Guarded {
    inner: Arc<dyn Store>,
    timeout: Duration,
    on_failure: Option<FailureHook>,
}

impl Guarded {
    /// Wraps `inner`; `on_failure` is told of every failure (none: failures are only returned).
    pub fn new(inner: Arc<dyn Store>, timeout: Duration, on_failure: Option<FailureHook>) -> Self {
        Guarded {
            inner,
            timeout,
            on_failure,
        }
    }

    async fn run<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.run_within(operation, self.timeout, call).await
    }

    async fn run_within<T>(
        &self,
        operation: &'static str,
        timeout: Duration,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let result = tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Err(StoreError::timed_out()));
        if let (Err(e), Some(hook)) = (&result, &self.on_failure) {
            if let Some(kind) = e.kind() {
                hook(operation, kind);
            }
        }
        result
    }
}

#[async_trait::async_trait]
impl Store for Guarded {
    async fn ping(&self) -> Result<(), StoreError> {
        self.run("ping", self.inner.ping()).await
    }

    async fn record_feedback(&self, items: &[NewFeedback]) -> Result<FeedbackSaved, StoreError> {
        self.run("record_feedback", self.inner.record_feedback(items))
            .await
    }

    async fn list_feedback(
        &self,
        filter: &FeedbackFilter,
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        self.run("list_feedback", self.inner.list_feedback(filter))
            .await
    }

    async fn record_issued_cards(&self, cards: &[IssuedCard]) -> Result<(), StoreError> {
        self.run("record_issued_cards", self.inner.record_issued_cards(cards))
            .await
    }

    async fn card_issued(&self, card_uuid: &str) -> Result<bool, StoreError> {
        self.run("card_issued", self.inner.card_issued(card_uuid))
            .await
    }

    async fn quality_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RuleQuality>, StoreError> {
        self.run("quality_report", self.inner.quality_report(from, to))
            .await
    }

    async fn active_pack(&self) -> Result<Option<PackVersion>, StoreError> {
        self.run("active_pack", self.inner.active_pack()).await
    }

    async fn get_pack(&self, version: i64) -> Result<PackVersion, StoreError> {
        self.run("get_pack", self.inner.get_pack(version)).await
    }

    async fn list_packs(&self, limit: i64) -> Result<Vec<PackSummary>, StoreError> {
        self.run("list_packs", self.inner.list_packs(limit)).await
    }

    async fn commit_pack(&self, change: NewPackVersion) -> Result<PackVersion, StoreError> {
        self.run("commit_pack", self.inner.commit_pack(change))
            .await
    }

    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        self.run("audit_log", self.inner.audit_log(filter)).await
    }

    async fn remember_jti(
        &self,
        iss: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run(
            "remember_jti",
            self.inner.remember_jti(iss, jti, expires_at),
        )
        .await
    }

    async fn notify_pack_changed(&self, version: i64) -> Result<(), StoreError> {
        self.run(
            "notify_pack_changed",
            self.inner.notify_pack_changed(version),
        )
        .await
    }

    async fn subscribe_pack_changes(&self) -> Result<Option<mpsc::Receiver<i64>>, StoreError> {
        self.run(
            "subscribe_pack_changes",
            self.inner.subscribe_pack_changes(),
        )
        .await
    }

    async fn start_population_run(&self, run: &NewPopulationRun) -> Result<i64, StoreError> {
        self.run("start_population_run", self.inner.start_population_run(run))
            .await
    }

    async fn beat_population_run(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(
            "beat_population_run",
            self.inner.beat_population_run(id, at),
        )
        .await
    }

    async fn stage_population_findings(
        &self,
        run_id: i64,
        findings: &[NewPopulationFinding],
    ) -> Result<(), StoreError> {
        let call = self.inner.stage_population_findings(run_id, findings);
        self.run("stage_population_findings", call).await
    }

    async fn finish_population_run(
        &self,
        run_id: i64,
        end: &PopulationRunEnd,
        finished_at: DateTime<Utc>,
        retention_days: Option<u32>,
    ) -> Result<PopulationRun, StoreError> {
        let call = self
            .inner
            .finish_population_run(run_id, end, finished_at, retention_days);
        self.run_within("finish_population_run", FINISH_RUN_TIMEOUT, call)
            .await
    }

    async fn population_run(&self, run_id: i64) -> Result<PopulationRun, StoreError> {
        self.run("population_run", self.inner.population_run(run_id))
            .await
    }

    async fn list_population_runs(&self, limit: i64) -> Result<Vec<PopulationRun>, StoreError> {
        self.run(
            "list_population_runs",
            self.inner.list_population_runs(limit),
        )
        .await
    }

    async fn list_population_findings(
        &self,
        filter: &PopulationFindingFilter,
    ) -> Result<Vec<PopulationFinding>, StoreError> {
        let call = self.inner.list_population_findings(filter);
        self.run("list_population_findings", call).await
    }

    async fn act_on_finding(
        &self,
        action: &NewFindingAction,
        snooze: Option<&NewSnooze>,
    ) -> Result<(), StoreError> {
        let call = self.inner.act_on_finding(action, snooze);
        self.run("act_on_finding", call).await
    }

    async fn record_snooze(&self, snooze: &NewSnooze) -> Result<(), StoreError> {
        self.run("record_snooze", self.inner.record_snooze(snooze))
            .await
    }

    async fn active_snoozes(
        &self,
        patient_key: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let call = self.inner.active_snoozes(patient_key, at);
        self.run("active_snoozes", call).await
    }

    async fn issued_card_key(&self, uuid: &str) -> Result<Option<IssuedCardKey>, StoreError> {
        self.run("issued_card_key", self.inner.issued_card_key(uuid))
            .await
    }

    async fn patient_cards(&self, key: &str, limit: i64) -> Result<Vec<PatientCard>, StoreError> {
        self.run("patient_cards", self.inner.patient_cards(key, limit))
            .await
    }

    async fn record_audit(&self, entry: &NewAudit, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run("record_audit", self.inner.record_audit(entry, at))
            .await
    }
}
