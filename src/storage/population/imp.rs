//! The population methods of [`Store`](crate::storage::Store), written once and made for each
//! backend's pool by `backend!`: the statements are the same (`sql`), only the pool type and
//! how a writing transaction keeps other writers out differ.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::types::Json;

use super::sql::{self, FindingRow, RunRow};
use super::{
    NewPopulationFinding, NewPopulationRun, PopulationCounts, PopulationFinding,
    PopulationFindingFilter, PopulationRun, PopulationRunEnd,
};
use crate::storage::codec::Timestamp;
use crate::storage::models::NewAudit;
use crate::storage::rows::into_models;
use crate::storage::{effective_limit, StoreError};

/// The run-end fields bound to [`sql::END_RUN`]: status, message, counts.
fn end_fields(end: &PopulationRunEnd) -> (&'static str, Option<&str>, Option<&PopulationCounts>) {
    match end {
        PopulationRunEnd::Succeeded(counts) => ("succeeded", None, Some(counts)),
        PopulationRunEnd::Failed { message, counts } => {
            ("failed", Some(message.as_str()), counts.as_ref())
        }
    }
}

/// The cutoff of the retention: `days` before the run's now.
fn cutoff(run_at: DateTime<Utc>, days: u32) -> Timestamp {
    Timestamp(run_at - TimeDelta::days(i64::from(days)))
}

