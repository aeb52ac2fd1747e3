//! The quality page: the feedback report of `/admin/reports/quality` month by month (cards
//! issued per rule, accepted, overridden and why) and the worklist over time (cohort size,
//! share of recipients with an open finding and with an overdue one per rule, days from a finding's first appearance
//! to its closing). A rule whose cards are overridden more often than accepted, among the cards
//! that got feedback, is flagged in words and colour.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::chart::{number, BarChart, Series};
use super::trends::WorklistMonth;
use crate::storage::{MonthQuality, ReasonCount};

/// Everything the page shows.
#[derive(Debug)]
pub struct QualityView<'a> {
    /// The months shown, `YYYY-MM`, oldest first.
    pub months: &'a [String],
    /// The feedback report per month (same months).
    pub cards: &'a [MonthQuality],
    /// Rule titles by id (from the active pack).
    pub titles: &'a BTreeMap<String, String>,
    /// The worklist per month (same months).
    pub worklist: &'a [WorklistMonth],
}

/// A rule's cards over the whole period.
#[derive(Debug, Default)]
struct RuleTotals {
    issued: Vec<f64>,
    accepted: Vec<f64>,
    overridden: Vec<f64>,
    reasons: BTreeMap<String, i64>,
}

impl RuleTotals {
    fn sum(v: &[f64]) -> f64 {
        v.iter().sum()
    }
    /// Overridden among the cards with feedback, in per cent.
    fn override_share(&self) -> Option<f64> {
        let (a, o) = (Self::sum(&self.accepted), Self::sum(&self.overridden));
        (a + o > 0.0).then(|| o * 100.0 / (a + o))
    }
    fn mostly_overridden(&self) -> bool {
        self.override_share().is_some_and(|s| s > 50.0)
    }
}

fn reason_label(r: &ReasonCount) -> String {
    r.display
        .clone()
        .or_else(|| r.code.clone())
        .unwrap_or_else(|| "no reason given".into())
}

fn totals(view: &QualityView<'_>) -> BTreeMap<String, RuleTotals> {
    let n = view.cards.len();
    let mut out: BTreeMap<String, RuleTotals> = BTreeMap::new();
    for (i, month) in view.cards.iter().enumerate() {
        for rule in &month.rules {
            let t = out
                .entry(rule.rule_id.clone())
                .or_insert_with(|| RuleTotals {
                    issued: vec![0.0; n],
                    accepted: vec![0.0; n],
                    overridden: vec![0.0; n],
                    reasons: BTreeMap::new(),
                });
            t.issued[i] = rule.issued.total() as f64;
            t.accepted[i] = rule.accepted as f64;
            t.overridden[i] = rule.overridden as f64;
            for r in &rule.override_reasons {
                *t.reasons.entry(reason_label(r)).or_default() += r.count;
            }
        }
    }
    out
}

fn outcome_series(issued: &[f64], accepted: &[f64], overridden: &[f64]) -> Vec<Series> {
    let rest = issued
        .iter()
        .zip(accepted.iter().zip(overridden))
        .map(|(i, (a, o))| (i - a - o).max(0.0))
        .collect();
    vec![
        Series {
            label: "accepted".into(),
            class: "accepted",
            values: accepted.to_vec(),
        },
        Series {
            label: "overridden".into(),
            class: "overridden",
            values: overridden.to_vec(),
        },
        Series {
            label: "no feedback".into(),
            class: "issued",
            values: rest,
        },
    ]
}

fn title<'a>(view: &'a QualityView<'_>, rule: &'a str) -> &'a str {
    view.titles.get(rule).map_or(rule, String::as_str)
}

fn cards_section(view: &QualityView<'_>) -> Markup {
    let rules = totals(view);
    let n = view.months.len();
    let all = |pick: fn(&RuleTotals) -> &Vec<f64>| -> Vec<f64> {
        (0..n)
            .map(|i| rules.values().map(|t| pick(t)[i]).sum())
            .collect()
    };
    let (issued, accepted, overridden) = (
        all(|t| &t.issued),
        all(|t| &t.accepted),
        all(|t| &t.overridden),
    );
    let flagged: Vec<(&String, &RuleTotals)> = rules
        .iter()
        .filter(|(_, t)| t.mostly_overridden())
        .collect();
    let overall = BarChart {
        id: "cards-all",
        title: "Cards issued per month, by what the clinician did",
        desc: format!(
            "{} cards issued over {} months: {} accepted, {} overridden.",
            number(issued.iter().sum()),
            n,
            number(accepted.iter().sum()),
            number(overridden.iter().sum())
        ),
        categories: view.months,
        series: outcome_series(&issued, &accepted, &overridden),
        stacked: true,
        unit: "",
    };
    html! {
        h2 { "Cards at the point of care" }
        @if flagged.is_empty() {
            p { "No rule is overridden more often than accepted in this period." }
        } @else {
            div.stands-out role="note" {
                strong { "Overridden most of the time: " }
                @for (i, (rule, t)) in flagged.iter().enumerate() {
                    @if i > 0 { "; " }
                    (title(view, rule)) " (" (number(t.override_share().unwrap_or(0.0))) " % of "
                    (number(RuleTotals::sum(&t.accepted) + RuleTotals::sum(&t.overridden)))
                    " cards with feedback)"
                }
                ". Review whether these rules fire for the right patients."
            }
        }
        (overall.render())
        table #rules-summary {
            caption { "Per rule over the period" }
            thead { tr {
                th scope="col" { "Rule" } th.num scope="col" { "Issued" }
                th.num scope="col" { "Accepted" } th.num scope="col" { "Overridden" }
                th.num scope="col" { "Overridden, of feedback" } th scope="col" { "Why overridden" }
            } }
            tbody {
                @for (rule, t) in &rules {
                    tr class=[t.mostly_overridden().then_some("stands-out")] {
                        th scope="row" { (title(view, rule)) br; code.muted { (rule) }
                            @if t.mostly_overridden() { br; strong { "Overridden most of the time" } } }
                        td.num { (number(RuleTotals::sum(&t.issued))) }
                        td.num { (number(RuleTotals::sum(&t.accepted))) }
                        td.num { (number(RuleTotals::sum(&t.overridden))) }
                        td.num { (t.override_share().map_or("–".into(), |s| format!("{} %", number(s)))) }
                        td { @for (i, (reason, count)) in t.reasons.iter().enumerate() {
                            @if i > 0 { "; " } (reason) " (" (count) ")" } }
                    }
                }
            }
        }
        @for (rule, t) in &rules {
            h3 { (title(view, rule)) }
            (BarChart {
                id: &format!("cards-{rule}"),
                title: &format!("{}: cards per month", title(view, rule)),
                desc: format!("{} cards issued; overridden {} of those with feedback.",
                    number(RuleTotals::sum(&t.issued)),
                    t.override_share().map_or("none".into(), |s| format!("{} %", number(s)))),
                categories: view.months,
                series: outcome_series(&t.issued, &t.accepted, &t.overridden),
                stacked: true,
                unit: "",
            }.render())
        }
    }
}

