//! `/ui/patients/{id}` against a mock FHIR server with SMART Backend Services: the page draws the
//! record a patient-view call reads, with the active pack's thresholds and the values, keeps one
//! access token for several pages, audits each view, and without a `[bulk]` server says which
//! configuration it needs.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, ResponseTemplate};

use cart_sentinel::bulk::BulkConfig;
use cart_sentinel::record::units::fmt_num;

use crate::bulk_export::mock::{Authed, ExportServer, CLIENT_ID, KID};
use crate::helpers::{admin_token, root, spawn_with, TestApp};
use crate::worklist::get_json;

pub(crate) const PATIENT: &str = "tl-1";

fn subject() -> Value {
    json!({"reference": format!("Patient/{PATIENT}")})
}

fn bundle(resources: Vec<Value>) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    json!({"resourceType": "Bundle", "type": "searchset", "total": entry.len(), "entry": entry})
}

fn result(id: &str, loinc: &str, when: &str, value: Value, unit: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": subject(), "effectiveDateTime": when,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": unit}})
}

fn administration(id: &str, text: &str, when: &str) -> Value {
    json!({"resourceType": "MedicationAdministration", "id": id, "status": "completed",
        "medicationCodeableConcept": {"text": text}, "subject": subject(), "effectiveDateTime": when})
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01"})
}

/// The patient's record by resource type: infused with Yescarta on 2026-01-10, two ANC
/// results (one under both ANC lines), an IgG, IVIG given, valacyclovir ordered.
fn searches() -> Vec<(&'static str, Value)> {
    let results = bundle(vec![
        result("anc1", "751-8", "2026-04-20", json!(450), "/uL"),
        result("anc2", "751-8", "2026-05-20", json!(1.6), "10*9/L"),
        result("igg1", "2465-3", "2026-05-01", json!(350), "mg/dL"),
    ]);
    let given = bundle(vec![
        administration("cart", "Yescarta (axicabtagene ciloleucel)", "2026-01-10"),
        administration("ivig", "IVIG 30 g", "2026-05-10"),
    ]);
    let ordered = bundle(vec![
        json!({"resourceType": "MedicationRequest", "id": "valtrex",
        "status": "active", "intent": "order", "subject": subject(), "authoredOn": "2026-01-12",
        "medicationCodeableConcept": {"text": "valacyclovir 500 mg tablet"}}),
    ]);
    vec![
        ("Observation", results),
        ("MedicationAdministration", given),
        ("MedicationRequest", ordered),
    ]
}

/// A patient-view request for the patient with the same record as its prefetch.
pub(crate) fn hook_request() -> Value {
    let mut req = crate::helpers::patient_view(PATIENT);
    req["prefetch"]["patient"] = patient();
    for (kind, found) in searches() {
        req["prefetch"][format!("{}s", kind.to_lowercase())] = found;
    }
    req
}

/// Mounts the patient's record (every other search finds nothing), behind the token check.
pub(crate) async fn serve_record(server: &ExportServer) {
    let json_answer = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    let mount = |m: wiremock::MockBuilder, v: Value, priority: u8| {
        m.respond_with(Authed(server.seen.clone(), json_answer(v)))
            .with_priority(priority)
            .mount(&server.server)
    };
    mount(
        Mock::given(method("GET")).and(path_regex("^/fhir/[A-Za-z]+$")),
        bundle(vec![]),
        10,
    )
    .await;
    mount(
        Mock::given(method("GET")).and(path(format!("/fhir/Patient/{PATIENT}"))),
        patient(),
        1,
    )
    .await;
    for (kind, found) in searches() {
        let mut m = Mock::given(method("GET")).and(path(format!("/fhir/{kind}")));
        if kind == "Observation" {
            // The results search; the variants search (by code) finds nothing.
            m = m.and(query_param("category", "laboratory,vital-signs"));
        }
        mount(m, found, 1).await;
    }
}

pub(crate) fn bulk_config(server: &ExportServer) -> BulkConfig {
    BulkConfig {
        fhir_base: server.base(),
        group_id: None,
        client_id: Some(CLIENT_ID.into()),
        private_key_pem: Some(server.key.pem.clone()),
        key_id: Some(KID.into()),
        algorithm: Some("ES384".into()),
        token_url: None,
        scope: None,
        deadline_minutes: Some(1),
    }
}

/// The service reading the record from `server`, at 2026-06-15.
pub(crate) async fn spawn_reading(server: &ExportServer) -> TestApp {
    spawn_reading_with(server, |_| {}).await
}

