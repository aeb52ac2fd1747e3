//! SIGTERM: the service stops taking connections, lets in-flight hook calls finish within
//! `server.drain_seconds`, writes the issued-cards queue and exits with success; a call that
//! would outlast the drain time does not keep the process alive.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{fixture_request_today, start_binary, wait_ready, Server, PJP};

/// The PJP fixture moved to today (the binary reads the real clock), without its encounters,
/// which the service must fetch from `fhir`.
fn request_fetching_encounters(fhir: &MockServer) -> Value {
    let mut request = fixture_request_today(PJP);
    request["prefetch"]
        .as_object_mut()
        .unwrap()
        .remove("encounters");
    request["fhirServer"] = json!(format!("{}/fhir", fhir.uri()));
    request["fhirAuthorization"] = json!({"access_token": "t", "token_type": "Bearer",
        "expires_in": 300, "scope": "patient/*.read", "subject": "cart-sentinel"});
    request
}

/// A FHIR server whose encounter search answers an empty Bundle after `delay`.
async fn slow_fhir(delay: Duration) -> MockServer {
    let fhir = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Encounter"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resourceType": "Bundle", "type": "searchset"}))
                .set_delay(delay),
        )
        .mount(&fhir)
        .await;
    fhir
}

fn start(dir: &std::path::Path, drain_seconds: u64) -> Server {
    start_binary(
        dir,
        &[
            ("SENTINEL__SERVER__DRAIN_SECONDS", drain_seconds.to_string()),
            ("SENTINEL__STORAGE__TIMEOUT_MS", "1000".to_owned()),
            ("SENTINEL__FHIR__DEADLINE_MS", "20000".to_owned()),
            ("SENTINEL__FHIR__REQUEST_TIMEOUT_MS", "20000".to_owned()),
        ],
    )
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_call_finish_and_records_its_cards_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let fhir = slow_fhir(Duration::from_millis(1500)).await;
    let client = reqwest::Client::new();
    let mut server = start(dir.path(), 10);
    wait_ready(&client, &server).await;
    let url = format!("sqlite:{}", dir.path().join("cart-sentinel.db").display());
    // The store is locked by another writer while the call's cards are first written, so the
    // queue has to keep them and write them while the process stops.
    let mut other = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();

    let call = client
        .post(server.url("/cds-services/cart-monitoring"))
        .json(&request_fetching_encounters(&fhir))
        .send();
    let in_flight = tokio::spawn(call);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = Instant::now();
    server.signal("TERM");

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        client.get(server.url("/readyz")).send().await.is_err(),
        "a new connection after SIGTERM is refused"
    );
    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight call is answered");
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let uuid = answer["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"]["topic"]["code"] == "pjp-prophylaxis-missing")
        .and_then(|c| c["uuid"].as_str())
        .unwrap_or_else(|| panic!("the PJP card: {answer}"))
        .to_owned();
    // The first write (50 ms after the answer) fails after the store's 1 s timeout; the lock is
    // released after that and well before the stop's own wait (twice the timeout) runs out.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    drop(other);
    let exit = server.exited_within(Duration::from_secs(10)).await;
    assert!(exit.success(), "exit status {exit:?}");
    assert!(stopped.elapsed() < Duration::from_secs(6));

    let store = cart_sentinel::storage::connect(&url, 1).await.unwrap();
    assert!(
        store.card_issued(&uuid).await.unwrap(),
        "the card answered during the drain was recorded before the process exited"
    );
}

#[tokio::test]
async fn a_call_longer_than_the_drain_time_does_not_keep_the_process_alive() {
    let dir = tempfile::tempdir().unwrap();
    let fhir = slow_fhir(Duration::from_secs(15)).await;
    let client = reqwest::Client::new();
    let mut server = start(dir.path(), 1);
    wait_ready(&client, &server).await;

    let call = client
        .post(server.url("/cds-services/cart-monitoring"))
        .json(&request_fetching_encounters(&fhir))
        .send();
    let in_flight = tokio::spawn(call);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Instant::now();
    server.signal("TERM");
    let exit = server.exited_within(Duration::from_secs(8)).await;
    assert!(exit.success(), "exit status {exit:?}");
    assert!(
        stopped.elapsed() < Duration::from_secs(4),
        "stopped after {:?} with a 1 s drain",
        stopped.elapsed()
    );
    assert!(
        in_flight.await.unwrap().is_err(),
        "the cut call gets no answer"
    );
}
