//! Acting on worklist findings, snoozes, and the cards issued for a patient key: the records
//! the [`Store`](super::Store) methods take and give, their SQL (`sql`) and the one
//! implementation made for each backend's pool (`imp`).
//!
//! An action is kept against the finding's row, which stays the same while later runs find it
//! again, so the latest action shows on the next runs' worklist; a finding closed and opened
//! again is a new row and starts without one. A snooze names its patient by a keyed hash only
//! (`crate::privacy`), never by reference.

pub(super) mod imp;
mod sql;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What was done about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Seen and accepted as a task.
    Acknowledge,
    /// Hidden from the open list (and quiet in hook calls) until a time.
    Snooze,
    /// The patient was contacted.
    Contacted,
}

impl ActionKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Acknowledge => "acknowledge",
            ActionKind::Snooze => "snooze",
            ActionKind::Contacted => "contacted",
        }
    }
}

impl std::str::FromStr for ActionKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "acknowledge" => Ok(ActionKind::Acknowledge),
            "snooze" => Ok(ActionKind::Snooze),
            "contacted" => Ok(ActionKind::Contacted),
            _ => Err(()),
        }
    }
}

/// An action about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFindingAction {
    /// The worklist finding acted on.
    pub finding_id: i64,
    /// What was done.
    pub action: ActionKind,
    /// Why (free text).
    pub reason: String,
    /// A snooze's end.
    pub until: Option<DateTime<Utc>>,
    /// Who (the token's `sub`).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A recorded action, as the worklist shows the latest one with its finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingAction {
    /// What was done.
    pub action: ActionKind,
    /// Why.
    pub reason: String,
    /// A snooze's end.
    pub until: Option<DateTime<Utc>>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where a snooze came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozeOrigin {
    /// A card overridden with a reason its rule marks as snoozing.
    Card,
    /// A worklist snooze.
    Worklist,
}

impl SnoozeOrigin {
    fn as_str(self) -> &'static str {
        match self {
            SnoozeOrigin::Card => "card",
            SnoozeOrigin::Worklist => "worklist",
        }
    }
}

/// A rule kept quiet for a patient until a time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSnooze {
    /// The keyed hash of the patient reference (hex), never the reference.
    pub patient_key: String,
    /// The rule kept quiet.
    pub rule_id: String,
    /// Quiet until this instant.
    pub until: DateTime<Utc>,
    /// Card feedback or the worklist.
    pub origin: SnoozeOrigin,
    /// The override reason's code (card feedback).
    pub reason_code: Option<String>,
    /// The reason in words (the worklist action's reason).
    pub reason_text: Option<String>,
    /// Who, when known (a worklist user; card feedback names no user).
    pub actor: Option<String>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// The rule and the patient key an issued card was recorded with.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedCardKey {
    /// The rule that produced the card.
    pub rule_id: String,
    /// The keyed hash of the card's patient (none for cards issued before it was kept).
    pub patient_key: Option<String>,
}

/// A card issued for a patient (found by the patient's keyed hash), with the latest feedback
/// on it: what a patient's timeline marks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientCard {
    /// The rule that produced it.
    pub rule_id: String,
    /// The hook that was called.
    pub hook: String,
    /// The card's urgency.
    pub indicator: crate::storage::CardIndicator,
    /// When it was returned.
    pub issued_at: DateTime<Utc>,
    /// `accepted` or `overridden`, when feedback came.
    pub outcome: Option<String>,
    /// The override reason's display (else its code), when overridden with one.
    pub override_reason: Option<String>,
}
