//! The EHR's FHIR server misbehaving (`tests/api/fhir_stub.rs`): each fault ends the hook call
//! with a prompt 412 `OperationOutcome` naming the prefetch key, counted in
//! `cart_sentinel_fhir_fetches_total` under its kind; the next call, to a server behaving
//! again, is answered; and calls cut off at the deadline leave no connection behind.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fhir_stub::{Fault, FhirStub};
use crate::helpers::{spawn_with, TestApp};
use crate::metrics::{sample, scrape};
use crate::prefetch::{without_prefetch, TOKEN};

/// `fhir.deadline_ms` and `fhir.request_timeout_ms` as shipped.
const DEADLINE: Duration = Duration::from_millis(400);

/// How long past the deadline an answer may take on a loaded test machine and still be prompt
/// (the faults would otherwise hold a call for 30 s, or for ever).
const SLACK: Duration = Duration::from_millis(1500);

async fn app_for(stub: &FhirStub) -> TestApp {
    let base = stub.base.clone();
    spawn_with(move |s| s.fhir.allowed_servers = Some(vec![base])).await
}

/// A call whose prefetch lacks only `observations`, which must come from `fhir_server`.
pub(crate) fn lacking_observations(fhir_server: &str) -> Value {
    let mut req = without_prefetch(fhir_server);
    let mut prefetch = serde_json::Map::new();
    for key in crate::helpers::prefetch_keys("cart-monitoring") {
        prefetch.insert(key, Value::Null);
    }
    prefetch.remove("observations");
    req["prefetch"] = Value::Object(prefetch);
    req
}

/// The series `cart_sentinel_fhir_fetches_total{outcome=kind}`, 0 when absent.
async fn fetches(app: &TestApp, kind: &str) -> f64 {
    let text = scrape(app).await;
    sample(
        &text,
        &format!("cart_sentinel_fhir_fetches_total{{outcome=\"{kind}\"}}"),
    )
    .unwrap_or(0.0)
}

/// Sends the call with `stub` misbehaving with `fault`: 412 within the deadline (plus slack),
/// an OperationOutcome naming the key and `cause`, one more fetch counted as `kind`; then the
/// same call with the stub behaving is answered 200. Returns the app for further checks.
async fn ends_in_412(stub: &FhirStub, fault: Fault, kind: &str, cause: &str) -> TestApp {
    let app = app_for(stub).await;
    let req = lacking_observations(&stub.base);
    stub.set(fault);
    let started = Instant::now();
    let resp = app.call("cart-monitoring", &req).await;
    let took = started.elapsed();
    assert_eq!(resp.status(), 412);
    assert!(took < DEADLINE + SLACK, "answered after {took:?}");
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        diagnostics.starts_with("prefetch key observations: ") && diagnostics.contains(cause),
        "{diagnostics}"
    );
    assert_eq!(fetches(&app, kind).await, 1.0, "{}", scrape(&app).await);

    stub.set(Fault::None);
    let ok = fetches(&app, "ok").await;
    let resp = app.call("cart-monitoring", &req).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(fetches(&app, "ok").await, ok + 1.0);
    app
}

/// A reset mid-body, a body that never ends (cut at the request timeout), a 429 asking to come
/// back in 30 s (the call does not wait for that), and response headers over the client's limit.
#[tokio::test]
async fn a_reset_a_drip_a_429_and_huge_headers_each_end_in_a_prompt_412() {
    let faults = [
        (
            Fault::ResetMidBody,
            "transport",
            "could not be reached (transport)",
        ),
        (Fault::Drip, "timeout", "could not be reached (timeout)"),
        (
            Fault::RateLimited,
            "rate_limited",
            "HTTP 429 (rate limited)",
        ),
        (
            Fault::HugeHeaders,
            "bad_headers",
            "headers are too large or malformed",
        ),
    ];
    for (fault, kind, cause) in faults {
        let stub = FhirStub::start().await;
        ends_in_412(&stub, fault, kind, cause).await;
    }
}

/// An HTML page is refused by its Content-Type: its body (here dripped slowly, as a stuck
/// proxy page) is never read, so the answer comes at once, not at the timeout.
#[tokio::test]
async fn a_200_with_html_is_refused_without_reading_it() {
    let stub = FhirStub::start().await;
    let app = ends_in_412(&stub, Fault::Html, "not_json", "did not answer JSON").await;
    assert_eq!(fetches(&app, "timeout").await, 0.0);
}

