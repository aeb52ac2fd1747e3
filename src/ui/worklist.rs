//! The worklist page: the open findings of the latest successful population run, filtered and
//! paged as `GET /worklist/findings` is (the form's fields are that API's parameters), each row
//! linking to the patient's timeline.

use chrono::{DateTime, NaiveDate, Utc};
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
    /// `product`.
    pub product: Option<String>,
    /// `prevention`.
    pub prevention: Option<String>,
    /// `overdueDays`.
    pub overdue_days: Option<String>,
    /// `includeSnoozed` (`true`).
    pub include_snoozed: Option<String>,
}

impl Filters {
    /// The query string of these filters (without paging).
    pub fn query(&self) -> String {
        let pairs = [
            ("rule", &self.rule),
            ("indicator", &self.indicator),
            ("firstSeenAfter", &self.first_seen_after),
            ("product", &self.product),
            ("prevention", &self.prevention),
            ("overdueDays", &self.overdue_days),
            ("includeSnoozed", &self.include_snoozed),
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
    /// The products to filter by: id and how to show it.
    pub products: &'a [(String, String)],
    /// Whether the user may act on findings (`worklist:write`).
    pub can_act: bool,
    /// This page's address, where an action returns to.
    pub here: &'a str,
    /// The date to count overdue days to (the latest run's, in the rules' time zone).
    pub today: Option<NaiveDate>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
    /// Whether this is a later page (a link back to the first is shown).
    pub paged: bool,
}

const INDICATORS: [&str; 3] = ["critical", "warning", "info"];
const PREVENTION: [&str; 3] = ["primary", "secondary", "tertiary"];

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

/// Fixed choices as `(value, label)` pairs.
fn fixed(values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| ((*v).to_owned(), (*v).to_owned()))
        .collect()
}

/// A filter's drop-down, `f-<name>`, with "any" first.
fn select(
    name: &str,
    label: &str,
    any: &str,
    options: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                option value="" { (any) }
                @for (value, text) in options {
                    option value=(value) selected[chosen == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

fn filter_form(view: &WorklistView<'_>) -> Markup {
    let f = view.filters;
    html! {
        form.filters method="get" action="/ui/worklist" role="search" aria-label="Filter the worklist" {
            (select("rule", "Rule", "Any rule", view.rules, f.rule.as_deref()))
            (select("indicator", "Indicator", "Any", &fixed(&INDICATORS), f.indicator.as_deref()))
            (select("product", "Product", "Any", view.products, f.product.as_deref()))
            (select("prevention", "Prevention", "Any", &fixed(&PREVENTION), f.prevention.as_deref()))
            div.field {
                label for="f-overdue" { "Overdue by at least (days)" }
                input #f-overdue type="number" name="overdueDays" min="0" max="36500"
                    value=[f.overdue_days.as_deref()];
            }
            div.field {
                label for="f-since" { "First seen after" }
                input #f-since type="date" name="firstSeenAfter"
                    value=[f.first_seen_after.as_deref()];
            }
            div.check {
                input #f-snoozed type="checkbox" name="includeSnoozed" value="true"
                    checked[f.include_snoozed.as_deref() == Some("true")];
                label for="f-snoozed" { "Show snoozed" }
            }
            button type="submit" { "Apply filters" }
            a.button.secondary href="/ui/worklist" { "Clear" }
        }
    }
}

fn due(f: &PopulationFinding, today: Option<NaiveDate>) -> Markup {
    let Some(on) = f.facets.due_on else {
        return html! { span.muted { "not stated" } };
    };
    let late = today.map(|t| (t - on).num_days()).filter(|d| *d > 0);
    html! {
        time datetime=(on) { (on) }
        @if let Some(days) = late {
            br; strong { (days) @if days == 1 { " day overdue" } @else { " days overdue" } }
        }
    }
}

/// "Day N since infusion" on the run's date, from the day 0 stored with the finding.
fn since_infusion(f: &PopulationFinding, today: Option<NaiveDate>) -> Markup {
    match (f.facets.day0, today) {
        (Some(day0), Some(today)) => html! {
            span.day { "day " ((today - day0).num_days()) " since infusion" }
            br; span.muted { "infused " time datetime=(day0) { (day0) } }
        },
        (Some(day0), None) => html! { span.muted { "infused " time datetime=(day0) { (day0) } } },
        (None, _) => html! { span.muted { "infusion date not recorded" } },
    }
}

fn actions(f: &PopulationFinding, here: &str) -> Markup {
    let target = format!("/ui/worklist/findings/{}/actions", f.id);
    let form = |kind: &str, label: &str, snooze: bool| {
        let id = format!("{kind}-{}", f.id);
        html! {
            details {
                summary { (label) }
                form method="post" action=(target) {
                    input type="hidden" name="action" value=(kind);
                    input type="hidden" name="back" value=(here);
                    @if snooze {
                        label for={ "days-" (id) } { "Days" }
                        input id={ "days-" (id) } type="number" name="days" min="1" max="365" value="30" required;
                    }
                    label for={ "reason-" (id) } { "Reason" }
                    input id={ "reason-" (id) } type="text" name="reason" required maxlength="1000";
                    button type="submit" { (label) }
                }
            }
        }
    };
    html! {
        td.actions {
            (form("acknowledge", "Acknowledge", false))
            (form("snooze", "Snooze", true))
            (form("contacted", "Contacted", false))
        }
    }
}

fn row(view: &WorklistView<'_>, f: &PopulationFinding) -> Markup {
    let id = patient_id(&f.patient);
    let detail = f.fired_with.get("detail").and_then(|d| d.as_str());
    let title = f.fired_with.get("title").and_then(|d| d.as_str());
    let product = f.facets.product.as_deref().map(|p| {
        view.products
            .iter()
            .find(|(id, _)| id == p)
            .map_or(p, |(_, label)| label.as_str())
    });
    html! {
        tr {
            td {
                a href={ "/ui/patients/" (id) } {
                    (f.display_name.as_deref().unwrap_or("(no name on record)"))
                }
                br; span.muted { (f.patient) }
            }
            td { (product.unwrap_or("not recorded")) br; (since_infusion(f, view.today)) }
            td {
                (title.unwrap_or(&f.rule_id)) br; code.muted { (f.rule_id) }
                @if let Some(p) = f.facets.prevention { br; span.muted { (p.as_str()) " prevention" } }
            }
            td { span class={ "indicator indicator-" (f.indicator.as_str()) } { (f.indicator.as_str()) } }
            td {
                (f.summary)
                @if let Some(detail) = detail {
                    p.fired-with { (plain(detail)) }
                }
                @if let Some(a) = &f.latest_action {
                    p.latest-action {
                        (a.action.as_str()) " by " (a.actor) " on " (a.at.format("%Y-%m-%d"))
                        @if let Some(until) = a.until { " until " (until.format("%Y-%m-%d")) }
                        ": " (a.reason)
                    }
                }
            }
            td { (due(f, view.today)) }
            td { time datetime=(f.first_seen_at.to_rfc3339()) { (f.first_seen_at.format("%Y-%m-%d")) } }
            @if view.can_act { (actions(f, view.here)) }
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
                    th scope="col" { "Product, day since infusion" }
                    th scope="col" { "Rule" }
                    th scope="col" { "Indicator" }
                    th scope="col" { "What is due, and the values that made it fire" }
                    th scope="col" { "Due since" }
                    th scope="col" { "First seen" }
                    @if view.can_act { th scope="col" { "Act" } }
                } }
                tbody { @for f in view.findings { (row(view, f)) } }
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::{render, Filters, WorklistView};
    use crate::storage::{CardIndicator, Facets, PopulationFinding, Prevention};

    fn finding() -> PopulationFinding {
        PopulationFinding {
            id: 7,
            patient: "Patient/p-1".into(),
            display_name: Some("<Ann>".into()),
            rule_id: "cbc-surveillance-overdue".into(),
            indicator: CardIndicator::Warning,
            summary: "CBC overdue".into(),
            fired_with: json!({"title": "CBC surveillance", "detail": "Last CBC **none**."}),
            facets: Facets {
                product: Some("axi-cel".into()),
                prevention: Some(Prevention::Secondary),
                due_on: NaiveDate::from_ymd_opt(2026, 6, 1),
                day0: NaiveDate::from_ymd_opt(2026, 1, 20),
            },
            latest_action: None,
            first_seen_run: 1,
            first_seen_at: "2026-06-15T12:00:00Z".parse().unwrap(),
            last_seen_run: 1,
            closed_by_run: None,
            closed_at: None,
        }
    }

    fn page(can_act: bool, cursor: Option<&str>) -> String {
        let findings = [finding()];
        let filters = Filters {
            rule: Some("cbc-surveillance-overdue".into()),
            ..Filters::default()
        };
        let products = [(
            "axi-cel".to_owned(),
            "axicabtagene ciloleucel (CD19)".to_owned(),
        )];
        render(&WorklistView {
            as_of: None,
            findings: &findings,
            filters: &filters,
            rules: &[],
            products: &products,
            can_act,
            here: "/ui/worklist?rule=cbc-surveillance-overdue",
            today: NaiveDate::from_ymd_opt(2026, 6, 15),
            next_cursor: cursor.map(str::to_owned),
            paged: false,
        })
        .into_string()
    }

    #[test]
    fn a_row_links_to_the_timeline_and_says_what_is_due_since_when() {
        let text = page(true, Some("7"));
        assert!(
            text.contains(r#"<a href="/ui/patients/p-1">&lt;Ann&gt;</a>"#),
            "{text}"
        );
        assert!(text.contains("axicabtagene ciloleucel (CD19)"));
        assert!(text.contains("secondary prevention"));
        assert!(text.contains("day 146 since infusion"), "{text}");
        assert!(text.contains("14 days overdue"), "{text}");
        assert!(
            text.contains("Last CBC none."),
            "markdown emphasis dropped: {text}"
        );
        assert!(text.contains(r#"action="/ui/worklist/findings/7/actions""#));
        assert!(
            text.contains(
                r#"href="/ui/worklist?rule=cbc-surveillance-overdue&amp;cursor=7" rel="next""#
            ),
            "{text}"
        );
        assert!(text.contains(r#"href="/ui/worklist.csv?rule=cbc-surveillance-overdue""#));
    }

    #[test]
    fn without_worklist_write_there_is_nothing_to_act_with() {
        let text = page(false, None);
        assert!(!text.contains("/actions"));
        assert!(!text.contains(r#"rel="next""#));
    }
}
