//! The quality page in headless Chromium: month-by-month charts whose SVG text and tables carry
//! the stored numbers, the rule overridden most of the time flagged, axe-core passing.

use chrono::{DateTime, Utc};
use fantoccini::Locator;

use super::browser::Browser;
use super::seed::{seed, seed_cards, RULES};
use crate::helpers::spawn_app;

/// The markup of the chart `id` (its `<svg>`).
pub(super) async fn chart(b: &Browser, id: &str) -> String {
    let css = format!("svg[aria-labelledby='{id}-title {id}-desc']");
    let svg = b.client.find(Locator::Css(&css)).await.expect("the chart");
    svg.html(false).await.unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn the_quality_page_charts_cards_and_the_worklist_month_by_month() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.set_now(at("2026-06-20T12:00:00Z"));
    let (cbc, pjp) = (RULES[0].0, RULES[2].0);
    // May: cbc 4 cards, 3 accepted 1 overridden; June: cbc 2 with no feedback; pjp 5 cards,
    // 1 accepted, 4 overridden as "already on atovaquone".
    seed_cards(
        &app,
        (cbc, at("2026-05-03T09:00:00Z")),
        4,
        (3, 1),
        "not-relevant",
    )
    .await;
    seed_cards(&app, (cbc, at("2026-06-02T09:00:00Z")), 2, (0, 0), "").await;
    seed_cards(
        &app,
        (pjp, at("2026-06-05T09:00:00Z")),
        5,
        (1, 4),
        "already on atovaquone",
    )
    .await;
    // Worklist: May's run finds cbc for 10 recipients, June's for the first 4 only (6 closed
    // after 36 days).
    seed(&app, 10, at("2026-05-10T12:00:00Z"), |_| vec![0]).await;
    seed(&app, 4, at("2026-06-15T12:00:00Z"), |_| vec![0]).await;

    b.sign_in(&app.address, &["rules:read"], "/ui/quality?months=3")
        .await;
    assert_eq!(b.text("h1").await, "Quality");

    // The rule overridden most of the time stands out, in words.
    let flagged = b.text(".stands-out[role=note]").await;
    assert!(flagged.contains("Overridden most of the time"), "{flagged}");
    assert!(
        flagged.contains("80 % of 5 cards with feedback"),
        "{flagged}"
    );
    assert!(!flagged.contains("CBC"), "{flagged}");
    let summary = b.text("#rules-summary").await;
    assert!(summary.contains("already on atovaquone (4)"), "{summary}");

    // The overall chart: months as text labels, stacked totals above the bars.
    let svg = b
        .client
        .find(Locator::Css(
            "svg[aria-labelledby='cards-all-title cards-all-desc']",
        ))
        .await
        .expect("the overall chart");
    let labels = svg.text().await.unwrap();
    for label in ["2026-04", "2026-05", "2026-06"] {
        assert!(labels.contains(label), "{labels}");
    }
    let html = svg.html(false).await.unwrap();
    assert!(
        html.contains("<title>2026-05, accepted: 3</title>"),
        "{html}"
    );
    assert!(
        html.contains("<title>2026-06, overridden: 4</title>"),
        "{html}"
    );
    assert!(
        html.contains(">4</text>") && html.contains(">7</text>"),
        "totals: {html}"
    );

    // The worklist: cohort per month, share of recipients with an open and an overdue cbc
    // finding, days to close.
    let text = chart(&b, "cohort").await;
    assert!(
        text.contains("<title>2026-05, recipients: 10</title>"),
        "{text}"
    );
    assert!(
        text.contains("<title>2026-06, recipients: 4</title>"),
        "{text}"
    );
    let shares = chart(&b, "open").await;
    assert!(shares.contains(": 100 %</title>"), "{shares}");
    // June's run: recipients 1–3 of 4 were due before the run's day (the seed's due dates are
    // the run's day minus the recipient's number).
    let overdue = chart(&b, "overdue").await;
    assert!(overdue.contains("<title>2026-06, "), "{overdue}");
    assert!(overdue.contains(": 75 %</title>"), "{overdue}");
    let closing = chart(&b, "closing").await;
    assert!(
        closing.contains("<title>2026-06, median days: 36 d</title>"),
        "{closing}"
    );

    b.assert_accessible("quality").await;
    b.screenshot("quality").await;
    b.close().await;
}
