//! The timeline's SVG charts, rendered with maud: a result series against its threshold lines,
//! and lanes of periods and events. Each chart is an image to assistive technology
//! (`role="img"`, `<title>` and a `<desc>` that says what it shows in words), every threshold
//! and value drawn has its text on the chart, each mark its own `<title>`, and the page puts the
//! same numbers in a table beside it. Colours are presentation attributes (the pages' policy
//! refuses `style` attributes); a result beyond a threshold is also drawn as a filled square,
//! not only in another colour.
//!
//! Drawn by hand rather than with a plotting crate: plotters' SVG backend writes no `<title>`,
//! `<desc>` or roles and would need its output rewritten to be accessible, for charts that are
//! a few lines, marks and labels.

use chrono::{Duration, NaiveDate};
use maud::{html, Markup};

use crate::record::units;
use crate::timeline::{Series, Timeline};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 64.0;
/// Room right of the plot for the threshold and lane labels.
const RIGHT: f64 = 250.0;
const TOP: f64 = 24.0;
const PLOT_HEIGHT: f64 = 150.0;
const AXIS_HEIGHT: f64 = 34.0;
const LANE_HEIGHT: f64 = 26.0;
/// Above this many results only the newest and those beyond a threshold carry their text.
const LABEL_ALL_UP_TO: usize = 24;

const LINE: &str = "#1d4f7a";
const BEYOND: &str = "#a3141d";
const THRESHOLD: &str = "#7a4b00";
const BAR: &str = "#2f6f3e";
const GRID: &str = "#c9d1d9";

/// The time axis shared by every chart of a page: from day 0 (or the first date on record) to
/// today (or the last date on record).
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub day0: Option<NaiveDate>,
}

