//! Feedback, issued cards and the quality report.

use cart_sentinel::storage::{
    CardIndicator, FeedbackFilter, FeedbackOutcome, FeedbackSaved, IndicatorCounts,
};
use chrono::{TimeDelta, Utc};

use super::{accepted, card, for_each_backend, overridden, t, Backend};

fn saved(inserted: u64, duplicates: u64) -> FeedbackSaved {
    FeedbackSaved {
        inserted,
        duplicates,
    }
}

async fn cards_listed(b: &Backend, filter: FeedbackFilter) -> Vec<String> {
    b.feedback(filter)
        .await
        .into_iter()
        .map(|f| f.card_uuid)
        .collect()
}

#[tokio::test]
async fn identical_feedback_is_stored_once_and_batches_report_counts() {
    for_each_backend(|b| async move {
        let first = accepted("card-1", t(0));
        let mut reordered = first.clone();
        reordered.accepted_suggestions.reverse();
        let other = overridden("card-2", t(1), "not-relevant", Some("seen yesterday"));
        let mut commented = first.clone();
        commented.override_comment = Some("different".to_owned());

        let batch = b
            .record_feedback(&[first.clone(), other.clone(), reordered])
            .await;
        let resent = b.record_feedback(&[first, other]).await;
        let changed = b.record_feedback(&[commented]).await;
        let empty = b.record_feedback(&[]).await;

        assert_eq!(batch.expect("batch"), saved(2, 1), "{}", b.name);
        assert_eq!(resent.expect("resent"), saved(0, 2));
        assert_eq!(changed.expect("changed item"), saved(1, 0));
        assert_eq!(empty.expect("empty batch"), saved(0, 0));
        assert_eq!(b.feedback(FeedbackFilter::default()).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn feedback_is_listed_newest_first_and_filtered_by_service_rule_and_time() {
    for_each_backend(|b| async move {
        let cards = [
            card("c1", "crs-fever", CardIndicator::Warning, t(0)),
            card("c2", "icans-score", CardIndicator::Critical, t(0)),
        ];
        b.record_issued_cards(&cards).await.expect("cards");
        let mut elsewhere = accepted("c3", t(30));
        elsewhere.service_id = "cart-infection-watch".to_owned();
        let c2_reason = overridden("c2", t(20), "already-managed", Some("on tocilizumab"));
        let items = [accepted("c1", t(10)), c2_reason.clone(), elsewhere];
        let before = Utc::now() - TimeDelta::seconds(5);

        b.record_feedback(&items).await.expect("feedback");

        let all = b.feedback(FeedbackFilter::default()).await;
        let order: Vec<&str> = all.iter().map(|f| f.card_uuid.as_str()).collect();
        assert_eq!(order, ["c3", "c2", "c1"], "{}", b.name);
        let c2 = &all[1];
        assert_eq!(c2.rule_id.as_deref(), Some("icans-score"));
        assert_eq!(
            (c2.outcome, c2.outcome_timestamp),
            (FeedbackOutcome::Overridden, t(20))
        );
        assert_eq!(c2.override_reason, c2_reason.override_reason);
        assert_eq!(c2.override_comment.as_deref(), Some("on tocilizumab"));
        assert!(c2.received_at >= before && c2.received_at <= Utc::now());
        assert_eq!(all[2].accepted_suggestions, ["order-ferritin", "order-crp"]);
        assert_eq!(all[0].rule_id, None, "c3 was never recorded as issued");

        let service = FeedbackFilter {
            service_id: Some("cart-crs-watch".to_owned()),
            ..Default::default()
        };
        assert_eq!(cards_listed(&b, service).await, ["c2", "c1"]);
        let rule = FeedbackFilter {
            rule_id: Some("crs-fever".to_owned()),
            ..Default::default()
        };
        assert_eq!(cards_listed(&b, rule).await, ["c1"]);
        let window = FeedbackFilter {
            from: Some(t(10)),
            to: Some(t(30)),
            ..Default::default()
        };
        assert_eq!(
            cards_listed(&b, window).await,
            ["c2", "c1"],
            "from inclusive, to exclusive"
        );
        let limited = FeedbackFilter {
            limit: Some(1),
            ..Default::default()
        };
        assert_eq!(cards_listed(&b, limited).await, ["c3"]);
    })
    .await;
}

#[tokio::test]
async fn quality_report_counts_cards_by_indicator_and_feedback_on_them_per_rule() {
    for_each_backend(|b| async move {
        let cards = [
            card("f1", "crs-fever", CardIndicator::Warning, t(0)),
            card("f2", "crs-fever", CardIndicator::Warning, t(1)),
            card("f3", "crs-fever", CardIndicator::Critical, t(2)),
            card("i1", "icans-score", CardIndicator::Info, t(3)),
            card("old", "crs-fever", CardIndicator::Info, t(-120)),
        ];
        b.record_issued_cards(&cards).await.expect("cards");
        let known_uuid_again = card("f1", "icans-score", CardIndicator::Info, t(0));
        b.record_issued_cards(&[known_uuid_again])
            .await
            .expect("replayed card");
        let feedback = [
            accepted("f1", t(5)),
            overridden("f2", t(6), "not-relevant", Some("baseline fever")),
            overridden("f3", t(7), "not-relevant", None),
            overridden("i1", t(8), "already-managed", Some("  ")),
            accepted("old", t(9)),
            accepted("never-issued", t(9)),
        ];
        b.record_feedback(&feedback).await.expect("feedback");

        let report = b.quality_report(t(0), t(60)).await.expect("report");

        let rules: Vec<&str> = report.iter().map(|r| r.rule_id.as_str()).collect();
        assert_eq!(rules, ["crs-fever", "icans-score"], "{}", b.name);
        let fever = &report[0];
        let issued = IndicatorCounts {
            info: 0,
            warning: 2,
            critical: 1,
        };
        assert_eq!(fever.issued, issued, "a replayed uuid is not counted again");
        assert_eq!((fever.accepted, fever.overridden), (1, 2));
        let reasons: Vec<_> = fever
            .override_reasons
            .iter()
            .map(|r| (r.code.as_deref(), r.display.as_deref(), r.count))
            .collect();
        assert_eq!(
            reasons,
            [(Some("not-relevant"), Some("Reason not-relevant"), 2)]
        );
        let comments: Vec<_> = fever
            .override_comments
            .iter()
            .map(|c| (c.comment.as_str(), c.count))
            .collect();
        assert_eq!(comments, [("baseline fever", 1)]);
        let icans = &report[1];
        assert_eq!(icans.issued.total(), 1);
        assert_eq!((icans.accepted, icans.overridden), (0, 1));
        assert!(
            icans.override_comments.is_empty(),
            "blank comments are not reported"
        );
        let later = b
            .quality_report(t(100), t(200))
            .await
            .expect("empty window");
        assert!(later.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_card_is_known_as_issued_once_recorded() {
    for_each_backend(|b| async move {
        assert!(
            !b.store.card_issued("c-1").await.expect("lookup"),
            "{}",
            b.name
        );
        b.record_issued_cards(&[card("c-1", "crs-fever", CardIndicator::Warning, t(0))])
            .await
            .expect("cards");
        assert!(
            b.store.card_issued("c-1").await.expect("lookup"),
            "{}",
            b.name
        );
        assert!(
            !b.store.card_issued("c-2").await.expect("lookup"),
            "{}",
            b.name
        );
    })
    .await;
}

#[tokio::test]
async fn the_quality_report_by_month_counts_each_card_in_the_month_it_was_issued() {
    for_each_backend(|b| async move {
        let at = |text: &str| text.parse::<chrono::DateTime<Utc>>().unwrap();
        let cards = [
            card(
                "m1",
                "crs-fever",
                CardIndicator::Warning,
                at("2030-01-31T23:59:59Z"),
            ),
            card(
                "m2",
                "crs-fever",
                CardIndicator::Warning,
                at("2030-02-01T00:00:00Z"),
            ),
            card(
                "m3",
                "icans-score",
                CardIndicator::Info,
                at("2030-02-15T12:00:00Z"),
            ),
            card(
                "m4",
                "crs-fever",
                CardIndicator::Critical,
                at("2030-04-02T08:00:00Z"),
            ),
        ];
        b.record_issued_cards(&cards).await.expect("cards");
        let feedback = [
            accepted("m1", at("2030-02-02T00:00:00Z")),
            overridden("m2", at("2030-02-02T00:00:00Z"), "not-relevant", None),
        ];
        b.record_feedback(&feedback).await.expect("feedback");

        let months = b
            .store
            .quality_report_by_month(at("2030-01-15T00:00:00Z"), at("2030-04-02T00:00:00Z"))
            .await
            .expect("report by month");
        let shape: Vec<(&str, Vec<(&str, i64, i64, i64)>)> = months
            .iter()
            .map(|m| {
                let rules = m
                    .rules
                    .iter()
                    .map(|r| {
                        (
                            r.rule_id.as_str(),
                            r.issued.total(),
                            r.accepted,
                            r.overridden,
                        )
                    })
                    .collect();
                (m.month.as_str(), rules)
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("2030-01", vec![("crs-fever", 1, 1, 0)]),
                (
                    "2030-02",
                    vec![("crs-fever", 1, 0, 1), ("icans-score", 1, 0, 0)]
                ),
                ("2030-03", vec![]),
                ("2030-04", vec![]),
            ],
            "{}: feedback counts in the month of its card; the period ends before m4",
            b.name
        );
    })
    .await;
}
