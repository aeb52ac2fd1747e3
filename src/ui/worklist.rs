//! The worklist page: the open findings of the latest successful population run, filtered and
//! paged as `GET /worklist/findings` is (the form's fields are that API's parameters), each row
//! linking to the patient's timeline.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use crate::storage::PopulationFinding;

/// The filters as given, to fill the form and build the paging links.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// `rule`.
    pub rule: Option<String>,
    /// `indicator`.
    pub indicator: Option<String>,
    /// `firstSeenAfter`, as the date the form shows (`YYYY-MM-DD`).
    pub first_seen_after: Option<String>,
}

impl Filters {
    /// The query string of these filters (without paging).
    pub fn query(&self) -> String {
        let pairs = [
            ("rule", &self.rule),
            ("indicator", &self.indicator),
            ("firstSeenAfter", &self.first_seen_after),
        ];
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            if let Some(v) = value {
                q.append_pair(name, v);
            }
        }
        q.finish()
    }
}

/// Everything the page shows.
#[derive(Debug)]
pub struct WorklistView<'a> {
    /// The run whose findings these are: id and "now".
    pub as_of: Option<(i64, DateTime<Utc>)>,
    /// This page's findings.
    pub findings: &'a [PopulationFinding],
    /// The filters in force.
    pub filters: &'a Filters,
    /// The rules to filter by: id and title.
    pub rules: &'a [(String, String)],
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
    /// Whether this is a later page (a link back to the first is shown).
    pub paged: bool,
}

const INDICATORS: [&str; 3] = ["critical", "warning", "info"];

/// `Patient/123` → `123`.
fn patient_id(reference: &str) -> &str {
    reference.strip_prefix("Patient/").unwrap_or(reference)
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

fn filter_form(view: &WorklistView<'_>) -> Markup {
    let f = view.filters;
    html! {
        form.filters method="get" action="/ui/worklist" role="search" aria-label="Filter the worklist" {
            div.field {
                label for="f-rule" { "Rule" }
                select #f-rule name="rule" {
                    option value="" { "Any rule" }
                    @for (id, title) in view.rules {
                        option value=(id) selected[f.rule.as_deref() == Some(id.as_str())] { (title) }
                    }
                }
            }
            div.field {
                label for="f-indicator" { "Indicator" }
                select #f-indicator name="indicator" {
                    option value="" { "Any" }
                    @for i in INDICATORS {
                        option value=(i) selected[f.indicator.as_deref() == Some(i)] { (i) }
                    }
                }
            }
            div.field {
                label for="f-since" { "First seen after" }
                input #f-since type="date" name="firstSeenAfter"
                    value=[f.first_seen_after.as_deref()];
            }
            button type="submit" { "Apply filters" }
            a.button.secondary href="/ui/worklist" { "Clear" }
        }
    }
}

fn row(f: &PopulationFinding) -> Markup {
    let id = patient_id(&f.patient);
    let detail = f.fired_with.get("detail").and_then(|d| d.as_str());
    let title = f.fired_with.get("title").and_then(|d| d.as_str());
    html! {
        tr {
            td {
                a href={ "/ui/patients/" (id) } {
                    (f.display_name.as_deref().unwrap_or("(no name on record)"))
                }
                br; span.muted { (f.patient) }
            }
            td { (title.unwrap_or(&f.rule_id)) br; code.muted { (f.rule_id) } }
            td { span class={ "indicator indicator-" (f.indicator.as_str()) } { (f.indicator.as_str()) } }
            td {
                (f.summary)
                @if let Some(detail) = detail {
                    p.fired-with { (plain(detail)) }
                }
            }
            td { time datetime=(f.first_seen_at.to_rfc3339()) { (f.first_seen_at.format("%Y-%m-%d")) } }
        }
    }
}

/// Card markdown as the plain text a table cell shows (emphasis markers dropped).
fn plain(markdown: &str) -> String {
    markdown.replace("**", "").replace('\n', " ")
}

/// The page's body.
pub fn render(view: &WorklistView<'_>) -> Markup {
    let query = view.filters.query();
    html! {
        @match view.as_of {
            Some((run, at)) => p { "Open findings of population run " (run) " (as of "
                time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M UTC")) } ")." },
            None => p.notice { "No population run has succeeded yet: the worklist is empty." },
        }
        (filter_form(view))
        div.toolbar {
            a href=(with_query("/ui/worklist.csv", &query)) download="worklist.csv" {
                "Export these findings as CSV"
            }
        }
        @if view.findings.is_empty() {
            p.notice role="status" { "No open finding matches these filters." }
        } @else {
            table #findings {
                caption { (view.findings.len()) " open findings on this page" }
                thead { tr {
                    th scope="col" { "Patient" }
                    th scope="col" { "Rule" }
                    th scope="col" { "Indicator" }
                    th scope="col" { "What is due, and the values that made it fire" }
                    th scope="col" { "First seen" }
                } }
                tbody { @for f in view.findings { (row(f)) } }
            }
        }
        nav.pager aria-label="Pages" {
            @if view.paged { a href=(with_query("/ui/worklist", &query)) { "First page" } }
            @if let Some(cursor) = &view.next_cursor {
                @let sep = if query.is_empty() { "" } else { "&" };
                a href={ "/ui/worklist?" (query) (sep) "cursor=" (cursor) } rel="next" { "Next page" }
            }
        }
    }
}
