//! Plain records passed to and returned by the [`Store`](super::Store). They carry no patient
//! data and no database types, so the API layer can build and serialise them without `sqlx`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the clinician did with a card (CDS Hooks 2.0 feedback `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackOutcome {
    /// The card, or one of its suggestions, was accepted.
    Accepted,
    /// The card was dismissed, possibly with a reason.
    Overridden,
}

/// Urgency of an issued card (CDS Hooks 2.0 card `indicator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardIndicator {
    /// Informational.
    Info,
    /// Needs attention.
    Warning,
    /// Needs immediate attention.
    Critical,
}

/// A stored enum value that the code does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownValue(pub String);

/// Maps an enum to and from the lowercase text stored in the database.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The text stored in the database and used on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err(UnknownValue(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(FeedbackOutcome { Accepted => "accepted", Overridden => "overridden" });
text_enum!(CardIndicator { Info => "info", Warning => "warning", Critical => "critical" });

/// A coded override reason (a FHIR `Coding`), one of those the service advertised on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCoding {
    /// Code system URI.
    pub system: Option<String>,
    /// The code.
    pub code: String,
    /// Human-readable text for the code.
    pub display: Option<String>,
}

/// One feedback item to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    /// CDS service the card came from.
    pub service_id: String,
    /// `uuid` of the card the feedback is about.
    pub card_uuid: String,
    /// Accepted or overridden.
    pub outcome: FeedbackOutcome,
    /// When the clinician acted, as reported by the EHR.
    pub outcome_timestamp: DateTime<Utc>,
    /// Ids of the accepted suggestions (order does not matter).
    pub accepted_suggestions: Vec<String>,
    /// Coded reason for an override.
    pub override_reason: Option<ReasonCoding>,
    /// Free-text comment for an override.
    pub override_comment: Option<String>,
}

/// Result of [`Store::record_feedback`](super::Store::record_feedback).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackSaved {
    /// Items stored by this call.
    pub inserted: u64,
    /// Items identical to one already stored (or earlier in the same call), not stored again.
    pub duplicates: u64,
}

impl FeedbackSaved {
    /// Counts one insert attempt that affected `rows` rows (0 means a duplicate).
    pub(crate) fn count(&mut self, rows: u64) {
        if rows == 0 {
            self.duplicates += 1;
        } else {
            self.inserted += rows;
        }
    }
}

/// Which feedback to list; every `None` field matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackFilter {
    /// Only feedback for this CDS service.
    pub service_id: Option<String>,
    /// Only feedback on cards issued by this rule.
    pub rule_id: Option<String>,
    /// Only outcomes at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only outcomes before this instant.
    pub to: Option<DateTime<Utc>>,
    /// At most this many rows ([`DEFAULT_LIST_LIMIT`](super::DEFAULT_LIST_LIMIT) if `None`).
    pub limit: Option<i64>,
}

/// A stored feedback item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackRecord {
    /// Store-assigned id.
    pub id: i64,
    /// CDS service the card came from.
    pub service_id: String,
    /// `uuid` of the card.
    pub card_uuid: String,
    /// Rule that issued the card, if the card was recorded as issued.
    pub rule_id: Option<String>,
    /// Accepted or overridden.
    pub outcome: FeedbackOutcome,
    /// When the clinician acted.
    pub outcome_timestamp: DateTime<Utc>,
    /// Ids of the accepted suggestions.
    pub accepted_suggestions: Vec<String>,
    /// Coded reason for an override.
    pub override_reason: Option<ReasonCoding>,
    /// Free-text comment for an override.
    pub override_comment: Option<String>,
    /// When the service stored the item.
    pub received_at: DateTime<Utc>,
}

/// A card the service returned, remembered so that feedback can be traced to its rule.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedCard {
    /// The card's `uuid`.
    pub card_uuid: String,
    /// Rule that produced it.
    pub rule_id: String,
    /// CDS service that returned it.
    pub service_id: String,
    /// Hook that was called (`patient-view`, `order-select`, …).
    pub hook: String,
    /// The card's urgency.
    pub indicator: CardIndicator,
    /// Rule pack version that was active.
    pub pack_version: i64,
    /// When the card was returned.
    pub issued_at: DateTime<Utc>,
    /// The keyed hash of the card's patient (`crate::privacy`), so that feedback on the card
    /// can snooze its rule for that patient; never the patient reference.
    pub patient_key: Option<String>,
}

/// A stored, immutable rule pack version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackVersion {
    /// Version number, starting at 1.
    pub version: i64,
    /// The pack itself.
    pub document: Value,
    /// Who committed it.
    pub author: String,
    /// Why it was committed.
    pub reason: Option<String>,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Whether it is the active version.
    pub active: bool,
}

/// A rule pack version without its document, for listings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackSummary {
    /// Version number.
    pub version: i64,
    /// Who committed it.
    pub author: String,
    /// Why it was committed.
    pub reason: Option<String>,
    /// When it was committed.
    pub created_at: DateTime<Utc>,
    /// Whether it is the active version.
    pub active: bool,
}

/// A new rule pack version and the audit entry that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPackVersion {
    /// The version the caller believes is active (`None`: the store has no pack yet).
    pub expected_active: Option<i64>,
    /// The complete pack.
    pub document: Value,
    /// Who commits it.
    pub author: String,
    /// Why.
    pub reason: Option<String>,
    /// Commit time, also used as the audit entry's time.
    pub created_at: DateTime<Utc>,
    /// The audit entry written in the same transaction.
    pub audit: NewAudit,
}

/// An audit entry to write with a pack change; its time and pack version come from the change.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    /// Who acted (must not be empty).
    pub actor: String,
    /// What was done, e.g. `rule.update` (must not be empty).
    pub action: String,
    /// Rule concerned, if the change is about one rule.
    pub rule_id: Option<String>,
    /// State before the change.
    pub before: Option<Value>,
    /// State after the change.
    pub after: Option<Value>,
    /// Why.
    pub reason: Option<String>,
}

/// Which audit entries to list; every `None` field matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Only entries about this rule.
    pub rule_id: Option<String>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this instant.
    pub to: Option<DateTime<Utc>>,
    /// At most this many rows ([`DEFAULT_LIST_LIMIT`](super::DEFAULT_LIST_LIMIT) if `None`).
    pub limit: Option<i64>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Store-assigned id, increasing.
    pub id: i64,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: String,
    /// What was done, e.g. `rule.update`.
    pub action: String,
    /// Rule concerned, if any.
    pub rule_id: Option<String>,
    /// Pack version the change produced.
    pub pack_version: i64,
    /// State before the change.
    pub before: Option<Value>,
    /// State after the change.
    pub after: Option<Value>,
    /// Why.
    pub reason: Option<String>,
}
