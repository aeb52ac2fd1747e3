//! The page's text and SVG from hand-made timelines: what a reader (or a screen reader) gets.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::timeline::spec::Direction;
use crate::timeline::{Event, EventLane, Marker, Point, Threshold};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn point(d: &str, value: f64, shown: &str, beyond: bool) -> Point {
    Point {
        date: date(d),
        value,
        shown: shown.into(),
        beyond,
    }
}

fn timeline() -> Timeline {
    Timeline {
        today: date("2026-06-15"),
        recipient: true,
        day0: Some(date("2026-01-10")),
        product: Some("Yescarta (axicabtagene ciloleucel)".into()),
        series: vec![Series {
            key: "anc",
            label: "ANC",
            unit: "10*9/L",
            points: vec![
                point("2026-04-20", 0.45, "450 /µL", true),
                point("2026-05-20", 1.6, "1.6 ×10⁹/L", false),
            ],
            unconverted: 1,
            thresholds: vec![Threshold {
                value: 1.0,
                direction: Direction::Below,
                rule: "prolonged-cytopenia-marrow-evaluation".into(),
                parameter: "anc_threshold".into(),
                from_day: Some(91),
                to_day: None,
            }],
            doses: None,
        }],
        coverage: vec![],
        events: vec![EventLane {
            key: "malignancy",
            label: "Malignancy",
            events: vec![Event {
                date: date("2026-05-05"),
                label: "Peripheral <T-cell> lymphoma".into(),
            }],
        }],
        markers: vec![Marker {
            kind: MarkerKind::Card,
            date: date("2026-06-15"),
            closed: None,
            rule_id: "cbc-surveillance-overdue".into(),
            indicator: "warning".into(),
            summary: "CBC overdue".into(),
        }],
        missing: vec!["value set infection or source conditions (not in the active pack)".into()],
    }
}

fn finding(closed: bool) -> KnownFinding {
    let at = Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap();
    KnownFinding {
        rule_id: "igg-monitoring-due".into(),
        indicator: "info".into(),
        summary: "IgG due on day 111".into(),
        first_seen: at,
        closed: closed.then_some(at + chrono::Duration::days(3)),
    }
}

fn page(chart: Chart<'_>, findings: &[KnownFinding]) -> String {
    page_with(chart, findings, &[])
}

fn page_with(chart: Chart<'_>, findings: &[KnownFinding], past_cards: &[Marker]) -> String {
    render(&TimelineView {
        patient: "Patient/p1",
        name: Some("Ari Example"),
        findings,
        past_cards,
        chart,
    })
    .into_string()
}

#[test]
fn the_chart_says_its_thresholds_and_values_in_text() {
    let t = timeline();
    let html = page(Chart::Drawn(&t), &[]);
    assert!(html.contains(r#"<svg viewBox="0 0 960 208.0" role="img" aria-labelledby="chart-anc-title chart-anc-desc">"#), "{html}");
    assert!(html.contains(r#"<title id="chart-anc-title">ANC (×10⁹/L) over time</title>"#));
    assert!(html.contains("2 results from 2026-04-20 (day 100) to 2026-05-20 (day 130); latest 1.6 ×10⁹/L on 2026-05-20 (day 130). 1 beyond a threshold. Threshold &lt; 1 ×10⁹/L, from day 91 (prolonged-cytopenia-marrow-evaluation)."), "{html}");
    assert!(
        html.contains("threshold &lt; 1 ×10⁹/L, from day 91</text>"),
        "the line is labelled on the chart"
    );
    assert!(
        html.contains(">0.45</text>") && html.contains(">1.6</text>"),
        "values labelled"
    );
    assert!(
        html.contains("<title>2026-04-20 (day 100): 450 /µL (beyond threshold)</title><rect"),
        "beyond is a square"
    );
    assert!(
        html.contains("<td>2026-04-20</td><td>100</td><td class=\"num\">450 /µL</td><td>yes</td>")
    );
    assert!(html.contains("1 result(s) in a unit that cannot be converted"));
    assert!(html.contains("day 0") && html.contains("· day 156"));
    assert!(
        html.contains("Peripheral &lt;T-cell&gt; lymphoma"),
        "escaped"
    );
    assert!(html.contains("card today: cbc-surveillance-overdue (warning): CBC overdue"));
    assert!(html.contains("value set infection or source conditions"));
}

#[test]
fn without_a_fhir_server_the_page_names_the_configuration_and_lists_the_findings() {
    let findings = [finding(false), finding(true)];
    let html = page(Chart::NoServer, &findings);
    assert!(html.contains("<code>bulk.fhir_base</code>"));
    assert!(!html.contains("<svg"));
    assert!(html.contains("Open findings (1)"));
    assert!(html.contains("<td>igg-monitoring-due</td>"));
    assert!(
        html.contains("<td>2026-05-04</td>"),
        "the closed one's date"
    );
}

#[test]
fn cards_returned_earlier_are_listed_newest_first_even_without_a_chart() {
    let returned = |day: &str, summary: &str| Marker {
        kind: MarkerKind::Issued,
        date: date(day),
        closed: None,
        rule_id: "pjp-prophylaxis-missing".into(),
        indicator: "warning".into(),
        summary: summary.into(),
    };
    let cards = [
        returned("2026-05-02", "1 card (patient-view); no feedback"),
        returned(
            "2026-05-09",
            "2 cards (patient-view); overridden: already handled",
        ),
    ];
    let html = page_with(Chart::NoServer, &[], &cards);
    let newer = html.find("overridden: already handled").expect("listed");
    let older = html
        .find("1 card (patient-view); no feedback")
        .expect("listed");
    assert!(newer < older, "newest first: {html}");
    assert!(html.contains(r#"<time datetime="2026-05-09">2026-05-09</time>"#));
    assert!(page(Chart::NoServer, &[]).contains("No card has been returned for this patient"));
}

#[test]
fn a_record_that_cannot_be_read_is_said_so() {
    let html = page(
        Chart::Unavailable("prefetch key observations: <timeout>"),
        &[],
    );
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains("prefetch key observations: &lt;timeout&gt;"));
    assert!(html.contains("No population run has found anything for this patient."));
}
