//! What the worklist API reads: findings filtered by indicator and by when they were first
//! seen, and the audit entry each read leaves.

use cart_sentinel::storage::{
    AuditFilter, CardIndicator, NewAudit, PopulationFindingFilter, StoreError,
};
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
        let patients = |filter| async move {
            let mut rows: Vec<String> = b
                .worklist(filter)
                .await
                .into_iter()
                .map(|f| f.patient)
                .collect();
            rows.sort();
            rows
        };
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
