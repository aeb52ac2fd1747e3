//! A CDS Hooks 2.0 request and one from a 3.0-era client (SMART v2 scopes in
//! `fhirAuthorization.scope`) are answered alike: the token goes to the FHIR server either way.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{patient_view, spawn_app};

const TOKEN: &str = "smart-token-3";

#[tokio::test]
async fn smart_v1_and_v2_scopes_are_answered_alike() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/Patient/p1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01"}),
        ))
        .with_priority(1)
        .mount(&app.fhir)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resourceType": "Bundle", "type": "searchset"})),
        )
        .with_priority(2)
        .mount(&app.fhir)
        .await;
    let mut answers = Vec::new();
    for scope in [
        "patient/*.read launch",
        "patient/Patient.r patient/Observation.rs patient/MedicationRequest.rs patient/Condition.rs launch/patient",
    ] {
        let mut req = patient_view("p1");
        req.as_object_mut().unwrap().remove("prefetch");
        req["fhirServer"] = Value::String(app.fhir.uri());
        req["fhirAuthorization"] = json!({"access_token": TOKEN, "token_type": "Bearer",
            "expires_in": 300, "scope": scope, "subject": "cart-sentinel", "patient": "p1"});
        let resp = app.call("cart-monitoring", &req).await;
        assert_eq!(resp.status(), 200, "{scope}");
        let body: Value = resp.json().await.unwrap();
        answers.push(body["cards"].clone());
    }
    assert_eq!(answers[0], answers[1]);
    let received = app.fhir.received_requests().await.unwrap();
    assert!(
        received.len() >= 2,
        "the FHIR server was called for both requests"
    );
}
