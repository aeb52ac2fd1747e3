//! A resource type no shipped rule reads, brought into a rule through the admin API of a
//! running service: a documented sulfonamide allergy (AllergyIntolerance) makes
//! `pjp-prophylaxis-missing` suggest atovaquone instead of trimethoprim-sulfamethoxazole on the
//! next hook call, without a restart; discovery then asks for the allergies.

use serde_json::{json, Value};

use crate::helpers::{admin_token, load_json, spawn_app, TestApp};

const PJP: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let token = admin_token(
        app.data_dir.path(),
        "pharmacist-1",
        &["rules:read", "rules:write"],
        600,
    );
    app.client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
        .header(
            "X-Change-Reason",
            "sulfonamide allergy: atovaquone instead of TMP-SMX",
        )
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// The PJP fixture with an AllergyIntolerance of the patient in an `allergies` prefetch key.
fn request_with_allergy(verification: &str) -> Value {
    let mut request = load_json(format!("{PJP}.request.json"));
    let patient = request["context"]["patientId"].as_str().unwrap().to_owned();
    let allergy = json!({"resourceType": "AllergyIntolerance", "id": "a1",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": verification}]},
        "code": {"text": "Sulfonamide antibiotics"},
        "reaction": [{"manifestation": [{"text": "rash"}]}],
        "patient": {"reference": format!("Patient/{patient}")}});
    request["prefetch"]["allergies"] = json!({"resourceType": "Bundle", "type": "searchset",
        "entry": [{"resource": allergy}]});
    request
}

/// The PJP card's suggestions: label, then the first action's description.
async fn pjp_suggestions(app: &TestApp, request: &Value) -> Vec<String> {
    let resp = app.call("cart-monitoring", request).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let card = body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"]["topic"]["code"] == "pjp-prophylaxis-missing")
        .expect("the PJP card")
        .clone();
    card["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} | {}",
                s["label"].as_str().unwrap(),
                s["actions"][0]["description"].as_str().unwrap()
            )
        })
        .collect()
}

async fn monitoring_prefetch(app: &TestApp) -> Value {
    let body: Value = app.discovery().await.json().await.unwrap();
    body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "cart-monitoring")
        .unwrap()["prefetch"]
        .clone()
}

