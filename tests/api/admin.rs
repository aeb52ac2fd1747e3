//! The admin API over HTTP: roles, validation, versions, concurrency, rollback, audit.

use serde_json::{json, Value};

use crate::helpers::{load_json, spawn_app, TestApp};

const ALL: &[&str] = &["rules:read", "rules:write", "audit:read"];

fn token(app: &TestApp, scopes: &[&str]) -> String {
    token_for(app, "pharmacist-1", scopes, 600)
}

fn token_for(app: &TestApp, sub: &str, scopes: &[&str], ttl: i64) -> String {
    crate::helpers::admin_token(app.data_dir.path(), sub, scopes, ttl)
}

async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.request(method, format!("{}{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(m) = if_match {
        req = req.header("If-Match", m);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.header("X-Change-Reason", "integration test")
        .send()
        .await
        .expect("request")
}

async fn cbc_rule_fires(app: &TestApp) -> bool {
    let base = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";
    fixture_cards(app, base)
        .await
        .contains(&"cbc-surveillance-overdue".to_owned())
}

/// A parameter's per-product values are what the product's recipients get, and an
/// administrator can change or remove them; an unknown product is refused with its path.
#[tokio::test]
async fn per_product_parameter_values_apply_to_that_products_recipients() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let obecel_day_28 = "fixtures/patients/early-toxicity-window/fires-obecel-day-28";
    let rule = "early-toxicity-window".to_owned();
    assert!(
        fixture_cards(&app, obecel_day_28).await.contains(&rule),
        "obe-cel's own proximity (28 days) and driving (56 days) durations"
    );

    let unknown = admin(
        &app,
        reqwest::Method::PATCH,
        "/admin/rules/early-toxicity-window/parameters",
        Some(&t),
        Some(json!({"proximity_end_day": {"products": {"zzz-cel": 30}}})),
        None,
    )
    .await;
    assert_eq!(unknown.status(), 422);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(
        body["issue"][0]["expression"][0], "parameters.proximity_end_day.products.zzz-cel",
        "{body}"
    );
    assert!(fixture_cards(&app, obecel_day_28).await.contains(&rule));

    // The site follows the June 2025 durations for obe-cel too: day 28 is past all of them.
    let same_for_all = json!({"value": 14, "products": {}});
    let changed = admin(
        &app,
        reqwest::Method::PATCH,
        "/admin/rules/early-toxicity-window/parameters",
        Some(&t),
        Some(json!({"proximity_end_day": same_for_all, "no_driving_end_day": same_for_all})),
        None,
    )
    .await;
    assert_eq!(changed.status(), 200);
    let view: Value = changed.json().await.unwrap();
    let proximity = &view["rule"]["parameters"]["proximity_end_day"];
    assert_eq!(proximity["value"].as_f64(), Some(14.0), "{view}");
    assert!(proximity.get("products").is_none(), "{view}");
    assert!(!fixture_cards(&app, obecel_day_28).await.contains(&rule));
}

/// One operation of the served OpenAPI document.
struct Operation {
    method: String,
    path: String,
    scope: String,
}

/// The served OpenAPI document (it needs no token).
async fn openapi_document(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/admin/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn documented_operations(app: &TestApp) -> Vec<Operation> {
    let doc = openapi_document(app).await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            ops.push(Operation {
                method: method.clone(),
                path: path.clone(),
                scope: op["security"][0]["bearer"][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            });
        }
    }
    assert!(ops.len() >= 24, "{} operations", ops.len());
    ops
}

