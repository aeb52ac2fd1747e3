//! The worklist over time, month by month, from the stored runs and findings (open and
//! closed): the cohort size, how many recipients each rule had an open finding for, how many
//! of those were overdue (the finding's due date before the run's date), and how long findings
//! stayed open. Pure: the page's handler reads, this counts.
//!
//! A finding keeps the due date of the latest run that found it, so a past month's overdue
//! count uses that date: the same as the month's own as long as the rule kept the same due
//! date (a day-based duty does; a result that moves it usually closes the finding).

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;

use crate::storage::{PopulationFinding, PopulationRun, RunStatus};

/// One month of the worklist.
#[derive(Debug, Clone, PartialEq)]
pub struct WorklistMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// The month's last successful run, when it had one.
    pub run: Option<i64>,
    /// That run's cohort size.
    pub cohort: i64,
    /// Per rule, the recipients with a finding open after that run.
    pub open_by_rule: BTreeMap<String, usize>,
    /// Per rule that gives due dates, the recipients with an open finding due before that
    /// run's date (in the rules' time zone).
    pub overdue_by_rule: BTreeMap<String, usize>,
    /// Findings closed by a run of this month.
    pub closed: usize,
    /// The median of their days from first seen to closed.
    pub median_days_to_close: Option<f64>,
}

impl WorklistMonth {
    /// The share of the cohort with an open finding of `rule`, in per cent.
    pub fn share(&self, rule: &str) -> f64 {
        self.percent(self.open_by_rule.get(rule))
    }

    /// The share of the cohort with an overdue finding of `rule`, in per cent.
    pub fn overdue_share(&self, rule: &str) -> f64 {
        self.percent(self.overdue_by_rule.get(rule))
    }