/// A chart of one per-cent share per rule and month.
fn share_chart<'v>(
    view: &QualityView<'v>,
    (id, title_text): (&'static str, &'static str),
    desc: &str,
    rules: &[&String],
    share: fn(&WorklistMonth, &str) -> f64,
) -> BarChart<'v> {
    BarChart {
        id,
        title: title_text,
        desc: desc.into(),
        categories: view.months,
        series: rules
            .iter()
            .enumerate()
            .map(|(i, r)| Series {
                label: title(view, r).to_owned(),
                class: ["s1", "s2", "s3", "s4", "s5", "s6"][i % 6],
                values: view.worklist.iter().map(|m| share(m, r)).collect(),
            })
            .collect(),
        stacked: false,
        unit: " %",
    }
}

fn worklist_section(view: &QualityView<'_>) -> Markup {
    let w = view.worklist;
    let mut rules: Vec<&String> = w.iter().flat_map(|m| m.open_by_rule.keys()).collect();
    rules.sort();
    rules.dedup();
    let cohort = BarChart {
        id: "cohort",
        title: "Cohort size (CAR-T recipients), last run of each month",
        desc: format!(
            "Latest: {} recipients.",
            w.iter()
                .rev()
                .find(|m| m.run.is_some())
                .map_or(0, |m| m.cohort)
        ),
        categories: view.months,
        series: vec![Series {
            label: "recipients".into(),
            class: "issued",
            values: w.iter().map(|m| m.cohort as f64).collect(),
        }],
        stacked: false,
        unit: "",
    };
    let mut due_rules: Vec<&String> = w.iter().flat_map(|m| m.overdue_by_rule.keys()).collect();
    due_rules.sort();
    due_rules.dedup();
    let overdue = share_chart(
        view,
        ("overdue", "Share of recipients overdue, per rule"),
        "Per month, the per cent of the cohort whose open finding of the rule was due before the day of the month's last run (only rules that give a due date).",
        &due_rules,
        WorklistMonth::overdue_share,
    );
    let shares = share_chart(
        view,
        ("open", "Share of recipients with an open finding, per rule"),
        "Per month, the per cent of the cohort for whom each rule has an open finding after the month's last run.",
        &rules,
        WorklistMonth::share,
    );
    let closing = BarChart {
        id: "closing",
        title: "Median days from a finding's first appearance to its closing",
        desc: "Per month of closing.".into(),
        categories: view.months,
        series: vec![Series {
            label: "median days".into(),
            class: "issued",
            values: w
                .iter()
                .map(|m| m.median_days_to_close.unwrap_or(0.0))
                .collect(),
        }],
        stacked: false,
        unit: " d",
    };
    html! {
        h2 { "The worklist" }
        @if w.iter().all(|m| m.run.is_none()) {
            p.notice { "No population run succeeded in this period." }
        }
        (cohort.render())
        (shares.render())
        @if due_rules.is_empty() {
            p.muted { "No open finding had a due date, so none was overdue." }
        } @else {
            (overdue.render())
        }
        (closing.render())
        p.muted { "Closed per month: "
            @for (i, m) in w.iter().enumerate() { @if i > 0 { ", " } (m.month) " " (m.closed) } "." }
    }
}

/// The page's body.
pub fn render(view: &QualityView<'_>) -> Markup {
    html! {
        p { "From " (view.months.first().map_or("", String::as_str)) " to "
            (view.months.last().map_or("", String::as_str)) ", month by month (UTC). "
            "Feedback counts in the month its card was issued." }
        form.filters method="get" action="/ui/quality" aria-label="Period" {
            div.field {
                label for="q-months" { "Months" }
                select #q-months name="months" {
                    @for m in [3, 6, 12, 24] {
                        option value=(m) selected[view.months.len() == m] { (m) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        (cards_section(view))
        (worklist_section(view))
    }
}