#[tokio::test]
async fn every_admin_endpoint_needs_a_token_with_the_right_scope() {
    let app = spawn_app().await;
    let read_only = token(&app, &["rules:read"]);
    let expired = token_for(&app, "x", ALL, -120);
    for e in documented_operations(&app).await {
        let path = e
            .path
            .replace("{id}", "cbc-surveillance-overdue")
            .replace("{version}", "1")
            .replace("{ref}", "p1");
        let method: reqwest::Method = e.method.to_uppercase().parse().unwrap();
        let none = admin(&app, method.clone(), &path, None, Some(json!({})), None).await;
        assert_eq!(none.status(), 401, "{} {path} without a token", e.method);
        assert!(none.headers().contains_key("www-authenticate"));
        let garbage = admin(
            &app,
            method.clone(),
            &path,
            Some("not.a.jwt"),
            Some(json!({})),
            None,
        )
        .await;
        assert_eq!(garbage.status(), 401, "{} {path} with garbage", e.method);
        if e.scope != "rules:read" {
            let wrong = admin(&app, method, &path, Some(&read_only), Some(json!({})), None).await;
            assert_eq!(
                wrong.status(),
                403,
                "{} {path} with rules:read only",
                e.method
            );
            let outcome: Value = wrong.json().await.unwrap();
            assert_eq!(outcome["issue"][0]["code"], "forbidden", "{outcome}");
        }
    }
    let resp = admin(
        &app,
        reqwest::Method::GET,
        "/admin/rules",
        Some(&expired),
        None,
        None,
    )
    .await;
    assert_eq!(resp.status(), 401, "expired token");
    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(
            r#"{"sub":"x","scope":"rules:read rules:write","aud":"cart-sentinel-admin","exp":4102444800}"#
        )
    );
    assert_eq!(
        admin(
            &app,
            reqwest::Method::GET,
            "/admin/rules",
            Some(&unsigned),
            None,
            None
        )
        .await
        .status(),
        401,
        "alg none"
    );
    let other_app = spawn_app().await;
    let foreign = token(&other_app, ALL);
    assert_eq!(
        admin(
            &app,
            reqwest::Method::GET,
            "/admin/rules",
            Some(&foreign),
            None,
            None
        )
        .await
        .status(),
        401,
        "another key"
    );
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn a_threshold_change_changes_the_card_and_a_rollback_restores_it() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    assert!(
        cbc_rule_fires(&app).await,
        "the fixture fires with the default 30-day interval"
    );

    let changed = admin(
        &app,
        reqwest::Method::PATCH,
        "/admin/rules/cbc-surveillance-overdue/parameters",
        Some(&t),
        Some(json!({"interval_phase1_days": 35})),
        None,
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.json::<Value>().await.unwrap()["packVersion"], 2);
    assert!(
        !cbc_rule_fires(&app).await,
        "a CBC 31 days old is within a 35-day interval"
    );

    let back = admin(
        &app,
        reqwest::Method::POST,
        "/admin/versions/1/rollback",
        Some(&t),
        None,
        None,
    )
    .await;
    assert_eq!(back.status(), 200);
    assert_eq!(back.json::<Value>().await.unwrap()["packVersion"], 3);
    assert!(
        cbc_rule_fires(&app).await,
        "rolled back to the 30-day interval"
    );

    let diff: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/versions/diff?from=1&to=2",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        diff["changes"][0]["path"],
        "rules.cbc-surveillance-overdue.parameters.interval_phase1_days.value"
    );
    let audit: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/audit?rule=cbc-surveillance-overdue",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "rule.parameters");
    assert_eq!(entries[0]["actor"], "pharmacist-1");
    assert_eq!(entries[0]["reason"], "integration test");
    let all: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/audit?actor=pharmacist-1",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let actions: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["pack.rollback", "rule.parameters"]);
    assert_eq!(
        admin(
            &app,
            reqwest::Method::GET,
            "/admin/audit",
            Some(&token(&app, &["rules:read"])),
            None,
            None
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn an_invalid_rule_is_refused_with_its_path_and_nothing_changes() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let before: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/export",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let mut rule: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/rules/possible-crs-fever",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    rule["let"]["fever"]["latest"]["results"] = json!("no-such-valueset");

    let resp = admin(
        &app,
        reqwest::Method::PUT,
        "/admin/rules/possible-crs-fever",
        Some(&t),
        Some(rule.clone()),
        None,
    )
    .await;

    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    assert!(
        body["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|d| d.starts_with("rules/possible-crs-fever.yaml: ")),
        "the file is named: {body}"
    );
    assert_eq!(
        body["issue"][0]["expression"][0], "let.fever.latest.results",
        "{body}"
    );
    let bad_params = admin(
        &app,
        reqwest::Method::PATCH,
        "/admin/rules/possible-crs-fever/parameters",
        Some(&t),
        Some(json!({"window_end_day": -1})),
        None,
    )
    .await;
    assert_eq!(bad_params.status(), 422, "below the parameter's minimum");
    let shape = admin(
        &app,
        reqwest::Method::POST,
        "/admin/rules",
        Some(&t),
        Some(json!({"id": "x", "title": 5})),
        None,
    )
    .await;
    assert_eq!(shape.status(), 422);
    assert_eq!(
        shape.json::<Value>().await.unwrap()["issue"][0]["expression"][0],
        "title"
    );
    let valid: Value = admin(
        &app,
        reqwest::Method::POST,
        "/admin/validate",
        Some(&t),
        Some(json!({"rule": rule})),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(valid["valid"], false);
    let after: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/export",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(before, after, "the active pack is unchanged");
    let versions: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/versions",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn of_two_writers_with_the_same_etag_one_gets_412() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let got = admin(
        &app,
        reqwest::Method::GET,
        "/admin/rules/igg-monitoring-due",
        Some(&t),
        None,
        None,
    )
    .await;
    let etag = got.headers()["etag"].to_str().unwrap().to_owned();
    let path = "/admin/rules/igg-monitoring-due/status";
    let (a, b) = tokio::join!(
        admin(
            &app,
            reqwest::Method::PUT,
            path,
            Some(&t),
            Some(json!({"status": "retired"})),
            Some(&etag)
        ),
        admin(
            &app,
            reqwest::Method::PUT,
            path,
            Some(&t),
            Some(json!({"status": "draft"})),
            Some(&etag)
        ),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let stale = admin(
        &app,
        reqwest::Method::PATCH,
        "/admin/rules/igg-monitoring-due/parameters",
        Some(&t),
        Some(json!({"igg_threshold": 300})),
        Some(&etag),
    )
    .await;
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn value_sets_take_local_codes_and_give_them_back() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let code = json!({"system": "urn:oid:1.2.3.4.5", "code": "LOCAL-IVIG-1", "display": "Site IVIG product", "status": "local"});
    let added = admin(
        &app,
        reqwest::Method::POST,
        "/admin/valuesets/ivig/codes",
        Some(&t),
        Some(json!({"codes": [code]})),
        None,
    )
    .await;
    assert_eq!(added.status(), 200);
    let vs: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/valuesets/ivig",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(vs["codes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "LOCAL-IVIG-1"));
    let removed = admin(
        &app,
        reqwest::Method::DELETE,
        "/admin/valuesets/ivig/codes",
        Some(&t),
        Some(json!({"codes": [{"system": "urn:oid:1.2.3.4.5", "code": "LOCAL-IVIG-1"}]})),
        None,
    )
    .await;
    assert_eq!(removed.status(), 200);
    let again = admin(
        &app,
        reqwest::Method::DELETE,
        "/admin/valuesets/ivig/codes",
        Some(&t),
        Some(json!({"codes": [{"system": "urn:oid:1.2.3.4.5", "code": "LOCAL-IVIG-1"}]})),
        None,
    )
    .await;
    assert_eq!(again.status(), 422);
    let bad = admin(
        &app,
        reqwest::Method::POST,
        "/admin/valuesets/ivig/codes",
        Some(&t),
        Some(json!({"codes": [{"system": "x", "code": "y", "status": "rumour"}]})),
        None,
    )
    .await;
    assert_eq!(bad.status(), 422, "an unknown evidence status is refused");
}

#[tokio::test]
async fn a_dry_run_shows_the_proposed_cards_beside_the_active_ones() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let base = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";
    let mut rule: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/rules/cbc-surveillance-overdue",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    rule["parameters"]["interval_phase1_days"]["value"] = json!(35);
    let body = json!({"rule": rule, "request": load_json(format!("{base}.request.json")), "now": "2026-06-15T12:00:00Z"});

    let resp: Value = admin(
        &app,
        reqwest::Method::POST,
        "/admin/dry-run",
        Some(&t),
        Some(body),
        None,
    )
    .await
    .json()
    .await
    .unwrap();

    let has = |side: &str| {
        resp[side]["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["source"]["topic"]["code"] == "cbc-surveillance-overdue")
    };
    assert!(has("active") && !has("proposed"), "{resp}");
    let versions: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/versions",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(versions["active"], 1, "a dry run changes nothing");
}

#[tokio::test]
async fn export_and_import_round_trip_and_an_invalid_import_is_refused() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let exported = admin(
        &app,
        reqwest::Method::GET,
        "/admin/export",
        Some(&t),
        None,
        None,
    )
    .await;
    let etag = exported.headers()["etag"].to_str().unwrap().to_owned();
    let mut pack: Value = exported.json().await.unwrap();
    pack["rules"]["igg-monitoring-due"]["status"] = json!("retired");
    let imported = admin(
        &app,
        reqwest::Method::POST,
        "/admin/import",
        Some(&t),
        Some(pack.clone()),
        Some(&etag),
    )
    .await;
    assert_eq!(imported.status(), 200);
    let rules: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/rules",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let igg = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "igg-monitoring-due")
        .unwrap()
        .clone();
    assert_eq!(igg["status"], "retired");
    pack["valuesets"].as_object_mut().unwrap().remove("igg");
    let broken = admin(
        &app,
        reqwest::Method::POST,
        "/admin/import",
        Some(&t),
        Some(pack),
        None,
    )
    .await;
    assert_eq!(broken.status(), 422);
    let stale = admin(
        &app,
        reqwest::Method::POST,
        "/admin/import",
        Some(&t),
        Some(json!({})),
        Some(&etag),
    )
    .await;
    assert!(stale.status() == 412 || stale.status() == 422);
}

