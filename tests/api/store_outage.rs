//! PostgreSQL stopped, unreachable or restarted under a running service (through
//! [`FaultProxy`]): hook calls answer the same cards from memory, discovery answers, `/readyz`
//! says 503, every call that needs the database answers 503 with `Retry-After` and an
//! OperationOutcome within `storage.timeout_ms` and a margin, the failures are counted by
//! operation, and everything works again once the database is back, without a restart.
//! Skipped when `TEST_POSTGRES_URL` is not set.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{json, Value};

use cart_sentinel::startup::Application;

use crate::fault_proxy::{Mode, ProxiedDb};
use crate::helpers::{admin_token, load_json, spawn_with, TestApp};
use crate::metrics::sample;

const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
const TIMEOUT_MS: u64 = 500;
/// What an answer may take beyond `storage.timeout_ms` (a loaded 2-core machine).
const MARGIN: Duration = Duration::from_millis(700);

async fn spawn_on_postgres(url: &str) -> TestApp {
    let url = url.to_owned();
    let app = spawn_with(move |s| {
        s.storage.database_url = Some(SecretString::from(url));
        s.storage.timeout_ms = TIMEOUT_MS;
    })
    .await;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    app
}

/// The cards of the fixture's hook call: their uuids and, sorted, their rule ids.
async fn hook_cards(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let started = Instant::now();
    let resp = app
        .call("cart-monitoring", &load_json(format!("{PJP}.request.json")))
        .await;
    assert_eq!(resp.status(), 200, "hook call");
    assert!(
        started.elapsed() < MARGIN,
        "hook call took {:?}",
        started.elapsed()
    );
    let body: Value = resp.json().await.unwrap();
    let cards = body["cards"].as_array().unwrap();
    let uuids = cards.iter().map(|c| c["uuid"].as_str().unwrap().to_owned());
    let mut rules: Vec<String> = cards
        .iter()
        .map(|c| c["source"]["topic"]["code"].as_str().unwrap().to_owned())
        .collect();
    rules.sort();
    (uuids.collect(), rules)
}

fn feedback_on(card: &str) -> Value {
    json!({"feedback": [{"card": card, "outcome": "accepted",
        "acceptedSuggestions": [{"id": "s1"}], "outcomeTimestamp": "2026-06-15T12:01:00Z"}]})
}

/// Every call that needs the database, as `(what, request)`.
fn store_calls(
    app: &TestApp,
    token: &str,
    card: &str,
) -> Vec<(&'static str, reqwest::RequestBuilder)> {
    let url = |path: &str| format!("{}{path}", app.address);
    let c = &app.client;
    let mut calls = vec![
        ("readyz", c.get(url("/readyz"))),
        (
            "feedback",
            c.post(url("/cds-services/cart-monitoring/feedback"))
                .json(&feedback_on(card)),
        ),
        (
            "admin write",
            c.patch(url("/admin/rules/cbc-surveillance-overdue/parameters"))
                .bearer_auth(token)
                .json(&json!({"interval_phase1_days": 21})),
        ),
        ("versions", c.get(url("/admin/versions")).bearer_auth(token)),
        (
            "version",
            c.get(url("/admin/versions/1")).bearer_auth(token),
        ),
        (
            "rollback",
            c.post(url("/admin/versions/1/rollback")).bearer_auth(token),
        ),
        ("audit", c.get(url("/admin/audit")).bearer_auth(token)),
        (
            "quality report",
            c.get(url("/admin/reports/quality")).bearer_auth(token),
        ),
    ];
    calls.extend(crate::worklist::reads(app, token));
    calls
}

async fn assert_retry_later(what: &str, request: reqwest::RequestBuilder) {
    let started = Instant::now();
    let bound = Duration::from_millis(TIMEOUT_MS) + MARGIN;
    let resp = tokio::time::timeout(bound * 4, request.send())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {:?}", bound * 4))
        .expect("an answer, not a dropped connection");
    let took = started.elapsed();
    assert_eq!(resp.status(), 503, "{what}");
    assert!(took < bound, "{what}: answered after {took:?}");
    assert!(resp.headers().contains_key("retry-after"), "{what}");
    let outcome: Value = resp.json().await.expect("JSON");
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{what}");
    assert_eq!(outcome["issue"][0]["code"], "transient", "{what}");
}