/// [`spawn_reading`], with other settings changed by `customise`.
pub(crate) async fn spawn_reading_with(
    server: &ExportServer,
    customise: impl FnOnce(&mut cart_sentinel::config::Settings),
) -> TestApp {
    let config = bulk_config(server);
    let allowed = vec![server.server.uri()];
    let app = spawn_with(move |s| {
        s.bulk = Some(config);
        s.fhir.allowed_servers = Some(allowed);
        customise(s);
    })
    .await;
    app.set_now("2026-06-15T12:00:00Z".parse().unwrap());
    app
}

pub(crate) async fn get_page(app: &TestApp, page: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{page}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A parameter of the shipped pack's rule.
pub(crate) fn param(rule: &str, name: &str) -> f64 {
    let pack = cart_sentinel::engine::load::load_dir(&root().join("cds-hooks")).unwrap();
    pack.rules[rule].parameters[name].value
}

#[tokio::test]
async fn the_page_draws_the_record_with_the_packs_thresholds_and_audits_the_view() {
    let server = ExportServer::start(Algorithm::ES384, Duration::from_secs(300)).await;
    serve_record(&server).await;
    let app = spawn_reading(&server).await;
    let dir = app.data_dir.path();
    let nurse = admin_token(dir, "nurse-1", &["worklist:read"], 600);
    let page = format!("/ui/patients/{PATIENT}");

    let resp = get_page(&app, &page, &nurse).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let cyto = "prolonged-cytopenia-marrow-evaluation";
    for line in [
        format!(
            "threshold &lt; {} ×10⁹/L",
            fmt_num(param(cyto, "anc_threshold"))
        ),
        format!(
            "threshold ≤ {} ×10⁹/L",
            fmt_num(param(cyto, "hematotoxicity_anc_threshold"))
        ),
        format!(
            "threshold ≤ {} mg/dL",
            fmt_num(param("hypogammaglobulinemia-ivig", "igg_threshold"))
        ),
    ] {
        assert!(html.contains(&line), "{line} in {html}");
    }
    assert!(
        html.contains(">0.45</text>")
            && html.contains(">1.6</text>")
            && html.contains(">350</text>")
    );
    assert!(html.contains("2 results from 2026-04-20 (day 100) to 2026-05-20 (day 130)"));
    assert!(html.contains("IVIG / SCIG given: IVIG 30 g, 2026-05-10 (day 120)"));
    assert!(html.contains("valacyclovir 500 mg tablet (active, no end)"));
    assert!(html.contains("Yescarta (axicabtagene ciloleucel)") && html.contains("· day 156"));
    assert!(
        html.contains("card today: "),
        "the pack's cards of today are marked"
    );

    // A second view keeps the access token.
    assert_eq!(get_page(&app, &page, &nurse).await.status(), 200);
    assert_eq!(server.seen.tokens(), 1);

    let auditor = admin_token(dir, "auditor", &["audit:read"], 600);
    let log = get_json(&app, "/admin/audit?actor=nurse-1", &auditor).await;
    let views: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "worklist.patient.timeline")
        .collect();
    assert_eq!(views.len(), 2);
    assert_eq!(views[0]["after"]["patient"], format!("Patient/{PATIENT}"));
    assert_eq!(views[0]["after"]["record"], true);
}

#[tokio::test]
async fn without_a_bulk_server_the_page_names_the_configuration() {
    let app = spawn_with(|_| {}).await;
    let nurse = admin_token(app.data_dir.path(), "nurse-1", &["worklist:read"], 600);
    let resp = get_page(&app, &format!("/ui/patients/{PATIENT}"), &nurse).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<code>bulk.fhir_base</code>"), "{html}");
    assert!(!html.contains("<svg"));
}

#[tokio::test]
async fn the_page_needs_worklist_read_and_a_patient_id() {
    let app = spawn_with(|_| {}).await;
    let dir = app.data_dir.path();
    let other = admin_token(dir, "author", &["rules:read"], 600);
    let page = format!("/ui/patients/{PATIENT}");
    assert_eq!(get_page(&app, &page, &other).await.status(), 403);
    let nurse = admin_token(dir, "nurse-1", &["worklist:read"], 600);
    let bad = get_page(&app, "/ui/patients/a%20b", &nurse).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("ref"));
}

#[tokio::test]
async fn a_server_that_refuses_the_record_is_said_so() {
    let server = ExportServer::start(Algorithm::ES384, Duration::from_secs(300)).await;
    Mock::given(method("GET"))
        .and(path_regex("^/fhir/"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server.server)
        .await;
    let app = spawn_reading(&server).await;
    let nurse = admin_token(app.data_dir.path(), "nurse-1", &["worklist:read"], 600);
    let resp = get_page(&app, &format!("/ui/patients/{PATIENT}"), &nurse).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("The record could not be read from the FHIR server: prefetch key"),
        "{html}"
    );
    assert!(!html.contains(&server.server.uri()), "no URL on the page");
}
