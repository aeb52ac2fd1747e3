//! Store contract: every `Store` method, written once against `Arc<dyn Store>` and run on
//! `SQLite` (a temporary file) always, and on `PostgreSQL` when `TEST_POSTGRES_URL` names an
//! admin connection (each test then creates its own `cs_test_<uuid>` database and drops it).
//!
//! `TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --test api store_contract`

mod feedback;
mod packs;
mod population;
mod population_reads;
mod replicas;
mod security;
mod snoozes;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use cart_sentinel::storage::{
    self, AuditFilter, AuditRecord, CardIndicator, FeedbackFilter, FeedbackOutcome, FeedbackRecord,
    IssuedCard, NewAudit, NewFeedback, NewPackVersion, PackVersion, ReasonCoding, Store,
    StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sqlx::Connection;

/// One store under test. Its database outlives it: [`for_each_backend`] keeps the
/// [`Database`] guard until the check has finished.
struct Backend {
    name: &'static str,
    url: String,
    store: Arc<dyn Store>,
}

impl Deref for Backend {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

impl Backend {
    async fn feedback(&self, filter: FeedbackFilter) -> Vec<FeedbackRecord> {
        self.list_feedback(&filter).await.expect("list feedback")
    }

    async fn audit(&self, filter: AuditFilter) -> Vec<AuditRecord> {
        self.audit_log(&filter).await.expect("audit log")
    }

    /// `(version, active)` of every stored pack, newest first.
    async fn packs(&self) -> Vec<(i64, bool)> {
        let packs = self.list_packs(100).await.expect("list packs");
        packs.iter().map(|p| (p.version, p.active)).collect()
    }

    async fn active_version(&self) -> Option<i64> {
        let active = self.active_pack().await.expect("active pack");
        active.map(|p| p.version)
    }

    async fn commit(
        &self,
        expected: Option<i64>,
        actor: &str,
        rule: &str,
        at: DateTime<Utc>,
    ) -> Result<PackVersion, StoreError> {
        self.commit_pack(change(expected, actor, rule, at)).await
    }
}

/// Removes the test database when dropped.
enum Database {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { _db: PgDatabase },
}

/// A throwaway `PostgreSQL` database, dropped (even when the test panics) on a runtime of its
/// own, because `Drop` cannot await.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

async fn sqlite_backend() -> (Backend, Database) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite:{}", dir.path().join("store.db").display());
    let store = storage::connect(&url, 5).await.expect("SQLite store");
    (
        Backend {
            name: "sqlite",
            url,
            store,
        },
        Database::Sqlite { _dir: dir },
    )
}

async fn postgres_backend(admin_url: &str) -> (Backend, Database) {
    let name = format!("cs_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("admin connection");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    admin.close().await.expect("close admin connection");
    let guard = PgDatabase {
        admin_url: admin_url.to_owned(),
        name: name.clone(),
    };
    let mut url = url::Url::parse(admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    let url = url.to_string();
    let store = storage::connect(&url, 5).await.expect("PostgreSQL store");
    (
        Backend {
            name: "postgres",
            url,
            store,
        },
        Database::Postgres { _db: guard },
    )
}

/// Runs `check` on a fresh `SQLite` store, then on a fresh `PostgreSQL` one if configured.
async fn for_each_backend<F, Fut>(check: F)
where
    F: Fn(Backend) -> Fut,
    Fut: Future<Output = ()>,
{
    eprintln!("store contract on sqlite");
    let (backend, _database) = sqlite_backend().await;
    check(backend).await;
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin_url) => {
            eprintln!("store contract on postgres");
            let (backend, _database) = postgres_backend(&admin_url).await;
            check(backend).await;
        }
        Err(_) => eprintln!("TEST_POSTGRES_URL not set: PostgreSQL contract skipped"),
    }
}

/// A fixed instant plus `minutes`, in whole seconds so that it survives storage unchanged.
fn t(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).expect("valid instant") + TimeDelta::minutes(minutes)
}

fn accepted(card: &str, at: DateTime<Utc>) -> NewFeedback {
    NewFeedback {
        service_id: "cart-crs-watch".to_owned(),
        card_uuid: card.to_owned(),
        outcome: FeedbackOutcome::Accepted,
        outcome_timestamp: at,
        accepted_suggestions: vec!["order-ferritin".to_owned(), "order-crp".to_owned()],
        override_reason: None,
        override_comment: None,
    }
}

fn overridden(card: &str, at: DateTime<Utc>, code: &str, comment: Option<&str>) -> NewFeedback {
    NewFeedback {
        outcome: FeedbackOutcome::Overridden,
        accepted_suggestions: Vec::new(),
        override_reason: Some(ReasonCoding {
            system: Some("https://cart-sentinel.example/override-reasons".to_owned()),
            code: code.to_owned(),
            display: Some(format!("Reason {code}")),
        }),
        override_comment: comment.map(str::to_owned),
        ..accepted(card, at)
    }
}

fn card(uuid: &str, rule: &str, indicator: CardIndicator, at: DateTime<Utc>) -> IssuedCard {
    IssuedCard {
        card_uuid: uuid.to_owned(),
        rule_id: rule.to_owned(),
        service_id: "cart-crs-watch".to_owned(),
        hook: "patient-view".to_owned(),
        indicator,
        pack_version: 1,
        issued_at: at,
        patient_key: None,
    }
}

fn change(expected: Option<i64>, actor: &str, rule: &str, at: DateTime<Utc>) -> NewPackVersion {
    NewPackVersion {
        expected_active: expected,
        document: json!({ "rules": [{ "id": rule, "threshold": 38.5 }], "editedBy": actor }),
        author: actor.to_owned(),
        reason: Some(format!("tune {rule}")),
        created_at: at,
        audit: NewAudit {
            actor: actor.to_owned(),
            action: "rule.update".to_owned(),
            rule_id: Some(rule.to_owned()),
            before: Some(json!({ "threshold": 38.0 })),
            after: Some(json!({ "threshold": 38.5 })),
            reason: Some(format!("tune {rule}")),
        },
    }
}
