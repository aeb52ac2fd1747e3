//! Persistence for cart-sentinel: card feedback, issued cards, rule pack versions, the audit
//! log and JWT replay protection, behind one [`Store`] trait with a `SQLite` and a `PostgreSQL`
//! implementation (atuin's design). Patient data is held in two places: the worklist of
//! population runs ([`population`]: each finding's patient reference and display name), kept
//! for `population.retention_days` after a finding closes, and the audit entries of worklist
//! reads and actions (the patient references each showed); the hook path stores none. Snoozes
//! and issued cards name a patient only by a keyed hash ([`snooze`]). This
//! module must not import `actix_web`, `reqwest` or the engine; callers map their own types
//! into the plain records of [`models`] and [`population`].

mod codec;
mod error;
mod guard;
pub mod models;
pub mod population;
mod postgres;
mod report;
mod rows;
pub mod snooze;
mod sql;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

pub use error::StoreError;
pub use guard::FailureHook;
use guard::Guarded;
pub use models::{
    AuditFilter, AuditRecord, CardIndicator, FeedbackFilter, FeedbackOutcome, FeedbackRecord,
    FeedbackSaved, IssuedCard, NewAudit, NewFeedback, NewPackVersion, PackSummary, PackVersion,
    ReasonCoding,
};
pub use population::{
    Facets, NewPopulationFinding, NewPopulationRun, PopulationCounts, PopulationFinding,
    PopulationFindingFilter, PopulationRun, PopulationRunEnd, Prevention, RunStatus,
};
pub use postgres::PostgresStore;
pub use report::{
    months as report_months, CommentCount, IndicatorCounts, MonthQuality, ReasonCount, RuleQuality,
};
pub use snooze::{
    ActionKind, FindingAction, IssuedCardKey, NewFindingAction, NewSnooze, PatientCard,
    SnoozeOrigin,
};
pub use sqlite::SqliteStore;

/// Rows returned by a list call when the filter sets no limit.
pub const DEFAULT_LIST_LIMIT: i64 = 100;
/// Upper bound on the rows returned by any list call, whatever the caller asks for.
pub const MAX_LIST_LIMIT: i64 = 1000;
/// `PostgreSQL` channel on which rule pack changes are announced to other replicas.
pub const PACK_CHANNEL: &str = "cart_sentinel_pack";

