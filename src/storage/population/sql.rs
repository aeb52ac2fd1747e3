//! SQL of population runs, valid in `SQLite` (3.35 and later: `RETURNING`, `UPDATE … FROM`) and
//! in `PostgreSQL`, and the row types of its queries.

use serde_json::Value;
use sqlx::types::Json;

use super::{Facets, PopulationCounts, PopulationFinding, PopulationRun, RunStatus};
use crate::storage::codec::Timestamp;
use crate::storage::models::CardIndicator;
use crate::storage::snooze::FindingAction;

/// Binds: pack version, run's now, started time. Returns the id.
pub(super) const START_RUN: &str = "\
INSERT INTO population_runs (pack_version, run_at, started_at, heartbeat_at, status)
VALUES ($1, $2, $3, $3, 'running')
RETURNING id";

/// Binds: silent since, now, message. Runs still running whose last sign of life (else their
/// start) is before "silent since" are recorded as failed: their process stopped.
pub(super) const ABANDON_SILENT: &str = "\
UPDATE population_runs SET status = 'failed', finished_at = $2, message = $3
WHERE status = 'running' AND COALESCE(heartbeat_at, started_at) < $1";

/// Binds: run, now. A running run's sign of life.
pub(super) const BEAT: &str =
    "UPDATE population_runs SET heartbeat_at = $2 WHERE id = $1 AND status = 'running'";

/// Binds: run, patient, name, rule, indicator, summary, values (JSON), product, prevention,
/// due date, day 0. A finding staged twice (a retried batch) is kept once.
pub(super) const STAGE_FINDING: &str = "\
INSERT INTO population_run_findings (run_id, patient, display_name, rule_id, indicator,
    summary, fired_with, product, prevention, due_on, day0)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (run_id, patient, rule_id) DO NOTHING";

/// Binds: run, finished time, status, message, patients, cohort, resources read, skipped,
/// findings, detail (JSON). Affects no row unless the run is running.
pub(super) const END_RUN: &str = "\
UPDATE population_runs
SET finished_at = $2, status = $3, message = $4, patients_read = $5, cohort_size = $6,
    resources_read = $7, resources_skipped = $8, findings = $9, counts = $10
WHERE id = $1 AND status = 'running'";

/// Binds: run. Open findings the run found again take its values.
pub(super) const MERGE_SEEN: &str = "\
UPDATE population_findings
SET last_seen_run = s.run_id, display_name = s.display_name, indicator = s.indicator,
    summary = s.summary, fired_with = s.fired_with, product = s.product,
    prevention = s.prevention, due_on = s.due_on, day0 = s.day0
FROM population_run_findings s
WHERE s.run_id = $1
  AND population_findings.closed_by_run IS NULL
  AND population_findings.patient = s.patient
  AND population_findings.rule_id = s.rule_id";

/// Binds: run, run's now. The run's findings that are not open yet open.
pub(super) const MERGE_NEW: &str = "\
INSERT INTO population_findings (patient, display_name, rule_id, indicator, summary,
    fired_with, first_seen_run, first_seen_at, last_seen_run, product, prevention, due_on,
    day0)
SELECT s.patient, s.display_name, s.rule_id, s.indicator, s.summary, s.fired_with,
    s.run_id, $2, s.run_id, s.product, s.prevention, s.due_on, s.day0
FROM population_run_findings s
WHERE s.run_id = $1
  AND NOT EXISTS (
    SELECT 1 FROM population_findings f
    WHERE f.closed_by_run IS NULL AND f.patient = s.patient AND f.rule_id = s.rule_id)";

/// Binds: run, run's now. Open findings the run did not find are closed by it.
pub(super) const CLOSE_ABSENT: &str = "\
UPDATE population_findings
SET closed_by_run = $1, closed_at = $2
WHERE closed_by_run IS NULL AND last_seen_run <> $1";

/// Binds: run.
pub(super) const UNSTAGE: &str = "DELETE FROM population_run_findings WHERE run_id = $1";

/// Binds: cutoff. Closed findings closed before it.
pub(super) const PURGE_CLOSED: &str =
    "DELETE FROM population_findings WHERE closed_at IS NOT NULL AND closed_at < $1";

/// Binds: cutoff, the current run. Runs before the cutoff that no kept finding names (their
/// staged findings go with them).
pub(super) const PURGE_RUNS: &str = "\
DELETE FROM population_runs
WHERE run_at < $1 AND id <> $2
  AND NOT EXISTS (
    SELECT 1 FROM population_findings f
    WHERE f.first_seen_run = population_runs.id
       OR f.last_seen_run = population_runs.id
       OR f.closed_by_run = population_runs.id)";

/// The columns of a run, for [`GET_RUN`] and [`LIST_RUNS`] (`concat!` keeps them literals,
/// which sqlx requires of SQL).
macro_rules! run_columns {
    () => {
        "id, pack_version, run_at, started_at, finished_at, status, message, patients_read, \
         cohort_size, resources_read, resources_skipped, findings, counts"
    };
}

/// Binds: run.
pub(super) const GET_RUN: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM population_runs WHERE id = $1"
);

/// Binds: limit. Newest first.
pub(super) const LIST_RUNS: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM population_runs ORDER BY id DESC LIMIT $1"
);