#[tokio::test]
async fn the_quality_report_counts_cards_and_feedback_per_rule() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let base = "fixtures/patients/cbc-surveillance-overdue/fires-phase1-day-60-cbc-31-days";
    app.set_now("2026-06-15T12:00:00Z".parse().unwrap());
    let body: Value = app
        .call(
            "cart-monitoring",
            &load_json(format!("{base}.request.json")),
        )
        .await
        .json()
        .await
        .unwrap();
    let card = body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"]["topic"]["code"] == "cbc-surveillance-overdue")
        .unwrap()
        .clone();
    let fb = json!({"feedback": [{"card": card["uuid"], "outcome": "overridden", "overrideReason": {"userComment": "drawn at outside lab"}, "outcomeTimestamp": "2026-06-15T12:01:00Z"}]});
    assert_eq!(app.feedback("cart-monitoring", &fb).await.status(), 200);
    let mut report = Value::Null;
    for _ in 0..40 {
        report = admin(
            &app,
            reqwest::Method::GET,
            "/admin/reports/quality?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
            Some(&t),
            None,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        if report["rules"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r.to_string().contains("cbc-surveillance-overdue"))
        .unwrap_or_else(|| panic!("{report}"))
        .to_string();
    assert!(row.contains("drawn at outside lab"), "{row}");
}

/// The served document and the real routes agree: every documented operation is a route that
/// asks for a token, and no documented path takes a method the document does not list.
#[tokio::test]
async fn the_openapi_document_and_the_admin_routes_agree() {
    let app = spawn_app().await;
    let doc = openapi_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let text = doc.to_string();
    for r in text
        .split("\"$ref\":\"")
        .skip(1)
        .map(|t| &t[..t.find('"').unwrap()])
    {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unresolvable $ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {r}"
        );
    }
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 19, "{}", paths.len());
    for (path, item) in paths {
        let url = format!(
            "{}{}",
            app.address,
            path.replace("{id}", "x")
                .replace("{version}", "1")
                .replace("{ref}", "p1")
        );
        for method in ["get", "post", "put", "patch", "delete"] {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = app.client.request(m, &url).send().await.unwrap().status();
            if item[method].is_object() {
                assert_eq!(
                    status, 401,
                    "{method} {path}: documented, so a route needing a token"
                );
                assert!(item[method]["summary"].is_string(), "{method} {path}");
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path}: not documented, so not a route"
                );
            }
        }
    }
}

