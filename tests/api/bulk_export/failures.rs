//! What the client does when the server, the network or the settings fail it: each ends with a
//! clear error or is retried within its bounds, and no partial file is left under a final name.

use std::time::{Duration, Instant};

use wiremock::ResponseTemplate;

use super::*;

#[tokio::test]
async fn an_expired_or_deleted_job_is_a_clear_error() {
    for status in [404, 410] {
        let m = server().await;
        let gone = ResponseTemplate::new(status).set_body_json(outcome("not-found", "job expired"));
        m.job(GROUP, vec![in_progress("1%"), gone]).await;
        let dir = tempfile::tempdir().unwrap();

        let err = export(&m.settings(), dir.path()).await.unwrap_err();

        assert!(
            matches!(err, BulkError::Expired(s) if s == status),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("the export job expired or was deleted on the server (HTTP {status}); start a new export")
        );
    }
}

#[tokio::test]
async fn too_many_requests_is_waited_out_and_polling_goes_on() {
    let m = server().await;
    let slow_down = ResponseTemplate::new(429).insert_header("Retry-After", "0");
    patient_job(
        &m,
        vec![slow_down.clone(), slow_down, manifest_of_patients(&m)],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    let summary = export(&m.settings(), dir.path()).await.unwrap();

    assert_eq!(summary.polls, 3);
    assert_eq!(polls(&m).await, 3);
    assert_eq!(summary.files.len(), 1);
}

#[tokio::test]
async fn service_unavailable_with_a_retry_after_date_is_honoured() {
    let m = server().await;
    let at = std::time::SystemTime::now() + Duration::from_secs(2);
    let unavailable = ResponseTemplate::new(503)
        .insert_header("Retry-After", httpdate::fmt_http_date(at).as_str())
        .set_body_json(outcome("transient", "maintenance"));
    patient_job(&m, vec![unavailable, manifest_of_patients(&m)]).await;
    let mut settings = m.settings();
    settings.poll_max = Duration::from_secs(5);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();

    export(&settings, dir.path())
        .await
        .expect("the export goes on after the 503");

    // The date has whole seconds: the wait is between 1 and 2 s.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert_eq!(polls(&m).await, 2);
}

#[tokio::test]
async fn a_file_cut_mid_body_is_downloaded_again_from_the_start() {
    let m = server().await;
    let (files, url, settings) = cut_file(&m).await;
    m.job(
        GROUP,
        vec![manifest_of(&[("Observation".into(), url)], &[])],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();

    let summary = export(&settings, dir.path())
        .await
        .expect("the second attempt succeeds");

    assert_eq!(count(&files.connections), 2);
    let written = std::fs::read_to_string(dir.path().join("Observation-1.ndjson")).unwrap();
    assert_eq!(written, OBS_1);
    assert_eq!(summary.files[0].lines, 2);
    assert_eq!(file_names(dir.path()), ["Observation-1.ndjson", "errors"]);
    for authorization in files.authorizations.lock().unwrap().iter() {
        let valid = m.seen.token_is_valid(authorization.as_deref());
        assert!(
            valid,
            "requiresAccessToken: the token goes with each attempt"
        );
    }
}

#[tokio::test]
async fn a_status_url_that_answers_500_forever_ends_with_a_clear_error() {
    let m = server().await;
    let failing = ResponseTemplate::new(500).set_body_json(outcome("exception", "db down"));
    m.job(GROUP, vec![failing]).await;
    let mut settings = m.settings();
    settings.max_poll_failures = 4;

    let err = export(&settings, tempfile::tempdir().unwrap().path())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the status URL failed 4 times in a row (last: HTTP 500); giving up"
    );
    assert_eq!(polls(&m).await, 4);

    // With failures unbounded, the deadline ends it.
    settings.max_poll_failures = u32::MAX;
    settings.deadline = Duration::from_secs(1);
    let started = Instant::now();
    let err = export(&settings, tempfile::tempdir().unwrap().path())
        .await
        .unwrap_err();
    assert!(matches!(err, BulkError::Deadline(1)), "{err:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_failed_job_is_not_polled_again() {
    let m = server().await;
    let failed =
        ResponseTemplate::new(500).set_body_json(outcome("too-costly", "export too large"));
    m.job(GROUP, vec![failed]).await;

    let err = export(&m.settings(), tempfile::tempdir().unwrap().path())
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "the export failed on the FHIR server (HTTP 500): too-costly: export too large"
    );
    assert_eq!(polls(&m).await, 1);
}

#[tokio::test]
async fn a_manifest_url_off_the_allowlist_is_refused_and_gets_no_token() {
    let m = server().await;
    let elsewhere = wiremock::MockServer::start().await;
    let output = [
        ("Patient".into(), format!("{}/files/pat", m.server.uri())),
        ("Observation".into(), format!("{}/steal", elsewhere.uri())),
    ];
    let done = manifest_of(&output, &[]);
    patient_job(&m, vec![done]).await;
    let dir = tempfile::tempdir().unwrap();

    let err = export(&m.settings(), dir.path()).await.unwrap_err();

    assert_eq!(
        err.to_string(),
        "the output file URL is not under an allowed FHIR server; nothing was sent to it"
    );
    let reached = elsewhere.received_requests().await.unwrap();
    assert!(reached.is_empty(), "nothing reached the other host");
    assert_eq!(
        file_names(dir.path()),
        ["errors"],
        "refused before any download"
    );
}

#[tokio::test]
async fn a_refused_kick_off_names_what_the_server_said() {
    let m = server().await;
    let diagnostics = "_type MedicationAdministration is not supported";
    let refused = ResponseTemplate::new(400).set_body_json(outcome("not-supported", diagnostics));
    m.serve("GET", GROUP, refused).await;

    let err = export(&m.settings(), tempfile::tempdir().unwrap().path())
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!("the FHIR server refused the export (HTTP 400): not-supported: {diagnostics}")
    );
    assert_eq!(polls(&m).await, 0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_and_not_left_behind() {
    let m = server().await;
    m.job(
        GROUP,
        vec![manifest(&m, &[("Observation", "/files/obs")], &[])],
    )
    .await;
    m.serve("GET", "/files/obs", ok(OBS_1)).await;
    let mut settings = m.settings();
    settings.max_file_bytes = 20;
    let dir = tempfile::tempdir().unwrap();

    let err = export(&settings, dir.path()).await.unwrap_err();

    assert_eq!(
        err.to_string(),
        "file Observation-1.ndjson is larger than the limit of 20 bytes"
    );
    assert_eq!(file_names(dir.path()), ["errors"]);
}

#[tokio::test]
async fn a_client_the_server_does_not_trust_gets_the_oauth_error() {
    let m = server().await;
    m.job(GROUP, vec![]).await;
    let mut settings = m.settings();
    let other = tempfile::tempdir().unwrap();
    settings.auth = Some(mock::ClientKey::es384(other.path()).auth());

    let err = export(&settings, tempfile::tempdir().unwrap().path())
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "SMART token request failed: the token endpoint answered HTTP 401 (invalid_client)"
    );
    assert_eq!(
        count(&m.seen.refused),
        0,
        "no data request went without a token"
    );
}

#[tokio::test]
async fn a_directory_that_holds_files_is_refused() {
    let m = server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Patient-1.ndjson"), PATIENTS).unwrap();

    let err = export(&m.settings(), dir.path()).await.unwrap_err();

    assert!(matches!(err, BulkError::Disk(_)), "{err:?}");
    let asked = m.server.received_requests().await.unwrap();
    assert!(asked.is_empty(), "nothing was asked of the server");
}

#[tokio::test]
async fn a_download_still_running_at_the_deadline_ends_the_export() {
    let m = server().await;
    m.job(GROUP, vec![manifest_of_patients(&m)]).await;
    let slow = ok(PATIENTS).set_delay(Duration::from_secs(10));
    m.serve("GET", "/files/pat", slow).await;
    let mut settings = m.settings();
    settings.deadline = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();

    let err = export(&settings, dir.path()).await.unwrap_err();

    assert!(matches!(err, BulkError::Deadline(2)), "{err:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(file_names(dir.path()), ["errors"], "no partial file left");
}
