//! Versions of the pack: a change and its rollback, a refused change, concurrent writers.

use serde_json::{json, Value};

use super::*;

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