    fn percent(&self, count: Option<&usize>) -> f64 {
        let count = count.copied().unwrap_or(0);
        if self.cohort > 0 {
            count as f64 * 100.0 / self.cohort as f64
        } else {
            0.0
        }
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The worklist month by month for `months` (`YYYY-MM`, oldest first). A run belongs to the
/// month of its "now"; a finding was open after run `k` when a run up to `k` found it and none
/// up to `k` closed it (runs merge in id order, one at a time).
pub fn by_month(
    months: &[String],
    runs: &[PopulationRun],
    findings: &[PopulationFinding],
    tz: Tz,
) -> Vec<WorklistMonth> {
    months
        .iter()
        .map(|month| {
            let last = runs
                .iter()
                .filter(|r| r.status == RunStatus::Succeeded)
                .filter(|r| r.run_at.format("%Y-%m").to_string() == *month)
                .max_by_key(|r| r.id);
            let mut open: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
            let mut overdue: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
            if let Some(run) = last {
                let run_day = run.run_at.with_timezone(&tz).date_naive();
                for f in findings.iter().filter(|f| {
                    f.first_seen_run <= run.id && f.closed_by_run.is_none_or(|c| c > run.id)
                }) {
                    open.entry(f.rule_id.clone())
                        .or_default()
                        .insert(&f.patient);
                    if f.facets.due_on.is_some_and(|due| due < run_day) {
                        overdue
                            .entry(f.rule_id.clone())
                            .or_default()
                            .insert(&f.patient);
                    }
                }
            }
            let count = |m: BTreeMap<String, BTreeSet<&str>>| {
                m.into_iter().map(|(r, p)| (r, p.len())).collect()
            };
            let days: Vec<f64> = findings
                .iter()
                .filter_map(|f| {
                    let closed = f.closed_at?;
                    (closed.format("%Y-%m").to_string() == *month)
                        .then(|| (closed - f.first_seen_at).num_minutes() as f64 / 1440.0)
                })
                .collect();
            WorklistMonth {
                month: month.clone(),
                run: last.map(|r| r.id),
                cohort: last
                    .and_then(|r| r.counts.as_ref())
                    .map_or(0, |c| c.cohort_size),
                open_by_rule: count(open),
                overdue_by_rule: count(overdue),
                closed: days.len(),
                median_days_to_close: median(days.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use chrono_tz::Tz;

    use super::by_month;
    use crate::storage::{
        CardIndicator, Facets, PopulationCounts, PopulationFinding, PopulationRun, RunStatus,
    };

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn run(id: i64, now: &str, status: RunStatus, cohort: i64) -> PopulationRun {
        PopulationRun {
            id,
            pack_version: 1,
            run_at: at(now),
            started_at: at(now),
            finished_at: Some(at(now)),
            status,
            message: None,
            counts: Some(PopulationCounts {
                patients_read: cohort,
                cohort_size: cohort,
                resources_read: 0,
                resources_skipped: 0,
                findings: 0,
                detail: json!({}),
            }),
        }
    }

    fn finding(
        patient: &str,
        rule: &str,
        first: (i64, &str),
        closed: Option<(i64, &str)>,
    ) -> PopulationFinding {
        due(patient, rule, first, closed, None)
    }

    fn due(
        patient: &str,
        rule: &str,
        first: (i64, &str),
        closed: Option<(i64, &str)>,
        due_on: Option<&str>,
    ) -> PopulationFinding {
        PopulationFinding {
            id: 0,
            patient: patient.into(),
            display_name: None,
            rule_id: rule.into(),
            indicator: CardIndicator::Warning,
            summary: String::new(),
            fired_with: json!({}),
            facets: Facets {
                due_on: due_on.map(|d| d.parse().unwrap()),
                ..Facets::default()
            },
            latest_action: None,
            first_seen_run: first.0,
            first_seen_at: at(first.1),
            last_seen_run: first.0,
            closed_by_run: closed.map(|c| c.0),
            closed_at: closed.map(|c| at(c.1)),
        }
    }

    #[test]
    fn each_month_counts_what_was_open_after_its_last_successful_run() {
        let runs = [
            run(1, "2026-04-10T00:00:00Z", RunStatus::Succeeded, 10),
            run(2, "2026-05-10T00:00:00Z", RunStatus::Succeeded, 10),
            run(3, "2026-05-20T00:00:00Z", RunStatus::Succeeded, 8),
            run(4, "2026-05-30T00:00:00Z", RunStatus::Failed, 99),
        ];
        let findings = [
            // Open since April, closed by run 3 after 40 days.
            finding(
                "Patient/a",
                "cbc",
                (1, "2026-04-10T00:00:00Z"),
                Some((3, "2026-05-20T00:00:00Z")),
            ),
            // Two rules' findings for b; cbc opened by run 2 and still open.
            finding("Patient/b", "cbc", (2, "2026-05-10T00:00:00Z"), None),
            finding(
                "Patient/b",
                "ivig",
                (1, "2026-04-10T00:00:00Z"),
                Some((2, "2026-05-10T00:00:00Z")),
            ),
        ];
        let months = [
            "2026-04".to_owned(),
            "2026-05".to_owned(),
            "2026-06".to_owned(),
        ];
        let out = by_month(&months, &runs, &findings, Tz::UTC);
        assert_eq!((out[0].run, out[0].cohort), (Some(1), 10));
        assert_eq!(out[0].open_by_rule.get("cbc"), Some(&1));
        assert_eq!(out[0].open_by_rule.get("ivig"), Some(&1));
        assert_eq!(out[0].share("cbc"), 10.0);
        // May: the last successful run is 3 (the failed run 4 changed nothing).
        assert_eq!((out[1].run, out[1].cohort), (Some(3), 8));
        assert_eq!(
            out[1].open_by_rule.get("cbc"),
            Some(&1),
            "a closed by 3, b open"
        );
        assert_eq!(out[1].open_by_rule.get("ivig"), None);
        assert_eq!(out[1].closed, 2);
        assert_eq!(
            out[1].median_days_to_close,
            Some(35.0),
            "median of 30 and 40 days"
        );
        assert_eq!((out[2].run, out[2].cohort, out[2].closed), (None, 0, 0));
        assert_eq!(out[2].share("cbc"), 0.0);
    }

    #[test]
    fn a_finding_is_overdue_in_a_month_when_due_before_its_last_runs_day() {
        let runs = [
            run(1, "2026-05-10T03:00:00Z", RunStatus::Succeeded, 4),
            run(2, "2026-06-10T03:00:00Z", RunStatus::Succeeded, 4),
        ];
        let findings = [
            // Due on 10 May: not overdue on 10 May, overdue on 10 June.
            due(
                "Patient/a",
                "cbc",
                (1, "2026-05-10T03:00:00Z"),
                None,
                Some("2026-05-10"),
            ),
            // Due on 9 May in Chicago terms: run 1 is still 9 May there, so not overdue yet.
            due(
                "Patient/b",
                "cbc",
                (1, "2026-05-10T03:00:00Z"),
                None,
                Some("2026-05-09"),
            ),
            // No due date: open, never overdue.
            due("Patient/c", "pjp", (1, "2026-05-10T03:00:00Z"), None, None),
        ];
        let months = ["2026-05".to_owned(), "2026-06".to_owned()];
        let utc = by_month(&months, &runs, &findings, Tz::UTC);
        assert_eq!(utc[0].overdue_by_rule.get("cbc"), Some(&1), "b only");
        assert_eq!(utc[1].overdue_by_rule.get("cbc"), Some(&2));
        assert_eq!(utc[1].overdue_share("cbc"), 50.0);
        assert_eq!(utc[1].overdue_by_rule.get("pjp"), None);
        assert_eq!(utc[1].open_by_rule.get("pjp"), Some(&1));
        let chicago = by_month(
            &months,
            &runs,
            &findings,
            "America/Chicago".parse().unwrap(),
        );
        assert_eq!(chicago[0].overdue_by_rule.get("cbc"), None);
    }
}
