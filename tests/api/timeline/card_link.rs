//! Each card of a hook answer links to `{server.public_url}/ui/patients/{id}`; without a
//! configured public URL there is no link, and a client that does not show links to the
//! service's host gets none.

use serde_json::Value;

use crate::auth::spawn_auth_with;
use crate::helpers::{load_json, spawn_with};
use crate::signer::claims;

pub(super) const FIXTURE: &str = "fixtures/patients/pjp-prophylaxis-missing/fires-day-30";
const LABEL: &str = "Monitoring timeline";

/// The request of a fixture whose patient gets a PJP card, and its "now".
pub(super) fn fixture() -> (Value, chrono::DateTime<chrono::Utc>) {
    let request = load_json(format!("{FIXTURE}.request.json"));
    let now = load_json(format!("{FIXTURE}.expect.json"))["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (request, now)
}

/// The timeline link of each card (`None` for a card without one).
fn timeline_links(answer: &Value) -> Vec<Option<Value>> {
    let cards = answer["cards"].as_array().expect("cards");
    assert!(!cards.is_empty(), "the fixture fires");
    cards
        .iter()
        .map(|c| {
            let links = c["links"].as_array().cloned().unwrap_or_default();
            links.into_iter().find(|l| l["label"] == LABEL)
        })
        .collect()
}

#[tokio::test]
async fn every_card_links_to_its_patients_timeline_under_the_public_url() {
    let (request, now) = fixture();
    let patient = request["context"]["patientId"].as_str().unwrap().to_owned();
    let app =
        spawn_with(|s| s.server.public_url = Some("https://cds.example.org/sentinel".into())).await;
    app.set_now(now);
    let resp = app.call("cart-monitoring", &request).await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let expected = serde_json::json!({
        "label": LABEL,
        "url": format!("https://cds.example.org/sentinel/ui/patients/{patient}"),
        "type": "absolute",
    });
    for link in timeline_links(&answer) {
        assert_eq!(link.as_ref(), Some(&expected));
    }
}

#[tokio::test]
async fn without_a_public_url_no_card_carries_the_link() {
    let (request, now) = fixture();
    let app = spawn_with(|_| {}).await;
    app.set_now(now);
    let answer: Value = app
        .call("cart-monitoring", &request)
        .await
        .json()
        .await
        .unwrap();
    assert!(timeline_links(&answer).iter().all(Option::is_none));
}

#[tokio::test]
async fn a_client_that_does_not_show_the_services_host_gets_no_link() {
    let (request, now) = fixture();
    let public = |s: &mut cart_sentinel::config::Settings| {
        s.server.public_url = Some("https://cds.example.org".into())
    };
    let mut links = Vec::new();
    for hosts in [vec!["cds.example.org"], vec!["pubmed.ncbi.nlm.nih.gov"]] {
        let hosts: Vec<String> = hosts.into_iter().map(str::to_owned).collect();
        let t = spawn_auth_with(|c| c.link_hosts = Some(hosts), public).await;
        t.app.set_now(now);
        // The token's aud is the URL as seen from outside: the public URL's.
        let token = t.es.sign(&claims(
            "https://cds.example.org/cds-services/cart-monitoring",
        ));
        let resp = t
            .send(
                "/cds-services/cart-monitoring",
                Some(&token),
                Some(&request),
            )
            .await;
        assert_eq!(resp.status(), 200);
        links.push(timeline_links(&resp.json().await.unwrap()));
    }
    assert!(links[0].iter().all(Option::is_some), "the host is shown");
    assert!(
        links[1].iter().all(Option::is_none),
        "the host is not shown"
    );
}
