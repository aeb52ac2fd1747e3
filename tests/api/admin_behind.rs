//! A replica that missed a change (no notification on SQLite, a lost one on PostgreSQL, or its
//! own commit whose answer a partition cut off) refuses the next change as stale, and takes the
//! active version while doing so: the retry succeeds, rather than every write failing until a
//! restart.

use chrono::Utc;
use serde_json::{json, Value};

use cart_sentinel::storage::{connect, NewAudit, NewPackVersion};

use crate::helpers::{admin_token, spawn_app};

const RULE: &str = "/admin/rules/cbc-surveillance-overdue";

#[tokio::test]
async fn a_change_refused_as_stale_brings_the_replica_up_to_date_and_the_retry_succeeds() {
    let app = spawn_app().await;
    let token = admin_token(
        app.data_dir.path(),
        "alice",
        &["rules:read", "rules:write"],
        300,
    );
    let patch = |days: u32| {
        app.client
            .patch(format!("{}{RULE}/parameters", app.address))
            .bearer_auth(&token)
            .json(&json!({"interval_phase1_days": days}))
            .send()
    };

    // Another writer commits version 2 behind this replica's back.
    let store = connect(&app.database_url(), 1).await.unwrap();
    let active = store.active_pack().await.unwrap().unwrap();
    let mut document = active.document.clone();
    document["rules"]["cbc-surveillance-overdue"]["parameters"]["interval_phase1_days"]["value"] =
        json!(45.0);
    store
        .commit_pack(NewPackVersion {
            expected_active: Some(active.version),
            document,
            author: "other-replica".into(),
            reason: None,
            created_at: Utc::now(),
            audit: NewAudit {
                actor: "other-replica".into(),
                action: "rule.update".into(),
                rule_id: Some("cbc-surveillance-overdue".into()),
                before: None,
                after: None,
                reason: None,
            },
        })
        .await
        .unwrap();

    let refused = patch(21).await.unwrap();
    assert_eq!(refused.status(), 412);
    let outcome: Value = refused.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    // The replica now serves the other writer's value, and the retry lands on top of it.
    let served: Value = app
        .client
        .get(format!("{}{RULE}", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served["parameters"]["interval_phase1_days"]["value"],
        json!(45.0)
    );
    let retried = patch(21).await.unwrap();
    assert_eq!(retried.status(), 200);
    let body: Value = retried.json().await.unwrap();
    assert_eq!(body["packVersion"], json!(active.version + 2));
}
