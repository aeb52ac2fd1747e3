//! A population run started over HTTP from the `[bulk]` server: the export is downloaded (one
//! file cut mid-body and fetched again), run, and read as the worklist; without a `[bulk]`
//! server, or with a directory beside it, the start is refused naming the field.

use serde_json::json;

use crate::helpers::{admin_token, spawn_with};
use crate::population::own_resources;
use crate::population_bulk::exporting;
use crate::population_cli::{fixture, patient_of, OVERDUE};
use crate::timeline::page::bulk_config;
use crate::worklist::{assert_refused, get_json, patients_and_rules, start, until_ended};

#[tokio::test]
async fn a_run_over_http_reads_a_fresh_bulk_export() {
    let (server, cut) = exporting(&own_resources(&fixture(OVERDUE))).await;
    let config = bulk_config(&server);
    // The export server and the host of its cut file must be allowed, as for the hook path.
    let allowed = vec![server.server.uri(), cut.uri.clone()];
    let app = spawn_with(move |s| {
        s.bulk = Some(config);
        s.fhir.allowed_servers = Some(allowed);
    })
    .await;
    app.set_now("2026-06-15T12:00:00Z".parse().unwrap());
    let dir = app.data_dir.path();
    let writer = admin_token(dir, "w", &["worklist:write"], 600);
    let reader = admin_token(dir, "r", &["worklist:read"], 600);

    let beside = json!({"source": "bulk", "directory": "x"});
    assert_refused(start(&app, &writer, beside).await, "directory").await;
    let resp = start(&app, &writer, json!({"source": "bulk"})).await;
    assert_eq!(resp.status(), 202);
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (run, _) = until_ended(&app, id, &reader).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(cut.connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    let page = get_json(&app, "/worklist/findings", &reader).await;
    let patient = format!("Patient/{}", patient_of(&fixture(OVERDUE)));
    let rows = patients_and_rules(&page);
    assert!(
        rows.contains(&(patient, "cbc-surveillance-overdue".to_owned())),
        "{rows:?}"
    );
}

#[tokio::test]
async fn without_a_bulk_server_a_bulk_run_is_refused_naming_the_source() {
    let app = spawn_with(|_| {}).await;
    let writer = admin_token(app.data_dir.path(), "w", &["worklist:write"], 600);
    assert_refused(
        start(&app, &writer, json!({"source": "bulk"})).await,
        "source",
    )
    .await;
}
