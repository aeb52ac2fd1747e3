//! Each hook with a full prefetch answers 200 with a conformant response.

use serde_json::Value;

use cart_sentinel::cds::card_check::check_card;
use cart_sentinel::cds::response::CdsResponse;

use crate::helpers::{load_json, root, spawn_app};

fn first_fixture_for(service: &str) -> (Value, Value) {
    let mut found = Vec::new();
    for d in std::fs::read_dir(root().join("fixtures/patients"))
        .unwrap()
        .flatten()
    {
        for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
            let p = f.path();
            let name = p.to_str().unwrap().to_owned();
            if let Some(stem) = name.strip_suffix(".expect.json") {
                let expect = load_json(p.strip_prefix(root()).unwrap());
                if expect["service"] == service && !expect["fires"].as_array().unwrap().is_empty() {
                    found.push((stem.to_owned(), expect));
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let (stem, expect) = found
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no firing fixture for {service}"));
    let req = load_json(
        PathBuf::from(format!("{stem}.request.json"))
            .strip_prefix(root())
            .unwrap(),
    );
    (req, expect)
}

use std::path::PathBuf;

#[tokio::test]
async fn every_hook_with_full_prefetch_answers_a_conformant_response() {
    let app = spawn_app().await;
    for service in [
        "cart-monitoring",
        "cart-order-safety-select",
        "cart-order-safety-sign",
        "cart-discharge",
    ] {
        let (req, expect) = first_fixture_for(service);
        app.set_now(expect["now"].as_str().unwrap().parse().unwrap());

        let resp = app.call(service, &req).await;

        assert_eq!(resp.status(), 200, "{service}");
        let text = resp.text().await.unwrap();
        assert!(
            !text.contains("null") && !text.contains("[]"),
            "{service}: empty or null members in {text}"
        );
        let typed: CdsResponse = serde_json::from_str(&text).unwrap();
        assert!(!typed.cards.is_empty(), "{service}");
        let back: Value = serde_json::to_value(&typed).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<Value>(&text).unwrap(),
            "{service}: round trip"
        );
        for card in &typed.cards {
            assert!(
                check_card(card).is_empty(),
                "{service}: {:?}",
                check_card(card)
            );
            assert!(card.summary.chars().count() < 140);
            assert!(card.source.topic.is_some());
        }
    }
}
