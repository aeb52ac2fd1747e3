//! Pack change notifications between replicas, and durability across reconnects.

use std::time::Duration;

use cart_sentinel::storage::{self, AuditFilter, FeedbackFilter};
use chrono::{TimeDelta, Utc};
use sqlx::Connection;

use super::{accepted, for_each_backend, t, Backend};

#[tokio::test]
async fn pack_changes_reach_other_replicas_on_postgres_only() {
    for_each_backend(|b| async move {
        let subscription = b.subscribe_pack_changes().await.expect("subscribe");
        let Some(mut changes) = subscription else {
            assert_eq!(b.name, "sqlite");
            b.notify_pack_changed(1).await.expect("notify is a no-op");
            return;
        };
        let other_replica = storage::connect(&b.url, 2).await.expect("second store");

        other_replica.notify_pack_changed(42).await.expect("notify");

        let received = tokio::time::timeout(Duration::from_secs(2), changes.recv()).await;
        assert_eq!(received.expect("notification within 2 s"), Some(42));
    })
    .await;
}

#[tokio::test]
async fn a_pack_subscription_catches_up_after_losing_its_connection() {
    for_each_backend(|b| async move {
        let Some(mut changes) = b.subscribe_pack_changes().await.expect("subscribe") else {
            return;
        };
        b.commit(None, "dr.a", "crs-fever", t(0))
            .await
            .expect("commit");
        let mut admin = sqlx::PgConnection::connect(&b.url)
            .await
            .expect("connection");

        sqlx::raw_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .execute(&mut admin)
        .await
        .expect("terminate the listener");

        let resent = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await;
        assert_eq!(resent.expect("active version re-sent"), Some(1));
        b.notify_pack_changed(2).await.expect("notify");
        let next = tokio::time::timeout(Duration::from_secs(2), changes.recv()).await;
        assert_eq!(next.expect("listening again"), Some(2));
    })
    .await;
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_store() {
    for_each_backend(|b| async move {
        b.commit(None, "dr.a", "crs-fever", t(0))
            .await
            .expect("commit");
        b.record_feedback(&[accepted("card-1", t(1))])
            .await
            .expect("feedback");
        let expiry = Utc::now() + TimeDelta::minutes(5);
        b.remember_jti("https://ehr.example", "jti-1", expiry)
            .await
            .expect("jti");
        let Backend { name, url, store } = b;
        drop(store);

        let reopened = storage::connect(&url, 2).await.expect("reopen");

        let active = reopened.active_pack().await.expect("active pack");
        assert_eq!(active.map(|p| p.version), Some(1), "{name}");
        let feedback = reopened.list_feedback(&FeedbackFilter::default()).await;
        assert_eq!(feedback.expect("feedback").len(), 1);
        let audit = reopened.audit_log(&AuditFilter::default()).await;
        assert_eq!(audit.expect("audit").len(), 1);
        let replay = reopened
            .remember_jti("https://ehr.example", "jti-1", expiry)
            .await;
        assert!(!replay.expect("replay check"), "a remembered jti survives");
    })
    .await;
}
