//! Rule pack versions, the active pointer, commits and the audit log.

use std::sync::Arc;

use cart_sentinel::storage::{AuditFilter, StoreError};
use serde_json::json;

use super::{change, for_each_backend, t};

#[tokio::test]
async fn a_fresh_store_answers_ping_and_has_no_pack() {
    for_each_backend(|b| async move {
        b.ping().await.expect("ping");

        assert_eq!(
            b.active_pack().await.expect("active pack"),
            None,
            "{}",
            b.name
        );
        assert!(b.packs().await.is_empty());
        assert!(matches!(b.get_pack(1).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn a_commit_stores_a_new_active_version_and_its_audit_entry() {
    for_each_backend(|b| async move {
        let first = b
            .commit(None, "dr.a", "crs-fever", t(0))
            .await
            .expect("first commit");
        let second = b
            .commit(Some(1), "dr.b", "icans-score", t(1))
            .await
            .expect("second");

        assert_eq!(
            (first.version, first.active, second.version),
            (1, true, 2),
            "{}",
            b.name
        );
        assert_eq!(b.active_pack().await.expect("active"), Some(second));
        let old = b.get_pack(1).await.expect("version 1");
        assert_eq!(
            old.document,
            change(None, "dr.a", "crs-fever", t(0)).document
        );
        assert_eq!(
            (old.author.as_str(), old.created_at, old.active),
            ("dr.a", t(0), false)
        );
        assert_eq!(old.reason.as_deref(), Some("tune crs-fever"));
        assert_eq!(b.packs().await, [(2, true), (1, false)]);
        assert_eq!(b.list_packs(1).await.expect("limited list").len(), 1);
        let audit = b.audit(AuditFilter::default()).await;
        assert_eq!(audit.len(), 2);
        let newest = &audit[0];
        assert_eq!(
            (newest.pack_version, newest.at, newest.actor.as_str()),
            (2, t(1), "dr.b")
        );
        assert_eq!(
            (newest.action.as_str(), newest.rule_id.as_deref()),
            ("rule.update", Some("icans-score"))
        );
        assert_eq!(newest.before, Some(json!({ "threshold": 38.0 })));
        assert_eq!(newest.after, Some(json!({ "threshold": 38.5 })));
        assert_eq!(newest.reason.as_deref(), Some("tune icans-score"));
    })
    .await;
}

#[tokio::test]
async fn a_commit_against_a_stale_version_is_a_conflict_and_changes_nothing() {
    for_each_backend(|b| async move {
        b.commit(None, "dr.a", "crs-fever", t(0)).await.expect("v1");

        let stale = b.commit(None, "dr.b", "crs-fever", t(1)).await;
        let ahead = b.commit(Some(7), "dr.b", "crs-fever", t(1)).await;

        assert!(
            matches!(stale, Err(StoreError::Conflict { current: Some(1) })),
            "{stale:?}"
        );
        assert!(
            matches!(ahead, Err(StoreError::Conflict { current: Some(1) })),
            "{ahead:?}"
        );
        assert_eq!(b.packs().await, [(1, true)], "{}", b.name);
        assert_eq!(b.audit(AuditFilter::default()).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_commit_that_fails_midway_leaves_the_previous_version_active() {
    for_each_backend(|b| async move {
        b.commit(None, "dr.a", "crs-fever", t(0)).await.expect("v1");
        // The audit insert, the transaction's last write, violates a CHECK constraint.
        let mut broken = change(Some(1), "dr.b", "crs-fever", t(1));
        broken.audit.actor = String::new();

        let failed = b.commit_pack(broken).await;

        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        assert_eq!(b.active_version().await, Some(1), "{}", b.name);
        assert_eq!(b.packs().await, [(1, true)]);
        assert!(matches!(b.get_pack(2).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_commits_expecting_the_same_version_exactly_one_succeeds() {
    for_each_backend(|b| async move {
        for expected in [None, Some(1)] {
            let attempts = (0..8).map(|i| {
                let store = Arc::clone(&b.store);
                let attempt = change(expected, &format!("dr.{i}"), "crs-fever", t(i));
                tokio::spawn(async move { store.commit_pack(attempt).await })
            });

            let results = futures::future::join_all(attempts).await;

            let new_version = expected.map_or(1, |v| v + 1);
            let won = |r: &&_| matches!(r, Ok(Ok(_)));
            let lost = |r: &&_| {
                matches!(r, Ok(Err(StoreError::Conflict { current: Some(v) })) if *v == new_version)
            };
            let outcome = (results.iter().filter(won).count(), results.iter().filter(lost).count());
            assert_eq!(outcome, (1, 7), "{} expecting {expected:?}: {results:?}", b.name);
        }
        assert_eq!(b.packs().await, [(2, true), (1, false)]);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_rule_actor_and_time_newest_first() {
    for_each_backend(|b| async move {
        let steps = [
            ("dr.a", "crs-fever"),
            ("dr.b", "icans-score"),
            ("dr.a", "icans-score"),
        ];
        for (i, (actor, rule)) in (0_i64..).zip(steps) {
            let expected = (i > 0).then_some(i);
            b.commit(expected, actor, rule, t(i * 10))
                .await
                .expect("commit");
        }
        let versions = |filter: AuditFilter| {
            let b = &b;
            async move {
                b.audit(filter)
                    .await
                    .iter()
                    .map(|e| e.pack_version)
                    .collect::<Vec<_>>()
            }
        };

        assert_eq!(
            versions(AuditFilter::default()).await,
            [3, 2, 1],
            "{}",
            b.name
        );
        let rule = AuditFilter {
            rule_id: Some("icans-score".to_owned()),
            ..Default::default()
        };
        assert_eq!(versions(rule).await, [3, 2]);
        let actor = AuditFilter {
            actor: Some("dr.a".to_owned()),
            ..Default::default()
        };
        assert_eq!(versions(actor).await, [3, 1]);
        let window = AuditFilter {
            from: Some(t(10)),
            to: Some(t(20)),
            ..Default::default()
        };
        assert_eq!(versions(window).await, [2], "from inclusive, to exclusive");
        let limited = AuditFilter {
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(versions(limited).await, [3, 2]);
    })
    .await;
}
