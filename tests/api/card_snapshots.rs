//! What the cards SAY for every fixture in `fixtures/patients/`: each request goes through the
//! HTTP service at its case's fixed "now" (as in `fixtures.rs`, with the draft rules active for
//! the cases that expect one), and every card it returns is written out as text (summary,
//! indicator, source, detail, links, suggestions with their actions and resources, override
//! reasons; the per-call uuids left out) and compared with a reviewed snapshot, one per rule
//! directory: `tests/api/snapshots/cards/<rule-id>.snap`.
//!
//! A changed card text fails the test with a diff. When the change is intended, run
//! `INSTA_UPDATE=always cargo test --test api card_snapshots` (or `cargo insta review`, when
//! cargo-insta is installed), read the diff of the `.snap` files and commit them. Without
//! `INSTA_UPDATE`, a mismatch leaves a `.snap.new` beside the snapshot; with `CI` set, nothing
//! is written.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{Map, Value};

use crate::fixtures::{cases, draft_rules, needs_drafts, pack_with_drafts_active};
use crate::helpers::{load_json, spawn_app, spawn_with};

#[tokio::test]
async fn every_fixture_card_says_what_its_reviewed_snapshot_says() {
    let app = spawn_app().await;
    let drafts = draft_rules();
    let pack_dir = tempfile::tempdir().unwrap();
    pack_with_drafts_active(pack_dir.path());
    let approved = pack_dir.path().to_path_buf();
    let site = spawn_with(move |s| s.rules.dir = approved).await;
    let mut by_rule: BTreeMap<String, String> = BTreeMap::new();
    let all = cases();
    for (request, expect_path) in &all {
        let rule = request.parent().unwrap().file_name().unwrap();
        let file = request.file_name().unwrap().to_str().unwrap();
        let case = file.strip_suffix(".request.json").unwrap();
        let expect = load_json(expect_path);
        let app = if needs_drafts(&expect, &drafts) {
            &site
        } else {
            &app
        };
        let service = expect["service"].as_str().unwrap();
        let now = expect["now"].as_str().unwrap();
        app.set_now(now.parse().unwrap());
        let resp = app.call(service, &load_json(request)).await;
        let status = resp.status();
        let text = by_rule
            .entry(rule.to_str().unwrap().to_owned())
            .or_default();
        if status != 200 {
            writeln!(text, "=== {case}: HTTP {status}\n").unwrap();
            continue;
        }
        let body: Value = resp.json().await.unwrap();
        let cards = body["cards"].as_array().unwrap();
        let drafts_note = if needs_drafts(&expect, &drafts) {
            ", draft rules active"
        } else {
            ""
        };
        writeln!(
            text,
            "=== {case} ({service} at {now}{drafts_note}): {} card(s)\n",
            cards.len()
        )
        .unwrap();
        for card in cards {
            render_card(text, card);
        }
    }
    assert!(by_rule.len() >= 22, "a snapshot per rule directory");
    let mut failed = Vec::new();
    for (rule, text) in &by_rule {
        let description = format!(
            "The cards of fixtures/patients/{rule}/*.request.json (uuids left out); \
             see tests/api/card_snapshots.rs"
        );
        let compared = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => "snapshots/cards",
                prepend_module_to_snapshot => false,
                omit_expression => true,
                description => description,
            }, {
                insta::assert_snapshot!(rule.as_str(), text);
            });
        }));
        if compared.is_err() {
            failed.push(rule.as_str());
        }
    }
    assert!(
        failed.is_empty(),
        "the cards of {} rule director(ies) of {} differ from their snapshot: {}\n\
         (if the change is intended: INSTA_UPDATE=always cargo test --test api \
         card_snapshots, then review and commit tests/api/snapshots/cards/)",
        failed.len(),
        by_rule.len(),
        failed.join(", ")
    );
}

