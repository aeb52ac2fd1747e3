//! Several replicas on one PostgreSQL see one rule set.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{json, Value};

use crate::helpers::{load_json, spawn_with, TestApp};
use crate::process::dev_token;

const FIXTURE: &str = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";

pub(crate) async fn cbc_fires(app: &TestApp) -> bool {
    app.set_now("2026-06-15T12:00:00Z".parse().unwrap());
    let body: Value = app
        .call(
            "cart-monitoring",
            &load_json(format!("{FIXTURE}.request.json")),
        )
        .await
        .json()
        .await
        .unwrap();
    body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["source"]["topic"]["code"] == "cbc-surveillance-overdue")
}

/// Sets the CBC rule's phase-1 interval to 35 days through `app`'s admin API, after which
/// [`cbc_fires`] no longer holds.
pub(crate) async fn lengthen_cbc_interval(app: &TestApp) {
    let resp = app
        .client
        .patch(format!(
            "{}/admin/rules/cbc-surveillance-overdue/parameters",
            app.address
        ))
        .bearer_auth(dev_token(app.data_dir.path()))
        .json(&json!({"interval_phase1_days": 35}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A fresh PostgreSQL database for this test, or None when `TEST_POSTGRES_URL` is not set.
pub(crate) async fn fresh_postgres() -> Option<String> {
    let admin_url = std::env::var("TEST_POSTGRES_URL").ok()?;
    let name = format!("cs_replicas_{}", uuid::Uuid::new_v4().simple());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    // The name is generated here (a uuid), not taken from input.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

#[tokio::test]
async fn a_change_through_one_replica_reaches_the_other_within_two_seconds() {
    let Some(db) = fresh_postgres().await else {
        eprintln!("skipped: set TEST_POSTGRES_URL to run the two-replica test");
        return;
    };
    let (db_a, db_b) = (db.clone(), db.clone());
    let a = spawn_with(move |s| s.storage.database_url = Some(SecretString::from(db_a))).await;
    let b = spawn_with(move |s| s.storage.database_url = Some(SecretString::from(db_b))).await;
    assert!(cbc_fires(&b).await);

    lengthen_cbc_interval(&a).await;
    let changed_at = Instant::now();

    while cbc_fires(&b).await {
        assert!(
            changed_at.elapsed() < Duration::from_secs(2),
            "replica B still uses the old interval after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (sa, sb) = (a.server.clone(), b.server.clone());
    sa.stop(false).await;
    sb.stop(false).await;
    drop_database(&db).await;
}

pub(crate) async fn drop_database(db: &str) {
    let (Ok(admin_url), Ok(url)) = (std::env::var("TEST_POSTGRES_URL"), url::Url::parse(db)) else {
        return;
    };
    let name = url.path().trim_start_matches('/').to_owned();
    if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}
