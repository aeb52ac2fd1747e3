//! Hostile input. Every request of `fixtures/hostile/` (see its `generate.py` and
//! `manifest.json`) and a few generated ones too large to commit (a 50 MB body, a Bundle of
//! 100,000 entries) is answered promptly with its expected status: never a 500, never a hang,
//! never a call to a host off the allowlist; the service then still answers a normal call.
//! Overload becomes immediate 503s with `Retry-After`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{load_json, patient_view, root, spawn_app, spawn_with, TestApp};

/// Longest acceptable answer to one hostile request (a debug build on a busy 2-core machine).
const PROMPT: Duration = Duration::from_secs(10);

fn replace(body: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    if !text.contains(from) {
        return body.to_vec();
    }
    text.replace(from, to).into_bytes()
}

/// One case: (name, service, body, expected status, the field a 400 must name).
type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, Option<&'a str>);

/// Cases generated here, too large to commit.
fn generated() -> Vec<Case<'static>> {
    let mut huge = b"{\"hook\": \"patient-view\", \"hookInstance\": \"x\", \"pad\": \"".to_vec();
    huge.resize(huge.len() + 50 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"}");

    let entry = json!({"resource": {"resourceType": "Observation", "status": "final"}});
    let mut many = patient_view("hostile-1");
    many["prefetch"]["observations"] = json!({"resourceType": "Bundle", "type": "searchset",
        "entry": vec![entry.clone(); 100_000]});

    let mut orders = patient_view("hostile-1");
    orders["hook"] = json!("order-select");
    orders["context"]["selections"] = json!(["MedicationRequest/1"]);
    let order =
        json!({"resource": {"resourceType": "MedicationRequest", "id": "1", "status": "draft"}});
    orders["context"]["draftOrders"] =
        json!({"resourceType": "Bundle", "type": "collection", "entry": vec![order; 201]});

    let mut long = patient_view("hostile-1");
    long["context"]["userId"] = json!(format!("Practitioner/{}", "x".repeat(4 * 1024 * 1024)));

    let bytes = |v: &Value| serde_json::to_vec(v).unwrap();
    vec![
        ("generated: 50 MB body", "cart-monitoring", huge, 413, None),
        (
            "generated: prefetch Bundle of 100,000 entries",
            "cart-monitoring",
            bytes(&many),
            400,
            Some("prefetch"),
        ),
        (
            "generated: 201 draft orders",
            "cart-order-safety-select",
            bytes(&orders),
            400,
            Some("context.draftOrders.entry"),
        ),
        (
            "generated: 4 MB userId",
            "cart-monitoring",
            bytes(&long),
            200,
            None,
        ),
    ]
}

/// Sends one hostile body; `None` when it was answered as expected.
async fn check(
    app: &TestApp,
    client: &reqwest::Client,
    (name, service, body, expected, field): Case<'_>,
) -> Option<String> {
    let started = Instant::now();
    let sent = client
        .post(format!("{}/cds-services/{service}", app.address))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return Some(format!("{name}: no answer ({e})")),
    };
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let elapsed = started.elapsed();
    if status != expected {
        let shown: String = text.chars().take(300).collect();
        return Some(format!("{name}: {status} instead of {expected}: {shown}"));
    }
    if elapsed > PROMPT {
        return Some(format!("{name}: answered in {elapsed:?}"));
    }
    if status == 400 {
        let outcome: Value = serde_json::from_str(&text).unwrap_or_default();
        if outcome["resourceType"] != "OperationOutcome" {
            return Some(format!("{name}: a 400 without an OperationOutcome"));
        }
        if let Some(f) = field {
            if outcome["issue"][0]["expression"][0] != f {
                return Some(format!(
                    "{name}: the OperationOutcome does not name {f}: {text}"
                ));
            }
        }
    }
    None
}