/// One card as text: every field of the response except the uuids; fields this renderer does
/// not know are written as JSON, so that nothing the card says escapes the snapshot.
fn render_card(out: &mut String, card: &Value) {
    let mut card = card.as_object().expect("a card is an object").clone();
    card.remove("uuid");
    let mut source = take_object(&mut card, "source");
    let mut topic = take_object(&mut source, "topic");
    writeln!(
        out,
        "--- {} [{}]",
        take_str(&mut topic, "code"),
        take_str(&mut card, "indicator")
    )
    .unwrap();
    writeln!(out, "summary: {}", take_str(&mut card, "summary")).unwrap();
    writeln!(
        out,
        "source: {} <{}>",
        take_str(&mut source, "label"),
        take_str(&mut source, "url")
    )
    .unwrap();
    writeln!(
        out,
        "topic: {} | {}",
        take_str(&mut topic, "system"),
        take_str(&mut topic, "display")
    )
    .unwrap();
    rest(out, "  topic", topic);
    rest(out, "  source", source);
    if let Some(sb) = card.remove("selectionBehavior") {
        writeln!(out, "selectionBehavior: {}", plain(&sb)).unwrap();
    }
    writeln!(out, "detail:").unwrap();
    for line in take_str(&mut card, "detail").lines() {
        if line.is_empty() {
            writeln!(out, "  |").unwrap();
        } else {
            writeln!(out, "  | {line}").unwrap();
        }
    }
    for link in take_array(&mut card, "links") {
        let mut link = link.as_object().cloned().unwrap_or_default();
        writeln!(
            out,
            "link: {} <{}> ({})",
            take_str(&mut link, "label"),
            take_str(&mut link, "url"),
            take_str(&mut link, "type")
        )
        .unwrap();
        rest(out, "  link", link);
    }
    for suggestion in take_array(&mut card, "suggestions") {
        let mut s = suggestion.as_object().cloned().unwrap_or_default();
        s.remove("uuid");
        let recommended = s
            .remove("isRecommended")
            .map(|r| format!(" (isRecommended: {r})"))
            .unwrap_or_default();
        writeln!(
            out,
            "suggestion: {}{recommended}",
            take_str(&mut s, "label")
        )
        .unwrap();
        for action in take_array(&mut s, "actions") {
            let mut a = action.as_object().cloned().unwrap_or_default();
            writeln!(
                out,
                "  - {}: {}",
                take_str(&mut a, "type"),
                take_str(&mut a, "description")
            )
            .unwrap();
            if let Some(id) = a.remove("resourceId") {
                writeln!(out, "    resourceId: {}", plain(&id)).unwrap();
            }
            if let Some(resource) = a.remove("resource") {
                writeln!(out, "    resource:").unwrap();
                for line in serde_json::to_string_pretty(&resource).unwrap().lines() {
                    writeln!(out, "      {line}").unwrap();
                }
            }
            rest(out, "    action", a);
        }
        rest(out, "  suggestion", s);
    }
    for reason in take_array(&mut card, "overrideReasons") {
        let mut r = reason.as_object().cloned().unwrap_or_default();
        writeln!(
            out,
            "overrideReason: {} ({} | {})",
            take_str(&mut r, "display"),
            take_str(&mut r, "system"),
            take_str(&mut r, "code")
        )
        .unwrap();
        rest(out, "  overrideReason", r);
    }
    rest(out, "card", card);
    out.push('\n');
}

fn take_str(m: &mut Map<String, Value>, key: &str) -> String {
    m.remove(key)
        .map(|v| plain(&v))
        .unwrap_or_else(|| "(none)".to_owned())
}

fn take_object(m: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match m.remove(key) {
        Some(Value::Object(o)) => o,
        Some(other) => Map::from_iter([(key.to_owned(), other)]),
        None => Map::new(),
    }
}

fn take_array(m: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match m.remove(key) {
        Some(Value::Array(a)) => a,
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// A string as it is, anything else as JSON.
fn plain(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

/// What is left of an object after the known fields were written.
fn rest(out: &mut String, what: &str, m: Map<String, Value>) {
    for (k, v) in m {
        writeln!(out, "{what} {k}: {v}").unwrap();
    }
}
