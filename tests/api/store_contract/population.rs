//! Population runs and the worklist: first-seen kept across runs, closing, failed runs,
//! retention, filters and paging.

use cart_sentinel::storage::{
    CardIndicator, Facets, NewPopulationFinding, NewPopulationRun, PopulationCounts,
    PopulationFinding, PopulationFindingFilter, PopulationRunEnd, RunStatus, StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::{for_each_backend, t, Backend};

pub(super) fn day(n: i64) -> DateTime<Utc> {
    t(0) + TimeDelta::days(n)
}

pub(super) fn finding(patient: &str, rule: &str, summary: &str) -> NewPopulationFinding {
    NewPopulationFinding {
        patient: format!("Patient/{patient}"),
        display_name: Some(format!("Name of {patient}")),
        rule_id: rule.to_owned(),
        indicator: CardIndicator::Warning,
        summary: summary.to_owned(),
        fired_with: json!({"detail": summary}),
        facets: Facets::default(),
    }
}

fn counts(findings: i64) -> PopulationCounts {
    PopulationCounts {
        patients_read: 10,
        cohort_size: 3,
        resources_read: 100,
        resources_skipped: 2,
        findings,
        detail: json!({"files": 4, "skipped": {"not_json": 2}}),
    }
}

impl Backend {
    /// A run at `now` that finds `found` and ends as `end`; its id.
    async fn population_run_with(
        &self,
        now: DateTime<Utc>,
        found: &[NewPopulationFinding],
        end: PopulationRunEnd,
        retention_days: Option<u32>,
    ) -> i64 {
        let run = NewPopulationRun {
            pack_version: 1,
            run_at: now,
            started_at: now,
            abandon_silent_since: None,
        };
        let id = self.start_population_run(&run).await.expect("start");
        self.stage_population_findings(id, found)
            .await
            .expect("stage");
        let ended = self
            .finish_population_run(id, &end, now + TimeDelta::minutes(1), retention_days)
            .await
            .expect("finish");
        assert_eq!(ended.id, id);
        id
    }

    pub(super) async fn succeeded_run(
        &self,
        now: DateTime<Utc>,
        found: &[NewPopulationFinding],
    ) -> i64 {
        let end = PopulationRunEnd::Succeeded(counts(found.len() as i64));
        self.population_run_with(now, found, end, None).await
    }

    pub(super) async fn worklist(&self, filter: PopulationFindingFilter) -> Vec<PopulationFinding> {
        self.list_population_findings(&filter)
            .await
            .expect("list findings")
    }

    /// The patients of the findings `filter` lists, sorted.
    pub(super) async fn worklist_patients(&self, filter: PopulationFindingFilter) -> Vec<String> {
        let mut rows: Vec<String> = self
            .worklist(filter)
            .await
            .into_iter()
            .map(|f| f.patient)
            .collect();
        rows.sort();
        rows
    }

    /// (patient, rule, first seen run, closed by) of the open findings, or all of them.
    async fn worklist_keys(&self, include_closed: bool) -> Vec<(String, String, i64, Option<i64>)> {
        let filter = PopulationFindingFilter {
            include_closed,
            ..Default::default()
        };
        let mut keys: Vec<_> = self
            .worklist(filter)
            .await
            .into_iter()
            .map(|f| (f.patient, f.rule_id, f.first_seen_run, f.closed_by_run))
            .collect();
        keys.sort();
        keys
    }
}

fn key(
    patient: &str,
    rule: &str,
    first: i64,
    closed: Option<i64>,
) -> (String, String, i64, Option<i64>) {
    (format!("Patient/{patient}"), rule.to_owned(), first, closed)
}

#[tokio::test]
async fn a_finding_in_consecutive_runs_keeps_its_first_seen_and_one_gone_is_closed() {
    for_each_backend(|b| async move {
        let one = b
            .succeeded_run(
                day(0),
                &[
                    finding("p1", "cbc", "day 10"),
                    finding("p2", "cbc", "day 20"),
                ],
            )
            .await;
        let two = b
            .succeeded_run(
                day(1),
                &[
                    finding("p1", "cbc", "day 11"),
                    finding("p3", "cd4", "day 5"),
                ],
            )
            .await;

        assert_eq!(
            b.worklist_keys(false).await,
            [key("p1", "cbc", one, None), key("p3", "cd4", two, None)],
            "{}",
            b.name
        );
        assert_eq!(
            b.worklist_keys(true).await,
            [
                key("p1", "cbc", one, None),
                key("p2", "cbc", one, Some(two)),
                key("p3", "cd4", two, None)
            ]
        );
        let p1 = b
            .worklist(PopulationFindingFilter {
                patient: Some("Patient/p1".to_owned()),
                ..Default::default()
            })
            .await;
        assert_eq!(p1.len(), 1);
        let p1 = &p1[0];
        assert_eq!((p1.first_seen_at, p1.last_seen_run), (day(0), two));
        assert_eq!(p1.summary, "day 11", "the latest run's summary");
        assert_eq!(p1.fired_with, json!({"detail": "day 11"}));
        assert_eq!(p1.display_name.as_deref(), Some("Name of p1"));
        assert_eq!(p1.indicator, CardIndicator::Warning);

        let closed = b
            .worklist(PopulationFindingFilter {
                rule_id: Some("cbc".to_owned()),
                include_closed: true,
                ..Default::default()
            })
            .await;
        let p2 = closed
            .iter()
            .find(|f| f.patient == "Patient/p2")
            .expect("p2");
        assert_eq!(p2.closed_at, Some(day(1)));

        let run = b.population_run(two).await.expect("run");
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(run.counts, Some(counts(2)));
        assert_eq!(run.run_at, day(1));
        assert_eq!(run.finished_at, Some(day(1) + TimeDelta::minutes(1)));
        let runs = b.list_population_runs(10).await.expect("runs");
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [two, one]);
    })
    .await;
}

