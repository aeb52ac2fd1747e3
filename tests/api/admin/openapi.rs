//! The served OpenAPI document and the admin routes: every operation needs its scope.

use serde_json::{json, Value};

use super::*;

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
