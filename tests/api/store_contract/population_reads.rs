//! What the worklist API reads: findings filtered by indicator, by when they were first seen,
//! by product, prevention level and due date, and the audit entry each read leaves.

use cart_sentinel::storage::{
    AuditFilter, CardIndicator, Facets, NewAudit, PopulationFindingFilter, Prevention, StoreError,
};
use chrono::NaiveDate;
use serde_json::json;

use super::population::{day, finding};
use super::{for_each_backend, t};

#[tokio::test]
async fn the_worklist_filters_by_indicator_and_first_seen() {
    for_each_backend(|b| async move {
        let with = |patient: &str, rule: &str, indicator| {
            let mut f = finding(patient, rule, "x");
            f.indicator = indicator;
            f
        };
        let (p1, p2) = (
            with("p1", "cbc", CardIndicator::Warning),
            with("p2", "skin", CardIndicator::Critical),
        );
        b.succeeded_run(day(0), &[p1.clone(), p2.clone()]).await;
        let p3 = with("p3", "cbc", CardIndicator::Critical);
        b.succeeded_run(day(10), &[p1, p2, p3]).await;
        let b = &b;
        let patients = |filter| b.worklist_patients(filter);
        let critical = PopulationFindingFilter {
            indicator: Some(CardIndicator::Critical),
            ..Default::default()
        };
        assert_eq!(patients(critical).await, ["Patient/p2", "Patient/p3"]);
        let recent = PopulationFindingFilter {
            first_seen_after: Some(day(5)),
            ..Default::default()
        };
        assert_eq!(patients(recent).await, ["Patient/p3"]);
        let none_recent = PopulationFindingFilter {
            first_seen_after: Some(day(10)),
            ..Default::default()
        };
        assert!(patients(none_recent).await.is_empty(), "after, not at");
        let warning_cbc = PopulationFindingFilter {
            indicator: Some(CardIndicator::Warning),
            rule_id: Some("cbc".into()),
            ..Default::default()
        };
        assert_eq!(patients(warning_cbc).await, ["Patient/p1"]);
    })
    .await;
}

#[tokio::test]
async fn a_worklist_read_is_audited_under_the_active_pack() {
    for_each_backend(|b| async move {
        let entry = NewAudit {
            actor: "pharmacist-1".into(),
            action: "worklist.patient.read".into(),
            rule_id: None,
            before: None,
            after: Some(json!({"patient": "Patient/p1", "findings": 2})),
            reason: None,
        };
        assert!(
            matches!(
                b.record_audit(&entry, t(1)).await,
                Err(StoreError::NotFound)
            ),
            "{}: no pack active yet",
            b.name
        );
        let pack = b.commit(None, "alice", "cbc", t(0)).await.expect("commit");
        b.record_audit(&entry, t(1)).await.expect("audited");
        let log = b
            .audit(AuditFilter {
                actor: Some("pharmacist-1".into()),
                ..Default::default()
            })
            .await;
        assert_eq!(log.len(), 1, "{}", b.name);
        assert_eq!(log[0].action, "worklist.patient.read");
        assert_eq!(log[0].at, t(1));
        assert_eq!(log[0].pack_version, pack.version);
        assert_eq!(log[0].after, entry.after);
    })
    .await;
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

#[tokio::test]
async fn the_worklist_filters_by_product_prevention_and_due_date_as_the_latest_run_left_them() {
    for_each_backend(|b| async move {
        let with = |patient: &str, rule: &str, facets: Facets| {
            let mut f = finding(patient, rule, "x");
            f.facets = facets;
            f
        };
        let facets = |product: Option<&str>, prevention, due: Option<&str>| Facets {
            product: product.map(str::to_owned),
            prevention: Some(prevention),
            due_on: due.map(date),
            // A record that names the product gives the infusion date too, here.
            day0: product.map(|_| date("2025-11-02")),
        };
        let first = [
            with(
                "p1",
                "cbc",
                facets(Some("axi-cel"), Prevention::Secondary, Some("2026-01-10")),
            ),
            with(
                "p2",
                "cbc",
                facets(Some("cilta-cel"), Prevention::Secondary, Some("2026-03-01")),
            ),
        ];
        b.succeeded_run(day(0), &first).await;
        // The next run finds p1 again with a later due date (a CBC came in) and a finding
        // without product or due date.
        let second = [
            with(
                "p1",
                "cbc",
                facets(Some("axi-cel"), Prevention::Secondary, Some("2026-02-20")),
            ),
            first[1].clone(),
            with(
                "p3",
                "new-malignancy",
                facets(None, Prevention::Tertiary, None),
            ),
        ];
        b.succeeded_run(day(10), &second).await;
        let b = &b;
        let patients = |filter| b.worklist_patients(filter);
        let axi = PopulationFindingFilter {
            product: Some("axi-cel".into()),
            ..Default::default()
        };
        assert_eq!(patients(axi).await, ["Patient/p1"], "{}", b.name);
        let tertiary = PopulationFindingFilter {
            prevention: Some(Prevention::Tertiary),
            ..Default::default()
        };
        assert_eq!(patients(tertiary).await, ["Patient/p3"]);
        let due_before = |d: &str| PopulationFindingFilter {
            due_before: Some(date(d)),
            ..Default::default()
        };
        // p1's due date is the latest run's, not the first's; p3 has none and never matches.
        assert!(
            patients(due_before("2026-02-20")).await.is_empty(),
            "before, not on"
        );
        assert_eq!(patients(due_before("2026-02-21")).await, ["Patient/p1"]);
        assert_eq!(
            patients(due_before("2026-12-31")).await,
            ["Patient/p1", "Patient/p2"]
        );
        let shown = b.worklist(PopulationFindingFilter::default()).await;
        let p1 = shown.iter().find(|f| f.patient == "Patient/p1").unwrap();
        assert_eq!(p1.facets, second[0].facets);
        let p3 = shown.iter().find(|f| f.patient == "Patient/p3").unwrap();
        assert_eq!(
            (
                p3.facets.product.as_deref(),
                p3.facets.due_on,
                p3.facets.day0
            ),
            (None, None, None)
        );
    })
    .await;
}
