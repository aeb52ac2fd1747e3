//! Several replicas on one PostgreSQL see one rule set; a crash in the middle of writes loses
//! nothing acknowledged and leaves no half-applied pack.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{json, Value};

use cart_sentinel::storage::{connect, AuditFilter};

use crate::helpers::{load_json, spawn_with, TestApp};

const FIXTURE: &str = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";

fn dev_token(data_dir: &std::path::Path) -> String {
    crate::helpers::admin_token(
        data_dir,
        "replica-test",
        &["rules:read", "rules:write", "audit:read"],
        600,
    )
}

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

struct Server {
    child: Child,
    port: u16,
}

fn start_binary(data_dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_cart-sentinel"))
        .arg("serve")
        .env("SENTINEL__SERVER__PORT", port.to_string())
        .env("SENTINEL__STORAGE__DATA_DIR", data_dir)
        .env(
            "SENTINEL__RULES__DIR",
            crate::helpers::root().join("cds-hooks"),
        )
        .env("SENTINEL__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the service");
    Server { child, port }
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

#[tokio::test]
async fn killing_the_service_mid_write_loses_no_acknowledged_change_and_no_pack_is_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = start_binary(dir.path());
    wait_ready(&client, server.port).await;
    let token = dev_token(dir.path());

    // Writers run until the process is killed under them.
    let url = format!(
        "http://127.0.0.1:{}/admin/rules/cbc-surveillance-overdue/parameters",
        server.port
    );
    let writer = {
        let (client, token) = (client.clone(), token.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..10_000 {
                let value = 20 + (i % 40);
                match client
                    .patch(&url)
                    .bearer_auth(&token)
                    .json(&json!({"interval_phase1_days": value}))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(version) = v["packVersion"].as_i64() {
                            acknowledged.push((version, value));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    let acknowledged = writer.await.unwrap();
    assert!(
        acknowledged.len() > 3,
        "the writer got going before the kill ({} acknowledged)",
        acknowledged.len()
    );

    let restarted = start_binary(dir.path());
    wait_ready(&client, restarted.port).await;
    let store = connect(
        &format!("sqlite:{}", dir.path().join("cart-sentinel.db").display()),
        1,
    )
    .await
    .unwrap();
    let active = store.active_pack().await.unwrap().expect("an active pack");
    let (last_version, last_value) = *acknowledged.last().unwrap();
    assert!(
        active.version >= last_version,
        "acknowledged version {last_version} lost (active {})",
        active.version
    );
    for (version, value) in &acknowledged {
        let stored = store
            .get_pack(*version)
            .await
            .expect("every acknowledged version is stored");
        assert_eq!(
            stored.document["rules"]["cbc-surveillance-overdue"]["parameters"]
                ["interval_phase1_days"]["value"],
            json!(*value as f64)
        );
    }
    if active.version == last_version {
        let served: Value = client
            .get(format!(
                "http://127.0.0.1:{}/admin/rules/cbc-surveillance-overdue",
                restarted.port
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            served["parameters"]["interval_phase1_days"]["value"],
            json!(last_value as f64)
        );
    }
    let audit = store
        .audit_log(&AuditFilter {
            limit: Some(1000),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit.len() as i64,
        active.version,
        "one audit entry per version (seed included): nothing half-applied"
    );
    let mut restarted = restarted;
    restarted.child.kill().ok();
    restarted.child.wait().ok();
}

#[tokio::test]
async fn sigterm_stops_the_service_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = start_binary(dir.path());
    wait_ready(&client, server.port).await;

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 15 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