async fn store_errors(app: &TestApp, operation: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!(
        "cart_sentinel_store_errors_total{{operation=\"{operation}\",kind=\"unavailable\"}}"
    );
    sample(&text, &series).unwrap_or(0.0)
}

/// Polls `request` until it answers 200, for at most `within`.
async fn until_ok(what: &str, within: Duration, request: impl Fn() -> reqwest::RequestBuilder) {
    let started = Instant::now();
    loop {
        let status = request().send().await.unwrap().status();
        if status == 200 {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{what}: still {status} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh database behind a proxy and a service on it (through the proxy or not), with an
/// admin token; `None` when `TEST_POSTGRES_URL` is not set.
async fn service_on_postgres(through_proxy: bool) -> Option<(ProxiedDb, TestApp, String)> {
    let Some(db) = ProxiedDb::create().await else {
        eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL fault tests");
        return None;
    };
    let app = spawn_on_postgres(if through_proxy {
        &db.proxied
    } else {
        &db.direct
    })
    .await;
    let token = admin_token(
        app.data_dir.path(),
        "alice",
        &["rules:read", "rules:write", "audit:read", "worklist:read"],
        600,
    );
    Some((db, app, token))
}

async fn outage(mode: Mode) {
    let Some((db, app, token)) = service_on_postgres(true).await else {
        return;
    };
    let (before, rules) = hook_cards(&app).await;
    assert!(!rules.is_empty());
    let discovery: Value = app.discovery().await.json().await.unwrap();

    if mode == Mode::Partition {
        partition_mid_statement(&db, &app, &token).await;
    }
    db.proxy.set(mode);
    for (what, request) in store_calls(&app, &token, &before[0]) {
        assert_retry_later(what, request).await;
    }
    // The point of care is not held up: the same cards, from the pack in memory, shown
    // unsnoozed when the snoozes cannot be read; the next calls do not try again at once.
    assert_eq!(hook_cards(&app).await.1, rules, "cards during the outage");
    assert_eq!(hook_cards(&app).await.1, rules, "cards during the outage");
    let resp = app.discovery().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), discovery);
    for operation in [
        "commit_pack",
        "card_issued",
        "list_packs",
        "get_pack",
        "audit_log",
        "quality_report",
        "list_population_runs",
        "list_population_findings",
        "active_snoozes",
    ] {
        assert!(
            store_errors(&app, operation).await >= 1.0,
            "{operation} counted"
        );
    }

    db.proxy.set(Mode::Pass);
    until_ok("readyz", Duration::from_secs(5), || {
        app.client.get(format!("{}/readyz", app.address))
    })
    .await;
    for (what, request) in store_calls(&app, &token, "unused") {
        if what != "feedback" {
            assert_eq!(
                request.send().await.unwrap().status(),
                200,
                "{what} after recovery"
            );
        }
    }
    // Cards issued now are recorded again, so feedback on them is stored.
    let (after, _) = hook_cards(&app).await;
    until_ok("feedback", Duration::from_secs(3), || {
        app.client
            .post(format!(
                "{}/cds-services/cart-monitoring/feedback",
                app.address
            ))
            .json(&feedback_on(&after[0]))
    })
    .await;
    app.server.stop(false).await;
    db.drop_database().await;
}

/// A partition that begins while a statement runs: the server's `statement_timeout` fires, but
/// its answer cannot arrive, so only the service's own bound ends the call.
async fn partition_mid_statement(db: &ProxiedDb, app: &TestApp, token: &str) {
    use sqlx::Connection;
    let mut holder = sqlx::PgConnection::connect(&db.direct).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        "BEGIN; LOCK TABLE active_pack IN ACCESS EXCLUSIVE MODE",
    ))
    .execute(&mut holder)
    .await
    .unwrap();
    let calls = store_calls(app, token, "unused");
    let write = calls
        .into_iter()
        .find(|(w, _)| *w == "admin write")
        .unwrap()
        .1;
    let waiting = tokio::spawn(assert_retry_later("admin write in flight", write));
    tokio::time::sleep(Duration::from_millis(150)).await;
    db.proxy.set(Mode::Partition);
    let result = waiting.await;
    holder.close().await.ok();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

