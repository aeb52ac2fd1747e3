//! A FHIR server whose TLS certificate names another host is refused. The certificates in
//! `tests/api/certs/` (made once by `gen.sh`) come from one test CA: a client that trusts the
//! CA accepts the certificate naming `localhost` and refuses the one naming
//! `ehr.other.example`, so the refusal is the name check and nothing else.

use std::sync::Arc;
use std::time::Duration;

use cart_sentinel::fhir::{http_client_builder, FhirClient};
use cart_sentinel::metrics::Metrics;
use url::Url;

use crate::fhir_faults::lacking_observations;
use crate::fhir_stub::FhirStub;
use crate::helpers::{root, spawn_with};
use crate::metrics::{sample, scrape};

fn cert(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/api/certs").join(name)).expect("test certificate")
}

async fn stub_presenting(host: &str) -> FhirStub {
    FhirStub::start_tls(&cert(&format!("{host}.pem")), &cert(&format!("{host}.key"))).await
}

/// The service's own HTTP client configuration, trusting the test CA as well.
#[tokio::test]
async fn a_trusted_certificate_naming_another_host_is_refused() {
    let other = stub_presenting("ehr.other.example").await;
    let right = stub_presenting("localhost").await;
    let ca = reqwest::Certificate::from_pem(&cert("ca.pem")).unwrap();
    let http = http_client_builder(Duration::from_secs(5))
        .tls_certs_merge([ca])
        .build()
        .unwrap();
    let metrics = Arc::new(Metrics::new());
    let allowed = [other.base.clone(), right.base.clone()];
    let client = FhirClient::new(http, &allowed, 1 << 20)
        .unwrap()
        .with_metrics(metrics.clone());
    let get = |base: &str| {
        let base = Url::parse(base).unwrap();
        let url = FhirClient::query_url(&base, "Patient/p1").unwrap();
        let client = client.clone();
        async move { client.get(&base, &url, None).await }
    };

    let refused = get(&other.base)
        .await
        .expect_err("a certificate for another host");
    assert_eq!(
        refused.to_string(),
        "the FHIR server could not be reached (tls)"
    );
    assert!(
        other.requests().is_empty(),
        "no request after the handshake failed"
    );
    get(&right.base)
        .await
        .expect("the same CA's certificate for localhost is accepted");

    let text = metrics.render();
    let series = |kind: &str| format!("cart_sentinel_fhir_fetches_total{{outcome=\"{kind}\"}}");
    assert_eq!(sample(&text, &series("tls")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &series("ok")), Some(1.0), "{text}");
}

/// Through the service: its client does not know the test CA either, and the call ends with
/// 412 naming the key, counted as `tls`.
#[tokio::test]
async fn a_tls_failure_ends_the_hook_call_with_412_naming_the_key() {
    let stub = stub_presenting("ehr.other.example").await;
    let base = stub.base.clone();
    let app = spawn_with(move |s| s.fhir.allowed_servers = Some(vec![base])).await;
    let req = lacking_observations(&stub.base);

    let resp = app.call("cart-monitoring", &req).await;

    assert_eq!(resp.status(), 412);
    let outcome: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "prefetch key observations: the FHIR server could not be reached (tls)"
    );
    let text = scrape(&app).await;
    let tls = "cart_sentinel_fhir_fetches_total{outcome=\"tls\"}";
    assert_eq!(sample(&text, tls), Some(1.0), "{text}");
}