impl Axis {
    /// The axis of `t`: from day 0 when it is known, else from its first date.
    pub fn of(t: &Timeline) -> Axis {
        let dates = t
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.date))
            .chain(
                t.coverage
                    .iter()
                    .flat_map(|c| c.periods.iter().map(|p| p.end)),
            )
            .chain(
                t.events
                    .iter()
                    .flat_map(|l| l.events.iter().map(|e| e.date)),
            )
            .chain(t.markers.iter().map(|m| m.date));
        let (first, last) = dates.fold((t.today, t.today), |(a, b), d| (a.min(d), b.max(d)));
        let start = t.day0.unwrap_or(first);
        let end = last.max(start + Duration::days(7));
        Axis {
            start,
            end,
            day0: t.day0,
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    fn x(&self, d: NaiveDate) -> f64 {
        let span = (self.end - self.start).num_days().max(1) as f64;
        let at = (d - self.start)
            .num_days()
            .clamp(0, (self.end - self.start).num_days()) as f64;
        LEFT + at / span * (WIDTH - LEFT - RIGHT)
    }

    /// The x span of days N `from` to `to` (the whole axis where a bound is open, or when day
    /// 0 is not known).
    fn window(&self, from: Option<i64>, to: Option<i64>) -> (f64, f64) {
        let at = |n: Option<i64>, open: f64| match (self.day0, n) {
            (Some(d0), Some(n)) => self.x(d0 + Duration::days(n)),
            _ => open,
        };
        (at(from, LEFT), at(to, WIDTH - RIGHT))
    }

    /// `day 30` when day 0 is known, else the date.
    pub fn label(&self, d: NaiveDate) -> String {
        match self.day0 {
            Some(d0) => format!("day {}", (d - d0).num_days()),
            None => d.to_string(),
        }
    }

    /// `2026-02-09 (day 30)`.
    pub fn when(&self, d: NaiveDate) -> String {
        match self.day0 {
            Some(d0) => format!("{d} (day {})", (d - d0).num_days()),
            None => d.to_string(),
        }
    }

    /// At most ten ticks, a round number of days apart, from the start.
    fn ticks(&self) -> Vec<NaiveDate> {
        let span = (self.end - self.start).num_days();
        let step = [7, 14, 30, 60, 90, 180, 365, 730]
            .into_iter()
            .find(|s| span / s <= 9)
            .unwrap_or(span / 9 + 1);
        (0..=span / step)
            .map(|i| self.start + Duration::days(i * step))
            .collect()
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// The x axis under a plot whose bottom is at `y`.
fn time_axis(axis: &Axis, y: f64) -> Markup {
    html! {
        line x1=(fmt(LEFT)) y1=(fmt(y)) x2=(fmt(WIDTH - RIGHT)) y2=(fmt(y)) stroke="#4a5563" {}
        @for d in axis.ticks() {
            @let x = axis.x(d);
            line x1=(fmt(x)) y1=(fmt(y)) x2=(fmt(x)) y2=(fmt(y + 5.0)) stroke="#4a5563" {}
            text x=(fmt(x)) y=(fmt(y + 18.0)) text-anchor="middle" { (axis.label(d)) }
        }
    }
}

/// A round step for about four gridlines up to `max`.
fn y_step(max: f64) -> f64 {
    let raw = (max / 4.0).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// What a series chart says in words (its `<desc>`).
pub fn describe(s: &Series, axis: &Axis) -> String {
    let unit = units::display(s.unit);
    let mut out = match (s.points.first(), s.points.last()) {
        (Some(first), Some(last)) => format!(
            "{} results from {} to {}; latest {} on {}.",
            s.points.len(),
            axis.when(first.date),
            axis.when(last.date),
            last.shown,
            axis.when(last.date)
        ),
        _ => format!("No {} result on record.", s.label),
    };
    let beyond = s.points.iter().filter(|p| p.beyond).count();
    if beyond > 0 {
        out.push_str(&format!(" {beyond} beyond a threshold."));
    }
    for t in &s.thresholds {
        out.push_str(&format!(" Threshold {} ({}).", t.label(s.unit), t.rule));
    }
    if s.thresholds.is_empty() {
        out.push_str(&format!(" No threshold line in {unit}."));
    }
    out
}

/// A series against its thresholds, with its doses (IVIG) as triangles under the plot.
pub fn series_chart(s: &Series, axis: &Axis, id: &str) -> Markup {
    let unit = units::display(s.unit);
    let drawn: Vec<_> = s.points.iter().filter(|p| axis.contains(p.date)).collect();
    let max = drawn
        .iter()
        .map(|p| p.value)
        .chain(s.thresholds.iter().map(|t| t.value))
        .fold(0.0, f64::max);
    let step = y_step(max * 1.1);
    let top = (max * 1.1 / step).ceil().max(1.0) * step;
    let y = |v: f64| TOP + PLOT_HEIGHT - (v.max(0.0) / top) * PLOT_HEIGHT;
    let doses = s.doses.as_ref().map(|(_, d)| d.as_slice()).unwrap_or(&[]);
    let doses_y = TOP + PLOT_HEIGHT + AXIS_HEIGHT;
    let height = doses_y + if doses.is_empty() { 0.0 } else { LANE_HEIGHT };
    let path: Vec<String> = drawn
        .iter()
        .map(|p| format!("{},{}", fmt(axis.x(p.date)), fmt(y(p.value))))
        .collect();
    let labelled =
        |i: usize, beyond: bool| drawn.len() <= LABEL_ALL_UP_TO || beyond || i + 1 == drawn.len();
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {}", fmt(height))) role="img"
            aria-labelledby=(format!("{id}-title {id}-desc")) {
            title id=(format!("{id}-title")) { (s.label) " (" (unit) ") over time" }
            desc id=(format!("{id}-desc")) { (describe(s, axis)) }
            @for i in 0..=((top / step).round() as i64) {
                @let v = i as f64 * step;
                line x1=(fmt(LEFT)) y1=(fmt(y(v))) x2=(fmt(WIDTH - RIGHT)) y2=(fmt(y(v))) stroke=(GRID) {}
                text x=(fmt(LEFT - 6.0)) y=(fmt(y(v) + 4.0)) text-anchor="end" { (units::fmt_num(v)) }
            }
            text x="4" y="12" { (unit) }
            @for t in &s.thresholds {
                @let (x1, x2) = axis.window(t.from_day, t.to_day);
                g.threshold {
                    line x1=(fmt(x1)) y1=(fmt(y(t.value))) x2=(fmt(x2)) y2=(fmt(y(t.value)))
                        stroke=(THRESHOLD) stroke-width="1.5" stroke-dasharray="6 4" {}
                    text x=(fmt(WIDTH - RIGHT + 12.0)) y=(fmt(y(t.value) + 4.0)) {
                        "threshold " (t.label(s.unit))
                    }
                    title { (t.label(s.unit)) ": " (t.rule) " (" (t.parameter) ")" }
                }
            }
            @if path.len() > 1 {
                polyline points=(path.join(" ")) fill="none" stroke=(LINE) stroke-width="1.5" {}
            }
            @for (i, p) in drawn.iter().enumerate() {
                @let (cx, cy) = (axis.x(p.date), y(p.value));
                g.point {
                    title { (axis.when(p.date)) ": " (p.shown) @if p.beyond { " (beyond threshold)" } }
                    @if p.beyond {
                        rect x=(fmt(cx - 4.0)) y=(fmt(cy - 4.0)) width="8" height="8" fill=(BEYOND) {}
                    } @else {
                        circle cx=(fmt(cx)) cy=(fmt(cy)) r="4" fill="#fff" stroke=(LINE) stroke-width="2" {}
                    }
                    @if labelled(i, p.beyond) {
                        text x=(fmt(cx)) y=(fmt(cy - 8.0)) text-anchor="middle" { (units::fmt_num(p.value)) }
                    }
                }
            }
            (time_axis(axis, TOP + PLOT_HEIGHT))
            @if let Some((label, _)) = &s.doses {
                @if !doses.is_empty() {
                    text x="4" y=(fmt(doses_y + 14.0)) { (label) }
                    @for d in doses.iter().filter(|d| axis.contains(d.date)) {
                        @let x = axis.x(d.date);
                        g.dose {
                            title { (label) ": " (d.label) ", " (axis.when(d.date)) }
                            path d=(format!("M{} {} l6 10 h-12 z", fmt(x), fmt(doses_y + 2.0))) fill=(BAR) {}
                        }
                    }
                }
            }
        }
    }
}

/// One lane: periods (bars) and dated marks, each with the words of its `<title>`.
#[derive(Debug, Clone, Default)]
pub struct Lane {
    pub label: String,
    pub bars: Vec<(NaiveDate, NaiveDate, String)>,
    pub marks: Vec<(NaiveDate, String)>,
}

/// Lanes under one time axis.
pub fn lanes_chart(lanes: &[Lane], axis: &Axis, id: &str, title: &str, desc: &str) -> Markup {
    let bottom = TOP + LANE_HEIGHT * lanes.len() as f64;
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {}", fmt(bottom + AXIS_HEIGHT))) role="img"
            aria-labelledby=(format!("{id}-title {id}-desc")) {
            title id=(format!("{id}-title")) { (title) }
            desc id=(format!("{id}-desc")) { (desc) }
            @for (i, lane) in lanes.iter().enumerate() {
                @let top = TOP + LANE_HEIGHT * i as f64;
                text x=(fmt(WIDTH - RIGHT + 12.0)) y=(fmt(top + 17.0)) { (lane.label) }
                line x1=(fmt(LEFT)) y1=(fmt(top + LANE_HEIGHT)) x2=(fmt(WIDTH - RIGHT)) y2=(fmt(top + LANE_HEIGHT)) stroke=(GRID) {}
                @for (start, end, words) in lane.bars.iter().filter(|b| b.1 >= axis.start) {
                    @let (x0, x1) = (axis.x(*start), axis.x(*end));
                    g.bar {
                        title { (words) }
                        rect x=(fmt(x0)) y=(fmt(top + 6.0)) width=(fmt((x1 - x0).max(3.0))) height="14" fill=(BAR) {}
                    }
                }
                @for (date, words) in lane.marks.iter().filter(|m| axis.contains(m.0)) {
                    @let x = axis.x(*date);
                    g.mark {
                        title { (words) }
                        path d=(format!("M{} {} l7 7 l-7 7 l-7 -7 z", fmt(x), fmt(top + 6.0))) fill=(BEYOND) {}
                    }
                }
            }
            (time_axis(axis, bottom))
        }
    }
}