/// The cards a fixture request gets now.
async fn fixture_cards(app: &TestApp, base: &str) -> Vec<String> {
    let expect = load_json(format!("{base}.expect.json"));
    app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
    let body: Value = app
        .call(
            "cart-monitoring",
            &load_json(format!("{base}.request.json")),
        )
        .await
        .json()
        .await
        .unwrap();
    body["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"]["topic"]["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn retiring_the_t_cell_rule_brings_t_cell_cancers_back_to_the_malignancy_card() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let ptcl = "fixtures/patients/t-cell-malignancy-after-cart/fires-ptcl-c84-40";
    let before = fixture_cards(&app, ptcl).await;
    assert!(
        before.contains(&"t-cell-malignancy-after-cart".to_owned()),
        "{before:?}"
    );
    assert!(
        !before.contains(&"new-malignancy-after-cart".to_owned()),
        "{before:?}"
    );

    let retired = admin(
        &app,
        reqwest::Method::PUT,
        "/admin/rules/t-cell-malignancy-after-cart/status",
        Some(&t),
        Some(json!({"status": "retired"})),
        None,
    )
    .await;
    assert_eq!(retired.status(), 200);
    let after = fixture_cards(&app, ptcl).await;
    assert!(
        !after.contains(&"t-cell-malignancy-after-cart".to_owned()),
        "{after:?}"
    );
    assert!(
        after.contains(&"new-malignancy-after-cart".to_owned()),
        "a retired rule no longer silences the rules that refer to it: {after:?}"
    );
}

/// An override reason the card did not offer (from the EHR's own list) is stored, and the
/// quality report counts it apart from the reasons the card offers.
#[tokio::test]
async fn override_reasons_the_card_did_not_offer_are_counted_apart() {
    let app = spawn_app().await;
    let t = token(&app, ALL);
    let live_vaccine = (
        "live-vaccine-after-cart",
        "cart-order-safety-sign",
        "order-sign",
    );
    app.issue_cards_of(live_vaccine, &["lv-1", "lv-2"]).await;
    let reason = |code: &str| json!({"reason": {"system": "urn:cart-sentinel:override-reason", "code": code, "display": code}});
    let fb = json!({"feedback": [
        {"card": "lv-1", "outcome": "overridden", "overrideReason": reason("specialist-approved"), "outcomeTimestamp": "2026-06-15T12:01:00Z"},
        {"card": "lv-2", "outcome": "overridden", "overrideReason": reason("patient-declined"), "outcomeTimestamp": "2026-06-15T12:02:00Z"}
    ]});
    assert_eq!(
        app.feedback("cart-order-safety-sign", &fb).await.status(),
        200
    );
    let report: Value = admin(
        &app,
        reqwest::Method::GET,
        "/admin/reports/quality?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        Some(&t),
        None,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let row = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "live-vaccine-after-cart")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(row["overridden"], 2, "{row}");
    assert_eq!(row["overriddenWithReasonNotOffered"], 1, "{row}");
    let offered = |code: &str| {
        row["overrideReasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .map(|r| r["offered"].clone())
    };
    assert_eq!(offered("specialist-approved"), Some(json!(true)), "{row}");
    assert_eq!(offered("patient-declined"), Some(json!(false)), "{row}");
}
