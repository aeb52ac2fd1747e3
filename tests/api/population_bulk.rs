//! The whole population flow against a mock Bulk Data server, as an operator runs it:
//! `population run --bulk` signs in with SMART Backend Services, kicks off an export of the
//! types the pack reads, polls, downloads (one file cut mid-body and fetched again), runs the
//! pack, and leaves the worklist; a second export closes one finding and opens another.

use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::bulk_export::mock::{ExportServer, CLIENT_ID, KID};
use crate::bulk_export::{cut, in_progress, manifest_of};
use crate::population::{own_resources, write_export};
use crate::population_cli::{
    as_patient, cli_with, fixture, patient_of, worklist, CBC_DONE, OVERDUE, SURVIVORSHIP,
};

const NOW: &str = "2026-06-15T12:00:00Z";

/// A mock server exporting `resources`: every file from the server itself, but the Patient
/// file from a server that cuts its first answer mid-body. Returns the cut server too.
pub(crate) async fn exporting(resources: &[Value]) -> (ExportServer, cut::CutServer) {
    let m = ExportServer::start(
        jsonwebtoken::Algorithm::ES384,
        std::time::Duration::from_secs(300),
    )
    .await;
    let files = tempfile::tempdir().unwrap();
    write_export(files.path(), resources);
    let mut output = Vec::new();
    let mut cut_server = None;
    for entry in std::fs::read_dir(files.path()).unwrap() {
        let path = entry.unwrap().path();
        let kind = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let body = std::fs::read_to_string(&path).unwrap();
        if kind == "Patient" {
            let server = cut::start(Box::leak(body.into_boxed_str())).await;
            output.push((kind, format!("{}/Patient.ndjson", server.uri)));
            cut_server = Some(server);
        } else {
            let at = format!("/files/{kind}.ndjson");
            m.serve("GET", &at, ResponseTemplate::new(200).set_body_string(body))
                .await;
            output.push((kind, format!("{}{at}", m.server.uri())));
        }
    }
    let status = vec![in_progress("1 of 2 files"), manifest_of(&output, &[])];
    m.job("/fhir/Patient/$export", status).await;
    (m, cut_server.expect("a Patient file"))
}

/// `population run --bulk` against `m`, off the test's runtime thread (the cut file server runs
/// on it).
async fn run_bulk(data: &Path, m: &ExportServer) -> (bool, String) {
    let env = [
        ("SENTINEL__BULK__FHIR_BASE", m.base()),
        ("SENTINEL__BULK__CLIENT_ID", CLIENT_ID.to_owned()),
        ("SENTINEL__BULK__KEY_ID", KID.to_owned()),
        ("SENTINEL__BULK__ALGORITHM", "ES384".to_owned()),
        (
            "SENTINEL__BULK__PRIVATE_KEY_PEM",
            m.key.pem.to_str().unwrap().to_owned(),
        ),
    ];
    let data = data.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        cli_with(&data, &["population", "run", "--bulk", "--now", NOW], &env)
    })
    .await
    .unwrap();
    let said = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (out.status.success(), said)
}

fn open_row(
    rows: &[(String, String, String, String)],
    patient: &str,
    rule: &str,
) -> Option<String> {
    rows.iter()
        .find(|r| r.0 == patient && r.1 == rule && r.3.is_empty())
        .map(|r| r.2.clone())
}

#[tokio::test]
async fn a_bulk_export_is_run_into_the_worklist_and_a_second_export_updates_it() {
    let data = tempfile::tempdir().unwrap();
    let overdue = fixture(OVERDUE);
    let patient = format!("Patient/{}", patient_of(&overdue));
    let mut earlier = own_resources(&overdue);
    earlier.extend(own_resources(&fixture(SURVIVORSHIP)));
    let (first, cut_patients) = exporting(&earlier).await;

    let (ok, said) = run_bulk(data.path(), &first).await;
    assert!(ok, "{said}");
    assert!(said.contains("run 1 succeeded:"), "{said}");
    assert_eq!(
        cut_patients.connections.load(Ordering::SeqCst),
        2,
        "the Patient file was cut once and fetched again"
    );
    let kick_off = first.server.received_requests().await.unwrap();
    let types = kick_off
        .iter()
        .find(|r| r.url.path() == "/fhir/Patient/$export")
        .and_then(|r| r.url.query_pairs().find(|(k, _)| k == "_type"))
        .map(|(_, v)| v.into_owned())
        .expect("a kick-off with _type");
    for wanted in ["Patient", "Observation", "MedicationAdministration"] {
        assert!(types.split(',').any(|t| t == wanted), "{types}");
    }
    let after_one = worklist(data.path(), false);
    assert_eq!(
        open_row(&after_one, &patient, "cbc-surveillance-overdue").as_deref(),
        Some("1"),
        "{after_one:?}"
    );

    // The same patient now with a recent CBC: the second export closes the finding.
    let mut later = own_resources(&as_patient(CBC_DONE, &patient_of(&overdue)));
    later.extend(own_resources(&fixture(SURVIVORSHIP)));
    let (second, _cut) = exporting(&later).await;
    let (ok, said) = run_bulk(data.path(), &second).await;
    assert!(ok, "{said}");
    let open = worklist(data.path(), false);
    assert_eq!(open_row(&open, &patient, "cbc-surveillance-overdue"), None);
    assert_eq!(
        open_row(&open, &patient, "annual-survivorship-screening").as_deref(),
        Some("2"),
        "{open:?}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bulk-export-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the downloaded files are deleted after the run"
    );
}

#[tokio::test]
async fn a_failed_export_fails_the_run_and_keeps_the_worklist() {
    let data = tempfile::tempdir().unwrap();
    let (first, _cut) = exporting(&own_resources(&fixture(OVERDUE))).await;
    assert!(run_bulk(data.path(), &first).await.0);
    let before = worklist(data.path(), true);

    let expired = ExportServer::start(
        jsonwebtoken::Algorithm::ES384,
        std::time::Duration::from_secs(300),
    )
    .await;
    expired
        .job("/fhir/Patient/$export", vec![ResponseTemplate::new(404)])
        .await;
    let (ok, said) = run_bulk(data.path(), &expired).await;
    assert!(!ok, "{said}");
    assert!(
        said.contains("run 2 failed:") && said.contains("export"),
        "{said}"
    );
    assert_eq!(worklist(data.path(), true), before);
}
