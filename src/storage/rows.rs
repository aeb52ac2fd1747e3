//! Row types shared by both backends: one `FromRow` struct per query shape in [`super::sql`],
//! each converted into its public model. Decoding works for `SQLite` and `PostgreSQL` alike
//! thanks to the codecs in [`super::codec`].

use serde_json::Value;
use sqlx::types::Json;

use super::codec::Timestamp;
use super::models::{
    AuditRecord, FeedbackOutcome, FeedbackRecord, PackSummary, PackVersion, ReasonCoding,
};

/// Shape of [`super::sql::LIST_FEEDBACK`].
#[derive(sqlx::FromRow)]
pub(crate) struct FeedbackRow {
    id: i64,
    service_id: String,
    card_uuid: String,
    rule_id: Option<String>,
    outcome: FeedbackOutcome,
    outcome_timestamp: Timestamp,
    accepted_suggestions: Json<Vec<String>>,
    override_reason_system: Option<String>,
    override_reason_code: Option<String>,
    override_reason_display: Option<String>,
    override_comment: Option<String>,
    received_at: Timestamp,
}

impl From<FeedbackRow> for FeedbackRecord {
    fn from(row: FeedbackRow) -> Self {
        let override_reason = row.override_reason_code.map(|code| ReasonCoding {
            system: row.override_reason_system,
            code,
            display: row.override_reason_display,
        });
        Self {
            id: row.id,
            service_id: row.service_id,
            card_uuid: row.card_uuid,
            rule_id: row.rule_id,
            outcome: row.outcome,
            outcome_timestamp: row.outcome_timestamp.into(),
            accepted_suggestions: row.accepted_suggestions.0,
            override_reason,
            override_comment: row.override_comment,
            received_at: row.received_at.into(),
        }
    }
}

/// Shape of [`super::sql::ACTIVE_PACK`] and [`super::sql::GET_PACK`].
#[derive(sqlx::FromRow)]
pub(crate) struct PackRow {
    version: i64,
    document: Json<Value>,
    author: String,
    reason: Option<String>,
    created_at: Timestamp,
    active: bool,
}

impl From<PackRow> for PackVersion {
    fn from(row: PackRow) -> Self {
        Self {
            version: row.version,
            document: row.document.0,
            author: row.author,
            reason: row.reason,
            created_at: row.created_at.into(),
            active: row.active,
        }
    }
}

/// Shape of [`super::sql::LIST_PACKS`].
#[derive(sqlx::FromRow)]
pub(crate) struct PackSummaryRow {
    version: i64,
    author: String,
    reason: Option<String>,
    created_at: Timestamp,
    active: bool,
}

impl From<PackSummaryRow> for PackSummary {
    fn from(row: PackSummaryRow) -> Self {
        Self {
            version: row.version,
            author: row.author,
            reason: row.reason,
            created_at: row.created_at.into(),
            active: row.active,
        }
    }
}

/// Shape of [`super::sql::LIST_AUDIT`].
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: Timestamp,
    actor: String,
    action: String,
    rule_id: Option<String>,
    pack_version: i64,
    before: Option<Json<Value>>,
    after: Option<Json<Value>>,
    reason: Option<String>,
}

impl From<AuditRow> for AuditRecord {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            at: row.at.into(),
            actor: row.actor,
            action: row.action,
            rule_id: row.rule_id,
            pack_version: row.pack_version,
            before: row.before.map(|json| json.0),
            after: row.after.map(|json| json.0),
            reason: row.reason,
        }
    }
}

/// Converts a list of rows into their models.
pub(crate) fn into_models<R, M: From<R>>(rows: Vec<R>) -> Vec<M> {
    rows.into_iter().map(M::from).collect()
}
