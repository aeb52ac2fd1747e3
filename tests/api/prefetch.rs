//! The prefetch matrix: null, absent with and without fhirServer, server failures, an
//! OperationOutcome value, pagination, and the allowlist.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{patient_view, prefetch_templates, spawn_app, spawn_with};

pub(crate) const TOKEN: &str = "secret-token-7b1e";

fn empty_bundle() -> Value {
    json!({"resourceType": "Bundle", "type": "searchset", "entry": []})
}

pub(crate) fn without_prefetch(fhir_server: &str) -> Value {
    let mut req = patient_view("p1");
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = json!(fhir_server);
    req["fhirAuthorization"] = json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "cart-sentinel", "patient": "p1"});
    req
}

#[tokio::test]
async fn null_prefetch_values_mean_no_data_not_missing() {
    let app = spawn_app().await;
    let resp = app.call("cart-monitoring", &patient_view("p1")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"cards": []}));
    assert!(app.fhir.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn absent_prefetch_is_fetched_with_exactly_the_rendered_queries_and_the_bearer_token() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_bundle()))
        .mount(&app.fhir)
        .await;

    let resp = app
        .call(
            "cart-monitoring",
            &without_prefetch(&format!("{}/fhir", app.fhir.uri())),
        )
        .await;

    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let received = app.fhir.received_requests().await.unwrap();
    let path_and_query = |u: &url::Url| format!("{}?{}", u.path(), u.query().unwrap_or_default());
    let mut seen: Vec<String> = received.iter().map(|r| path_and_query(&r.url)).collect();
    let mut expected: Vec<String> = prefetch_templates("cart-monitoring")
        .iter()
        .map(|(_, t)| {
            path_and_query(
                &url::Url::parse(&format!(
                    "{}/fhir/{}",
                    app.fhir.uri(),
                    t.replace("{{context.patientId}}", "p1")
                ))
                .unwrap(),
            )
        })
        .collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    for r in &received {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}

#[tokio::test]
async fn absent_prefetch_without_fhir_server_is_412_with_an_operation_outcome() {
    let app = spawn_app().await;
    let mut req = patient_view("p1");
    req["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("observations");

    let resp = app.call("cart-monitoring", &req).await;

    assert_eq!(resp.status(), 412);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert!(body["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("observations"));
}

async fn status_when_fhir_answers(template: ResponseTemplate) -> u16 {
    let app = spawn_with(|s| {
        s.fhir.request_timeout_ms = 200;
        s.fhir.deadline_ms = 300;
    })
    .await;
    Mock::given(method("GET"))
        .respond_with(template)
        .mount(&app.fhir)
        .await;
    app.call("cart-monitoring", &without_prefetch(&app.fhir.uri()))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn fhir_server_error_is_412() {
    assert_eq!(
        status_when_fhir_answers(ResponseTemplate::new(500)).await,
        412
    );
    assert_eq!(
        status_when_fhir_answers(ResponseTemplate::new(401)).await,
        412
    );
}

#[tokio::test]
async fn fhir_server_timeout_is_412() {
    let slow = ResponseTemplate::new(200)
        .set_body_json(empty_bundle())
        .set_delay(Duration::from_secs(2));
    assert_eq!(status_when_fhir_answers(slow).await, 412);
}

#[tokio::test]
async fn fhir_server_answering_non_json_is_412() {
    assert_eq!(
        status_when_fhir_answers(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
            .await,
        412
    );
}

/// A page nested deeper than the hook body may be gets 412 before the recursive parser sees
/// it (120 levels can exhaust a debug build's worker stack), and the service keeps answering.
#[tokio::test]
async fn fhir_page_nested_too_deep_is_412_and_the_next_call_works() {
    let app = spawn_with(|s| {
        s.fhir.request_timeout_ms = 2000;
        s.fhir.deadline_ms = 3000;
    })
    .await;
    let deep = format!(
        "{{\"resourceType\": \"Bundle\", \"type\": \"searchset\", \"x\": {}1{}}}",
        "[".repeat(120),
        "]".repeat(120)
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(deep, "application/fhir+json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.fhir)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_bundle()))
        .with_priority(2)
        .mount(&app.fhir)
        .await;
    let resp = app
        .call("cart-monitoring", &without_prefetch(&app.fhir.uri()))
        .await;
    assert_eq!(resp.status(), 412);
    let outcome: serde_json::Value = resp.json().await.unwrap();
    assert!(
        outcome.to_string().contains("nested deeper than 64 levels"),
        "{outcome}"
    );
    let resp = app
        .call("cart-monitoring", &without_prefetch(&app.fhir.uri()))
        .await;
    assert_eq!(
        resp.status(),
        200,
        "the next call, with ordinary pages, is answered"
    );
}

#[tokio::test]
async fn fhir_server_down_is_412() {
    let app = spawn_with(|s| s.fhir.allowed_servers = None).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let resp = app
        .call(
            "cart-monitoring",
            &without_prefetch(&format!("http://127.0.0.1:{port}/fhir")),
        )
        .await;
    assert_eq!(resp.status(), 412);
}

#[tokio::test]
async fn fhir_server_outside_the_allowlist_is_refused_and_never_receives_the_token() {
    let app =
        spawn_with(|s| s.fhir.allowed_servers = Some(vec!["https://ehr.example/fhir".into()]))
            .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_bundle()))
        .mount(&app.fhir)
        .await;

    let resp = app
        .call("cart-monitoring", &without_prefetch(&app.fhir.uri()))
        .await;

    assert_eq!(resp.status(), 412);
    assert!(app.fhir.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_operation_outcome_prefetch_value_is_refetched_from_the_server() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/Condition"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_bundle()))
        .expect(1)
        .mount(&app.fhir)
        .await;
    let mut req = patient_view("p1");
    req["prefetch"]["conditions"] = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]});
    req["fhirServer"] = json!(app.fhir.uri());

    let resp = app.call("cart-monitoring", &req).await;

    assert_eq!(resp.status(), 200);
    assert_eq!(app.fhir.received_requests().await.unwrap().len(), 1);
}

fn crs_patient(app_now: chrono::DateTime<chrono::Utc>, fhir: &str) -> Value {
    let day3 = (app_now - chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let mut req = patient_view("p1");
    req["fhirServer"] = json!(fhir);
    req["prefetch"]["procedures"] = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
        "resourceType": "Procedure", "id": "cart", "status": "completed", "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1156961008"}]}, "performedDateTime": day3}}]});
    req["prefetch"]["observations"] = json!({"resourceType": "Bundle", "type": "searchset", "entry": [],
        "link": [{"relation": "next", "url": format!("{fhir}/Observation?page=2")}]});
    req
}

