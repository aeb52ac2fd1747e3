//! The patient timeline page's body: who and which product, day N, a chart
//! per result series against the rules' thresholds, coverage and event lanes, the worklist's
//! findings, the cards returned earlier and today's cards as markers, and the open findings beside them. Every chart has
//! a table of the same numbers (shown when printed). Without a FHIR server the page shows the
//! worklist findings and says which configuration the chart needs.

use maud::{html, Markup};

use super::timeline_chart::{describe, lanes_chart, series_chart, Axis, Lane};
use crate::record::units;
use crate::timeline::{KnownFinding, Marker, MarkerKind, Series, Timeline};

/// Whether the chart could be drawn.
#[derive(Debug, Clone, Copy)]
pub enum Chart<'a> {
    /// From the record read now.
    Drawn(&'a Timeline),
    /// No `[bulk]` FHIR server is configured.
    NoServer,
    /// The record could not be read (the reason, free of URLs and patient data).
    Unavailable(&'a str),
}

/// What the page shows.
#[derive(Debug, Clone, Copy)]
pub struct TimelineView<'a> {
    /// `Patient/{id}`.
    pub patient: &'a str,
    /// The name the latest population run read, when the worklist has the patient.
    pub name: Option<&'a str>,
    /// The patient's worklist findings, open and closed.
    pub findings: &'a [KnownFinding],
    /// The cards returned for the patient, one per rule and day (`timeline::past_markers`).
    pub past_cards: &'a [Marker],
    pub chart: Chart<'a>,
}

/// The page's body.
pub fn render(view: &TimelineView<'_>) -> Markup {
    html! {
        (summary(view))
        div.timeline-layout {
            div.timeline-main { (main_column(view)) }
            (open_findings(view.findings))
        }
    }
}

fn main_column(view: &TimelineView<'_>) -> Markup {
    html! {
        @match view.chart {
            Chart::Drawn(t) => {
                (charts(t))
                @if !t.missing.is_empty() {
                    div.muted role="note" {
                        p { "Not drawn, because the active rule pack lacks it:" }
                        ul { @for m in &t.missing { li { (m) } } }
                    }
                }
            }
            Chart::NoServer => {
                div.notice role="note" {
                    p {
                        "The timeline needs a FHIR server to read this patient's record from: "
                        "configure the " code { "[bulk]" } " section (" code { "bulk.fhir_base" }
                        ", also listed in " code { "fhir.allowed_servers" } ", with the SMART Backend Services "
                        "credentials " code { "bulk.client_id" } ", " code { "bulk.private_key_pem" } " and "
                        code { "bulk.key_id" } "). The worklist's findings for the patient follow."
                    }
                }
            }
            Chart::Unavailable(why) => {
                div.error-message role="alert" {
                    p { "The record could not be read from the FHIR server: " (why) }
                }
            }
        }
        (findings_table(view.findings))
        (cards_table(view.past_cards))
    }
}

fn summary(view: &TimelineView<'_>) -> Markup {
    html! {
        dl.summary {
            dt { "Patient" } dd { (view.patient) @if let Some(n) = view.name { " · " (n) } }
            @if let Chart::Drawn(t) = view.chart {
                dt { "CAR-T product" }
                dd { (t.product.as_deref().unwrap_or(if t.recipient { "not recorded" } else { "none on record" })) }
                dt { "Day 0 (infusion)" }
                dd { (t.day0.map_or_else(|| "not on record".to_owned(), |d| d.to_string())) }
                dt { "Today" }
                dd { (t.today) @if let Some(n) = t.day(t.today) { " · day " (n) } }
            }
        }
    }
}

/// The open findings, beside the charts.
fn open_findings(findings: &[KnownFinding]) -> Markup {
    let open: Vec<&KnownFinding> = findings.iter().filter(|f| f.closed.is_none()).collect();
    html! {
        aside.open-findings aria-labelledby="open-findings" {
            h2 #open-findings { "Open findings (" (open.len()) ")" }
            @if open.is_empty() {
                p.muted { "None on the worklist." }
            } @else {
                ul {
                    @for f in open {
                        li {
                            span class=(format!("indicator indicator-{}", f.indicator)) { (f.indicator) }
                            " " strong { (f.rule_id) } ": " (f.summary)
                            span.muted { " (since " (f.first_seen.date_naive()) ")" }
                        }
                    }
                }
            }
        }
    }
}

fn charts(t: &Timeline) -> Markup {
    let axis = Axis::of(t);
    html! {
        @for s in &t.series {
            section aria-labelledby=(format!("h-{}", s.key)) {
                h2 id=(format!("h-{}", s.key)) { (s.label) " (" (units::display(s.unit)) ")" }
                figure.chart {
                    (series_chart(s, &axis, &format!("chart-{}", s.key)))
                    (series_table(s, &axis))
                }
            }
        }
        (coverage(t, &axis))
        (events(t, &axis))
        (markers(t, &axis))
    }
}

fn series_table(s: &Series, axis: &Axis) -> Markup {
    html! {
        details {
            summary { (s.label) " results as a table" }
            table {
                caption { (describe(s, axis)) }
                thead { tr { th { "Date" } th { "Day" } th.num { "Value" } th { "Beyond a threshold" } } }
                tbody {
                    @for p in &s.points {
                        tr {
                            td { (p.date) }
                            td { (axis.day0.map_or_else(String::new, |d0| (p.date - d0).num_days().to_string())) }
                            td.num { (p.shown) }
                            td { @if p.beyond { "yes" } @else { "no" } }
                        }
                    }
                }
            }
            @if s.unconverted > 0 {
                p.muted { (s.unconverted) " result(s) in a unit that cannot be converted to "
                    (units::display(s.unit)) " are not drawn." }
            }
            @if let Some((label, doses)) = &s.doses {
                p { (label) ": " @if doses.is_empty() { "none on record" }
                    @for (i, d) in doses.iter().enumerate() {
                        @if i > 0 { "; " } (axis.when(d.date)) " (" (d.label) ")"
                    }
                }
            }
        }
    }
}

