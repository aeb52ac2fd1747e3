//! Per-client settings: the tenant, the client's `fhirServer` allowlist, the `iss`, replay
//! protection shared by two replicas on one `PostgreSQL` database, authentication off by
//! default in development, and CORS preflights (which carry no token) when it is on.

use serde_json::json;
use sqlx::Connection;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use super::{spawn_auth, spawn_auth_with, AuthApp};
use crate::helpers::{patient_view, spawn_app};
use crate::signer::claims;

#[tokio::test]
async fn a_client_with_a_tenant_accepts_only_that_tenant() {
    let t = spawn_auth_with(|c| c.tenant = Some("hospital-a".into()), |_| {}).await;
    let aud = t.aud("/cds-services/cart-monitoring");
    for (tenant, expected) in [
        (json!("hospital-b"), 401),
        (json!(null), 401),
        (json!("hospital-a"), 200),
    ] {
        let mut c = claims(&aud);
        c["tenant"] = tenant.clone();
        assert_eq!(t.call(&t.es.sign(&c)).await, expected, "tenant {tenant}");
    }
}

fn needs_fetch(fhir_server: &str) -> serde_json::Value {
    let mut req = patient_view("p1");
    req.as_object_mut().unwrap().remove("prefetch");
    req["fhirServer"] = json!(fhir_server);
    req["fhirAuthorization"] = json!({"access_token": "tok-client-list", "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.read", "subject": "cart-sentinel", "patient": "p1"});
    req
}

async fn call_needing_fetch(t: &AuthApp) -> u16 {
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resourceType": "Bundle", "type": "searchset"})),
        )
        .mount(&t.app.fhir)
        .await;
    let body = needs_fetch(&t.app.fhir.uri());
    let token = t.call_token();
    let resp = t
        .send("/cds-services/cart-monitoring", Some(&token), Some(&body))
        .await;
    resp.status().as_u16()
}

#[tokio::test]
async fn a_fhir_server_off_the_clients_list_is_never_called_even_if_globally_allowed() {
    let t = spawn_auth_with(
        |c| c.fhir_servers = vec!["https://ehr.example.org/fhir".into()],
        |_| {},
    )
    .await;
    assert_eq!(call_needing_fetch(&t).await, 412);
    assert!(
        t.app.fhir.received_requests().await.unwrap().is_empty(),
        "no request, no token sent"
    );
}

