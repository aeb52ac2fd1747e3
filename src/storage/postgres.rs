//! [`Store`] on `PostgreSQL`, for deployments with several replicas. Pack commits lock the
//! single `active_pack` row (`SELECT … FOR UPDATE`), so of two writers expecting the same
//! version exactly one succeeds. Pack changes are announced with `NOTIFY` (see [`listen`]).
//! Pool sizing: each replica holds up to `max_connections` plus one listener connection, so
//! keep `replicas × (max_connections + 1)` below the server's `max_connections`.

mod listen;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::types::Json;
use sqlx::Connection;
use tokio::sync::mpsc;

use super::codec::Timestamp;
use super::population::imp as population;
use super::report::{self, FeedbackCountRow, IssuedCountRow};
use super::rows::{into_models, AuditRow, FeedbackRow, PackRow, PackSummaryRow};
use super::{effective_limit, feedback_key, snooze, sql, Store, StoreError, PACK_CHANNEL};
use super::{
    AuditFilter, AuditRecord, FeedbackFilter, FeedbackRecord, FeedbackSaved, IssuedCard, NewAudit,
    NewFeedback, NewPackVersion, PackSummary, PackVersion, RuleQuality,
};
use super::{IssuedCardKey, NewFindingAction, NewSnooze, PatientCard};
use super::{
    NewPopulationFinding, NewPopulationRun, PopulationFinding, PopulationFindingFilter,
    PopulationRun, PopulationRunEnd,
};

static MIGRATOR: Migrator = sqlx::migrate!("src/storage/migrations/postgres");

/// Locks the pointer row until the transaction ends; concurrent committers queue here.
const LOCK_ACTIVE_VERSION: &str = "SELECT version FROM active_pack WHERE id = 1 FOR UPDATE";

/// Gives the report's two queries one snapshot.
const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// The `PostgreSQL` implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL and migrates it (migrations take
    /// an advisory lock, so replicas starting together are safe).
    pub async fn connect(
        database_url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
        // Migrations run on a connection of their own, without the statement timeout: they may
        // wait for another replica's migration lock and take longer than any request should.
        // Connecting is bounded all the same: a server behind a partition would hold the start
        // for ever instead of failing it.
        let mut migrating = tokio::time::timeout(timeout, PgConnection::connect_with(&options))
            .await
            .map_err(|_| StoreError::timed_out())??;
        MIGRATOR.run(&mut migrating).await?;
        migrating.close().await?;
        let statement_timeout = timeout.as_millis().to_string();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect_with(options.options([("statement_timeout", statement_timeout.as_str())]))
            .await?;
        Ok(Self { pool })
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", items = items.len()))]
    async fn record_feedback(&self, items: &[NewFeedback]) -> Result<FeedbackSaved, StoreError> {
        let mut saved = FeedbackSaved::default();
        if items.is_empty() {
            return Ok(saved);
        }
        let received_at = Timestamp(Utc::now());
        let mut tx = self.pool.begin().await?;
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn card_issued(&self, card_uuid: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql::ISSUED_CARD_EXISTS)
            .bind(card_uuid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", cards = cards.len()))]
    async fn record_issued_cards(&self, cards: &[IssuedCard]) -> Result<(), StoreError> {
        if cards.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn quality_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RuleQuality>, StoreError> {
        let mut tx = self.pool.begin_with(BEGIN_SNAPSHOT).await?;
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn active_pack(&self) -> Result<Option<PackVersion>, StoreError> {
        let row: Option<PackRow> = sqlx::query_as(sql::ACTIVE_PACK)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(PackVersion::from))
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", pack.version = version))]
    async fn get_pack(&self, version: i64) -> Result<PackVersion, StoreError> {
        let row: PackRow = sqlx::query_as(sql::GET_PACK)
            .bind(version)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into())
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn list_packs(&self, limit: i64) -> Result<Vec<PackSummary>, StoreError> {
        let rows: Vec<PackSummaryRow> = sqlx::query_as(sql::LIST_PACKS)
            .bind(effective_limit(Some(limit)))
            .fetch_all(&self.pool)
            .await?;
        Ok(into_models(rows))
    }

    #[tracing::instrument(
        skip_all,
        fields(db.system = "postgresql", pack.expected = ?change.expected_active)
    )]
    async fn commit_pack(&self, change: NewPackVersion) -> Result<PackVersion, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<i64> = sqlx::query_scalar(LOCK_ACTIVE_VERSION)
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
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

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", pack.version = version))]
    async fn notify_pack_changed(&self, version: i64) -> Result<(), StoreError> {
        // NOTIFY takes no bind parameters; pg_notify() does.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PACK_CHANNEL)
            .bind(version.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn subscribe_pack_changes(&self) -> Result<Option<mpsc::Receiver<i64>>, StoreError> {
        Ok(Some(listen::subscribe(&self.pool).await?))
    }
    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn start_population_run(&self, run: &NewPopulationRun) -> Result<i64, StoreError> {
        population::postgres::start(&self.pool, run).await
    }

    async fn beat_population_run(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        population::postgres::beat(&self.pool, id, at).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", findings = findings.len()))]
    async fn stage_population_findings(
        &self,
        run_id: i64,
        findings: &[NewPopulationFinding],
    ) -> Result<(), StoreError> {
        population::postgres::stage(&self.pool, run_id, findings).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", run = run_id))]
    async fn finish_population_run(
        &self,
        run_id: i64,
        end: &PopulationRunEnd,
        finished_at: DateTime<Utc>,
        retention_days: Option<u32>,
    ) -> Result<PopulationRun, StoreError> {
        population::postgres::finish(&self.pool, run_id, end, finished_at, retention_days).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql", run = run_id))]
    async fn population_run(&self, run_id: i64) -> Result<PopulationRun, StoreError> {
        population::postgres::get(&self.pool, run_id).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn list_population_runs(&self, limit: i64) -> Result<Vec<PopulationRun>, StoreError> {
        population::postgres::list(&self.pool, limit).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn list_population_findings(
        &self,
        filter: &PopulationFindingFilter,
    ) -> Result<Vec<PopulationFinding>, StoreError> {
        population::postgres::findings(&self.pool, filter).await
    }

    async fn act_on_finding(
        &self,
        action: &NewFindingAction,
        snooze: Option<&NewSnooze>,
    ) -> Result<(), StoreError> {
        snooze::imp::postgres::act(&self.pool, action, snooze).await
    }

    async fn record_snooze(&self, s: &NewSnooze) -> Result<(), StoreError> {
        snooze::imp::postgres::snooze(&self.pool, s).await
    }

    async fn active_snoozes(
        &self,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        snooze::imp::postgres::active(&self.pool, key, at).await
    }

    async fn issued_card_key(&self, uuid: &str) -> Result<Option<IssuedCardKey>, StoreError> {
        snooze::imp::postgres::issued_key(&self.pool, uuid).await
    }

    async fn patient_cards(&self, key: &str, limit: i64) -> Result<Vec<PatientCard>, StoreError> {
        snooze::imp::postgres::patient_cards(&self.pool, key, limit).await
    }

    #[tracing::instrument(skip_all, fields(db.system = "postgresql"))]
    async fn record_audit(&self, entry: &NewAudit, at: DateTime<Utc>) -> Result<(), StoreError> {
        population::postgres::audit(&self.pool, entry, at).await
    }
}
