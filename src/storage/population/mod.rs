//! Population runs and their worklist: the records the [`Store`](super::Store) methods take and
//! give, the SQL both backends share (`sql`) and the one implementation of the methods, made
//! for each backend's pool (`imp`).
//!
//! A run's findings are staged while it runs and merged into the worklist in the transaction
//! that marks it succeeded: a finding open for the same patient and rule keeps its first-seen
//! run and time and takes the new summary; a new one opens; an open one the run did not find
//! is closed by it. A failed run merges nothing.

pub(super) mod imp;
mod sql;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::models::CardIndicator;
use super::snooze::FindingAction;

/// A run about to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPopulationRun {
    /// The pack version evaluated.
    pub pack_version: i64,
    /// The run's "now": the moment the pack is evaluated at.
    pub run_at: DateTime<Utc>,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// Runs still running with no sign of life since this instant are recorded as failed
    /// before this one starts (their process stopped; see `Store::beat_population_run`).
    pub abandon_silent_since: Option<DateTime<Utc>>,
}

/// What a finished run read and found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationCounts {
    /// Patients with at least one resource read.
    pub patients_read: i64,
    /// Of those, CAR-T recipients.
    pub cohort_size: i64,
    /// Resources read into records.
    pub resources_read: i64,
    /// Lines skipped.
    pub resources_skipped: i64,
    /// Findings.
    pub findings: i64,
    /// Everything else the runner counted (files, lines, skips by reason), as it gave them.
    pub detail: Value,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PopulationRunEnd {
    /// It read everything: its findings become the worklist.
    Succeeded(PopulationCounts),
    /// It stopped; the worklist stays as it was.
    Failed {
        /// What happened (no patient data).
        message: String,
        /// What it had counted, when anything.
        counts: Option<PopulationCounts>,
    },
}

/// A run's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started, not ended.
    Running,
    /// Ended; its findings are the worklist.
    Succeeded,
    /// Ended without changing the worklist.
    Failed,
}

impl RunStatus {
    fn parse(text: &str) -> RunStatus {
        match text {
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Running,
        }
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationRun {
    /// Run id.
    pub id: i64,
    /// The pack version evaluated.
    pub pack_version: i64,
    /// The run's "now".
    pub run_at: DateTime<Utc>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its state.
    pub status: RunStatus,
    /// Why it failed.
    pub message: Option<String>,
    /// Its counts, once ended.
    pub counts: Option<PopulationCounts>,
}

/// One finding of a running run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPopulationFinding {
    /// `Patient/{id}`.
    pub patient: String,
    /// The patient's name, when the export has one.
    pub display_name: Option<String>,
    /// The rule that fired.
    pub rule_id: String,
    /// Its indicator.
    pub indicator: CardIndicator,
    /// Its summary.
    pub summary: String,
    /// The values that made it fire, as the engine rendered them.
    pub fired_with: Value,
    /// What the worklist is filtered by besides rule and indicator.
    pub facets: Facets,
}

/// A finding's product, prevention level, due date and the patient's day 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    /// The patient's CAR-T product (a product id of the pack's cohort), when the record says.
    pub product: Option<String>,
    /// The rule's level of prevention.
    pub prevention: Option<Prevention>,
    /// The date (in `rules.time_zone`) on which what the rule reports became due, when the
    /// rule can say.
    pub due_on: Option<NaiveDate>,
    /// The patient's day 0 (first infusion of the latest course, in `rules.time_zone`), when
    /// the record says.
    pub day0: Option<NaiveDate>,
}

/// A rule's level of prevention, as the worklist stores it (the engine's own type stays in
/// the engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prevention {
    /// Before and at CAR-T.
    Primary,
    /// After infusion: early detection.
    Secondary,
    /// After a new malignancy.
    Tertiary,
}

impl Prevention {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Prevention::Primary => "primary",
            Prevention::Secondary => "secondary",
            Prevention::Tertiary => "tertiary",
        }
    }
}

impl std::str::FromStr for Prevention {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "primary" => Ok(Prevention::Primary),
            "secondary" => Ok(Prevention::Secondary),
            "tertiary" => Ok(Prevention::Tertiary),
            _ => Err(()),
        }
    }
}

/// A finding of the worklist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationFinding {
    /// Finding id.
    pub id: i64,
    /// `Patient/{id}`.
    pub patient: String,
    /// The patient's name, as the latest run read it.
    pub display_name: Option<String>,
    /// The rule.
    pub rule_id: String,
    /// The latest indicator.
    pub indicator: CardIndicator,
    /// The latest summary.
    pub summary: String,
    /// The latest values that made it fire.
    pub fired_with: Value,
    /// The latest product, prevention level, due date and day 0.
    #[serde(flatten)]
    pub facets: Facets,
    /// The latest action on it (acknowledged, snoozed, patient contacted).
    pub latest_action: Option<FindingAction>,
    /// The run that first found it.
    pub first_seen_run: i64,
    /// That run's "now".
    pub first_seen_at: DateTime<Utc>,
    /// The latest run that found it.
    pub last_seen_run: i64,
    /// The run that no longer found it.
    pub closed_by_run: Option<i64>,
    /// That run's "now".
    pub closed_at: Option<DateTime<Utc>>,
}

/// Which worklist findings to list, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PopulationFindingFilter {
    /// Only this rule's.
    pub rule_id: Option<String>,
    /// Only this patient's (`Patient/{id}`).
    pub patient: Option<String>,
    /// Only findings with this (latest) indicator.
    pub indicator: Option<CardIndicator>,
    /// Only findings first seen by a run whose "now" is after this instant.
    pub first_seen_after: Option<DateTime<Utc>>,
    /// Only findings of patients who received this product (a product id).
    pub product: Option<String>,
    /// Only findings of rules of this prevention level.
    pub prevention: Option<Prevention>,
    /// Only findings with a due date before this date (the overdue filter: the run's date
    /// minus N days).
    pub due_before: Option<NaiveDate>,
    /// Only the finding with this id.
    pub id: Option<i64>,
    /// Leave out findings whose latest action is a snooze lasting past this instant.
    pub hide_snoozed_at: Option<DateTime<Utc>>,
    /// Closed findings too.
    pub include_closed: bool,
    /// Only ids above this one (the last id of the previous page).
    pub after_id: Option<i64>,
    /// Most rows (default and cap as for every list).
    pub limit: Option<i64>,
}
