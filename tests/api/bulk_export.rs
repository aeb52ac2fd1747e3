//! The Bulk Data `$export` client against a mock export server that follows the IG
//! (`bulk_export/mock.rs`): SMART Backend Services, kick-off, polling, downloads, and the
//! failures an operator meets (expired job, 429/503, a file cut mid-body, a status URL that
//! answers 500 forever, a manifest pointing off the allowlist, a refused kick-off).

pub(crate) mod cut;
mod failures;
mod logs;
pub(crate) mod mock;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cart_sentinel::bulk::{
    export_to_dir, BulkError, BulkSettings, ExportLevel, ExportRequest, ExportSummary, Progress,
};
use jsonwebtoken::Algorithm;
use serde_json::json;
use wiremock::ResponseTemplate;

use mock::ExportServer;

const OBS_1: &str = "{\"resourceType\":\"Observation\",\"id\":\"o1\"}\n{\"resourceType\":\"Observation\",\"id\":\"o2\"}\n";
const OBS_2: &str = "{\"resourceType\":\"Observation\",\"id\":\"o3\"}\n";
const PATIENTS: &str = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n";
const ERRORS: &str = "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\"}]}\n{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\"}]}\n";

fn request(level: ExportLevel) -> ExportRequest {
    ExportRequest {
        level,
        types: vec!["Patient".into(), "Observation".into()],
        since: None,
        on_progress: None,
    }
}

pub(crate) fn in_progress(x_progress: &str) -> ResponseTemplate {
    ResponseTemplate::new(202)
        .insert_header("Retry-After", "1")
        .insert_header("X-Progress", x_progress)
}

/// A manifest of files at paths of the mock server.
fn manifest(
    m: &ExportServer,
    output: &[(&str, &str)],
    errors: &[(&str, &str)],
) -> ResponseTemplate {
    let at = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        let base = m.server.uri();
        list.iter()
            .map(|(t, p)| (t.to_string(), format!("{base}{p}")))
            .collect()
    };
    manifest_of(&at(output), &at(errors))
}

/// A manifest of files at these absolute URLs, which need the access token.
pub(crate) fn manifest_of(
    output: &[(String, String)],
    errors: &[(String, String)],
) -> ResponseTemplate {
    let entries = |list: &[(String, String)]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|(t, url)| json!({"type": t, "url": url}))
            .collect()
    };
    ResponseTemplate::new(200).set_body_json(json!({
        "transactionTime": "2026-12-07T10:00:00Z",
        "request": "",
        "requiresAccessToken": true,
        "output": entries(output),
        "error": entries(errors),
    }))
}