macro_rules! backend {
    ($module:ident, $pool:ty, $begin_write:expr, $serialise:expr) => {
        /// The population methods on this backend.
        pub(crate) mod $module {
            use super::*;

            /// [`Store::start_population_run`](crate::storage::Store::start_population_run).
            pub(crate) async fn start(
                pool: &$pool,
                run: &NewPopulationRun,
            ) -> Result<i64, StoreError> {
                if let Some(since) = run.abandon_silent_since {
                    let message = format!(
                        "abandoned: no sign of life from the process running it since {}",
                        since.to_rfc3339()
                    );
                    sqlx::query(sql::ABANDON_SILENT)
                        .bind(Timestamp(since))
                        .bind(Timestamp(run.started_at))
                        .bind(message)
                        .execute(pool)
                        .await?;
                }
                Ok(sqlx::query_scalar(sql::START_RUN)
                    .bind(run.pack_version)
                    .bind(Timestamp(run.run_at))
                    .bind(Timestamp(run.started_at))
                    .fetch_one(pool)
                    .await?)
            }

            /// [`Store::beat_population_run`](crate::storage::Store::beat_population_run).
            pub(crate) async fn beat(
                pool: &$pool,
                run_id: i64,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(sql::BEAT)
                    .bind(run_id)
                    .bind(Timestamp(at))
                    .execute(pool)
                    .await?;
                Ok(())
            }

            /// [`Store::stage_population_findings`](crate::storage::Store::stage_population_findings).
            pub(crate) async fn stage(
                pool: &$pool,
                run_id: i64,
                findings: &[NewPopulationFinding],
            ) -> Result<(), StoreError> {
                if findings.is_empty() {
                    return Ok(());
                }
                let mut tx = pool.begin_with($begin_write).await?;
                for f in findings {
                    sqlx::query(sql::STAGE_FINDING)
                        .bind(run_id)
                        .bind(&f.patient)
                        .bind(f.display_name.as_deref())
                        .bind(&f.rule_id)
                        .bind(f.indicator)
                        .bind(&f.summary)
                        .bind(Json(&f.fired_with))
                        .bind(f.facets.product.as_deref())
                        .bind(f.facets.prevention.map(|p| p.as_str()))
                        .bind(f.facets.due_on.map(|d| d.to_string()))
                        .bind(f.facets.day0.map(|d| d.to_string()))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// [`Store::finish_population_run`](crate::storage::Store::finish_population_run).
            pub(crate) async fn finish(
                pool: &$pool,
                run_id: i64,
                end: &PopulationRunEnd,
                finished_at: DateTime<Utc>,
                retention_days: Option<u32>,
            ) -> Result<PopulationRun, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                for statement in $serialise {
                    sqlx::query(statement).execute(&mut *tx).await?;
                }
                let (status, message, counts) = end_fields(end);
                let done = sqlx::query(sql::END_RUN)
                    .bind(run_id)
                    .bind(Timestamp(finished_at))
                    .bind(status)
                    .bind(message)
                    .bind(counts.map(|c| c.patients_read))
                    .bind(counts.map(|c| c.cohort_size))
                    .bind(counts.map(|c| c.resources_read))
                    .bind(counts.map(|c| c.resources_skipped))
                    .bind(counts.map(|c| c.findings))
                    .bind(counts.map(|c| Json(&c.detail)))
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let run: RunRow = sqlx::query_as(sql::GET_RUN)
                    .bind(run_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let run = PopulationRun::from(run);
                let at = Timestamp(run.run_at);
                if matches!(end, PopulationRunEnd::Succeeded(_)) {
                    sqlx::query(sql::MERGE_SEEN)
                        .bind(run_id)
                        .execute(&mut *tx)
                        .await?;
                    for statement in [sql::MERGE_NEW, sql::CLOSE_ABSENT] {
                        sqlx::query(statement)
                            .bind(run_id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query(sql::UNSTAGE)
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(days) = retention_days {
                    let cutoff = cutoff(run.run_at, days);
                    sqlx::query(sql::PURGE_CLOSED)
                        .bind(cutoff)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(sql::PURGE_RUNS)
                        .bind(cutoff)
                        .bind(run_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(sql::PURGE_ACTIONS).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(run)
            }

            /// [`Store::population_run`](crate::storage::Store::population_run).
            pub(crate) async fn get(
                pool: &$pool,
                run_id: i64,
            ) -> Result<PopulationRun, StoreError> {
                let row: RunRow = sqlx::query_as(sql::GET_RUN)
                    .bind(run_id)
                    .fetch_one(pool)
                    .await?;
                Ok(row.into())
            }

            /// [`Store::list_population_runs`](crate::storage::Store::list_population_runs).
            pub(crate) async fn list(
                pool: &$pool,
                limit: i64,
            ) -> Result<Vec<PopulationRun>, StoreError> {
                let rows: Vec<RunRow> = sqlx::query_as(sql::LIST_RUNS)
                    .bind(effective_limit(Some(limit)))
                    .fetch_all(pool)
                    .await?;
                Ok(into_models(rows))
            }

            /// [`Store::list_population_findings`](crate::storage::Store::list_population_findings).
            pub(crate) async fn findings(
                pool: &$pool,
                filter: &PopulationFindingFilter,
            ) -> Result<Vec<PopulationFinding>, StoreError> {
                let rows: Vec<FindingRow> = sqlx::query_as(sql::LIST_FINDINGS)
                    .bind(filter.rule_id.as_deref())
                    .bind(filter.patient.as_deref())
                    .bind(filter.include_closed)
                    .bind(filter.after_id)
                    .bind(effective_limit(filter.limit))
                    .bind(filter.indicator)
                    .bind(filter.first_seen_after.map(Timestamp))
                    .bind(filter.product.as_deref())
                    .bind(filter.prevention.map(|p| p.as_str()))
                    .bind(filter.due_before.map(|d| d.to_string()))
                    .bind(filter.id)
                    .bind(filter.hide_snoozed_at.map(Timestamp))
                    .fetch_all(pool)
                    .await?;
                Ok(into_models(rows))
            }

            /// [`Store::record_audit`](crate::storage::Store::record_audit).
            pub(crate) async fn audit(
                pool: &$pool,
                entry: &NewAudit,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let done = sqlx::query(sql::INSERT_READ_AUDIT)
                    .bind(Timestamp(at))
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(entry.rule_id.as_deref())
                    .bind(entry.before.as_ref().map(Json))
                    .bind(entry.after.as_ref().map(Json))
                    .bind(entry.reason.as_deref())
                    .execute(pool)
                    .await?;
                // An entry that cannot be written must fail the read it audits.
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }
        }
    };
}

// SQLite: the write lock from the first statement, so two finishing runs merge one after the
// other.
backend!(sqlite, sqlx::SqlitePool, "BEGIN IMMEDIATE", [] as [&str; 0]);
// PostgreSQL: two finishing runs take turns on a transaction-scoped advisory lock; the merge
// of a large worklist may take longer than a request's `statement_timeout`, so the finishing
// transaction allows the five minutes a whole run is given.
backend!(
    postgres,
    sqlx::PgPool,
    "BEGIN",
    [
        "SELECT pg_advisory_xact_lock(hashtext('cart_sentinel_population'))",
        "SET LOCAL statement_timeout = '300s'",
    ]
);