#[tokio::test]
async fn a_next_link_to_the_page_itself_is_a_loop() {
    let stub = FhirStub::start().await;
    let cause = "next links loop back to a page already read";
    ends_in_412(&stub, Fault::SelfLoop, "loop", cause).await;
    let reads = stub.requests().len();
    assert_eq!(
        reads, 2,
        "the page once, not again; then the next call's page"
    );
}

#[tokio::test]
async fn next_links_between_two_pages_are_a_loop() {
    let stub = FhirStub::start().await;
    let cause = "next links loop back to a page already read";
    ends_in_412(&stub, Fault::Cycle, "loop", cause).await;
    let targets: Vec<String> = stub.requests().into_iter().map(|r| r.target).collect();
    assert!(targets[1].ends_with("stubpage=2"), "{targets:?}");
    assert_eq!(
        targets.len(),
        3,
        "both pages once; then the next call's page: {targets:?}"
    );
}

/// A redirect to another host is not followed: that host never sees a request, let alone the
/// EHR's token.
#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let stub = FhirStub::start().await;
    let elsewhere = FhirStub::start().await;
    let to = format!(
        "{}/fhir/Observation",
        elsewhere.base.replace("127.0.0.1", "localhost")
    );
    ends_in_412(&stub, Fault::Redirect(to), "redirect", "HTTP 302").await;
    assert!(elsewhere.requests().is_empty());
    let first = &stub.requests()[0];
    assert_eq!(first.authorization, Some(format!("Bearer {TOKEN}")));
}

/// Nor is a redirect on the same host: the service reads fhirServer's URLs as the prefetch
/// templates give them, and nothing else.
#[tokio::test]
async fn a_redirect_on_the_same_host_is_not_followed() {
    let stub = FhirStub::start().await;
    let to = format!("{}/moved/Observation", stub.base);
    ends_in_412(&stub, Fault::Redirect(to), "redirect", "never followed").await;
    let targets: Vec<String> = stub.requests().into_iter().map(|r| r.target).collect();
    assert!(
        !targets.iter().any(|t| t.starts_with("/moved")),
        "{targets:?}"
    );
}

/// 32 calls at once, every prefetch key dripped and never ended, with a request timeout longer
/// than the call's deadline: each call is answered 412 at its deadline, naming a key, its
/// connections are closed, and then a normal call is answered at once.
#[tokio::test]
async fn many_calls_to_a_dripping_server_are_cut_at_the_deadline_and_hold_nothing() {
    let stub = FhirStub::start().await;
    let base = stub.base.clone();
    let deadline = Duration::from_millis(500);
    let app = spawn_with(move |s| {
        s.fhir.allowed_servers = Some(vec![base]);
        s.fhir.request_timeout_ms = 10_000;
        s.fhir.deadline_ms = deadline.as_millis() as u64;
    })
    .await;
    let req = without_prefetch(&stub.base);
    stub.set(Fault::Drip);

    let started = Instant::now();
    let calls = (0..32).map(|_| app.call("cart-monitoring", &req));
    let answers = futures::future::join_all(calls).await;
    let took = started.elapsed();

    assert!(took < deadline + SLACK, "32 calls answered after {took:?}");
    for resp in answers {
        assert_eq!(resp.status(), 412);
        let outcome: Value = resp.json().await.unwrap();
        let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(
            diagnostics.starts_with("prefetch key ")
                && diagnostics.ends_with("did not answer within 500 ms"),
            "{diagnostics}"
        );
    }
    assert!(fetches(&app, "cancelled").await >= 32.0);
    let closing = Instant::now();
    while stub.open_connections() > 0 {
        assert!(
            closing.elapsed() < Duration::from_secs(2),
            "{} connections still open",
            stub.open_connections()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    stub.set(Fault::None);
    let started = Instant::now();
    let resp = app.call("cart-monitoring", &req).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert!(started.elapsed() < deadline, "{:?}", started.elapsed());
    let keys = crate::helpers::prefetch_keys("cart-monitoring").len();
    assert_eq!(fetches(&app, "ok").await, keys as f64);
}
