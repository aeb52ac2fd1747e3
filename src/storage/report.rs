//! The rule quality report: what the two count queries in [`super::sql`] return, and the pure
//! aggregation that turns them into one [`RuleQuality`] per rule (shared by both backends).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;

use super::models::{CardIndicator, FeedbackOutcome};

/// Cards issued, per indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndicatorCounts {
    /// `info` cards.
    pub info: i64,
    /// `warning` cards.
    pub warning: i64,
    /// `critical` cards.
    pub critical: i64,
}

impl IndicatorCounts {
    /// All cards, whatever their indicator.
    pub fn total(&self) -> i64 {
        self.info + self.warning + self.critical
    }

    fn add(&mut self, indicator: CardIndicator, count: i64) {
        match indicator {
            CardIndicator::Info => self.info += count,
            CardIndicator::Warning => self.warning += count,
            CardIndicator::Critical => self.critical += count,
        }
    }
}

/// How often one override reason was given; `code` is `None` for overrides without a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    /// Reason code.
    pub code: Option<String>,
    /// Reason text as the EHR sent it.
    pub display: Option<String>,
    /// Number of overrides.
    pub count: i64,
    /// Whether the rule's card offers this reason (set by the admin API from the active pack;
    /// absent for overrides without a code). A reason the card does not offer came from the
    /// EHR's own list: the standard allows it, and it is counted apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered: Option<bool>,
}

/// How often one free-text override comment was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentCount {
    /// The comment.
    pub comment: String,
    /// Number of overrides with it.
    pub count: i64,
}

/// Quality of one rule over a period: the cards it issued in the period and the feedback
/// received on those cards (joined by card uuid; feedback on other cards is not counted).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleQuality {
    /// The rule.
    pub rule_id: String,
    /// Cards issued, per indicator.
    pub issued: IndicatorCounts,
    /// Feedback items saying a card was accepted.
    pub accepted: i64,
    /// Feedback items saying a card was overridden.
    pub overridden: i64,
    /// Override reasons, most frequent first.
    pub override_reasons: Vec<ReasonCount>,
    /// Overrides whose reason code the rule's card does not offer (see [`ReasonCount::offered`]).
    pub overridden_with_reason_not_offered: i64,
    /// Override comments, most frequent first.
    pub override_comments: Vec<CommentCount>,
}

/// Shape of [`super::sql::QUALITY_ISSUED`].
#[derive(sqlx::FromRow)]
pub(crate) struct IssuedCountRow {
    rule_id: String,
    indicator: CardIndicator,
    n: i64,
}

/// Shape of [`super::sql::QUALITY_FEEDBACK`].
#[derive(sqlx::FromRow)]
pub(crate) struct FeedbackCountRow {
    rule_id: String,
    outcome: FeedbackOutcome,
    reason_code: Option<String>,
    reason_display: Option<String>,
    comment: Option<String>,
    n: i64,
}

#[derive(Default)]
struct Tally {
    issued: IndicatorCounts,
    accepted: i64,
    overridden: i64,
    reasons: BTreeMap<(Option<String>, Option<String>), i64>,
    comments: BTreeMap<String, i64>,
}

/// Builds the report, ordered by rule id.
pub(crate) fn build(
    issued: Vec<IssuedCountRow>,
    feedback: Vec<FeedbackCountRow>,
) -> Vec<RuleQuality> {
    let mut rules: BTreeMap<String, Tally> = BTreeMap::new();
    for row in issued {
        rules
            .entry(row.rule_id)
            .or_default()
            .issued
            .add(row.indicator, row.n);
    }
    for row in feedback {
        let tally = rules.entry(row.rule_id).or_default();
        match row.outcome {
            FeedbackOutcome::Accepted => tally.accepted += row.n,
            FeedbackOutcome::Overridden => {
                tally.overridden += row.n;
                *tally
                    .reasons
                    .entry((row.reason_code, row.reason_display))
                    .or_default() += row.n;
                if let Some(comment) = row.comment.filter(|c| !c.trim().is_empty()) {
                    *tally.comments.entry(comment).or_default() += row.n;
                }
            }
        }
    }
    rules
        .into_iter()
        .map(|(rule_id, tally)| finish(rule_id, tally))
        .collect()
}

fn finish(rule_id: String, tally: Tally) -> RuleQuality {
    let mut override_reasons: Vec<ReasonCount> = tally
        .reasons
        .into_iter()
        .map(|((code, display), count)| ReasonCount {
            code,
            display,
            count,
            offered: None,
        })
        .collect();
    // Stable sort: equal counts keep the map's (code, display) order.
    override_reasons.sort_by_key(|reason| Reverse(reason.count));
    let mut override_comments: Vec<CommentCount> = tally
        .comments
        .into_iter()
        .map(|(comment, count)| CommentCount { comment, count })
        .collect();
    override_comments.sort_by_key(|comment| Reverse(comment.count));
    RuleQuality {
        rule_id,
        issued: tally.issued,
        accepted: tally.accepted,
        overridden: tally.overridden,
        override_reasons,
        overridden_with_reason_not_offered: 0,
        override_comments,
    }
}

/// The quality report of one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthQuality {
    /// The month's first day, `YYYY-MM`.
    pub month: String,
    /// Per rule, the cards issued in that month (within the period asked for) and the feedback
    /// on them, as [`super::Store::quality_report`] gives them.
    pub rules: Vec<RuleQuality>,
}

/// The calendar months (UTC) that `[from, to)` touches, each as its label and the part of the
/// period in it.
pub fn months(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let (y, m) = (start.year(), start.month());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next = Utc
            .with_ymd_and_hms(ny, nm, 1, 0, 0, 0)
            .single()
            .unwrap_or(to);
        let end = next.min(to);
        out.push((format!("{y:04}-{m:02}"), start, end));
        start = end;
    }
    out
}

impl RuleQuality {
    /// Marks each coded override reason as offered or not by the rule's card, whose reason
    /// codes are `offered`, and counts the overrides with a reason it does not offer.
    pub fn mark_offered(&mut self, offered: &[&str]) {
        self.overridden_with_reason_not_offered = 0;
        for reason in &mut self.override_reasons {
            reason.offered = reason.code.as_deref().map(|c| offered.contains(&c));
            if reason.offered == Some(false) {
                self.overridden_with_reason_not_offered += reason.count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::months;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_period_is_cut_at_each_month_boundary_and_the_year_turns() {
        let cut = months(at("2025-11-20T10:00:00Z"), at("2026-01-05T00:00:00Z"));
        let labels: Vec<&str> = cut.iter().map(|(m, _, _)| m.as_str()).collect();
        assert_eq!(labels, ["2025-11", "2025-12", "2026-01"]);
        assert_eq!(cut[0].1, at("2025-11-20T10:00:00Z"));
        assert_eq!(cut[0].2, at("2025-12-01T00:00:00Z"));
        assert_eq!(cut[2].2, at("2026-01-05T00:00:00Z"));
        assert!(months(at("2026-01-05T00:00:00Z"), at("2026-01-05T00:00:00Z")).is_empty());
    }
}
