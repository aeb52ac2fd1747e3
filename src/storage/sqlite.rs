//! [`Store`] on a `SQLite` file, for single-replica deployments and tests. WAL journal, foreign
//! keys on, a busy timeout of `storage.timeout_ms`, and every write transaction opened with `BEGIN IMMEDIATE` so
//! that it holds the write lock before it reads (two writers cannot both pass a check).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Connection, Sqlite, Transaction};
use tokio::sync::mpsc;

use super::codec::Timestamp;
use super::population::imp as population;
use super::report::{self, FeedbackCountRow, IssuedCountRow};
use super::rows::{into_models, AuditRow, FeedbackRow, PackRow, PackSummaryRow};
use super::{effective_limit, feedback_key, snooze, sql, Store, StoreError};
use super::{
    AuditFilter, AuditRecord, FeedbackFilter, FeedbackRecord, FeedbackSaved, IssuedCard, NewAudit,
    NewFeedback, NewPackVersion, PackSummary, PackVersion, RuleQuality,
};
use super::{IssuedCardKey, NewFindingAction, NewSnooze, PatientCard};
use super::{
    NewPopulationFinding, NewPopulationRun, PopulationFinding, PopulationFindingFilter,
    PopulationRun, PopulationRunEnd,
};

static MIGRATOR: Migrator = sqlx::migrate!("src/storage/migrations/sqlite");

