//! The worklist page in headless Chromium: sign in, read, filter, page, move with the keyboard,
//! pass axe-core, and stay quick with 2,000 recipients on the list.

use std::time::Instant;

use chrono::{DateTime, Utc};
use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::Value;

use super::browser::Browser;
use super::seed::{patient, seed, RULES};
use crate::helpers::{admin_token, spawn_app, TestApp};
use crate::worklist::get_json;

const RUN_AT: &str = "2026-06-15T12:00:00Z";

pub(super) fn run_at() -> DateTime<Utc> {
    RUN_AT.parse().unwrap()
}

/// Per element matching `css`: its text, or the attribute `attr`.
pub(super) async fn each(b: &Browser, css: &str, attr: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.client.find_all(Locator::Css(css)).await.unwrap() {
        out.push(match attr {
            Some(name) => e.attr(name).await.unwrap().unwrap_or_default(),
            None => e.text().await.unwrap(),
        });
    }
    out
}

/// The rule ids of the table's rows, as the page shows them.
pub(super) async fn row_rules(b: &Browser) -> Vec<String> {
    each(b, "#findings tbody tr td:nth-child(3) code", None).await
}

/// The patient links of the table's rows.
pub(super) async fn row_patients(b: &Browser) -> Vec<String> {
    each(b, "#findings tbody tr td:first-child a", Some("href")).await
}

pub(super) async fn audit_entries(app: &TestApp, actor: &str) -> Vec<Value> {
    let auditor = admin_token(app.data_dir.path(), "auditor", &["audit:read"], 600);
    let path = format!("/admin/audit?actor={actor}&limit=1000");
    get_json(app, &path, &auditor).await["entries"]
        .as_array()
        .unwrap()
        .clone()
}

/// What has the focus: its tag, then its id, name or link.
async fn focused(b: &Browser) -> String {
    let v = b
        .client
        .execute(
            "const e = document.activeElement;
             const outline = getComputedStyle(e).outlineStyle;
             return [e.tagName.toLowerCase() + ':' + (e.id || e.getAttribute('name')
                 || e.getAttribute('href') || e.textContent.trim()), outline];",
            vec![],
        )
        .await
        .unwrap();
    let shown = v[0].as_str().unwrap().to_owned();
    // The skip link's target is the whole content, which is not outlined.
    if shown != "main:main" {
        assert_ne!(
            v[1].as_str().unwrap(),
            "none",
            "focus not visible on {shown}"
        );
    }
    shown
}

