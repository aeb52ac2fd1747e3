//! Bar charts as server-rendered SVG. Written here with maud rather than with a plotting crate:
//! a chart must be accessible (an SVG `role="img"` with `<title>` and `<desc>`, text labels,
//! each bar's value as text, the same numbers in a table) and small, and `plotters`' SVG backend
//! draws text as positioned glyph runs without a way to add those elements or classes, while
//! a bar chart is a few rectangles and labels. Colours come from the stylesheet (`bar-*`
//! classes), so a printed page stays readable.

use maud::{html, Markup};

/// One series of bars: a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    /// Shown in the legend and the table's header.
    pub label: String,
    /// Colour class suffix (`bar-<class>` in the stylesheet).
    pub class: &'static str,
    /// One value per category.
    pub values: Vec<f64>,
}

/// A bar chart: one bar (stacked) or one group of bars per category.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    /// Unique on the page (the title and description are referred to by id).
    pub id: &'a str,
    /// What the chart shows.
    pub title: &'a str,
    /// The chart in a sentence, for a screen reader.
    pub desc: String,
    /// The categories (months, runs), left to right.
    pub categories: &'a [String],
    /// The series.
    pub series: Vec<Series>,
    /// Stacked (parts of one total) or side by side.
    pub stacked: bool,
    /// Unit after each number (`""`, `" %"`, `" d"`).
    pub unit: &'a str,
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 34.0;

/// `12`, `12.5`: a number as a label.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl BarChart<'_> {
    fn max(&self) -> f64 {
        let n = self.categories.len();
        let per_category = (0..n).map(|i| {
            let values = self
                .series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0));
            if self.stacked {
                values.sum::<f64>()
            } else {
                values.fold(0.0, f64::max)
            }
        });
        per_category.fold(0.0, f64::max)
    }

    fn svg(&self) -> Markup {
        let n = self.categories.len().max(1);
        let max = self.max();
        let scale_max = if max > 0.0 { max } else { 1.0 };
        let plot_h = H - TOP - BOTTOM;
        let slot = (W - LEFT - RIGHT) / n as f64;
        let bars = if self.stacked {
            1
        } else {
            self.series.len().max(1)
        };
        let bar_w = (slot * 0.7 / bars as f64).min(48.0);
        let y_of = |v: f64| TOP + plot_h - v / scale_max * plot_h;
        let title_id = format!("{}-title", self.id);
        let desc_id = format!("{}-desc", self.id);
        html! {
            svg viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) role="img"
                aria-labelledby={ (title_id) " " (desc_id) } {
                title id=(title_id) { (self.title) }
                desc id=(desc_id) { (self.desc) }
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(W - RIGHT) y2=(TOP + plot_h) {}
                text x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { (number(max)) (self.unit) }
                text x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { "0" }
                @for (i, category) in self.categories.iter().enumerate() {
                    @let x0 = LEFT + slot * i as f64 + (slot - bar_w * bars as f64) / 2.0;
                    @let mut base = 0.0;
                    @for (k, s) in self.series.iter().enumerate() {
                        @let v = s.values.get(i).copied().unwrap_or(0.0);
                        @let (x, bottom) = if self.stacked { (x0, base) } else { (x0 + bar_w * k as f64, 0.0) };
                        @if v > 0.0 {
                            rect class={ "bar-" (s.class) } x=(x) y=(y_of(bottom + v))
                                width=(bar_w) height=(y_of(bottom) - y_of(bottom + v)) {
                                title { (category) ", " (s.label) ": " (number(v)) (self.unit) }
                            }
                            @if !self.stacked {
                                text x=(x + bar_w / 2.0) y=(y_of(v) - 3.0) text-anchor="middle" { (number(v)) }
                            }
                        }
                        @if self.stacked { (set(&mut base, bottom + v)) }
                    }
                    @if self.stacked && base > 0.0 {
                        text x=(x0 + bar_w / 2.0) y=(y_of(base) - 3.0) text-anchor="middle" { (number(base)) }
                    }
                    text x=(LEFT + slot * (i as f64 + 0.5)) y=(H - BOTTOM + 16.0) text-anchor="middle" { (category) }
                }
            }
        }
    }

    /// The chart: the SVG, its legend, and the same numbers as a table.
    pub fn render(&self) -> Markup {
        html! {
            figure.chart {
                (self.svg())
                @if self.series.len() > 1 {
                    ul.legend aria-hidden="true" {
                        @for s in &self.series {
                            li { span class={ "swatch bar-" (s.class) } {} (s.label) }
                        }
                    }
                }
                details {
                    summary { "The numbers of “" (self.title) "” as a table" }
                    table {
                        thead { tr {
                            th scope="col" { "" }
                            @for s in &self.series { th.num scope="col" { (s.label) } }
                        } }
                        tbody {
                            @for (i, category) in self.categories.iter().enumerate() {
                                tr {
                                    th scope="row" { (category) }
                                    @for s in &self.series {
                                        td.num { (number(s.values.get(i).copied().unwrap_or(0.0))) (self.unit) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Accumulates inside a template (maud has no assignment statement); renders nothing.
fn set(slot: &mut f64, value: f64) -> Markup {
    *slot = value;
    html! {}
}

#[cfg(test)]
mod tests {
    use super::{BarChart, Series};

    fn chart(stacked: bool) -> String {
        let months = ["2026-05".to_owned(), "2026-06".to_owned()];
        BarChart {
            id: "cards",
            title: "Cards per month",
            desc: "Accepted and overridden cards per month.".into(),
            categories: &months,
            series: vec![
                Series {
                    label: "accepted".into(),
                    class: "accepted",
                    values: vec![3.0, 1.0],
                },
                Series {
                    label: "overridden".into(),
                    class: "overridden",
                    values: vec![1.0, 0.0],
                },
            ],
            stacked,
            unit: "",
        }
        .render()
        .into_string()
    }

    #[test]
    fn the_svg_is_labelled_and_every_number_is_in_the_table() {
        let text = chart(true);
        assert!(text.contains(r#"role="img" aria-labelledby="cards-title cards-desc""#));
        assert!(text.contains(r#"<title id="cards-title">Cards per month</title>"#));
        assert!(text.contains("<title>2026-05, accepted: 3</title>"));
        // The stacked total above the bar, the maximum on the axis, no bar for a zero.
        assert!(text.contains(">4</text>"), "{text}");
        assert_eq!(text.matches("<rect").count(), 3);
        assert!(text.contains(
            r#"<th scope="row">2026-06</th><td class="num">1</td><td class="num">0</td>"#
        ));
    }

    #[test]
    fn side_by_side_bars_each_carry_their_value() {
        let text = chart(false);
        assert!(
            text.contains(">3</text>") && text.contains(">1</text>"),
            "{text}"
        );
        assert!(!text.contains(">4</text>"));
    }
}