/// Everything the service persists. Implementations: [`SqliteStore`] and [`PostgresStore`].
///
/// Timestamps are kept in UTC with microsecond precision; finer precision is truncated.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores CDS Hooks feedback items in one transaction. An item identical to one already
    /// stored (same service, card, outcome, outcome timestamp, accepted suggestion ids, reason
    /// code and comment) is counted as a duplicate and not stored again.
    async fn record_feedback(&self, items: &[NewFeedback]) -> Result<FeedbackSaved, StoreError>;

    /// Lists feedback, newest outcome first, filtered by service, rule and outcome time.
    async fn list_feedback(
        &self,
        filter: &FeedbackFilter,
    ) -> Result<Vec<FeedbackRecord>, StoreError>;

    /// Remembers which rule produced each card; a card uuid already known is left unchanged.
    async fn record_issued_cards(&self, cards: &[IssuedCard]) -> Result<(), StoreError>;

    /// Whether a card with this uuid was recorded as issued (feedback may name only those).
    async fn card_issued(&self, card_uuid: &str) -> Result<bool, StoreError>;

    /// Per rule: cards issued in `[from, to)` by indicator, and the feedback on those cards.
    async fn quality_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RuleQuality>, StoreError>;

    /// [`Store::quality_report`] for each calendar month (UTC) that `[from, to)` touches,
    /// oldest first, each on the part of the period in that month. Both backends share this
    /// implementation: one report per month keeps the grouping by month out of SQL, where the
    /// two databases spell date truncation differently; a period is at most a few years.
    async fn quality_report_by_month(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MonthQuality>, StoreError> {
        let mut out = Vec::new();
        for (month, start, end) in report::months(from, to) {
            let rules = self.quality_report(start, end).await?;
            out.push(MonthQuality { month, rules });
        }
        Ok(out)
    }

    /// The active rule pack version, or `None` when no pack has been committed yet.
    async fn active_pack(&self) -> Result<Option<PackVersion>, StoreError>;

    /// One rule pack version; [`StoreError::NotFound`] if it does not exist.
    async fn get_pack(&self, version: i64) -> Result<PackVersion, StoreError>;

    /// Rule pack versions, newest first, without their documents.
    async fn list_packs(&self, limit: i64) -> Result<Vec<PackSummary>, StoreError>;

    /// Atomically stores a new pack version, makes it active and writes its audit entry.
    /// Fails with [`StoreError::Conflict`] when the active version is not
    /// `change.expected_active`; of concurrent writers with the same expectation, one wins.
    async fn commit_pack(&self, change: NewPackVersion) -> Result<PackVersion, StoreError>;

    /// Audit entries, newest first, filtered by rule, actor and time.
    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;

    /// Records a JWT id for replay protection. Returns `true` if `(iss, jti)` is new (or its
    /// previous record expired) and `false` for a replay. Expired records are purged.
    async fn remember_jti(
        &self,
        iss: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Tells other replicas that `version` is now active (a no-op on `SQLite`).
    async fn notify_pack_changed(&self, version: i64) -> Result<(), StoreError>;

    /// Subscribes to pack change announcements from other replicas; `None` on `SQLite`, where
    /// there is only one process. The stream ends when the receiver is dropped.
    async fn subscribe_pack_changes(&self) -> Result<Option<mpsc::Receiver<i64>>, StoreError>;

    /// Records a population run as running, after recording as failed the running runs that
    /// gave no sign of life since `run.abandon_silent_since`; returns its id.
    async fn start_population_run(&self, run: &NewPopulationRun) -> Result<i64, StoreError>;

    /// A sign of life of a running run (its process writes one every
    /// `worklist::HEARTBEAT`).
    async fn beat_population_run(&self, run_id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Keeps findings of a running run until it ends (a finding staged twice is kept once).
    async fn stage_population_findings(
        &self,
        run_id: i64,
        findings: &[NewPopulationFinding],
    ) -> Result<(), StoreError>;

    /// Ends a running run in one transaction: its status and counts; when it succeeded, its
    /// staged findings merged into the worklist (see [`population`]); then, with
    /// `retention_days`, closed findings and runs more than that many days before the run's
    /// "now" deleted (a run a kept finding names is kept). [`StoreError::NotFound`] when no
    /// running run has this id.
    async fn finish_population_run(
        &self,
        run_id: i64,
        end: &PopulationRunEnd,
        finished_at: DateTime<Utc>,
        retention_days: Option<u32>,
    ) -> Result<PopulationRun, StoreError>;

    /// One run; [`StoreError::NotFound`] if it does not exist.
    async fn population_run(&self, run_id: i64) -> Result<PopulationRun, StoreError>;

    /// Runs, newest first.
    async fn list_population_runs(&self, limit: i64) -> Result<Vec<PopulationRun>, StoreError>;

    /// Worklist findings by id, open ones only unless the filter says otherwise.
    async fn list_population_findings(
        &self,
        filter: &PopulationFindingFilter,
    ) -> Result<Vec<PopulationFinding>, StoreError>;

    /// Appends an audit entry that changes no pack (a read of the worklist), under the active
    /// pack version; [`StoreError::NotFound`] when no pack is active yet.
    async fn record_audit(&self, entry: &NewAudit, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records an action on a worklist finding and, for a snooze, the snooze, in one
    /// transaction; [`StoreError::NotFound`] when no finding has the id.
    async fn act_on_finding(
        &self,
        action: &NewFindingAction,
        snooze: Option<&NewSnooze>,
    ) -> Result<(), StoreError>;

    /// Records a snooze (ended snoozes are deleted on the way).
    async fn record_snooze(&self, snooze: &NewSnooze) -> Result<(), StoreError>;

    /// The rules snoozed for the patient with this key at `at`, by id.
    async fn active_snoozes(
        &self,
        patient_key: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError>;

    /// The rule and patient key an issued card was recorded with; `None` for an unknown card.
    async fn issued_card_key(&self, card_uuid: &str) -> Result<Option<IssuedCardKey>, StoreError>;

    /// The cards issued for the patient with this key, newest first, at most `limit`, each
    /// with its latest feedback.
    async fn patient_cards(
        &self,
        patient_key: &str,
        limit: i64,
    ) -> Result<Vec<PatientCard>, StoreError>;
}

/// How long a store operation may wait for the database (a connection from the pool, a lock,
/// a statement) before it fails as [`StoreError::Unavailable`], unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens the store named by `database_url` and runs its migrations, waiting at most
/// [`DEFAULT_TIMEOUT`] for the database in each operation ([`connect_with_timeout`]).
pub async fn connect(
    database_url: &str,
    max_connections: u32,
) -> Result<Arc<dyn Store>, StoreError> {
    connect_with_timeout(database_url, max_connections, DEFAULT_TIMEOUT).await
}

/// Opens the store named by `database_url` and runs its migrations.
///
/// `sqlite:<path>` or `sqlite://<path>` opens (and creates) a `SQLite` file; `postgres://…` or
/// `postgresql://…` connects to `PostgreSQL`. Any other scheme is a [`StoreError::Config`].
/// `timeout` bounds the wait for a pooled connection, for SQLite's write lock and for a
/// PostgreSQL statement, and every call as a whole (`guard.rs`), so that a database that is
/// down, locked or unreachable answers [`StoreError::Unavailable`] promptly instead of holding
/// the caller.
pub async fn connect_with_timeout(
    database_url: &str,
    max_connections: u32,
    timeout: Duration,
) -> Result<Arc<dyn Store>, StoreError> {
    connect_observed(database_url, max_connections, timeout, None).await
}

/// As [`connect_with_timeout`], telling `on_failure` of every failed call.
pub async fn connect_observed(
    database_url: &str,
    max_connections: u32,
    timeout: Duration,
    on_failure: Option<FailureHook>,
) -> Result<Arc<dyn Store>, StoreError> {
    if max_connections == 0 {
        return Err(StoreError::Config(
            "the database pool needs at least one connection".to_owned(),
        ));
    }
    let inner: Arc<dyn Store> = if database_url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(database_url, max_connections, timeout).await?)
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Arc::new(PostgresStore::connect(database_url, max_connections, timeout).await?)
    } else {
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme {}: use `sqlite:<path>` or `postgres://…`",
            scheme_for_message(database_url)
        )));
    };
    Ok(Arc::new(Guarded::new(inner, timeout, on_failure)))
}