#[tokio::test]
async fn a_failed_run_leaves_the_worklist_as_the_last_successful_run_left_it() {
    for_each_backend(|b| async move {
        let one = b
            .succeeded_run(day(0), &[finding("p1", "cbc", "day 10")])
            .await;
        let failed = PopulationRunEnd::Failed {
            message: "reading /export/Observation.ndjson: permission denied".to_owned(),
            counts: None,
        };
        let two = b
            .population_run_with(day(1), &[finding("p3", "cd4", "day 5")], failed, None)
            .await;

        assert_eq!(
            b.worklist_keys(true).await,
            [key("p1", "cbc", one, None)],
            "{}",
            b.name
        );
        let run = b.population_run(two).await.expect("run");
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(
            run.message.as_deref(),
            Some("reading /export/Observation.ndjson: permission denied")
        );
        assert_eq!(run.counts, None);
        let again = b
            .finish_population_run(two, &PopulationRunEnd::Succeeded(counts(1)), day(2), None)
            .await;
        assert!(
            matches!(again, Err(StoreError::NotFound)),
            "a run ends once"
        );
        assert!(matches!(
            b.population_run(99).await,
            Err(StoreError::NotFound)
        ));
        // The next successful run merges its own findings only.
        let three = b
            .succeeded_run(day(2), &[finding("p1", "cbc", "day 12")])
            .await;
        assert_eq!(b.worklist_keys(true).await, [key("p1", "cbc", one, None)]);
        assert!(three > two);
    })
    .await;
}

#[tokio::test]
async fn retention_deletes_closed_findings_and_runs_no_kept_finding_names() {
    for_each_backend(|b| async move {
        let one = b
            .succeeded_run(
                day(0),
                &[finding("p1", "cbc", "a"), finding("p4", "cd4", "b")],
            )
            .await;
        let two = b.succeeded_run(day(10), &[finding("p4", "cd4", "c")]).await;
        let end = PopulationRunEnd::Succeeded(counts(1));
        let three = b
            .population_run_with(day(20), &[finding("p4", "cd4", "d")], end, Some(5))
            .await;

        // p1's finding closed on day 10, more than 5 days before day 20: gone. p4's is open
        // since run one, which it still names.
        assert_eq!(
            b.worklist_keys(true).await,
            [key("p4", "cd4", one, None)],
            "{}",
            b.name
        );
        let runs = b.list_population_runs(10).await.expect("runs");
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [three, one]);
        assert!(matches!(
            b.population_run(two).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn the_worklist_pages_by_id() {
    for_each_backend(|b| async move {
        let found: Vec<_> = (0..5)
            .map(|i| finding(&format!("p{i}"), "cbc", "x"))
            .collect();
        b.succeeded_run(day(0), &found).await;
        let page = |after_id| PopulationFindingFilter {
            after_id,
            limit: Some(2),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let rows = b.worklist(page(after)).await;
            if rows.is_empty() {
                break;
            }
            assert!(rows.len() <= 2, "{}", b.name);
            after = rows.last().map(|f| f.id);
            seen.extend(rows.into_iter().map(|f| f.patient));
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                "Patient/p0",
                "Patient/p1",
                "Patient/p2",
                "Patient/p3",
                "Patient/p4"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_run_silent_past_the_limit_is_recorded_as_failed_when_the_next_starts() {
    for_each_backend(|b| async move {
        let start =
            |started: DateTime<Utc>, silent_since: Option<DateTime<Utc>>| NewPopulationRun {
                pack_version: 1,
                run_at: started,
                started_at: started,
                abandon_silent_since: silent_since,
            };
        let at = |minutes: i64| t(0) + TimeDelta::minutes(minutes);
        // Started at minute 0: one whose process died, one that beat at minute 8.
        let dead = b.start_population_run(&start(at(0), None)).await.unwrap();
        let alive = b.start_population_run(&start(at(0), None)).await.unwrap();
        b.beat_population_run(alive, at(8)).await.unwrap();
        // At minute 10, a run that takes silence since minute 5 for death.
        let next = b
            .start_population_run(&start(at(10), Some(at(5))))
            .await
            .unwrap();
        let dead = b.population_run(dead).await.unwrap();
        assert_eq!(dead.status, RunStatus::Failed, "{}", b.name);
        assert_eq!(dead.finished_at, Some(at(10)));
        assert!(
            dead.message
                .as_deref()
                .unwrap()
                .starts_with("abandoned: no sign of life"),
            "{:?}",
            dead.message
        );
        for id in [alive, next] {
            let run = b.population_run(id).await.unwrap();
            assert_eq!(run.status, RunStatus::Running);
        }
    })
    .await;
}