fn outcome(code: &str, diagnostics: &str) -> serde_json::Value {
    json!({"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]})
}

const GROUP: &str = "/fhir/Group/cohort-1/$export";
const STATUS: &str = "/status/job-1";

fn count(n: &std::sync::atomic::AtomicUsize) -> usize {
    n.load(std::sync::atomic::Ordering::SeqCst)
}

async fn polls(m: &ExportServer) -> usize {
    let requests = m.server.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == STATUS)
        .count()
}

fn ok(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(body)
}

fn group() -> ExportRequest {
    request(ExportLevel::Group("cohort-1".into()))
}

/// A server trusting a fresh ES384 key, its tokens valid for five minutes.
async fn server() -> ExportServer {
    ExportServer::start(Algorithm::ES384, Duration::from_secs(300)).await
}

/// The Group job with these status answers, and the one Patient file `manifest_of_patients` names.
async fn patient_job(m: &ExportServer, status: Vec<ResponseTemplate>) {
    m.job(GROUP, status).await;
    m.serve("GET", "/files/pat", ok(PATIENTS)).await;
}

fn manifest_of_patients(m: &ExportServer) -> ResponseTemplate {
    manifest(m, &[("Patient", "/files/pat")], &[])
}

/// The Group export with `settings`.
async fn export(settings: &BulkSettings, dir: &Path) -> Result<ExportSummary, BulkError> {
    export_to_dir(settings, &group(), dir).await
}

/// `OBS_1` on a server that cuts its first answer mid-body, and settings that allow it.
async fn cut_file(m: &ExportServer) -> (cut::CutServer, String, BulkSettings) {
    let files = cut::start(OBS_1).await;
    let url = format!("{}/files/obs", files.uri);
    let mut settings = m.settings();
    settings.allowed_servers.push(files.uri.clone());
    (files, url, settings)
}

/// The first request the mock received at `path`.
async fn first_request(m: &ExportServer, path: &str) -> wiremock::Request {
    let requests = m.server.received_requests().await.unwrap();
    let found = requests.into_iter().find(|r| r.url.path() == path);
    found.unwrap_or_else(|| panic!("no request to {path}"))
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_group_export_is_authorised_polled_downloaded_and_deleted() {
    let m = server().await;
    let done = manifest(
        &m,
        &[
            ("Observation", "/files/obs-a"),
            ("Patient", "/files/pat"),
            ("Observation", "/files/obs-b"),
        ],
        &[("OperationOutcome", "/files/err")],
    );
    m.job(
        GROUP,
        vec![
            in_progress("10% complete"),
            in_progress("50% complete"),
            done,
        ],
    )
    .await;
    for (at, body) in [
        ("/files/obs-a", OBS_1),
        ("/files/obs-b", OBS_2),
        ("/files/pat", PATIENTS),
        ("/files/err", ERRORS),
    ] {
        m.serve("GET", at, ok(body)).await;
    }
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let mut req = request(ExportLevel::Group("cohort-1".into()));
    req.since = Some("2026-01-01T00:00:00Z".parse().unwrap());
    req.on_progress = Some(Arc::new(move |p: &Progress| {
        sink.lock().unwrap().push(p.clone())
    }));
    let dir = tempfile::tempdir().unwrap();

    let summary = export_to_dir(&m.settings(), &req, dir.path())
        .await
        .expect("export succeeds");

    assert_eq!(summary.transaction_time, "2026-12-07T10:00:00Z");
    assert_eq!(summary.polls, 3);
    assert_eq!(
        summary.errors, 2,
        "two OperationOutcome lines in the error file"
    );
    let got: Vec<_> = summary
        .files
        .iter()
        .map(|f| (f.resource_type.as_str(), f.lines))
        .collect();
    assert_eq!(
        got,
        [("Observation", 2), ("Patient", 1), ("Observation", 1)]
    );
    assert_eq!(
        file_names(dir.path()),
        [
            "Observation-1.ndjson",
            "Observation-2.ndjson",
            "Patient-1.ndjson",
            "errors"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Observation-1.ndjson")).unwrap(),
        OBS_1
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Observation-2.ndjson")).unwrap(),
        OBS_2
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("errors/OperationOutcome-1.ndjson")).unwrap(),
        ERRORS
    );
    let progress: Vec<_> = reports
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::InProgress { x_progress, .. } => x_progress.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(progress, ["10% complete", "50% complete"]);

    let kick = first_request(&m, GROUP).await;
    assert_eq!(
        kick.url.query(),
        Some("_type=Patient%2CObservation&_since=2026-01-01T00%3A00%3A00Z")
    );
    assert_eq!(kick.headers.get("prefer").unwrap(), "respond-async");
    assert_eq!(kick.headers.get("accept").unwrap(), "application/fhir+json");
    let file = first_request(&m, "/files/pat").await;
    assert_eq!(
        file.headers.get("accept").unwrap(),
        "application/fhir+ndjson"
    );
    let requests = m.server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.method.as_str() == "DELETE" && r.url.path() == STATUS),
        "the job is deleted once downloaded"
    );
    assert_eq!(
        count(&m.seen.refused),
        0,
        "every request carried a valid token"
    );
    assert_eq!(
        m.seen.tokens(),
        1,
        "one token serves the whole short export"
    );
    assert!(m.seen.assertion_problems.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_rs384_client_refreshes_its_token_before_it_expires() {
    // Tokens live 2 s; the export takes about 3 s of polling at Retry-After: 1.
    let m = ExportServer::start(Algorithm::RS384, Duration::from_secs(2)).await;
    let done = manifest_of_patients(&m);
    let busy = in_progress("working");
    m.job(
        "/fhir/Patient/$export",
        vec![busy.clone(), busy.clone(), busy, done],
    )
    .await;
    m.serve("GET", "/files/pat", ok(PATIENTS)).await;
    let mut settings = m.settings();
    settings.poll_max = Duration::from_secs(1);
    let dir = tempfile::tempdir().unwrap();

    let summary = export_to_dir(&settings, &request(ExportLevel::Patient), dir.path())
        .await
        .expect("export succeeds");

    assert_eq!(summary.files.len(), 1);
    assert!(
        m.seen.tokens() >= 2,
        "a new token was fetched: {}",
        m.seen.tokens()
    );
    assert_eq!(
        count(&m.seen.refused),
        0,
        "no request went out with an expired token"
    );
    assert!(
        m.seen.assertion_problems.lock().unwrap().is_empty(),
        "a fresh jti each time"
    );
}

#[tokio::test]
async fn files_that_need_no_token_get_none() {
    let m = server().await;
    let done = ResponseTemplate::new(200).set_body_json(json!({
        "transactionTime": "2026-12-07T10:00:00Z", "request": "", "requiresAccessToken": false,
        "output": [{"type": "Patient", "url": format!("{}/open/pat", m.server.uri())}]}));
    m.job(GROUP, vec![done]).await;
    wiremock::Mock::given(wiremock::matchers::path("/open/pat"))
        .respond_with(ok(PATIENTS))
        .mount(&m.server)
        .await;
    let dir = tempfile::tempdir().unwrap();

    export(&m.settings(), dir.path())
        .await
        .expect("export succeeds");

    let file = first_request(&m, "/open/pat").await;
    assert!(
        file.headers.get("authorization").is_none(),
        "requiresAccessToken: false"
    );
    let written = std::fs::read_to_string(dir.path().join("Patient-1.ndjson")).unwrap();
    assert_eq!(written, PATIENTS);
}