/// The URL's scheme, quoted, if it looks like one; never more of the URL, which may hold a
/// password.
fn scheme_for_message(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme.len() <= 16
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            format!("`{scheme}:`")
        }
        _ => "(none)".to_owned(),
    }
}

/// The row limit actually applied for a requested one.
pub(crate) fn effective_limit(requested: Option<i64>) -> i64 {
    requested
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .clamp(0, MAX_LIST_LIMIT)
}

/// Idempotency key of a feedback item: a hash of its identifying fields, in a canonical JSON
/// encoding (accepted suggestion ids sorted), SHA-256. The `v2:` prefix names the scheme so that
/// it can change without clashing with stored keys (`v1:` was FNV-1a; an item resent across that
/// change is stored twice, once under each).
pub(crate) fn feedback_key(item: &NewFeedback) -> String {
    let mut accepted: Vec<&str> = item
        .accepted_suggestions
        .iter()
        .map(String::as_str)
        .collect();
    accepted.sort_unstable();
    accepted.dedup();
    let canonical = serde_json::json!([
        item.service_id,
        item.card_uuid,
        item.outcome.as_str(),
        codec::Timestamp(item.outcome_timestamp).to_text(),
        accepted,
        item.override_reason.as_ref().map(|r| r.code.as_str()),
        item.override_comment,
    ])
    .to_string();
    format!("v2:{}", sha256_hex(canonical.as_bytes()))
}

/// SHA-256 of `bytes` in lower-case hex (stable across releases and platforms).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> NewFeedback {
        NewFeedback {
            service_id: "crs-watch".to_owned(),
            card_uuid: "card-1".to_owned(),
            outcome: FeedbackOutcome::Accepted,
            outcome_timestamp: DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"),
            accepted_suggestions: vec!["b".to_owned(), "a".to_owned()],
            override_reason: None,
            override_comment: None,
        }
    }

    #[test]
    fn sha256_hex_matches_the_reference_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn feedback_key_ignores_suggestion_order_but_not_the_comment() {
        let mut reordered = item();
        reordered.accepted_suggestions.reverse();
        assert_eq!(feedback_key(&item()), feedback_key(&reordered));

        let mut commented = item();
        commented.override_comment = Some("not now".to_owned());
        assert_ne!(feedback_key(&item()), feedback_key(&commented));
    }

    #[test]
    fn unknown_scheme_message_never_echoes_credentials() {
        assert_eq!(scheme_for_message("mysql://u:secret@h/db"), "`mysql:`");
        assert_eq!(scheme_for_message("u secret@h"), "(none)");
    }

    #[test]
    fn limits_are_defaulted_and_capped() {
        assert_eq!(effective_limit(None), DEFAULT_LIST_LIMIT);
        assert_eq!(effective_limit(Some(-5)), 0);
        assert_eq!(effective_limit(Some(1_000_000)), MAX_LIST_LIMIT);
    }
}
