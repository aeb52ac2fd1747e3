use crate::helpers::{load_json, prefetch_templates, root, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn discovery_lists_exactly_the_services_declared_in_cds_hooks_services() {
    let app = spawn_app().await;

    let resp = app.discovery().await;

    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let mut served: Vec<Value> = body["services"].as_array().unwrap().clone();
    let mut files: Vec<Value> = std::fs::read_dir(root().join("cds-hooks/services"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| load_json(p.strip_prefix(root()).unwrap()))
        .collect();
    let key = |v: &Value| v["id"].as_str().unwrap().to_owned();
    served.sort_by_key(key);
    files.sort_by_key(key);
    // The prefetch is the file's own keys and those the shipped pack's active rules need.
    for file in files.iter_mut() {
        let id = key(file);
        file["prefetch"] = prefetch_templates(&id)
            .into_iter()
            .map(|(k, t)| (k, Value::String(t)))
            .collect();
    }
    assert_eq!(served, files);
    let monitoring = served
        .iter()
        .find(|s| s["id"] == "cart-monitoring")
        .unwrap();
    assert!(
        monitoring["prefetch"]["observations"]
            .as_str()
            .unwrap()
            .contains("category=laboratory"),
        "results are fetched by category, so text-only and local codes arrive too"
    );
    assert_eq!(
        monitoring["prefetch"]["immunizations"], "Immunization?patient={{context.patientId}}",
        "inactivated-vaccines-due reads every Immunization, so vaccines named only by text arrive"
    );
    let select = served
        .iter()
        .find(|s| s["id"] == "cart-order-safety-select")
        .unwrap();
    assert!(
        select["prefetch"].get("immunizations").is_none(),
        "no order-hook rule reads Immunization, so order calls are not asked for them"
    );
    let hooks: Vec<&str> = served.iter().map(|s| s["hook"].as_str().unwrap()).collect();
    for hook in [
        "patient-view",
        "order-select",
        "order-sign",
        "encounter-discharge",
    ] {
        assert!(hooks.contains(&hook), "no service for {hook}");
    }
}

#[tokio::test]
async fn cors_preflight_is_answered_on_every_endpoint() {
    let app = spawn_app().await;
    for path in [
        "/cds-services",
        "/cds-services/cart-monitoring",
        "/cds-services/cart-monitoring/feedback",
    ] {
        let resp = app.preflight(path).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        assert!(
            resp.headers().contains_key("access-control-allow-origin"),
            "{path}"
        );
        let allowed = resp.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
    }
    let get = app
        .client
        .get(format!("{}/cds-services", app.address))
        .header("Origin", "https://ehr.example")
        .send()
        .await
        .unwrap();
    assert!(get.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn production_mode_allows_no_cors_origin_by_default() {
    let app = crate::helpers::spawn_with(|s| {
        s.server.mode = cart_sentinel::config::Mode::Production;
        s.privacy.patient_key_secret = Some("k".repeat(32).into());
    })
    .await;
    let get = app
        .client
        .get(format!("{}/cds-services", app.address))
        .header("Origin", "https://ehr.example")
        .send()
        .await
        .unwrap();
    assert!(!get.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let h = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    let r = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A browser admin tool on another origin may send the change reason and If-Match.
#[tokio::test]
async fn cors_preflight_lets_an_admin_tool_send_the_change_reason() {
    let app = spawn_app().await;
    let resp = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "{}/admin/rules/cbc-surveillance-overdue/parameters",
                app.address
            ),
        )
        .header("Origin", "https://admin.example")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, if-match, x-change-reason",
        )
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success(), "{}", resp.status());
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("x-change-reason") && allowed.contains("if-match"),
        "{allowed}"
    );
}
