//! Acting on worklist findings end to end: actions are validated, listed with their finding,
//! carried to the next run and audited; a worklist snooze hides the finding and quiets the hook
//! for that patient and rule only until it ends; the worklist command shows the same.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{admin_token, TestApp};
use crate::population::{own_resources, write_export};
use crate::population_cli::{as_patient, cli, fixture, patient_of, SURVIVORSHIP};
use crate::snooze::{assert_no_patient, cards, rules, spawn, stored_text, RULE};
use crate::worklist::{assert_refused, call, get_json, start, until_ended};

async fn run(app: &TestApp, writer: &str) {
    let started = start(app, writer, json!({"directory": "run"})).await;
    assert_eq!(started.status(), 202);
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (run, _) = until_ended(app, id, writer).await;
    assert_eq!(run["status"], "succeeded", "{run}");
}

async fn act(app: &TestApp, writer: &str, id: i64, body: Value) -> reqwest::Response {
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

fn finding_id(page: &Value, patient: &str, rule: &str) -> Option<i64> {
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
struct TwoDue {
    pub app: TestApp,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    pub writer: String,
    pub requests: (Value, Value),
    pub patients: (String, String),
}

async fn two_due() -> TwoDue {
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
        app,
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
    let p1_cards = rules(&cards(app, one).await);
    assert!(!p1_cards.contains(&RULE.to_owned()), "{p1_cards:?}");
    assert!(!p1_cards.is_empty(), "p1's other rules still answer");
    assert!(rules(&cards(app, other).await).contains(&RULE.to_owned()));

    // The worklist: the snoozed finding hidden unless asked for; the latest actions listed,
    // and still there after the next run.
    run(app, writer).await;
    let open = get_json(app, "/worklist/findings", &reader).await;
    assert!(finding_id(&open, p1, RULE).is_none(), "snoozed: hidden");
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
    let with = get_json(app, "/worklist/findings?includeSnoozed=true", &reader).await;
    assert_eq!(
        finding_id(&with, p1, RULE),
        Some(snoozed),
        "same finding on the next run"
    );
    let mine = get_json(
        app,
        &format!("/worklist/patients/{}/findings", patient_of(one)),
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
        rules(&cards(app, one).await).contains(&RULE.to_owned()),
        "day 4: back"
    );
    let later = get_json(app, "/worklist/findings", &reader).await;
    assert_eq!(
        finding_id(&later, p1, RULE),
        Some(snoozed),
        "shown again once it ends"
    );

    let auditor = admin_token(dir, "auditor-1", &["audit:read"], 600);
    let log = get_json(app, "/admin/audit?actor=nurse-1&limit=1000", &auditor).await;
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

    let stored = stored_text(app).await;
    assert!(stored.iter().any(|(at, _)| at == "snoozes.patient_key"));
    assert_no_patient(&stored, &patient_of(one));
    assert_no_patient(&stored, "surv-other");
}

/// (patient, latest action, its reason, its end) of each row of `population findings --csv`.
fn rows(dir: &std::path::Path, extra: &[&str]) -> Vec<[String; 4]> {
    let mut args = vec!["population", "findings", "--csv", "--rule", RULE];
    args.extend_from_slice(extra);
    let out = cli(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let columns = [
        at("patient"),
        at("latest_action"),
        at("action_reason"),
        at("action_until"),
    ];
    let mut rows: Vec<[String; 4]> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            columns.map(|i| r[i].to_owned())
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_command_lists_latest_actions_and_hides_snoozed_findings_until_they_end() {
    let two = two_due().await;
    let (app, writer) = (&two.app, &two.writer);
    let (p1, p2) = two.patients.clone();
    let dir = app.data_dir.path();
    let all = get_json(app, "/worklist/findings", writer).await;
    let snoozed = finding_id(&all, &p1, RULE).expect("p1's review");
    let acknowledged = finding_id(&all, &p2, RULE).expect("p2's review");
    let body = json!({"action": "snooze", "reason": "review booked", "days": 3});
    assert_eq!(act(app, writer, snoozed, body).await.status(), 201);
    let body = json!({"action": "acknowledge", "reason": "will call"});
    assert_eq!(act(app, writer, acknowledged, body).await.status(), 201);

    let during = rows(dir, &["--now", "2026-06-16T00:00:00Z"]);
    let acknowledged_row = [
        p2.clone(),
        "acknowledge".into(),
        "will call".into(),
        String::new(),
    ];
    assert_eq!(
        during,
        std::slice::from_ref(&acknowledged_row),
        "the snoozed one hidden"
    );
    let snoozed_row = [
        p1.clone(),
        "snooze".into(),
        "review booked".into(),
        "2026-06-19T00:00:00+00:00".into(),
    ];
    assert_eq!(
        rows(dir, &["--now", "2026-06-16T00:00:00Z", "--include-snoozed"]),
        [snoozed_row.clone(), acknowledged_row.clone()]
    );
    assert_eq!(
        rows(dir, &["--now", "2026-06-19T00:00:00Z"]),
        [snoozed_row, acknowledged_row],
        "back once the snooze ends"
    );
}