/// A lanes chart and its table (rows of lane, when, what).
fn lanes_section(id: &str, heading: &str, lanes: &[Lane], axis: &Axis) -> Markup {
    let rows: Vec<(&str, String, &str)> = lanes
        .iter()
        .flat_map(|l| {
            let bars = l.bars.iter().map(move |(s, e, w)| {
                (
                    l.label.as_str(),
                    format!("{} to {}", axis.when(*s), axis.when(*e)),
                    w.as_str(),
                )
            });
            let marks = l
                .marks
                .iter()
                .map(move |(d, w)| (l.label.as_str(), axis.when(*d), w.as_str()));
            bars.chain(marks)
        })
        .collect();
    let desc = if rows.is_empty() {
        format!("{heading}: none on record.")
    } else {
        let counts: Vec<String> = lanes
            .iter()
            .map(|l| format!("{}: {}", l.label, l.bars.len() + l.marks.len()))
            .collect();
        format!("{heading}. {}.", counts.join("; "))
    };
    html! {
        section aria-labelledby=(format!("h-{id}")) {
            h2 id=(format!("h-{id}")) { (heading) }
            figure.chart {
                (lanes_chart(lanes, axis, &format!("chart-{id}"), heading, &desc))
                details {
                    summary { (heading) " as a table" }
                    table {
                        caption { (desc) }
                        thead { tr { th { "Lane" } th { "When" } th { "What" } } }
                        tbody { @for (lane, when, what) in &rows { tr { td { (lane) } td { (when) } td { (what) } } } }
                    }
                }
            }
        }
    }
}

fn coverage(t: &Timeline, axis: &Axis) -> Markup {
    let lanes: Vec<Lane> = t
        .coverage
        .iter()
        .map(|c| Lane {
            label: c.label.to_owned(),
            bars: c
                .periods
                .iter()
                .map(|p| {
                    let until = if p.ongoing { " (active, no end)" } else { "" };
                    (p.start, p.end, format!("{}{until}", p.label))
                })
                .collect(),
            marks: Vec::new(),
        })
        .collect();
    lanes_section(
        "coverage",
        "Prophylaxis and antiviral coverage",
        &lanes,
        axis,
    )
}

fn events(t: &Timeline, axis: &Axis) -> Markup {
    let lanes: Vec<Lane> = t
        .events
        .iter()
        .map(|l| Lane {
            label: l.label.to_owned(),
            bars: Vec::new(),
            marks: l.events.iter().map(|e| (e.date, e.label.clone())).collect(),
        })
        .collect();
    lanes_section("events", "Malignancy and infection events", &lanes, axis)
}

/// One lane per rule: worklist findings as bars (first seen to closed, or today), cards
/// returned earlier and today's cards as marks.
fn markers(t: &Timeline, axis: &Axis) -> Markup {
    let mut lanes: Vec<Lane> = Vec::new();
    for m in &t.markers {
        let i = match lanes.iter().position(|l| l.label == m.rule_id) {
            Some(i) => i,
            None => {
                lanes.push(Lane {
                    label: m.rule_id.clone(),
                    ..Lane::default()
                });
                lanes.len() - 1
            }
        };
        let words = format!("{} ({}): {}", m.rule_id, m.indicator, m.summary);
        match m.kind {
            MarkerKind::Finding => {
                let end = m.closed.unwrap_or(t.today);
                let state = if m.closed.is_some() {
                    "worklist finding, closed"
                } else {
                    "worklist finding, open"
                };
                lanes[i]
                    .bars
                    .push((m.date, end, format!("{state}: {words}")));
            }
            MarkerKind::Issued => lanes[i]
                .marks
                .push((m.date, format!("cards returned: {words}"))),
            MarkerKind::Card => lanes[i]
                .marks
                .push((m.date, format!("card today: {words}"))),
        }
    }
    lanes_section("markers", "Findings and cards", &lanes, axis)
}

fn findings_table(findings: &[KnownFinding]) -> Markup {
    html! {
        section aria-labelledby="h-worklist" {
            h2 #h-worklist { "Worklist findings" }
            @if findings.is_empty() {
                p.muted { "No population run has found anything for this patient." }
            } @else {
                table {
                    thead { tr { th { "Rule" } th { "Indicator" } th { "Summary" } th { "First seen" } th { "Closed" } } }
                    tbody {
                        @for f in findings {
                            tr {
                                td { (f.rule_id) }
                                td { span class=(format!("indicator indicator-{}", f.indicator)) { (f.indicator) } }
                                td { (f.summary) }
                                td { (f.first_seen.date_naive()) }
                                td { (f.closed.map_or_else(|| "open".to_owned(), |c| c.date_naive().to_string())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The cards returned to clinicians for this patient, newest day first, with their feedback.
fn cards_table(cards: &[Marker]) -> Markup {
    html! {
        section aria-labelledby="h-cards" {
            h2 #h-cards { "Cards returned to clinicians" }
            @if cards.is_empty() {
                p.muted { "No card has been returned for this patient since cards were kept by patient." }
            } @else {
                table #past-cards {
                    thead { tr { th { "Day" } th { "Rule" } th { "Indicator" } th { "Cards and feedback" } } }
                    tbody {
                        @for m in cards.iter().rev() {
                            tr {
                                td { time datetime=(m.date) { (m.date) } }
                                td { (m.rule_id) }
                                td { span class=(format!("indicator indicator-{}", m.indicator)) { (m.indicator) } }
                                td { (m.summary) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
