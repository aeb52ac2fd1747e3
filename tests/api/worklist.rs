//! The worklist over HTTP: a run started through the admin API on an export built here,
//! watched until it ends, then its findings listed, filtered, paged, exported as CSV and read
//! for one patient, each read audited with who and which patients; bad requests refused with
//! the field named.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{admin_token, load_json, spawn_with, TestApp};
use crate::population::{own_resources, write_export};

const NOW: &str = "2026-06-15T12:00:00Z";
/// A recipient with no CBC on record: `cbc-surveillance-overdue` fires.
const OVERDUE: &str = "cbc-surveillance-overdue/fires-no-cbc-on-record";
/// A recipient due for the annual survivorship review.
const SURVIVORSHIP: &str = "annual-survivorship-screening/fires-day-366-no-visit";
/// Lines of patients outside the cohort, so that the run lasts long enough to be watched.
const FILLER_LINES: usize = 60_000;

fn patient_of(name: &str) -> (Value, String) {
    let request = load_json(format!("fixtures/patients/{name}.request.json"));
    let patient = request["context"]["patientId"].as_str().unwrap().to_owned();
    (request, patient)
}

/// The export: the two recipients (the first one's given name a spreadsheet formula) and
/// filler lines.
fn build_export(dir: &Path) -> (String, String) {
    let (overdue, p1) = patient_of(OVERDUE);
    let (survivorship, p2) = patient_of(SURVIVORSHIP);
    let mut resources = own_resources(&overdue);
    for r in &mut resources {
        if r["resourceType"] == "Patient" {
            r["name"] = json!([{"family": "Example", "given": ["=HYPERLINK(\"http://x\")"]}]);
        }
    }
    resources.extend(own_resources(&survivorship));
    write_export(dir, &resources);
    let mut filler =
        std::io::BufWriter::new(std::fs::File::create(dir.join("Filler.ndjson")).unwrap());
    for i in 0..FILLER_LINES {
        writeln!(filler, r#"{{"resourceType":"Observation","id":"f{i}","status":"final","code":{{"text":"x"}},"subject":{{"reference":"Patient/filler-{}"}}}}"#, i % 500).unwrap();
    }
    filler.flush().unwrap();
    (p1, p2)
}

/// The worklist reads that need the store, as `(what, request)`.
pub(crate) fn reads(app: &TestApp, token: &str) -> Vec<(&'static str, reqwest::RequestBuilder)> {
    let get = |path: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .bearer_auth(token)
    };
    vec![
        ("population runs", get("/admin/population/runs")),
        ("worklist", get("/worklist/findings")),
        ("worklist CSV", get("/worklist/findings.csv")),
        ("patient's findings", get("/worklist/patients/p1/findings")),
    ]
}

pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
}

pub(crate) async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = call(app, Method::GET, path, token)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

pub(crate) async fn start(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    call(app, Method::POST, "/admin/population/runs", token)
        .await
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A 400 OperationOutcome whose expression is `field`.
pub(crate) async fn assert_refused(resp: reqwest::Response, field: &str) {
    assert_eq!(resp.status(), 400, "{field}");
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["expression"][0], field, "{outcome}");
}