#[tokio::test]
async fn a_fhir_server_on_the_clients_list_is_fetched() {
    let t = spawn_auth_with(|_| {}, |_| {}).await;
    assert_eq!(call_needing_fetch(&t).await, 200);
    assert!(!t.app.fhir.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_fhir_server_on_the_clients_list_but_not_globally_allowed_is_refused() {
    let t = spawn_auth_with(
        |_| {},
        |s| s.fhir.allowed_servers = Some(vec!["https://ehr.example.org/fhir".into()]),
    )
    .await;
    assert_eq!(call_needing_fetch(&t).await, 412);
    assert!(t.app.fhir.received_requests().await.unwrap().is_empty());
}

/// A fresh database on the `TEST_POSTGRES_URL` server; dropped by [`drop_database`].
async fn create_database(admin_url: &str) -> (String, String) {
    let name = format!("cs_auth_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("admin connection");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    admin.close().await.expect("close");
    let mut url = url::Url::parse(admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    (url.to_string(), name)
}

async fn drop_database(admin_url: &str, name: &str) {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("admin connection");
    let drop = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&mut admin)
        .await;
}

#[tokio::test]
async fn a_jti_accepted_by_one_replica_is_refused_by_the_other_on_postgres() {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL not set: two-replica replay test skipped");
        return;
    };
    let (db_url, name) = create_database(&admin_url).await;
    let public = "https://cds.example.org";
    let replica = |db: String| {
        move |s: &mut cart_sentinel::config::Settings| {
            s.storage.database_url = Some(db.into());
            s.server.public_url = Some(public.into());
        }
    };
    let a = spawn_auth_with(|_| {}, replica(db_url.clone())).await;
    let b_jwks = a.jwks.uri();
    let b = spawn_auth_with(
        move |c| c.jwks_url = Some(format!("{b_jwks}/jwks.json")),
        replica(db_url),
    )
    .await;
    let token =
        a.es.sign(&claims(&format!("{public}/cds-services/cart-monitoring")));

    assert_eq!(a.call(&token).await, 200, "first use, replica A");
    assert_eq!(b.call(&token).await, 401, "replay, replica B");

    a.app.stop().await;
    b.app.stop().await;
    drop_database(&admin_url, &name).await;
}

#[tokio::test]
async fn an_unknown_iss_is_refused_even_with_a_trusted_key() {
    let t = spawn_auth().await;
    let mut c = claims(&t.aud("/cds-services/cart-monitoring"));
    c["iss"] = json!("https://intruder.example");
    assert_eq!(t.call(&t.es.sign(&c)).await, 401);
}

#[tokio::test]
async fn authentication_is_off_in_development_unless_required() {
    let app = spawn_app().await;
    assert_eq!(app.discovery().await.status(), 200);
}

#[tokio::test]
async fn a_cors_preflight_needs_no_token_when_authentication_is_on() {
    let t = spawn_auth().await;
    let resp = t.app.preflight("/cds-services/cart-monitoring").await;
    assert!(resp.status().is_success(), "{}", resp.status());
}

/// An EHR that sets the `aud` by hand (one value per site): its value is the one accepted for
/// that client, in place of the URL called.
#[tokio::test]
async fn a_client_with_a_configured_audience_is_held_to_it() {
    let site = "https://cds.example.org/site-a";
    let t = spawn_auth_with(|c| c.audience = Some(site.into()), |_| {}).await;
    assert_eq!(t.call(&t.es.sign(&claims(site))).await, 200);
    let url = t.aud("/cds-services/cart-monitoring");
    assert_eq!(t.call(&t.es.sign(&claims(&url))).await, 401);
}

/// Links to hosts a client does not show are left out of its answers; other clients get them.
#[tokio::test]
async fn links_to_hosts_a_client_does_not_show_are_left_out() {
    let base = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
    let request = crate::helpers::load_json(format!("{base}.request.json"));
    let now = crate::helpers::load_json(format!("{base}.expect.json"))["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let urls = |body: &serde_json::Value| -> Vec<String> {
        let cards = body["cards"].as_array().expect("cards");
        let links = cards.iter().flat_map(|c| {
            let listed = c["links"].as_array().cloned().unwrap_or_default();
            listed.into_iter().map(|l| l["url"].clone())
        });
        let sources = cards.iter().map(|c| c["source"]["url"].clone());
        links
            .chain(sources)
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect()
    };
    let mut answers = Vec::new();
    for hosts in [None, Some(vec!["pubmed.ncbi.nlm.nih.gov".to_owned()])] {
        let t = spawn_auth_with(|c| c.link_hosts = hosts.clone(), |_| {}).await;
        t.app.set_now(now);
        let token = t.es.sign(&claims(&t.aud("/cds-services/cart-monitoring")));
        let resp = t
            .send(
                "/cds-services/cart-monitoring",
                Some(&token),
                Some(&request),
            )
            .await;
        assert_eq!(resp.status(), 200);
        answers.push(resp.json::<serde_json::Value>().await.unwrap());
    }
    let (all, shown) = (urls(&answers[0]), urls(&answers[1]));
    assert!(
        all.iter()
            .any(|u| !u.starts_with("https://pubmed.ncbi.nlm.nih.gov/")),
        "the fixture links elsewhere too: {all:?}"
    );
    assert!(
        shown
            .iter()
            .all(|u| u.starts_with("https://pubmed.ncbi.nlm.nih.gov/")),
        "{shown:?}"
    );
    assert_eq!(
        answers[0]["cards"].as_array().unwrap().len(),
        answers[1]["cards"].as_array().unwrap().len(),
        "the same cards, only their links differ"
    );
}
