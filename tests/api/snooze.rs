//! Snoozes from the card: a card overridden with a reason its rule marks as snoozing is quiet
//! for that patient through day N and back on day N+1; another reason snoozes nothing; and the
//! feedback, issued-card and snooze tables hold no patient reference. Snoozes from the worklist
//! are in `worklist_actions.rs`.

use std::path::Path;

use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{copy_pack, spawn_with, TestApp};
use crate::population_cli::{fixture, patient_of, SURVIVORSHIP};

pub(crate) const RULE: &str = "annual-survivorship-screening";
const NOW: &str = "2026-06-15T12:00:00Z";
const REASONS: &str = "  override_reasons:
    - {system: \"urn:cart-sentinel:override-reason\", code: already-scheduled, display: \"Review already scheduled\"}
    - {system: \"urn:cart-sentinel:override-reason\", code: not-applicable, display: \"Not applicable to this patient\"}
  snooze: {days: 7, reasons: [already-scheduled]}
";

/// The shipped pack with a test setting: the annual review's card offers two override
/// reasons, of which `already-scheduled` snoozes it for 7 days (no shipped rule has a
/// snooze: none of their sources gives a number of days).
pub(crate) async fn spawn(export_root: Option<&Path>) -> (TestApp, tempfile::TempDir) {
    let pack = tempfile::tempdir().unwrap();
    copy_pack(pack.path(), &|path, text| {
        if path.ends_with(format!("rules/{RULE}.yaml")) {
            text.replacen(
                "card:\n  indicator: info\n",
                &format!("card:\n  indicator: info\n{REASONS}"),
                1,
            )
        } else {
            text
        }
    });
    let (dir, root) = (
        pack.path().to_path_buf(),
        export_root.map(Path::to_path_buf),
    );
    let app = spawn_with(move |s| {
        s.rules.dir = dir;
        s.population.ndjson_dir = root;
    })
    .await;
    app.set_now(NOW.parse().unwrap());
    (app, pack)
}

pub(crate) async fn cards(app: &TestApp, request: &Value) -> Vec<Value> {
    let resp = app.call("cart-monitoring", request).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["cards"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn rules(cards: &[Value]) -> Vec<String> {
    cards
        .iter()
        .map(|c| c["source"]["topic"]["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The uuid of the card `rule` issued.
fn uuid_of(cards: &[Value], rule: &str) -> String {
    let card = cards.iter().find(|c| c["source"]["topic"]["code"] == rule);
    card.expect("the rule's card")["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn override_card(app: &TestApp, uuid: &str, code: &str) {
    let body = json!({"feedback": [{"card": uuid, "outcome": "overridden",
        "overrideReason": {"reason": {"system": "urn:cart-sentinel:override-reason", "code": code}},
        "outcomeTimestamp": "2026-06-15T12:05:00Z"}]});
    let resp = app.feedback("cart-monitoring", &body).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// Every value of every row of the tables that must not name a patient, as text.
pub(crate) async fn stored_text(app: &TestApp) -> Vec<(String, String)> {
    let pool = sqlx::SqlitePool::connect(&app.database_url())
        .await
        .unwrap();
    let mut out = Vec::new();
    for table in ["feedback", "issued_cards", "snoozes", "finding_actions"] {
        let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        assert!(!columns.is_empty(), "{table} exists");
        for column in columns {
            let sql =
                format!("SELECT CAST({column} AS TEXT) FROM {table} WHERE {column} IS NOT NULL");
            for row in // Names from the schema and the fixed list above, never from input.
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            {
                out.push((format!("{table}.{column}"), row.get::<String, _>(0)));
            }
        }
    }
    out
}

pub(crate) fn assert_no_patient(stored: &[(String, String)], patient: &str) {
    assert!(!stored.is_empty());
    for (at, value) in stored {
        assert!(!value.contains(patient), "{at} holds the patient: {value}");
    }
}

#[tokio::test]
async fn a_card_overridden_with_a_snoozing_reason_is_quiet_through_day_7_and_back_on_day_8() {
    let (app, _pack) = spawn(None).await;
    let request = fixture(SURVIVORSHIP);
    let patient = patient_of(&request);
    let first = cards(&app, &request).await;
    assert!(
        rules(&first).contains(&RULE.to_owned()),
        "{:?}",
        rules(&first)
    );
    let uuid = uuid_of(&first, RULE);
    override_card(&app, &uuid, "already-scheduled").await;

    let quiet = rules(&cards(&app, &request).await);
    assert!(!quiet.contains(&RULE.to_owned()), "{quiet:?}");
    let others: Vec<String> = rules(&first).into_iter().filter(|r| r != RULE).collect();
    assert!(!others.is_empty());
    for other in &others {
        assert!(quiet.contains(other), "{other} is not snoozed: {quiet:?}");
    }
    app.set_now("2026-06-22T23:59:00Z".parse().unwrap());
    assert!(
        !rules(&cards(&app, &request).await).contains(&RULE.to_owned()),
        "day 7: quiet"
    );
    app.set_now("2026-06-23T00:00:00Z".parse().unwrap());
    assert!(
        rules(&cards(&app, &request).await).contains(&RULE.to_owned()),
        "day 8: back"
    );

    let stored = stored_text(&app).await;
    let key = stored
        .iter()
        .find(|(at, _)| at == "snoozes.patient_key")
        .expect("a snooze");
    assert!(
        key.1.len() == 64 && key.1.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key:?}"
    );
    assert_no_patient(&stored, &patient);
}

#[tokio::test]
async fn a_card_overridden_with_another_reason_is_not_snoozed() {
    let (app, _pack) = spawn(None).await;
    let request = fixture(SURVIVORSHIP);
    let first = cards(&app, &request).await;
    let uuid = uuid_of(&first, RULE);
    override_card(&app, &uuid, "not-applicable").await;
    assert!(rules(&cards(&app, &request).await).contains(&RULE.to_owned()));
    assert!(!stored_text(&app)
        .await
        .iter()
        .any(|(at, _)| at.starts_with("snoozes.")));
}

#[tokio::test]
async fn production_refuses_to_start_without_a_patient_key_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::test_settings(dir.path(), "http://127.0.0.1:1");
    settings.server.mode = cart_sentinel::config::Mode::Production;
    let refused = cart_sentinel::startup::Application::build(settings.clone()).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("privacy.patient_key_secret"), "{message}");
    settings.privacy.patient_key_secret = Some("short".to_owned().into());
    let refused = cart_sentinel::startup::Application::build(settings).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("at least 32 bytes"), "{message}");
}
