//! Snoozes end to end (issue #20 items 1 and 5): a card overridden with a reason its rule
//! marks as snoozing is quiet for that patient through day N and back on day N+1; another
//! reason snoozes nothing; a worklist snooze quiets the hook for that patient and rule only;
//! actions on findings are validated, listed, carried to the next run and audited; and the
//! feedback, issued-card and snooze tables hold no patient reference.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{admin_token, copy_pack, spawn_with, TestApp};
use crate::population::{own_resources, write_export};
use crate::population_cli::{as_patient, fixture, patient_of, SURVIVORSHIP};
use crate::worklist::{assert_refused, call, get_json, start, until_ended};

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

async fn cards(app: &TestApp, request: &Value) -> Vec<Value> {
    let resp = app.call("cart-monitoring", request).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["cards"]
        .as_array()
        .unwrap()
        .clone()
}

fn rules(cards: &[Value]) -> Vec<String> {
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
async fn stored_text(app: &TestApp) -> Vec<(String, String)> {
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

fn assert_no_patient(stored: &[(String, String)], patient: &str) {
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

pub(crate) async fn run(app: &TestApp, writer: &str) {
    let started = start(app, writer, json!({"directory": "run"})).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (run, _) = until_ended(app, id, writer).await;
    assert_eq!(run["status"], "succeeded", "{run}");
}

pub(crate) async fn act(app: &TestApp, writer: &str, id: i64, body: Value) -> reqwest::Response {
    call(
        app,
        Method::POST,
        &format!("/worklist/findings/{id}/actions"),
        writer,
    )
    .await
    .json(&body)
    .send()
    .await
    .unwrap()
}

pub(crate) fn finding_id(page: &Value, patient: &str, rule: &str) -> Option<i64> {
    page["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["patient"] == patient && f["ruleId"] == rule)
        .map(|f| f["id"].as_i64().unwrap())
}

/// Two recipients due their annual review, found by one run of the application: the app (with
/// the temporary directories it reads), a worklist writer's token, the two hook requests and
/// the two patient references.
pub(crate) struct TwoDue {
    pub app: TestApp,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    pub writer: String,
    pub requests: (Value, Value),
    pub patients: (String, String),
}

pub(crate) async fn two_due() -> TwoDue {
    let exports = tempfile::tempdir().unwrap();
    std::fs::create_dir(exports.path().join("run")).unwrap();
    let one = fixture(SURVIVORSHIP);
    let other = as_patient(SURVIVORSHIP, "surv-other");
    let mut resources = own_resources(&one);
    resources.extend(own_resources(&other));
    write_export(&exports.path().join("run"), &resources);
    let (app, pack) = spawn(Some(exports.path())).await;
    let writer = admin_token(
        app.data_dir.path(),
        "nurse-1",
        &["worklist:write", "worklist:read"],
        600,
    );
    run(&app, &writer).await;
    let patients = (
        format!("Patient/{}", patient_of(&one)),
        "Patient/surv-other".to_owned(),
    );
    TwoDue {
        app,
        _dirs: (exports, pack),
        writer,
        requests: (one, other),
        patients,
    }
}

#[tokio::test]
async fn a_worklist_snooze_quiets_the_hook_for_that_patient_and_rule_only() {
    let two = two_due().await;
    let (app, writer) = (&two.app, &two.writer);
    let (one, other) = &two.requests;
    let (p1, p2) = &two.patients;
    let dir = app.data_dir.path();
    let reader = admin_token(dir, "pharmacist-1", &["worklist:read"], 600);
    let all = get_json(app, "/worklist/findings", &reader).await;
    let snoozed = finding_id(&all, p1, RULE).expect("p1's review");
    let acknowledged = finding_id(&all, p2, RULE).expect("p2's review");

    let act = |id: i64, body: Value| act(app, writer, id, body);
    for (body, field) in [
        (json!({"action": "wave", "reason": "x"}), "action"),
        (json!({"action": "acknowledge"}), "reason"),
        (json!({"action": "acknowledge", "reason": "  "}), "reason"),
        (json!({"action": "snooze", "reason": "x"}), "days"),
        (
            json!({"action": "snooze", "reason": "x", "days": 0}),
            "days",
        ),
        (
            json!({"action": "snooze", "reason": "x", "days": 366}),
            "days",
        ),
        (
            json!({"action": "contacted", "reason": "x", "days": 3}),
            "days",
        ),
        (
            json!({"action": "contacted", "reason": "x", "note": "y"}),
            "note",
        ),
    ] {
        assert_refused(act(snoozed, body).await, field).await;
    }
    let unknown = act(
        snoozed + 1000,
        json!({"action": "acknowledge", "reason": "x"}),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["resourceType"],
        "OperationOutcome"
    );
    let read_only = call(
        &app,
        Method::POST,
        &format!("/worklist/findings/{snoozed}/actions"),
        &reader,
    )
    .await
    .json(&json!({"action": "acknowledge", "reason": "x"}))
    .send()
    .await
    .unwrap();
    assert_eq!(read_only.status(), 403);

    let done = act(
        snoozed,
        json!({"action": "snooze", "reason": "review booked for July", "days": 3}),
    )
    .await;
    assert_eq!(done.status(), 201);
    assert_eq!(
        done.json::<Value>().await.unwrap()["until"],
        "2026-06-19T00:00:00Z"
    );
    let done = act(
        acknowledged,
        json!({"action": "acknowledge", "reason": "will call"}),
    )
    .await;
    assert_eq!(done.status(), 201);

    // The hook: p1's review is quiet, p1's other cards and p2's review are not.
    let p1_cards = rules(&cards(&app, &one).await);
    assert!(!p1_cards.contains(&RULE.to_owned()), "{p1_cards:?}");
    assert!(!p1_cards.is_empty(), "p1's other rules still answer");
    assert!(rules(&cards(&app, &other).await).contains(&RULE.to_owned()));

    // The worklist: the snoozed finding hidden unless asked for; the latest actions listed,
    // and still there after the next run.
    run(&app, &writer).await;
    let open = get_json(&app, "/worklist/findings", &reader).await;
    assert!(finding_id(&open, &p1, RULE).is_none(), "snoozed: hidden");
    let p2_action = &open["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == acknowledged)
        .unwrap()["latestAction"];
    assert_eq!(
        (p2_action["action"].as_str(), p2_action["actor"].as_str()),
        (Some("acknowledge"), Some("nurse-1"))
    );
    let with = get_json(&app, "/worklist/findings?includeSnoozed=true", &reader).await;
    assert_eq!(
        finding_id(&with, &p1, RULE),
        Some(snoozed),
        "same finding on the next run"
    );
    let mine = get_json(
        &app,
        &format!("/worklist/patients/{}/findings", patient_of(&one)),
        &reader,
    )
    .await;
    let action = &mine["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == snoozed)
        .unwrap()["latestAction"];
    assert_eq!(action["action"], "snooze");
    assert_eq!(action["reason"], "review booked for July");
    assert_eq!(action["until"], "2026-06-19T00:00:00Z");

    app.set_now("2026-06-19T00:00:00Z".parse().unwrap());
    assert!(
        rules(&cards(&app, &one).await).contains(&RULE.to_owned()),
        "day 4: back"
    );
    let later = get_json(&app, "/worklist/findings", &reader).await;
    assert_eq!(
        finding_id(&later, &p1, RULE),
        Some(snoozed),
        "shown again once it ends"
    );

    let auditor = admin_token(dir, "auditor-1", &["audit:read"], 600);
    let log = get_json(&app, "/admin/audit?actor=nurse-1&limit=1000", &auditor).await;
    let actions: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "worklist.finding.action")
        .collect();
    assert_eq!(actions.len(), 2, "{log}");
    assert!(actions.iter().any(|e| e["after"]["patient"] == *p1
        && e["after"]["action"] == "snooze"
        && e["after"]["reason"] == "review booked for July"));

    let stored = stored_text(&app).await;
    assert!(stored.iter().any(|(at, _)| at == "snoozes.patient_key"));
    assert_no_patient(&stored, &patient_of(&one));
    assert_no_patient(&stored, "surv-other");
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