/// Binds: rule, patient (each optional), closed too, after id (optional), limit, indicator,
/// first seen after, product, prevention, due before, finding id, snoozed at (each
/// optional). By id, each finding with its latest action; with "snoozed at", findings whose
/// latest action is a snooze lasting past it are left out.
pub(super) const LIST_FINDINGS: &str = "\
SELECT f.id, f.patient, f.display_name, f.rule_id, f.indicator, f.summary, f.fired_with,
    f.first_seen_run, f.first_seen_at, f.last_seen_run, f.closed_by_run, f.closed_at,
    f.product, f.prevention, f.due_on, f.day0, a.action AS action_kind,
    a.reason AS action_reason, a.until AS action_until, a.actor AS action_actor, a.at AS action_at
FROM population_findings f
LEFT JOIN finding_actions a ON a.id = (
    SELECT MAX(x.id) FROM finding_actions x WHERE x.finding_id = f.id)
WHERE ($1 IS NULL OR f.rule_id = $1)
  AND ($2 IS NULL OR f.patient = $2)
  AND ($3 OR f.closed_by_run IS NULL)
  AND ($4 IS NULL OR f.id > $4)
  AND ($6 IS NULL OR f.indicator = $6)
  AND ($7 IS NULL OR f.first_seen_at > $7)
  AND ($8 IS NULL OR f.product = $8)
  AND ($9 IS NULL OR f.prevention = $9)
  AND ($10 IS NULL OR f.due_on < $10)
  AND ($11 IS NULL OR f.id = $11)
  AND ($12 IS NULL OR a.action IS NULL OR a.action <> 'snooze' OR a.until <= $12)
ORDER BY f.id
LIMIT $5";

/// Binds: none. Actions on findings retention deleted.
pub(super) const PURGE_ACTIONS: &str = "\
DELETE FROM finding_actions
WHERE NOT EXISTS (SELECT 1 FROM population_findings f WHERE f.id = finding_actions.finding_id)";

/// Binds: time, actor, action, rule, before, after (JSON), reason. An audit entry that
/// changes no pack, recorded against the active pack version.
pub(super) const INSERT_READ_AUDIT: &str = "\
INSERT INTO audit_log (at, actor, action, rule_id, pack_version, before, after, reason)
SELECT $1, $2, $3, $4, version, $5, $6, $7 FROM active_pack WHERE id = 1 AND version IS NOT NULL";

/// Shape of [`GET_RUN`] and [`LIST_RUNS`].
#[derive(sqlx::FromRow)]
pub(super) struct RunRow {
    id: i64,
    pack_version: i64,
    run_at: Timestamp,
    started_at: Timestamp,
    finished_at: Option<Timestamp>,
    status: String,
    message: Option<String>,
    patients_read: Option<i64>,
    cohort_size: Option<i64>,
    resources_read: Option<i64>,
    resources_skipped: Option<i64>,
    findings: Option<i64>,
    counts: Option<Json<Value>>,
}

impl From<RunRow> for PopulationRun {
    fn from(row: RunRow) -> Self {
        let counts = row.counts.map(|detail| PopulationCounts {
            patients_read: row.patients_read.unwrap_or_default(),
            cohort_size: row.cohort_size.unwrap_or_default(),
            resources_read: row.resources_read.unwrap_or_default(),
            resources_skipped: row.resources_skipped.unwrap_or_default(),
            findings: row.findings.unwrap_or_default(),
            detail: detail.0,
        });
        Self {
            id: row.id,
            pack_version: row.pack_version,
            run_at: row.run_at.into(),
            started_at: row.started_at.into(),
            finished_at: row.finished_at.map(Into::into),
            status: RunStatus::parse(&row.status),
            message: row.message,
            counts,
        }
    }
}

/// Shape of [`LIST_FINDINGS`].
#[derive(sqlx::FromRow)]
pub(super) struct FindingRow {
    id: i64,
    patient: String,
    display_name: Option<String>,
    rule_id: String,
    indicator: CardIndicator,
    summary: String,
    fired_with: Json<Value>,
    first_seen_run: i64,
    first_seen_at: Timestamp,
    last_seen_run: i64,
    closed_by_run: Option<i64>,
    closed_at: Option<Timestamp>,
    product: Option<String>,
    prevention: Option<String>,
    due_on: Option<String>,
    day0: Option<String>,
    action_kind: Option<String>,
    action_reason: Option<String>,
    action_until: Option<Timestamp>,
    action_actor: Option<String>,
    action_at: Option<Timestamp>,
}

impl From<FindingRow> for PopulationFinding {
    fn from(row: FindingRow) -> Self {
        Self {
            id: row.id,
            patient: row.patient,
            display_name: row.display_name,
            rule_id: row.rule_id,
            indicator: row.indicator,
            summary: row.summary,
            fired_with: row.fired_with.0,
            // Both columns are written only from the types they are read back into.
            facets: Facets {
                product: row.product,
                prevention: row.prevention.and_then(|p| p.parse().ok()),
                due_on: row.due_on.and_then(|d| d.parse().ok()),
                day0: row.day0.and_then(|d| d.parse().ok()),
            },
            latest_action: match (row.action_kind, row.action_actor, row.action_at) {
                (Some(kind), Some(actor), Some(at)) => {
                    kind.parse().ok().map(|action| FindingAction {
                        action,
                        reason: row.action_reason.unwrap_or_default(),
                        until: row.action_until.map(Into::into),
                        actor,
                        at: at.into(),
                    })
                }
                _ => None,
            },
            first_seen_run: row.first_seen_run,
            first_seen_at: row.first_seen_at.into(),
            last_seen_run: row.last_seen_run,
            closed_by_run: row.closed_by_run,
            closed_at: row.closed_at.map(Into::into),
        }
    }
}
