//! The service's logs never carry a patient id, an access token or a JWT. The real binary runs
//! with the `debug` filter, in text and in JSON format, and receives calls carrying all three:
//! accepted, replayed and malformed tokens, a fetch through a wiremock FHIR server (whose URLs
//! hold the patient id), a failing fetch, a malformed request and feedback. Its whole output is
//! then searched for them.

use std::fs::File;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{patient_view, root};
use crate::signer::{self, claims, serve_jwks, Signer, ISS};

const PATIENT: &str = "phi-patient-7f3a91";
const ACCESS_TOKEN: &str = "access-token-secret-52c0e8";

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn config(jwks: &str, fhir: &str) -> String {
    format!(
        "[server]\nhost = \"127.0.0.1\"\nworkers = 1\n\n[fhir]\nallowed_servers = [\"{fhir}\"]\n\n\
         [auth]\nrequired = true\n\n[[auth.clients]]\niss = \"{ISS}\"\njwks_url = \"{jwks}/jwks.json\"\n\
         fhir_servers = [\"{fhir}\"]\n"
    )
}

fn hook_call(fhir_server: &str) -> Value {
    let mut req = patient_view(PATIENT);
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = json!(fhir_server);
    req["fhirAuthorization"] = json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.read", "subject": "cart-sentinel", "patient": PATIENT});
    req
}

/// Runs the binary with log format `format`, makes the calls, stops it; returns its output and
/// the tokens it was sent.
async fn run_and_capture(format: &str) -> (String, Vec<String>) {
    let (jwks, fhir) = (MockServer::start().await, MockServer::start().await);
    let es = Signer::es384("logs-1");
    serve_jwks(&jwks, signer::jwks(&[&es])).await;
    let observation = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
        "subject": {"reference": format!("Patient/{PATIENT}")}});
    Mock::given(method("GET"))
        .and(path_regex("^/broken/"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&fhir)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": observation}]}),
        ))
        .mount(&fhir)
        .await;

    let dir = tempfile::tempdir().expect("temp dir");
    let config_file = dir.path().join("sentinel.toml");
    std::fs::write(&config_file, config(&jwks.uri(), &fhir.uri())).expect("config");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cart-sentinel"))
        .arg("serve")
        .env_remove("RUST_LOG")
        .env("SENTINEL_CONFIG", &config_file)
        .env("SENTINEL__SERVER__PORT", port.to_string())
        .env("SENTINEL__STORAGE__DATA_DIR", dir.path().join("data"))
        .env("SENTINEL__RULES__DIR", root().join("cds-hooks"))
        .env("SENTINEL__LOG__FILTER", "debug")
        .env("SENTINEL__LOG__FORMAT", format)
        .stdout(Stdio::from(File::create(&out).expect("stdout file")))
        .stderr(Stdio::from(File::create(&err).expect("stderr file")))
        .spawn()
        .expect("the binary starts");

    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the binary did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut tokens = Vec::new();
    let mut token = |path: &str| {
        let t = es.sign(&claims(&format!("{base}{path}")));
        tokens.push(t.clone());
        t
    };
    let service = "/cds-services/cart-monitoring";
    let discovery = token("/cds-services");
    let calls: Vec<(String, String, Option<Value>, u16)> = vec![
        ("/cds-services".into(), discovery, None, 200),
        (
            service.into(),
            token(service),
            Some(hook_call(&fhir.uri())),
            200,
        ),
        (
            service.into(),
            token(service),
            Some(hook_call(&format!("{}/broken", fhir.uri()))),
            412,
        ),
        (
            service.into(),
            token(service),
            Some(hook_call("https://not-allowed.example/fhir")),
            412,
        ),
        (
            service.into(),
            token("/cds-services"),
            Some(hook_call(&fhir.uri())),
            401,
        ),
        (
            service.into(),
            format!("{PATIENT}.{ACCESS_TOKEN}.x"),
            Some(hook_call(&fhir.uri())),
            401,
        ),
        (
            service.into(),
            token(service),
            Some(json!({"hook": "patient-view", "hookInstance": "h",
            "context": {"userId": "Practitioner/1", "patientId": {"id": PATIENT}}})),
            400,
        ),
        (
            format!("{service}/feedback"),
            token(&format!("{service}/feedback")),
            Some(
                json!({"feedback": [{"card": "0d3a5c39-1e36-4bfa-9b9f-4f0c3fa0f4c1",
            "outcome": "overridden", "outcomeTimestamp": "2026-06-15T12:05:31Z"}]}),
            ),
            // A card this service never issued: refused, and the refusal logs no secret either.
            404,
        ),
    ];
    let replay = calls[1].1.clone();
    for (path, bearer, body, expected) in calls.into_iter().chain([(
        service.to_owned(),
        replay,
        Some(hook_call(&fhir.uri())),
        401,
    )]) {
        let req = match &body {
            Some(b) => http.post(format!("{base}{path}")).json(b),
            None => http.get(format!("{base}{path}")),
        };
        let status = req
            .bearer_auth(&bearer)
            .send()
            .await
            .expect("answer")
            .status();
        assert_eq!(status.as_u16(), expected, "{path}");
    }
    assert!(
        !fhir.received_requests().await.unwrap().is_empty(),
        "the fetch path ran"
    );

    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let stopped = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if stopped.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = std::fs::read_to_string(&out).unwrap() + &std::fs::read_to_string(&err).unwrap();
    (output, tokens)
}

fn assert_no_secret(output: &str, tokens: &[String], format: &str) {
    if std::env::var("TEST_LOG").is_ok() {
        eprintln!("---- {format} output ----\n{output}");
    }
    assert!(
        output.contains("hook call"),
        "{format}: debug logs were captured:\n{output}"
    );
    assert!(
        output.contains("CDS client rejected"),
        "{format}: rejections were logged"
    );
    assert!(!output.contains(PATIENT), "{format}: the patient id leaked");
    assert!(
        !output.contains(ACCESS_TOKEN),
        "{format}: the access token leaked"
    );
    for t in tokens {
        for (i, part) in t.split('.').enumerate().skip(1) {
            assert!(!output.contains(part), "{format}: JWT part {i} leaked");
        }
    }
}

#[tokio::test]
async fn text_logs_at_debug_level_carry_no_patient_id_access_token_or_jwt() {
    let (output, tokens) = run_and_capture("text").await;
    assert_no_secret(&output, &tokens, "text");
}

#[tokio::test]
async fn json_logs_at_debug_level_carry_no_patient_id_access_token_or_jwt() {
    let (output, tokens) = run_and_capture("json").await;
    assert!(output.lines().any(|l| l.starts_with('{')), "JSON lines");
    assert_no_secret(&output, &tokens, "json");
}