#[tokio::test]
async fn an_allergy_rule_added_through_the_admin_api_changes_the_next_card() {
    let app = spawn_app().await;
    let expect = load_json(format!("{PJP}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let with_allergy = request_with_allergy("confirmed");
    let before = pjp_suggestions(&app, &with_allergy).await;
    assert!(
        before[0].starts_with("Trimethoprim-sulfamethoxazole"),
        "{before:?}"
    );
    assert!(
        monitoring_prefetch(&app).await.get("allergies").is_none(),
        "no rule reads allergies yet"
    );

    let valueset = json!({"id": "sulfonamide-allergy", "title": "Sulfonamide allergy",
        "description": "Allergies to sulfonamide antibiotics, by name (no code is listed).",
        "text": [{"match": "sulfonamide"}, {"match": "sulfa"}, {"match": "sulfamethoxazole"},
                 {"match": "trimethoprim-sulfamethoxazole"}, {"match": "co-trimoxazole"}]});
    let put = send(
        &app,
        reqwest::Method::PUT,
        "/admin/valuesets/sulfonamide-allergy",
        valueset,
    )
    .await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());

    let yaml =
        std::fs::read(crate::helpers::root().join("cds-hooks/rules/pjp-prophylaxis-missing.yaml"))
            .unwrap();
    let mut rule: Value = serde_yaml::from_slice(&yaml).unwrap();
    rule["let"]["sulfa_allergy"] =
        json!({"latest": {"source": "allergies", "codes": "sulfonamide-allergy"}});
    // Any element of that resource, by FHIRPath: a text and a number.
    rule["let"]["substance"] = json!({"text": {"of": "sulfa_allergy", "expr": "code.text"}});
    rule["let"]["reactions"] =
        json!({"num": {"path": {"of": "sulfa_allergy", "expr": "reaction.count()"}}});
    let suggestions = rule["card"]["suggestions"].as_array_mut().unwrap();
    // Every trimethoprim-sulfamethoxazole tablet the rule suggests gives way to atovaquone.
    for tmp_smx in suggestions.iter_mut() {
        tmp_smx["when"] = json!({"not": {"exists": "sulfa_allergy"}});
    }
    suggestions.push(json!({
        "label": "Atovaquone (draft order; sulfonamide allergy on record)",
        "recommended": true,
        "when": {"exists": "sulfa_allergy"},
        "actions": [{"type": "create",
            "description": "Draft order for atovaquone PJP prophylaxis; dose per local protocol (allergy on record: {{substance}}, {{reactions}} reaction(s))",
            "resource": {"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                "medicationCodeableConcept": {"text": "atovaquone"},
                "subject": {"reference": "{{patient.ref}}"},
                "dosageInstruction": [{"text": "PJP prophylaxis; dose and schedule per local protocol"}]}}]}));
    // A suggested order an EHR could not apply (text only) is refused with its path.
    let refused = send(
        &app,
        reqwest::Method::PUT,
        "/admin/rules/pjp-prophylaxis-missing",
        rule.clone(),
    )
    .await;
    assert_eq!(refused.status(), 422);
    let problems = refused.text().await.unwrap();
    assert!(
        problems.contains("medicationCodeableConcept") && problems.contains("coding"),
        "{problems}"
    );
    // With the site's own code for atovaquone it is accepted.
    let mut rule = rule;
    let last = rule["card"]["suggestions"].as_array().unwrap().len() - 1;
    rule["card"]["suggestions"][last]["actions"][0]["resource"]["medicationCodeableConcept"]
        ["coding"] = json!([{"system": "urn:example-hospital:formulary", "code": "ATOV-750", "display": "atovaquone"}]);
    let put = send(
        &app,
        reqwest::Method::PUT,
        "/admin/rules/pjp-prophylaxis-missing",
        rule,
    )
    .await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());

    let template = monitoring_prefetch(&app).await["allergies"].clone();
    assert_eq!(
        template, "AllergyIntolerance?patient={{context.patientId}}",
        "discovery asks for them now"
    );
    let after = pjp_suggestions(&app, &with_allergy).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].starts_with("Atovaquone"), "{after:?}");
    assert!(
        after[0].ends_with("(allergy on record: Sulfonamide antibiotics, 1 reaction(s))"),
        "{after:?}"
    );
    let refuted = pjp_suggestions(&app, &request_with_allergy("refuted")).await;
    assert!(
        refuted[0].starts_with("Trimethoprim-sulfamethoxazole"),
        "a refuted allergy does not count: {refuted:?}"
    );

    // Without the key the service now asks for, and no fhirServer to fetch it: 412.
    let without = load_json(format!("{PJP}.request.json"));
    assert_eq!(app.call("cart-monitoring", &without).await.status(), 412);
}

#[tokio::test]
async fn a_source_with_a_bad_fhirpath_is_refused_with_its_column_and_nothing_changes() {
    let app = spawn_app().await;
    let token = admin_token(app.data_dir.path(), "pharmacist-1", &["rules:read"], 600);
    let get = || async {
        app.client
            .get(format!("{}/admin/sources/allergies", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let before = get().await;
    let mut broken = before.clone();
    broken["filter"] = json!("verificationStatus.coding.code.first() = 'confirmed' and");
    let resp = send(
        &app,
        reqwest::Method::PUT,
        "/admin/sources/allergies",
        broken,
    )
    .await;
    assert_eq!(resp.status(), 422);
    let body = resp.text().await.unwrap();
    assert!(body.contains("filter") && body.contains("column"), "{body}");
    assert_eq!(get().await, before, "the active source is unchanged");

    let mut narrower = before.clone();
    narrower["filter"] = json!("verificationStatus.coding.code.first() = 'confirmed'");
    let resp = send(
        &app,
        reqwest::Method::PUT,
        "/admin/sources/allergies",
        narrower.clone(),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(get().await, narrower);
}