/// Polls the run until it ends; whether its live progress was seen while it ran.
pub(crate) async fn until_ended(app: &TestApp, id: i64, token: &str) -> (Value, bool) {
    let started = Instant::now();
    let mut progress_seen = false;
    loop {
        let run = get_json(app, &format!("/admin/population/runs/{id}"), token).await;
        if run["status"] != "running" {
            assert!(run.get("progress").is_none(), "{run}");
            return (run, progress_seen);
        }
        progress_seen |= run["progress"]["stage"].is_string();
        assert!(started.elapsed() < Duration::from_secs(120), "{run}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn patients_and_rules(page: &Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = page["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_owned();
            (text("patient"), text("ruleId"))
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_run_started_over_http_becomes_a_worklist_read_with_an_audit_trail() {
    let exports = tempfile::tempdir().unwrap();
    let export = exports.path().join("2026-06-15");
    std::fs::create_dir(&export).unwrap();
    let (p1, p2) = build_export(&export);
    let root = exports.path().to_path_buf();
    let app = spawn_with(move |s| s.population.ndjson_dir = Some(root)).await;
    app.set_now(NOW.parse().unwrap());
    let dir = app.data_dir.path();
    let writer = admin_token(
        dir,
        "coordinator-1",
        &["worklist:write", "worklist:read"],
        600,
    );
    let reader = admin_token(dir, "pharmacist-1", &["worklist:read"], 600);
    let auditor = admin_token(dir, "auditor-1", &["audit:read"], 600);

    for (body, field) in [
        (json!({"directory": "../etc"}), "directory"),
        (json!({"directory": "/etc"}), "directory"),
        (json!({"directory": "missing"}), "directory"),
        (json!({"source": "bulk"}), "source"),
        (json!({"source": "ftp"}), "source"),
    ] {
        assert_refused(start(&app, &writer, body).await, field).await;
    }
    let started = start(&app, &writer, json!({"directory": "2026-06-15"})).await;
    assert_eq!(started.status(), 202);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(location, format!("/admin/population/runs/{id}"));
    let second = start(&app, &writer, json!({})).await;
    assert_eq!(second.status(), 409, "one run at a time");
    let outcome: Value = second.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["code"], "conflict", "{outcome}");

    let (run, progress_seen) = until_ended(&app, id, &reader).await;
    assert!(progress_seen, "live progress while it ran");
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["runAt"], "2026-06-15T12:00:00Z");
    assert_eq!(run["counts"]["cohortSize"], 2, "{run}");
    assert!(run["packVersion"].as_i64().unwrap() >= 1);
    assert!(run["finishedAt"].is_string());
    let runs = get_json(&app, "/admin/population/runs", &reader).await;
    assert_eq!(runs["runs"][0]["id"], id);

    let mut lists = 0;
    let all = get_json(&app, "/worklist/findings", &reader).await;
    lists += 1;
    assert_eq!(all["asOf"]["run"], id);
    let rows = patients_and_rules(&all);
    let (r1, r2) = (format!("Patient/{p1}"), format!("Patient/{p2}"));
    assert!(
        rows.contains(&(r1.clone(), "cbc-surveillance-overdue".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(r2.clone(), "annual-survivorship-screening".into())),
        "{rows:?}"
    );
    assert!(all["nextCursor"].is_null(), "one page");

    let cbc = get_json(
        &app,
        "/worklist/findings?rule=cbc-surveillance-overdue",
        &reader,
    )
    .await;
    lists += 1;
    let cbc_rows = patients_and_rules(&cbc);
    assert!(!cbc_rows.is_empty());
    assert!(cbc_rows
        .iter()
        .all(|(_, r)| r == "cbc-surveillance-overdue"));
    let info = get_json(&app, "/worklist/findings?indicator=info", &reader).await;
    lists += 1;
    let info = info["findings"].as_array().unwrap();
    assert!(!info.is_empty() && info.iter().all(|f| f["indicator"] == "info"));
    let later = get_json(
        &app,
        "/worklist/findings?firstSeenAfter=2026-06-15T12:00:00Z",
        &reader,
    )
    .await;
    let earlier = get_json(
        &app,
        "/worklist/findings?firstSeenAfter=2026-06-14T00:00:00Z",
        &reader,
    )
    .await;
    lists += 2;
    assert!(later["findings"].as_array().unwrap().is_empty());
    assert_eq!(patients_and_rules(&earlier), rows);
    for (query, field) in [
        ("prevention=none", "prevention"),
        ("overdueDays=soon", "overdueDays"),
        ("limit=0", "limit"),
        ("indicator=urgent", "indicator"),
    ] {
        let resp = call(
            &app,
            Method::GET,
            &format!("/worklist/findings?{query}"),
            &reader,
        )
        .await;
        assert_refused(resp.send().await.unwrap(), field).await;
    }

    // Page by page, one finding a page, gives the same findings once each.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get_json(
            &app,
            &format!("/worklist/findings?limit=1{cursor}"),
            &reader,
        )
        .await;
        lists += 1;
        paged.extend(patients_and_rules(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
        assert!(paged.len() <= rows.len(), "{paged:?}");
    }
    paged.sort();
    assert_eq!(paged, rows);

    let csv = call(&app, Method::GET, "/worklist/findings", &reader)
        .await
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let same = call(&app, Method::GET, "/worklist/findings.csv", &reader)
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(same.text().await.unwrap(), text);
    lists += 2;
    assert!(
        text.starts_with("patient,name,rule,indicator,summary,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), rows.len() + 1, "{text}");
    assert!(
        text.contains("'=HYPERLINK"),
        "a formula is written as text: {text}"
    );

    let mine = get_json(&app, &format!("/worklist/patients/{p1}/findings"), &reader).await;
    assert_eq!(mine["patient"], r1);
    let mine_rows = patients_and_rules(&mine);
    assert!(!mine_rows.is_empty() && mine_rows.iter().all(|(p, _)| *p == r1));
    let encoded = get_json(
        &app,
        &format!("/worklist/patients/Patient%2F{p2}/findings"),
        &reader,
    )
    .await;
    assert_eq!(encoded["patient"], r2);
    let bad = call(
        &app,
        Method::GET,
        "/worklist/patients/a%20b/findings",
        &reader,
    )
    .await;
    assert_refused(bad.send().await.unwrap(), "ref").await;

    // The audit log: who started the run, and each read with who and which patients.
    let log = get_json(&app, "/admin/audit?actor=pharmacist-1&limit=1000", &auditor).await;
    let entries = log["entries"].as_array().expect("entries").clone();
    let of = |action: &str| -> Vec<Value> {
        entries
            .iter()
            .filter(|e| e["action"] == action)
            .cloned()
            .collect()
    };
    let reads = of("worklist.patient.read");
    let read_patients: Vec<&str> = reads
        .iter()
        .map(|e| e["after"]["patient"].as_str().unwrap())
        .collect();
    assert_eq!(read_patients.len(), 2, "{reads:?}");
    assert!(read_patients.contains(&r1.as_str()) && read_patients.contains(&r2.as_str()));
    let listed = of("worklist.findings.list");
    assert_eq!(listed.len(), lists, "one entry per answer");
    let first_list = listed
        .iter()
        .find(|e| e["after"]["filter"] == json!({}))
        .unwrap();
    assert_eq!(first_list["after"]["patients"], json!([r1, r2]));
    assert_eq!(first_list["after"]["findings"], rows.len());
    let cbc_list = listed
        .iter()
        .find(|e| e["after"]["filter"] == json!({"rule": "cbc-surveillance-overdue"}))
        .unwrap();
    assert_eq!(cbc_list["after"]["patientCount"], cbc_rows.len());
    let log = get_json(&app, "/admin/audit?actor=coordinator-1", &auditor).await;
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["action"], "population.run.start");
    assert_eq!(entries[0]["after"]["directory"], "2026-06-15");
}

#[tokio::test]
async fn a_run_needs_an_export_directory_configured() {
    let app = spawn_with(|_| {}).await;
    let writer = admin_token(app.data_dir.path(), "c", &["worklist:write"], 600);
    assert_refused(start(&app, &writer, json!({})).await, "source").await;
    let resp = call(
        &app,
        Method::GET,
        "/admin/population/runs/999",
        &admin_token(app.data_dir.path(), "c", &["worklist:read"], 600),
    )
    .await
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
}
