//! Signing in to the pages: the development form sets a `/ui` cookie and returns to the page
//! asked for; a proxy's token in the configured header is accepted as an admin token is;
//! nobody signed in gets the sign-in page (401), a missing scope a 403 page naming it, a POST
//! from elsewhere a 403, an unknown page a 404 page: HTML every time, never an OperationOutcome.

use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::helpers::{admin_token, spawn_app, spawn_with};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A form's body (reqwest is built without its `form` feature).
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn page(resp: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(resp.status(), status);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn development_sign_in_sets_a_strict_ui_cookie_and_returns_to_the_page_asked_for() {
    let app = spawn_app().await;
    let client = no_redirects();
    let text = page(
        client
            .get(format!("{}/ui/worklist?rule=x", app.address))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        text.contains(r#"name="next" value="/ui/worklist?rule=x""#),
        "{text}"
    );

    let resp = client
        .post(format!("{}/ui/sign-in", app.address))
        .header("Origin", &app.address)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("sub", "dr-lee"),
            ("scope", "rules:read"),
            ("next", "/ui/worklist?rule=x"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/ui/worklist?rule=x");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=3600"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();

    // Signed in, but without worklist:read: the worklist page names the scope it needs.
    let text = page(
        client
            .get(format!("{}/ui/worklist", app.address))
            .header("Cookie", &pair)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(text.contains("worklist:read"), "{text}");

    // The cookie is the development sign-in's only: the JSON APIs do not read it.
    let resp = client
        .get(format!("{}/worklist/findings", app.address))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = client
        .post(format!("{}/ui/sign-out", app.address))
        .header("Origin", &app.address)
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let removal = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
}

#[tokio::test]
async fn a_post_from_another_site_is_refused_before_anything_happens() {
    let app = spawn_app().await;
    let client = no_redirects();
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", app.address.as_str()),
        ],
        vec![],
    ] {
        let mut req = client
            .post(format!("{}/ui/sign-in", app.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(&[("sub", "mallory"), ("scope", "worklist:write")]));
        for (name, value) in &headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.headers().get("set-cookie").is_none());
        let text = page(resp, StatusCode::FORBIDDEN).await;
        assert!(
            text.contains("not sent from these pages"),
            "{headers:?}: {text}"
        );
    }
}

#[tokio::test]
async fn a_bad_sign_in_form_names_its_field_and_an_unknown_page_is_a_404_page() {
    let app = spawn_app().await;
    let client = no_redirects();
    let resp = client
        .post(format!("{}/ui/sign-in", app.address))
        .header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("sub", "x"), ("scope", "rules:write")]))
        .send()
        .await
        .unwrap();
    let text = page(resp, StatusCode::BAD_REQUEST).await;
    assert!(
        text.contains("scope: is not a scope of these pages"),
        "{text}"
    );
    let resp = client
        .get(format!("{}/ui/nowhere", app.address))
        .send()
        .await
        .unwrap();
    page(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn behind_a_sign_on_proxy_the_token_comes_in_the_configured_header() {
    let app = spawn_with(|s| s.ui.token_header = "X-Auth-Request-Access-Token".into()).await;
    let client = no_redirects();
    let get = |token: String| {
        client
            .get(format!("{}/ui/worklist", app.address))
            .header("X-Auth-Request-Access-Token", token)
            .send()
    };
    let token = admin_token(app.data_dir.path(), "dr-proxy", &["rules:read"], 600);
    // Verified (not the sign-in page), then refused for the scope.
    let text = page(get(token).await.unwrap(), StatusCode::FORBIDDEN).await;
    assert!(text.contains("worklist:read"), "{text}");
    let token = admin_token(app.data_dir.path(), "dr-proxy", &["worklist:read"], 600);
    let text = page(get(token).await.unwrap(), StatusCode::OK).await;
    assert!(
        text.contains("Signed in as <strong>dr-proxy</strong>"),
        "{text}"
    );
    assert!(!text.contains("Sign out"), "the proxy signs out: {text}");
    let resp = client
        .get(format!("{}/ui/worklist", app.address))
        .header("X-Auth-Request-Access-Token", "not-a-jwt")
        .send()
        .await
        .unwrap();
    page(resp, StatusCode::UNAUTHORIZED).await;
}