/// The `SQLite` implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database named by a `sqlite:` URL and migrates it.
    pub async fn connect(
        database_url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            // On a full disk or an I/O error SQLite rolls the transaction back by itself; sqlx
            // still counts it open and refuses every later BEGIN on that connection, so such a
            // connection is closed rather than reused. The ping first lets the connection's
            // worker run the rollback queued when the transaction was dropped.
            .after_release(|conn, _| {
                Box::pin(async move {
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// A transaction that owns the write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", items = items.len()))]
    async fn record_feedback(&self, items: &[NewFeedback]) -> Result<FeedbackSaved, StoreError> {
        let mut saved = FeedbackSaved::default();
        if items.is_empty() {
            return Ok(saved);
        }
        let received_at = Timestamp(Utc::now());
        let mut tx = self.begin_write().await?;
        for item in items {
            let reason = item.override_reason.as_ref();
            let done = sqlx::query(sql::INSERT_FEEDBACK)
                .bind(feedback_key(item))
                .bind(&item.service_id)
                .bind(&item.card_uuid)
                .bind(item.outcome)
                .bind(Timestamp(item.outcome_timestamp))
                .bind(Json(&item.accepted_suggestions))
                .bind(reason.and_then(|r| r.system.as_deref()))
                .bind(reason.map(|r| r.code.as_str()))
                .bind(reason.and_then(|r| r.display.as_deref()))
                .bind(item.override_comment.as_deref())
                .bind(received_at)
                .execute(&mut *tx)
                .await?;
            saved.count(done.rows_affected());
        }
        tx.commit().await?;
        Ok(saved)
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn list_feedback(
        &self,
        filter: &FeedbackFilter,
    ) -> Result<Vec<FeedbackRecord>, StoreError> {
        let rows: Vec<FeedbackRow> = sqlx::query_as(sql::LIST_FEEDBACK)
            .bind(filter.service_id.as_deref())
            .bind(filter.rule_id.as_deref())
            .bind(filter.from.map(Timestamp))
            .bind(filter.to.map(Timestamp))
            .bind(effective_limit(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(into_models(rows))
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn card_issued(&self, card_uuid: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql::ISSUED_CARD_EXISTS)
            .bind(card_uuid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", cards = cards.len()))]
    async fn record_issued_cards(&self, cards: &[IssuedCard]) -> Result<(), StoreError> {
        if cards.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for card in cards {
            sqlx::query(sql::INSERT_ISSUED_CARD)
                .bind(&card.card_uuid)
                .bind(&card.rule_id)
                .bind(&card.service_id)
                .bind(&card.hook)
                .bind(card.indicator)
                .bind(card.pack_version)
                .bind(Timestamp(card.issued_at))
                .bind(card.patient_key.as_deref())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn quality_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RuleQuality>, StoreError> {
        // One read transaction: both queries see the same snapshot.
        let mut tx = self.pool.begin().await?;
        let issued: Vec<IssuedCountRow> = sqlx::query_as(sql::QUALITY_ISSUED)
            .bind(Timestamp(from))
            .bind(Timestamp(to))
            .fetch_all(&mut *tx)
            .await?;
        let feedback: Vec<FeedbackCountRow> = sqlx::query_as(sql::QUALITY_FEEDBACK)
            .bind(Timestamp(from))
            .bind(Timestamp(to))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report::build(issued, feedback))
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn active_pack(&self) -> Result<Option<PackVersion>, StoreError> {
        let row: Option<PackRow> = sqlx::query_as(sql::ACTIVE_PACK)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(PackVersion::from))
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", pack.version = version))]
    async fn get_pack(&self, version: i64) -> Result<PackVersion, StoreError> {
        let row: PackRow = sqlx::query_as(sql::GET_PACK)
            .bind(version)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn list_packs(&self, limit: i64) -> Result<Vec<PackSummary>, StoreError> {
        let rows: Vec<PackSummaryRow> = sqlx::query_as(sql::LIST_PACKS)
            .bind(effective_limit(Some(limit)))
            .fetch_all(&self.pool)
            .await?;
        Ok(into_models(rows))
    }

    #[tracing::instrument(
        skip_all,
        fields(db.system = "sqlite", pack.expected = ?change.expected_active)
    )]
    async fn commit_pack(&self, change: NewPackVersion) -> Result<PackVersion, StoreError> {
        let mut tx = self.begin_write().await?;
        let current: Option<i64> = sqlx::query_scalar(sql::ACTIVE_VERSION)
            .fetch_one(&mut *tx)
            .await?;
        if current != change.expected_active {
            return Err(StoreError::Conflict { current });
        }
        let version: i64 = sqlx::query_scalar(sql::NEXT_PACK_VERSION)
            .fetch_one(&mut *tx)
            .await?;
        let at = Timestamp(change.created_at);
        sqlx::query(sql::INSERT_PACK)
            .bind(version)
            .bind(Json(&change.document))
            .bind(&change.author)
            .bind(change.reason.as_deref())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::SET_ACTIVE_PACK)
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let audit = &change.audit;
        sqlx::query(sql::INSERT_AUDIT)
            .bind(at)
            .bind(&audit.actor)
            .bind(&audit.action)
            .bind(audit.rule_id.as_deref())
            .bind(version)
            .bind(audit.before.as_ref().map(Json))
            .bind(audit.after.as_ref().map(Json))
            .bind(audit.reason.as_deref())
            .execute(&mut *tx)
            .await?;
        let stored: PackRow = sqlx::query_as(sql::GET_PACK)
            .bind(version)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored.into())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(sql::LIST_AUDIT)
            .bind(filter.rule_id.as_deref())
            .bind(filter.actor.as_deref())
            .bind(filter.from.map(Timestamp))
            .bind(filter.to.map(Timestamp))
            .bind(effective_limit(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(into_models(rows))
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn remember_jti(
        &self,
        iss: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = Timestamp(Utc::now());
        let done = sqlx::query(sql::REMEMBER_JTI)
            .bind(iss)
            .bind(jti)
            .bind(Timestamp(expires_at))
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(sql::PURGE_JTI)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn notify_pack_changed(&self, _version: i64) -> Result<(), StoreError> {
        // One process per SQLite file: there is nobody to tell.
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn subscribe_pack_changes(&self) -> Result<Option<mpsc::Receiver<i64>>, StoreError> {
        Ok(None)
    }
    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn start_population_run(&self, run: &NewPopulationRun) -> Result<i64, StoreError> {
        population::sqlite::start(&self.pool, run).await
    }

    async fn beat_population_run(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        population::sqlite::beat(&self.pool, id, at).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", findings = findings.len()))]
    async fn stage_population_findings(
        &self,
        run_id: i64,
        findings: &[NewPopulationFinding],
    ) -> Result<(), StoreError> {
        population::sqlite::stage(&self.pool, run_id, findings).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", run = run_id))]
    async fn finish_population_run(
        &self,
        run_id: i64,
        end: &PopulationRunEnd,
        finished_at: DateTime<Utc>,
        retention_days: Option<u32>,
    ) -> Result<PopulationRun, StoreError> {
        population::sqlite::finish(&self.pool, run_id, end, finished_at, retention_days).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite", run = run_id))]
    async fn population_run(&self, run_id: i64) -> Result<PopulationRun, StoreError> {
        population::sqlite::get(&self.pool, run_id).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn list_population_runs(&self, limit: i64) -> Result<Vec<PopulationRun>, StoreError> {
        population::sqlite::list(&self.pool, limit).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn list_population_findings(
        &self,
        filter: &PopulationFindingFilter,
    ) -> Result<Vec<PopulationFinding>, StoreError> {
        population::sqlite::findings(&self.pool, filter).await
    }

    async fn act_on_finding(
        &self,
        action: &NewFindingAction,
        snooze: Option<&NewSnooze>,
    ) -> Result<(), StoreError> {
        snooze::imp::sqlite::act(&self.pool, action, snooze).await
    }

    async fn record_snooze(&self, s: &NewSnooze) -> Result<(), StoreError> {
        snooze::imp::sqlite::snooze(&self.pool, s).await
    }

    async fn active_snoozes(
        &self,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        snooze::imp::sqlite::active(&self.pool, key, at).await
    }

    async fn issued_card_key(&self, uuid: &str) -> Result<Option<IssuedCardKey>, StoreError> {
        snooze::imp::sqlite::issued_key(&self.pool, uuid).await
    }

    async fn patient_cards(&self, key: &str, limit: i64) -> Result<Vec<PatientCard>, StoreError> {
        snooze::imp::sqlite::patient_cards(&self.pool, key, limit).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "sqlite"))]
    async fn record_audit(&self, entry: &NewAudit, at: DateTime<Utc>) -> Result<(), StoreError> {
        population::sqlite::audit(&self.pool, entry, at).await
    }
}