#[tokio::test]
async fn a_paginated_prefetch_bundle_is_followed_through_fhir_server() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    app.set_now(now);
    let fever = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
        "resourceType": "Observation", "id": "t1", "status": "final", "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "effectiveDateTime": (now - chrono::Duration::hours(2)).to_rfc3339(),
        "valueQuantity": {"value": 38.6, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"}}}]});
    Mock::given(method("GET"))
        .and(path("/Observation"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fever))
        .expect(1)
        .mount(&app.fhir)
        .await;

    let resp = app
        .call("cart-monitoring", &crs_patient(now, &app.fhir.uri()))
        .await;

    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let rules: Vec<&str> = body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"]["topic"]["code"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"possible-crs-fever"), "{rules:?}");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let app = spawn_app().await;
    let mut req = crs_patient(chrono::Utc::now(), &app.fhir.uri());
    req["prefetch"]["observations"]["link"][0]["url"] =
        json!("http://169.254.169.254/latest/meta-data");

    let resp = app.call("cart-monitoring", &req).await;

    assert_eq!(resp.status(), 412);
    assert!(app.fhir.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_paginated_prefetch_without_fhir_server_is_412() {
    let app = spawn_app().await;
    let mut req = crs_patient(chrono::Utc::now(), &app.fhir.uri());
    req.as_object_mut().unwrap().remove("fhirServer");
    assert_eq!(app.call("cart-monitoring", &req).await.status(), 412);
}

#[tokio::test]
async fn a_fhir_response_over_the_size_limit_is_cut_off_with_412() {
    let huge = json!({"resourceType": "Bundle", "type": "searchset", "entry": [], "padding": "x".repeat(64 * 1024)});
    let oversized = [
        ResponseTemplate::new(200).set_body_json(huge),
        // No JSON at all, only size: the cut-off comes before parsing.
        ResponseTemplate::new(200).set_body_raw(vec![b' '; 64 * 1024], "application/fhir+json"),
    ];
    for response in oversized {
        let app = spawn_with(|s| s.fhir.max_response_bytes = 4096).await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&app.fhir)
            .await;
        assert_eq!(
            app.call("cart-monitoring", &without_prefetch(&app.fhir.uri()))
                .await
                .status(),
            412
        );
    }
}

/// HCV and HIV screening, which no LOINC code of the pack names (the value sets match them by
/// text): the results query fetches by category, so the EHR returns them, and they count.
#[tokio::test]
async fn screening_results_matched_by_text_are_fetched_by_category_and_count() {
    use wiremock::matchers::query_param;
    let app = spawn_app().await;
    let base =
        "fixtures/patients/cart-order-baseline-risk/fires-warning-all-baseline-tests-missing";
    let expect = crate::helpers::load_json(format!("{base}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let mut req = crate::helpers::load_json(format!("{base}.request.json"));
    let patient = req["context"]["patientId"].as_str().unwrap().to_owned();
    let baseline_tests = |body: &Value| -> usize {
        body["cards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"]["topic"]["code"] == "cart-order-baseline-risk")
            .expect("the baseline card")["suggestions"]
            .as_array()
            .unwrap()
            .len()
    };
    let before: Value = app
        .call("cart-order-safety-sign", &req)
        .await
        .json()
        .await
        .unwrap();

    let screening = |id: &str, text: &str| {
        json!({"resource": {"resourceType": "Observation", "id": id,
        "status": "final", "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"text": text}, "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2026-06-10T09:00:00Z", "valueString": "negative"}})
    };
    Mock::given(method("GET"))
        .and(path("/Observation"))
        .and(query_param("category", "laboratory,vital-signs"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"resourceType": "Bundle",
            "type": "searchset", "entry": [screening("hcv", "Hepatitis C virus antibody"),
                screening("hiv", "HIV 1+2 antigen/antibody screen")]})),
        )
        .expect(1)
        .mount(&app.fhir)
        .await;
    req["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("observations");
    req["fhirServer"] = json!(app.fhir.uri());
    let resp = app.call("cart-order-safety-sign", &req).await;
    assert_eq!(resp.status(), 200);
    let after: Value = resp.json().await.unwrap();
    assert_eq!(
        baseline_tests(&after),
        baseline_tests(&before) - 2,
        "HCV and HIV are no longer suggested: {after}"
    );
}
