//! `GET /metrics`: hook calls, outcomes, cards, FHIR fetches and the pack version appear with
//! the right labels and values after real calls.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{load_json, patient_view, prefetch_keys, spawn_app, TestApp};

const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";

pub(crate) async fn scrape(app: &TestApp) -> String {
    let resp = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        kind.starts_with("application/openmetrics-text; version=1.0.0"),
        "{kind}"
    );
    resp.text().await.unwrap()
}

/// `name{labels}` with its labels sorted, so that a series is found whatever the order in
/// which the exposition writes its labels (a label set has no order).
fn canonical(series: &str) -> String {
    match series.split_once('{') {
        None => series.to_owned(),
        Some((name, rest)) => {
            let mut labels: Vec<&str> = rest.trim_end_matches('}').split(',').collect();
            labels.sort_unstable();
            format!("{name}{{{}}}", labels.join(","))
        }
    }
}

/// The value of the sample whose name and labels are exactly `series`.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    let wanted = canonical(series);
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (canonical(name) == wanted).then(|| value.parse().expect("a number"))
    })
}

#[tokio::test]
async fn hook_calls_cards_and_fhir_fetches_are_counted_with_their_labels() {
    let app = spawn_app().await;
    // One failed request per prefetch key the service asks for.
    let keys = prefetch_keys("cart-monitoring").len() as f64;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.fhir)
        .await;
    // A call that fires one warning card.
    let resp = app
        .call("cart-monitoring", &load_json(format!("{PJP}.request.json")))
        .await;
    assert_eq!(resp.status(), 200);
    // A malformed body.
    let resp = app.call_raw("cart-monitoring", b"{".to_vec()).await;
    assert_eq!(resp.status(), 400);
    // No prefetch, and the FHIR server answers 500 to the queries: 412.
    let mut req = patient_view("p1");
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = Value::String(app.fhir.uri());
    let resp = app.call("cart-monitoring", &req).await;
    assert_eq!(resp.status(), 412);
    // An unknown service is labelled `unknown`, not with the path text.
    let resp = app.call("no-such-service", &patient_view("p1")).await;
    assert_eq!(resp.status(), 404);

    let text = scrape(&app).await;

    let calls = |status: &str| {
        let series = format!(
            "cart_sentinel_hook_calls_total{{service=\"cart-monitoring\",hook=\"patient-view\",status=\"{status}\"}}"
        );
        sample(&text, &series)
    };
    assert_eq!(calls("200"), Some(1.0), "{text}");
    assert_eq!(calls("400"), Some(1.0), "{text}");
    assert_eq!(calls("412"), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "cart_sentinel_hook_calls_total{service=\"unknown\",hook=\"unknown\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("no-such-service"), "{text}");
    let latency = "cart_sentinel_hook_call_duration_seconds";
    let labels = "service=\"cart-monitoring\",hook=\"patient-view\"";
    assert_eq!(
        sample(&text, &format!("{latency}_count{{{labels}}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("{latency}_bucket{{{labels},le=\"+Inf\"}}")),
        Some(3.0),
        "{text}"
    );
    let sum = sample(&text, &format!("{latency}_sum{{{labels}}}")).expect("a sum");
    assert!(sum > 0.0 && sum < 30.0, "{sum}");
    assert_eq!(
        sample(
            &text,
            "cart_sentinel_cards_issued_total{rule=\"pjp-prophylaxis-missing\",indicator=\"warning\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // The first 500 ends the call; requests still in flight then are dropped (`cancelled`).
    let fetched = |series: &str, outcome: &str| {
        sample(&text, &format!("{series}{{outcome=\"{outcome}\"}}")).unwrap_or(0.0)
    };
    for series in [
        "cart_sentinel_fhir_fetches_total",
        "cart_sentinel_fhir_fetch_duration_seconds_count",
    ] {
        let failed = fetched(series, "status_5xx");
        assert!(failed >= 1.0, "{text}");
        assert_eq!(failed + fetched(series, "cancelled"), keys, "{text}");
    }
    assert_eq!(
        sample(&text, "cart_sentinel_pack_version"),
        Some(1.0),
        "{text}"
    );
    for family in [
        "cart_sentinel_hook_call_duration_seconds histogram",
        "cart_sentinel_hook_calls counter",
        "cart_sentinel_cards_issued counter",
        "cart_sentinel_fhir_fetch_duration_seconds histogram",
        "cart_sentinel_fhir_fetches counter",
        "cart_sentinel_pack_version gauge",
    ] {
        assert!(text.contains(&format!("# TYPE {family}\n")), "{family}");
    }
}

/// The cards of an answer without their per-call uuids (cards' and suggestions').
async fn cards(resp: reqwest::Response) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("uuid");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    assert_eq!(resp.status(), 200);
    let mut body: Value = resp.json().await.expect("JSON");
    strip(&mut body);
    body["cards"].take()
}

#[tokio::test]
async fn fhir_reads_are_counted_and_member_order_does_not_change_the_answer() {
    let app = spawn_app().await;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());

    // The same request with the Patient's `resourceType` after another member answers alike.
    let request = load_json(format!("{PJP}.request.json"));
    let answered = cards(app.call("cart-monitoring", &request).await).await;
    let text = serde_json::to_string(&request).unwrap();
    let first = r#""patient":{"resourceType":"Patient","#;
    assert!(
        text.contains(first),
        "the fixture's patient starts with resourceType"
    );
    let moved = text.replace(first, r#""patient":{"meta":{},"resourceType":"Patient","#);
    let ordinary = cards(app.call_raw("cart-monitoring", moved.into_bytes()).await).await;
    assert_eq!(ordinary, answered);
    assert!(
        answered.as_array().is_some_and(|c| !c.is_empty()),
        "{answered}"
    );

    // Fetched pages: the Patient read answered with `resourceType` last, every search with an
    // empty Bundle.
    Mock::given(method("GET"))
        .and(path("/Patient/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"id": "p1", "birthDate": "1960-01-01", "resourceType": "Patient"}"#,
            "application/fhir+json",
        ))
        .with_priority(1)
        .mount(&app.fhir)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"resourceType": "Bundle", "type": "searchset"}"#,
            "application/fhir+json",
        ))
        .with_priority(2)
        .mount(&app.fhir)
        .await;
    let mut req = patient_view("p1");
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = Value::String(app.fhir.uri());
    assert_eq!(
        cards(app.call("cart-monitoring", &req).await).await,
        serde_json::json!([])
    );

    let text = scrape(&app).await;
    let reads = |source: &str| {
        let series = format!("cart_sentinel_fhir_reads_total{{source=\"{source}\"}}");
        sample(&text, &series)
    };
    let keys = prefetch_keys("cart-monitoring").len() as f64;
    assert_eq!(reads("prefetch"), Some(2.0), "{text}");
    assert_eq!(reads("fetch"), Some(keys), "{text}");
    assert_eq!(
        sample(&text, "cart_sentinel_fhirpath_failures_total"),
        Some(0.0),
        "{text}"
    );
    assert!(text.contains("# TYPE cart_sentinel_fhir_reads counter\n"));
}

