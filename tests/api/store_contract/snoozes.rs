//! Actions on worklist findings and snoozes: the latest action listed with its finding and
//! kept on the next run's, snoozed findings hidden until the snooze ends, an unknown finding
//! refused, active snoozes by patient key, and the patient key of an issued card.

use cart_sentinel::storage::{
    ActionKind, CardIndicator, IssuedCard, NewFindingAction, NewSnooze, PopulationFindingFilter,
    SnoozeOrigin, StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::for_each_backend;
use super::population::{day, finding};

fn action(finding_id: i64, kind: ActionKind, until: Option<DateTime<Utc>>) -> NewFindingAction {
    NewFindingAction {
        finding_id,
        action: kind,
        reason: format!("{} by phone", kind.as_str()),
        until,
        actor: "nurse-1".into(),
        at: day(1),
    }
}

fn snooze(key: &str, rule: &str, until: DateTime<Utc>) -> NewSnooze {
    NewSnooze {
        patient_key: key.into(),
        rule_id: rule.into(),
        until,
        origin: SnoozeOrigin::Worklist,
        reason_code: None,
        reason_text: Some("booked".into()),
        actor: Some("nurse-1".into()),
        at: day(1),
    }
}

#[tokio::test]
async fn the_latest_action_shows_with_its_finding_on_later_runs_and_a_snooze_hides_it_until_it_ends(
) {
    for_each_backend(|b| async move {
        let found = [finding("p1", "cbc", "x"), finding("p2", "cbc", "y")];
        b.succeeded_run(day(0), &found).await;
        let open = b.worklist(PopulationFindingFilter::default()).await;
        let (f1, f2) = (open[0].id, open[1].id);
        assert!(open.iter().all(|f| f.latest_action.is_none()));

        let missing = b
            .act_on_finding(&action(f2 + 100, ActionKind::Acknowledge, None), None)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{}", b.name);
        b.act_on_finding(&action(f1, ActionKind::Acknowledge, None), None)
            .await
            .unwrap();
        let until = day(5);
        let s = snooze("key-p2", "cbc", until);
        b.act_on_finding(&action(f2, ActionKind::Snooze, Some(until)), Some(&s))
            .await
            .unwrap();
        // A later run finds both again: same rows, actions kept.
        b.succeeded_run(day(2), &found).await;
        let all = b.worklist(PopulationFindingFilter::default()).await;
        let latest = |id| {
            all.iter()
                .find(|f| f.id == id)
                .unwrap()
                .latest_action
                .clone()
        };
        let a1 = latest(f1).expect("acknowledged");
        assert_eq!(
            (a1.action, a1.actor.as_str()),
            (ActionKind::Acknowledge, "nurse-1")
        );
        assert_eq!(a1.reason, "acknowledge by phone");
        assert_eq!(latest(f2).expect("snoozed").until, Some(until));

        let hiding = |at| PopulationFindingFilter {
            hide_snoozed_at: Some(at),
            ..Default::default()
        };
        let ids = |rows: Vec<cart_sentinel::storage::PopulationFinding>| {
            rows.into_iter().map(|f| f.id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(b.worklist(hiding(day(4))).await),
            [f1],
            "snoozed: hidden"
        );
        assert_eq!(
            ids(b.worklist(hiding(day(5))).await),
            [f1, f2],
            "ended: shown"
        );
        // A newer action replaces the snooze as the latest.
        b.act_on_finding(&action(f2, ActionKind::Contacted, None), None)
            .await
            .unwrap();
        assert_eq!(ids(b.worklist(hiding(day(4))).await), [f1, f2]);

        assert_eq!(b.active_snoozes("key-p2", day(4)).await.unwrap(), ["cbc"]);
        assert!(b.active_snoozes("key-p2", day(5)).await.unwrap().is_empty());
        assert!(b.active_snoozes("key-p1", day(4)).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn snoozes_are_found_by_patient_key_and_rule_and_issued_cards_keep_their_key() {
    for_each_backend(|b| async move {
        let mut card_snooze = snooze("key-a", "skin", day(3));
        card_snooze.origin = SnoozeOrigin::Card;
        card_snooze.reason_code = Some("already-scheduled".into());
        b.record_snooze(&card_snooze).await.unwrap();
        b.record_snooze(&snooze("key-a", "cbc", day(1) + TimeDelta::hours(1)))
            .await
            .unwrap();
        b.record_snooze(&snooze("key-b", "cbc", day(3)))
            .await
            .unwrap();
        assert_eq!(
            b.active_snoozes("key-a", day(1)).await.unwrap(),
            ["cbc", "skin"]
        );
        assert_eq!(b.active_snoozes("key-a", day(2)).await.unwrap(), ["skin"]);

        let card = IssuedCard {
            card_uuid: "c-1".into(),
            rule_id: "skin".into(),
            service_id: "cart-monitoring".into(),
            hook: "patient-view".into(),
            indicator: CardIndicator::Info,
            pack_version: 1,
            issued_at: day(0),
            patient_key: Some("key-a".into()),
        };
        b.record_issued_cards(&[card]).await.unwrap();
        let key = b.issued_card_key("c-1").await.unwrap().expect("issued");
        assert_eq!(
            (key.rule_id.as_str(), key.patient_key.as_deref()),
            ("skin", Some("key-a"))
        );
        assert!(
            b.issued_card_key("c-2").await.unwrap().is_none(),
            "{}",
            b.name
        );
    })
    .await;
}
