//! What administrators edit besides thresholds: per-product values, value sets, dry runs,
//! export and import, retiring a rule.

use serde_json::{json, Value};

use super::*;

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
