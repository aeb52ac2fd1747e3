//! Cards returned earlier, as markers: one per rule and day, because a chart opened every day
//! returns the same cards every day, and what the clinician did with them is what matters.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{Marker, MarkerKind, PastCard};

/// One marker per rule and calendar day (in `tz`), oldest first, saying how many cards, from
/// which hooks, and the feedback on the latest one that had any.
pub fn markers(cards: &[PastCard], tz: Tz) -> Vec<Marker> {
    let day = |at: DateTime<Utc>| at.with_timezone(&tz).date_naive();
    let mut days: BTreeMap<(NaiveDate, &str), Vec<&PastCard>> = BTreeMap::new();
    for c in cards {
        days.entry((day(c.issued_at), c.rule_id.as_str()))
            .or_default()
            .push(c);
    }
    days.into_iter()
        .map(|((date, rule_id), mut same)| {
            same.sort_by_key(|c| c.issued_at);
            let latest = same[same.len() - 1];
            Marker {
                kind: MarkerKind::Issued,
                date,
                closed: None,
                rule_id: rule_id.to_owned(),
                indicator: latest.indicator.clone(),
                summary: summary(&same),
            }
        })
        .collect()
}

/// "2 cards (patient-view, order-sign); overridden: already handled".
fn summary(same: &[&PastCard]) -> String {
    let mut hooks: Vec<&str> = same.iter().map(|c| c.hook.as_str()).collect();
    hooks.sort_unstable();
    hooks.dedup();
    let count = if same.len() == 1 {
        "1 card".to_owned()
    } else {
        format!("{} cards", same.len())
    };
    let answered = same
        .iter()
        .rev()
        .find_map(|c| Some((c.outcome.as_ref()?, c.override_reason.as_ref())));
    let feedback = match answered {
        Some((outcome, Some(reason))) => format!("{outcome}: {reason}"),
        Some((outcome, None)) => outcome.clone(),
        None => "no feedback".to_owned(),
    };
    format!("{count} ({}); {feedback}", hooks.join(", "))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use chrono_tz::Tz;

    use super::markers;
    use crate::timeline::{MarkerKind, PastCard};

    fn card(rule: &str, hour: u32, day: u32, outcome: Option<(&str, Option<&str>)>) -> PastCard {
        PastCard {
            rule_id: rule.into(),
            indicator: "warning".into(),
            hook: "patient-view".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 5, day, hour, 0, 0).unwrap(),
            outcome: outcome.map(|(o, _)| o.to_owned()),
            override_reason: outcome.and_then(|(_, r)| r.map(str::to_owned)),
        }
    }

    #[test]
    fn a_rules_cards_of_one_local_day_are_one_marker_with_the_latest_feedback() {
        let cards = [
            card("pjp", 9, 3, Some(("overridden", Some("already handled")))),
            card("pjp", 15, 3, None),
            card("pjp", 9, 4, Some(("accepted", None))),
            card("igg", 9, 3, None),
        ];
        let m = markers(&cards, Tz::UTC);
        let shown: Vec<(String, &str, &str)> = m
            .iter()
            .map(|m| (m.date.to_string(), m.rule_id.as_str(), m.summary.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "2026-05-03".into(),
                    "igg",
                    "1 card (patient-view); no feedback"
                ),
                (
                    "2026-05-03".into(),
                    "pjp",
                    "2 cards (patient-view); overridden: already handled"
                ),
                (
                    "2026-05-04".into(),
                    "pjp",
                    "1 card (patient-view); accepted"
                ),
            ]
        );
        assert!(m.iter().all(|m| m.kind == MarkerKind::Issued));
    }

    #[test]
    fn the_day_is_the_rules_time_zone_day() {
        // 03:00 UTC on 4 May is still 3 May in Chicago.
        let cards = [card("pjp", 3, 4, None)];
        let m = markers(&cards, "America/Chicago".parse().unwrap());
        assert_eq!(m[0].date.to_string(), "2026-05-03");
    }
}