#[tokio::test]
async fn with_postgres_down_writes_answer_503_promptly_and_everything_recovers() {
    outage(Mode::Down).await;
}

#[tokio::test]
async fn behind_a_partition_every_store_call_is_bounded_and_everything_recovers() {
    outage(Mode::Partition).await;
}

#[tokio::test]
async fn after_a_postgres_restart_the_next_write_succeeds() {
    let Some((db, app, token)) = service_on_postgres(false).await else {
        return;
    };
    let calls = store_calls(&app, &token, "unused");
    let admin_write = calls
        .into_iter()
        .find(|(w, _)| *w == "admin write")
        .unwrap()
        .1;
    // Every pooled connection and the listener are ended by the server.
    db.terminate_sessions().await;
    assert_eq!(admin_write.send().await.unwrap().status(), 200);
    app.server.stop(false).await;
    db.drop_database().await;
}

#[tokio::test]
async fn with_the_store_down_a_signed_call_answers_and_its_replay_to_this_replica_is_refused() {
    let Some(db) = ProxiedDb::create().await else {
        eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL fault tests");
        return;
    };
    let url = db.proxied.clone();
    let t = crate::auth::spawn_auth_with(
        |_| {},
        move |s| {
            s.storage.database_url = Some(SecretString::from(url));
            s.storage.timeout_ms = TIMEOUT_MS;
        },
    )
    .await;

    db.proxy.set(Mode::Down);
    let token = t.call_token();
    assert_eq!(t.call(&token).await, 200, "the point of care keeps working");
    assert_eq!(t.call(&token).await, 401, "a replay to the same replica");
    assert!(store_errors(&t.app, "remember_jti").await >= 1.0);
    let started = Instant::now();
    assert_eq!(t.call(&t.call_token()).await, 200);
    assert!(
        started.elapsed() < Duration::from_millis(TIMEOUT_MS),
        "the next call does not wait for the store again ({:?})",
        started.elapsed()
    );

    db.proxy.set(Mode::Pass);
    until_ok("readyz", Duration::from_secs(5), || {
        t.app.client.get(format!("{}/readyz", t.app.address))
    })
    .await;
    assert_eq!(
        t.call(&token).await,
        401,
        "still a replay once the store is back"
    );
    // A few seconds after its last failure the store is tried again: new jtis are remembered
    // there, where every replica sees them.
    let mut direct = <sqlx::PgConnection as sqlx::Connection>::connect(&db.direct)
        .await
        .unwrap();
    let back = Instant::now();
    loop {
        let claims = crate::signer::claims(&t.aud("/cds-services/cart-monitoring"));
        assert_eq!(t.call(&t.es.sign(&claims)).await, 200);
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM seen_jti WHERE jti = $1")
            .bind(claims["jti"].as_str().unwrap())
            .fetch_one(&mut direct)
            .await
            .unwrap();
        if stored == 1 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "jtis are still not stored 10 s after the store came back"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(direct);
    t.app.server.stop(false).await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_start_behind_a_partition_fails_within_the_bound_instead_of_hanging() {
    let Some(db) = ProxiedDb::create().await else {
        eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL fault tests");
        return;
    };
    db.proxy.set(Mode::Partition);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(dir.path(), "http://127.0.0.1:9");
    settings.storage.database_url = Some(SecretString::from(db.proxied.clone()));
    settings.storage.timeout_ms = TIMEOUT_MS;
    let started = Instant::now();
    let bound = Duration::from_millis(TIMEOUT_MS) + MARGIN;
    let built = tokio::time::timeout(bound * 4, Application::build(settings))
        .await
        .expect("the start ends instead of hanging");
    assert!(built.is_err(), "no database, no start");
    assert!(
        started.elapsed() < bound,
        "failed after {:?}",
        started.elapsed()
    );
    db.proxy.set(Mode::Pass);
    db.drop_database().await;
}