#[tokio::test]
async fn the_worklist_is_read_filtered_and_reached_by_keyboard_in_a_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    seed(&app, 12, run_at(), |i| match i % 3 {
        0 => vec![0],
        1 => vec![1, 2],
        _ => vec![0, 2],
    })
    .await;

    // Not signed in: the sign-in page, which leads back to the worklist.
    b.open(&format!("{}/ui/worklist", app.address)).await;
    assert_eq!(b.text("h1").await, "Sign in");
    b.sign_in(
        &app.address,
        &["worklist:read", "worklist:write"],
        "/ui/worklist",
    )
    .await;
    b.open(&format!("{}/ui/worklist", app.address)).await;
    assert_eq!(b.text("h1").await, "Worklist");
    assert_eq!(b.text("header .user strong").await, "developer");
    assert_eq!(row_rules(&b).await.len(), 20);
    assert!(b
        .text("#findings caption")
        .await
        .starts_with("20 open findings"));
    assert!(row_patients(&b)
        .await
        .contains(&format!("/ui/patients/{}", &patient(4)[8..])));
    // Recipient 0 was infused 30 days before the run (the seed's day 0).
    assert_eq!(
        b.text("#findings tbody tr:first-child .day").await,
        "day 30 since infusion"
    );
    b.assert_accessible("worklist").await;
    b.screenshot("worklist").await;

    // Filter by rule through the form.
    b.client
        .find(Locator::Css("#f-rule"))
        .await
        .unwrap()
        .select_by_value(RULES[2].0)
        .await
        .unwrap();
    b.client
        .find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let wanted = format!("rule={}&", RULES[2].0);
    for _ in 0..100 {
        let url = b.client.current_url().await.unwrap();
        if url.query().is_some_and(|q| q.contains(&wanted)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rules = row_rules(&b).await;
    assert_eq!(rules.len(), 8, "{rules:?}");
    assert!(rules.iter().all(|r| r == RULES[2].0), "{rules:?}");
    b.assert_accessible("worklist, filtered").await;

    // A first-seen date after the run: nothing, said in words.
    b.open(&format!(
        "{}/ui/worklist?firstSeenAfter=2026-07-01",
        app.address
    ))
    .await;
    assert!(b.text("p.notice").await.contains("No open finding"));

    // Each list shown was audited with who and which patients.
    let listed: Vec<Value> = audit_entries(&app, "developer")
        .await
        .into_iter()
        .filter(|e| e["action"] == "worklist.findings.list")
        .collect();
    // After signing in (the sign-in returns to the worklist), opened, filtered, dated.
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert!(listed
        .iter()
        .any(|e| e["after"]["filter"]["rule"] == RULES[2].0 && e["after"]["patientCount"] == 8));

    // The keyboard: the skip link first, then the header, the filters, the export and the rows.
    b.open(&format!("{}/ui/worklist", app.address)).await;
    let body = b.client.find(Locator::Css("body")).await.unwrap();
    body.send_keys(&Key::Tab.to_string()).await.unwrap();
    let first = focused(&b).await;
    assert_eq!(first, "a:#main");
    let mut stops = vec![first];
    for _ in 0..24 {
        b.client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        stops.push(focused(&b).await);
    }
    let position = |stop: &str| {
        stops
            .iter()
            .position(|s| s.starts_with(stop))
            .unwrap_or_else(|| panic!("{stop} not reached by Tab: {stops:?}"))
    };
    let order = [
        "a:/ui/quality",
        "select:f-rule",
        "select:f-indicator",
        "input:f-since",
        "button:Apply filters",
        "a:/ui/worklist.csv",
        "a:/ui/patients/",
        "summary:Acknowledge",
        "summary:Snooze",
        "summary:Contacted",
    ];
    let positions: Vec<usize> = order.iter().map(|s| position(s)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stops:?}");
    // The skip link moves the focus to the content.
    b.open(&format!("{}/ui/worklist", app.address)).await;
    body_tab_enter(&b).await;
    assert_eq!(focused(&b).await.split(':').next(), Some("main"));
    b.close().await;
}

async fn body_tab_enter(b: &Browser) {
    let body = b.client.find(Locator::Css("body")).await.unwrap();
    body.send_keys(&Key::Tab.to_string()).await.unwrap();
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
}

#[tokio::test]
async fn two_thousand_recipients_are_paged_and_the_first_page_shows_in_under_a_second() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    // 2,000 recipients, a third of them with two findings: 2,667 findings.
    seed(&app, 2000, run_at(), |i| {
        if i % 3 == 1 {
            vec![1, 2]
        } else {
            vec![0]
        }
    })
    .await;
    b.sign_in(&app.address, &["worklist:read"], "/ui/worklist")
        .await;

    let started = Instant::now();
    b.open(&format!("{}/ui/worklist", app.address)).await;
    let wall = started.elapsed();
    let timing = b
        .client
        .execute(
            "const t = performance.getEntriesByType('navigation')[0];
             return [t.responseStart - t.requestStart, t.domContentLoadedEventEnd];",
            vec![],
        )
        .await
        .unwrap();
    eprintln!(
        "worklist, 2,000 recipients: first page answered in {:.0} ms, shown in {:.0} ms, \
         {} ms from navigation to <main> in the test",
        timing[0].as_f64().unwrap(),
        timing[1].as_f64().unwrap(),
        wall.as_millis()
    );
    assert!(timing[1].as_f64().unwrap() < 1000.0, "{timing:?}");
    assert_eq!(row_rules(&b).await.len(), 50);

    // Every finding once, page after page.
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = 0;
    loop {
        for (p, r) in row_patients(&b).await.into_iter().zip(row_rules(&b).await) {
            rows += 1;
            assert!(seen.insert((p, r)), "a finding shown twice");
        }
        let Ok(next) = b.client.find(Locator::Css("a[rel=next]")).await else {
            break;
        };
        b.mark_page().await;
        next.click().await.unwrap();
        b.wait_new_page().await;
    }
    assert_eq!(rows, 2667);
    b.close().await;
}