#[tokio::test]
async fn metrics_are_not_counted_as_hook_calls() {
    let app = spawn_app().await;

    scrape(&app).await;
    app.discovery().await;
    let text = scrape(&app).await;

    assert!(!text.contains("cart_sentinel_hook_calls_total{"), "{text}");
}

/// A `where:` that fails on a resource (a string compared with a number) skips that resource
/// for the rule and is counted; the call still answers 200.
#[tokio::test]
async fn a_fhirpath_that_fails_on_a_resource_skips_it_and_is_counted() {
    let pack = tempfile::tempdir().unwrap();
    crate::helpers::copy_pack(pack.path(), &|path, text| {
        if path.ends_with("possible-crs-fever.yaml") {
            text.replace(
                "      within_hours: {param: lookback_hours}",
                "      within_hours: {param: lookback_hours}\n      where: \"status > 5\"",
            )
        } else {
            text
        }
    });
    let dir = pack.path().to_path_buf();
    let app = crate::helpers::spawn_with(move |s| s.rules.dir = dir).await;
    let base = "fixtures/patients/possible-crs-fever/fires-day-0";
    let expect = load_json(format!("{base}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let resp = app
        .call(
            "cart-monitoring",
            &load_json(format!("{base}.request.json")),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        !body["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["source"]["topic"]["code"] == "possible-crs-fever"),
        "the temperature the expression failed on is skipped, so the rule stays silent"
    );
    let text = scrape(&app).await;
    let failures = sample(&text, "cart_sentinel_fhirpath_failures_total").unwrap();
    assert!(failures >= 1.0, "{text}");
}

/// Prefetch telemetry: calls with a complete prefetch, calls that lacked keys (fetched, or
/// answered 412), which keys were missing, and how long fetching them took, per client.
#[tokio::test]
async fn prefetch_completeness_missing_keys_and_fetch_time_are_counted_per_client() {
    let app = spawn_app().await;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    Mock::given(method("GET"))
        .and(path("/Patient/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}),
        ))
        .with_priority(1)
        .mount(&app.fhir)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"resourceType": "Bundle", "type": "searchset"})),
        )
        .with_priority(2)
        .mount(&app.fhir)
        .await;
    // Complete prefetch.
    let resp = app
        .call("cart-monitoring", &load_json(format!("{PJP}.request.json")))
        .await;
    assert_eq!(resp.status(), 200);
    // Nothing prefetched: every key fetched.
    let mut fetched = patient_view("p1");
    fetched.as_object_mut().unwrap().remove("prefetch");
    fetched["fhirServer"] = Value::String(app.fhir.uri());
    assert_eq!(app.call("cart-monitoring", &fetched).await.status(), 200);
    // Nothing prefetched and no fhirServer: 412.
    fetched.as_object_mut().unwrap().remove("fhirServer");
    assert_eq!(app.call("cart-monitoring", &fetched).await.status(), 412);

    let text = scrape(&app).await;
    let calls = |prefetch: &str| {
        sample(
            &text,
            &format!("cart_sentinel_prefetch_calls_total{{service=\"cart-monitoring\",hook=\"patient-view\",client=\"anonymous\",prefetch=\"{prefetch}\"}}"),
        )
    };
    assert_eq!(calls("complete"), Some(1.0), "{text}");
    assert_eq!(calls("incomplete"), Some(2.0), "{text}");
    for key in prefetch_keys("cart-monitoring") {
        let series = format!(
            "cart_sentinel_prefetch_keys_missing_total{{service=\"cart-monitoring\",client=\"anonymous\",key=\"{key}\"}}"
        );
        assert_eq!(sample(&text, &series), Some(2.0), "{key}: {text}");
    }
    let fetch = "cart_sentinel_prefetch_fetch_duration_seconds_count{service=\"cart-monitoring\",client=\"anonymous\"}";
    assert_eq!(
        sample(&text, fetch),
        Some(1.0),
        "only the call that fetched: {text}"
    );
}
