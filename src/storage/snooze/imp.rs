//! The finding-action, snooze and patient-card methods of [`Store`](crate::storage::Store), written once and
//! made for each backend's pool by `backend!`.

use chrono::{DateTime, Utc};

use super::sql;
use super::{IssuedCardKey, NewFindingAction, NewSnooze, PatientCard};
use crate::storage::codec::Timestamp;
use crate::storage::CardIndicator;
use crate::storage::StoreError;

/// Shape of `sql::PATIENT_CARDS`.
type CardRow = (
    String,
    String,
    CardIndicator,
    Timestamp,
    Option<String>,
    Option<String>,
);

macro_rules! backend {
    ($module:ident, $pool:ty, $db:ty, $begin_write:expr) => {
        /// The finding-action, snooze and patient-card methods on this backend.
        pub(crate) mod $module {
            use super::*;

            async fn insert_snooze(
                tx: &mut sqlx::Transaction<'_, $db>,
                s: &NewSnooze,
            ) -> Result<(), StoreError> {
                sqlx::query(sql::PURGE_ENDED)
                    .bind(Timestamp(s.at))
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(sql::INSERT_SNOOZE)
                    .bind(&s.patient_key)
                    .bind(&s.rule_id)
                    .bind(Timestamp(s.until))
                    .bind(s.origin.as_str())
                    .bind(s.reason_code.as_deref())
                    .bind(s.reason_text.as_deref())
                    .bind(s.actor.as_deref())
                    .bind(Timestamp(s.at))
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// [`Store::act_on_finding`](crate::storage::Store::act_on_finding).
            pub(crate) async fn act(
                pool: &$pool,
                action: &NewFindingAction,
                snooze: Option<&NewSnooze>,
            ) -> Result<(), StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let exists = sqlx::query(sql::FINDING_EXISTS)
                    .bind(action.finding_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(sql::INSERT_ACTION)
                    .bind(action.finding_id)
                    .bind(action.action.as_str())
                    .bind(&action.reason)
                    .bind(action.until.map(Timestamp))
                    .bind(&action.actor)
                    .bind(Timestamp(action.at))
                    .execute(&mut *tx)
                    .await?;
                if let Some(s) = snooze {
                    insert_snooze(&mut tx, s).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// [`Store::record_snooze`](crate::storage::Store::record_snooze).
            pub(crate) async fn snooze(pool: &$pool, s: &NewSnooze) -> Result<(), StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                insert_snooze(&mut tx, s).await?;
                tx.commit().await?;
                Ok(())
            }

            /// [`Store::active_snoozes`](crate::storage::Store::active_snoozes).
            pub(crate) async fn active(
                pool: &$pool,
                patient_key: &str,
                at: DateTime<Utc>,
            ) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar(sql::ACTIVE)
                    .bind(patient_key)
                    .bind(Timestamp(at))
                    .fetch_all(pool)
                    .await?)
            }

            /// [`Store::issued_card_key`](crate::storage::Store::issued_card_key).
            pub(crate) async fn issued_key(
                pool: &$pool,
                card_uuid: &str,
            ) -> Result<Option<IssuedCardKey>, StoreError> {
                let row: Option<(String, Option<String>)> = sqlx::query_as(sql::ISSUED_CARD_KEY)
                    .bind(card_uuid)
                    .fetch_optional(pool)
                    .await?;
                Ok(row.map(|(rule_id, patient_key)| IssuedCardKey {
                    rule_id,
                    patient_key,
                }))
            }

            /// [`Store::patient_cards`](crate::storage::Store::patient_cards).
            pub(crate) async fn patient_cards(
                pool: &$pool,
                patient_key: &str,
                limit: i64,
            ) -> Result<Vec<PatientCard>, StoreError> {
                let rows: Vec<CardRow> = sqlx::query_as(sql::PATIENT_CARDS)
                    .bind(patient_key)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| PatientCard {
                        rule_id: r.0,
                        hook: r.1,
                        indicator: r.2,
                        issued_at: r.3.into(),
                        outcome: r.4,
                        override_reason: r.5,
                    })
                    .collect())
            }
        }
    };
}

// SQLite takes the write lock from the first statement, as every writer here does.
backend!(sqlite, sqlx::SqlitePool, sqlx::Sqlite, "BEGIN IMMEDIATE");
backend!(postgres, sqlx::PgPool, sqlx::Postgres, "BEGIN");