#[tokio::test]
async fn every_hostile_request_gets_its_expected_status_promptly_and_the_service_survives() {
    let app = spawn_app().await;
    let other = MockServer::start().await;
    let client = reqwest::Client::builder()
        .timeout(PROMPT + Duration::from_secs(5))
        .build()
        .unwrap();
    let manifest = load_json("fixtures/hostile/manifest.json");
    let manifest = manifest.as_object().expect("manifest is an object");
    assert!(manifest.len() >= 30, "the corpus is complete");
    let mut failures = Vec::new();
    for (file, expect) in manifest {
        let raw = std::fs::read(root().join("fixtures/hostile").join(file)).expect(file);
        let body = replace(&raw, "{{FHIR}}", &app.fhir.uri());
        let body = replace(&body, "{{OTHER}}", &other.uri());
        let service = expect["service"].as_str().unwrap_or("cart-monitoring");
        let status = expect["status"].as_u64().expect("status") as u16;
        failures.extend(check(&app, &client, (file, service, body, status, None)).await);
    }
    for case in generated() {
        failures.extend(check(&app, &client, case).await);
    }

    assert!(failures.is_empty(), "{failures:#?}");
    let leaked = other.received_requests().await.unwrap();
    assert!(
        leaked.is_empty(),
        "a host off the allowlist was called: {leaked:?}"
    );
    let resp = app.call("cart-monitoring", &patient_view("p1")).await;
    assert_eq!(
        resp.status(),
        200,
        "the service still answers a normal call"
    );
}

fn needs_fetch(app: &TestApp) -> Value {
    let mut req = patient_view("p1");
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = json!(app.fhir.uri());
    req
}

#[tokio::test]
async fn hook_calls_beyond_the_concurrency_bound_get_an_immediate_503() {
    let app = spawn_with(|s| {
        s.limits.max_concurrent_hooks = 1;
        s.fhir.request_timeout_ms = 5_000;
        s.fhir.deadline_ms = 5_000;
    })
    .await;
    let slow = json!({"resourceType": "Bundle", "type": "searchset"});
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(slow)
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&app.fhir)
        .await;
    let (client, url, body) = (
        app.client.clone(),
        format!("{}/cds-services/cart-monitoring", app.address),
        needs_fetch(&app),
    );
    let first =
        tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let refused = app.call("cart-monitoring", &patient_view("p1")).await;
    assert_eq!(refused.status(), 503);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "refused at once"
    );
    assert!(refused.headers().contains_key("retry-after"));

    assert_eq!(first.await.unwrap(), 200);
    let after = app.call("cart-monitoring", &patient_view("p1")).await;
    assert_eq!(after.status(), 200, "the slot is free again");
}

#[tokio::test]
async fn prefetch_and_draft_order_limits_follow_the_settings() {
    let app = spawn_with(|s| s.limits.max_prefetch_resources = 1).await;
    let mut req = patient_view("p1");
    req["prefetch"]["conditions"] = json!({"resourceType": "Bundle", "type": "searchset",
        "entry": [{"resource": {"resourceType": "Condition"}}, {"resource": {"resourceType": "Condition"}}]});
    let resp = app.call("cart-monitoring", &req).await;
    assert_eq!(resp.status(), 400);
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["issue"][0]["expression"][0], "prefetch");

    let app = spawn_app().await;
    assert_eq!(
        app.call("cart-monitoring", &req).await.status(),
        200,
        "within the default"
    );
}

/// The nesting limit (64 by default) counts every array and object of the body, in members
/// the service reads and in resource content the one-pass reader skips: 64 levels are read,
/// 65 are refused with a message that says so. A call to a service that does not exist is a
/// 404 whatever its body.
#[tokio::test]
async fn nesting_is_limited_wherever_it_is_in_the_body() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let nested = |n: usize| (0..n).fold(json!(1), |v, _| json!([v]));
    let post = |service: &str, body: &Value| {
        client
            .post(format!("{}/cds-services/{service}", app.address))
            .json(body)
            .send()
    };
    for levels in [64, 65] {
        // The root object, `extension` and the arrays.
        let mut read = patient_view("hostile-1");
        read["extension"] = json!({"x": nested(levels - 2)});
        // The root, `prefetch`, the Patient, `meta` and the arrays; `meta` is skipped.
        let mut skipped = patient_view("hostile-1");
        skipped["prefetch"]["patient"] = json!({"resourceType": "Patient", "id": "hostile-1",
            "meta": {"x": nested(levels - 4)}});
        for body in [read, skipped] {
            let resp = post("cart-monitoring", &body).await.expect("an answer");
            let status = resp.status().as_u16();
            let text = resp.text().await.expect("a body");
            if levels == 64 {
                assert_eq!(status, 200, "{text}");
            } else {
                assert_eq!(status, 400, "{text}");
                assert!(text.contains("nested deeper than 64 levels"), "{text}");
            }
        }
    }
    let mut deep = patient_view("hostile-1");
    deep["extension"] = json!({"x": nested(100)});
    let resp = post("no-such-service", &deep).await.expect("an answer");
    assert_eq!(resp.status().as_u16(), 404);
}
