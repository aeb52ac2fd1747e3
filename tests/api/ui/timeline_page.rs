//! The patient timeline in headless Chromium, reached the way a clinician reaches it: from the
//! "Monitoring timeline" link of a card. The chart's SVG carries the pack's thresholds and the
//! values as text, the page passes axe-core, is reached by keyboard, and is photographed at
//! 1366×768.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::browser::Browser;
use super::quality_page::chart;
use crate::bulk_export::mock::ExportServer;
use cart_sentinel::record::units::fmt_num;

use crate::timeline::page::{hook_request, param, serve_record, spawn_reading_with};

#[tokio::test]
async fn a_cards_link_opens_the_timeline_with_thresholds_and_values() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let server = ExportServer::start(Algorithm::ES384, Duration::from_secs(300)).await;
    serve_record(&server).await;
    // The card link is built from server.public_url: the service's own address here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let app = spawn_reading_with(&server, |s| {
        s.server.port = port;
        s.server.public_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await;

    let answer: Value = app
        .call("cart-monitoring", &hook_request())
        .await
        .json()
        .await
        .unwrap();
    let link = answer["cards"][0]["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["label"] == "Monitoring timeline")
        .expect("the card links to the timeline")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = link
        .strip_prefix(&app.address)
        .expect("a link to this service");
    b.sign_in(&app.address, &["worklist:read"], path).await;
    b.open(&link).await;
    assert_eq!(b.text("h1").await, "Monitoring timeline");

    // The shipped pack's lines, read from its parameters as the page reads them.
    let cyto = |name| fmt_num(param("prolonged-cytopenia-marrow-evaluation", name));
    let anc = chart(&b, "chart-anc").await;
    for text in [
        "ANC (×10⁹/L) over time".to_owned(),
        format!(
            "threshold &lt; {} ×10⁹/L, from day 91",
            cyto("anc_threshold")
        ),
        format!(
            "threshold ≤ {} ×10⁹/L, days 31-90",
            cyto("hematotoxicity_anc_threshold")
        ),
        ">0.45<".to_owned(),
        ">1.6<".to_owned(),
        "2026-04-20 (day 100): 450 /µL (beyond threshold)".to_owned(),
    ] {
        assert!(anc.contains(&text), "{text} in {anc}");
    }
    let igg = chart(&b, "chart-igg").await;
    let igg_line = fmt_num(param("hypogammaglobulinemia-ivig", "igg_threshold"));
    assert!(
        igg.contains(&format!("threshold ≤ {igg_line} mg/dL")),
        "{igg}"
    );
    assert!(igg.contains(">350<"), "{igg}");
    let open = b.text(".open-findings").await;
    assert!(open.contains("Open findings"), "{open}");

    b.screenshot("timeline").await;

    // The tables behind the charts open from the keyboard.
    let summary = b
        .client
        .find(Locator::Css("#h-anc + figure details summary"))
        .await
        .unwrap();
    summary.send_keys(&Key::Enter.to_string()).await.unwrap();
    let table = b.text("#h-anc + figure details table").await;
    assert!(table.contains("2026-04-20 100 450 /µL yes"), "{table}");

    b.assert_accessible("timeline").await;
    b.close().await;
}
