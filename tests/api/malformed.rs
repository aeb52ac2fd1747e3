//! Malformed requests get 400 with an OperationOutcome naming the field; never 500.

use serde_json::{json, Value};

use crate::helpers::{patient_view, spawn_app, spawn_with};

fn expression(body: &Value) -> String {
    body["issue"][0]["expression"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn each_malformed_hook_request_names_the_offending_field() {
    let app = spawn_app().await;
    let base = patient_view("p1");
    let order = json!({"hook": "order-select", "hookInstance": "x", "context": {"userId": "Practitioner/1", "patientId": "p1", "selections": ["MedicationRequest/1"], "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": []}}});
    let cases: Vec<(&str, &str, Box<dyn Fn(&mut Value)>)> = vec![
        (
            "cart-monitoring",
            "hook",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("hook");
            }),
        ),
        (
            "cart-monitoring",
            "hook",
            Box::new(|v| v["hook"] = json!(5)),
        ),
        (
            "cart-monitoring",
            "hook",
            Box::new(|v| v["hook"] = json!("order-sign")),
        ),
        (
            "cart-monitoring",
            "hookInstance",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("hookInstance");
            }),
        ),
        (
            "cart-monitoring",
            "hookInstance",
            Box::new(|v| v["hookInstance"] = json!(["x"])),
        ),
        (
            "cart-monitoring",
            "context",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("context");
            }),
        ),
        (
            "cart-monitoring",
            "context",
            Box::new(|v| v["context"] = json!("p1")),
        ),
        (
            "cart-monitoring",
            "context.patientId",
            Box::new(|v| {
                v["context"].as_object_mut().unwrap().remove("patientId");
            }),
        ),
        (
            "cart-monitoring",
            "context.patientId",
            Box::new(|v| v["context"]["patientId"] = json!(42)),
        ),
        (
            "cart-monitoring",
            "context.userId",
            Box::new(|v| {
                v["context"].as_object_mut().unwrap().remove("userId");
            }),
        ),
        (
            "cart-monitoring",
            "fhirAuthorization",
            Box::new(
                |v| v["fhirAuthorization"] = json!({"access_token": "t", "token_type": "Bearer", "expires_in": 1, "scope": "s", "subject": "c"}),
            ),
        ),
        (
            "cart-monitoring",
            "fhirAuthorization.access_token",
            Box::new(|v| {
                v["fhirServer"] = json!("http://127.0.0.1:9/fhir");
                v["fhirAuthorization"] =
                    json!({"token_type": "Bearer", "expires_in": 1, "scope": "s", "subject": "c"});
            }),
        ),
        (
            "cart-monitoring",
            "fhirServer",
            Box::new(|v| v["fhirServer"] = json!("not a url")),
        ),
        (
            "cart-monitoring",
            "prefetch",
            Box::new(|v| v["prefetch"] = json!([1, 2])),
        ),
    ];
    for (service, field, mutate) in cases {
        let mut req = base.clone();
        mutate(&mut req);
        let resp = app.call(service, &req).await;
        assert_eq!(resp.status(), 400, "{field}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
        assert_eq!(expression(&body), field, "{body}");
    }
    let order_cases: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
        (
            "context.draftOrders",
            Box::new(|v| {
                v["context"].as_object_mut().unwrap().remove("draftOrders");
            }),
        ),
        (
            "context.draftOrders",
            Box::new(|v| v["context"]["draftOrders"] = json!({"resourceType": "Patient"})),
        ),
        (
            "context.selections",
            Box::new(|v| {
                v["context"].as_object_mut().unwrap().remove("selections");
            }),
        ),
    ];
    for (field, mutate) in order_cases {
        let mut req = order.clone();
        mutate(&mut req);
        let resp = app.call("cart-order-safety-select", &req).await;
        assert_eq!(resp.status(), 400, "{field}");
        let named = expression(&resp.json().await.unwrap());
        assert!(named.starts_with(field), "{named} does not name {field}");
    }
    let mut discharge = base.clone();
    discharge["hook"] = json!("encounter-discharge");
    let resp = app.call("cart-discharge", &discharge).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        expression(&resp.json().await.unwrap()),
        "context.encounterId"
    );
}

#[tokio::test]
async fn bodies_that_are_not_a_request_are_400_not_500() {
    let app = spawn_app().await;
    for body in [
        &b"{\"hook\": \"patient-view\""[..],
        b"",
        b"[]",
        b"null",
        b"\xff\xfe{}",
        b"{\"hook\": \"patient-view\", \"hook\": 1}",
    ] {
        let resp = app.call_raw("cart-monitoring", body.to_vec()).await;
        assert_eq!(resp.status(), 400, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(
            resp.json::<Value>().await.unwrap()["resourceType"],
            "OperationOutcome"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_413() {
    let app = spawn_with(|s| s.server.max_body_bytes = 64 * 1024).await;
    let mut req = patient_view("p1");
    req["extension"] = json!({"org.example.padding": "x".repeat(100 * 1024)});
    let resp = app.call("cart-monitoring", &req).await;
    assert_eq!(resp.status(), 413);
    let outcome: Value = resp.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "too-costly");
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("65536 bytes"),
        "{outcome}"
    );
}

#[tokio::test]
async fn calls_beyond_the_bodies_in_memory_wait_their_turn_instead_of_failing() {
    let app = spawn_with(|s| s.limits.max_bodies_in_memory = 1).await;
    let calls = (0..6).map(|i| {
        let app = &app;
        async move {
            app.call("cart-monitoring", &patient_view(&format!("p{i}")))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn an_unknown_service_is_404() {
    let app = spawn_app().await;
    let resp = app.call("no-such-service", &patient_view("p1")).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn a_body_that_stalls_is_408_and_frees_its_place_for_the_next_call() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(|s| {
        s.limits.max_bodies_in_memory = 1;
        s.limits.body_read_timeout_ms = 300;
    })
    .await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /cds-services/cart-monitoring HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"hook\":"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    // The stalled body holds the only place; this call waits for it, then is answered.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let normal = app.call("cart-monitoring", &patient_view("p1")).await;
    assert_eq!(normal.status(), 200);
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), slow.read(&mut answer))
        .await
        .expect("the stalled call is answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 300 ms"), "{answer}");
}

/// Sends `head` and `body` on a new connection (`Connection: close`) and gives the status line
/// of the answer.
async fn raw_call(address: &str, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /cds-services/cart-monitoring HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/json\r\n{head}\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("an answer")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// The body buffer is sized from `Content-Length` when there is one; a chunked body (none) is
/// read all the same, and both are bounded by `server.max_body_bytes`: an announced length over
/// it is refused without waiting for the body.
#[tokio::test]
async fn chunked_and_announced_bodies_are_read_and_bounded() {
    let app = spawn_with(|s| s.server.max_body_bytes = 4096).await;
    let chunked = |body: &[u8]| {
        let mut out = Vec::new();
        for chunk in body.chunks(100) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    };
    let small = serde_json::to_vec(&patient_view("p1")).unwrap();
    let mut padded = patient_view("p1");
    padded["extension"] = json!({"pad": "x".repeat(5000)});
    let large = serde_json::to_vec(&padded).unwrap();
    let te = "Transfer-Encoding: chunked\r\n";
    let status = raw_call(&app.address, te, &chunked(&small)).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let status = raw_call(&app.address, te, &chunked(&large)).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let announced = format!("Content-Length: {}\r\n", small.len());
    let status = raw_call(&app.address, &announced, &small).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    // Announced over the limit: refused with nothing sent.
    let status = raw_call(&app.address, "Content-Length: 100000\r\n", b"").await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
}
