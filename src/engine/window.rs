//! The time window of a query (`since_day`, `until_day`, `within_days`, `within_hours`,
//! `before`), resolved once per query run into plain bounds.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::ctx::{RuleEval, RuleValues};
use super::rule::Query;
use crate::record::When;

/// A query's time window, its bounds computed once per run (they depend on the rule's
/// parameters, day 0, "now" and `before` anchors, not on the item).
pub(super) enum Window {
    /// The query has no time bound: every item is in, dated or not.
    All,
    /// A bound cannot be computed (day 0 unknown, the `before` anchor missing, a parameter of
    /// the wrong unit): no item is in.
    Nothing,
    /// Dated items with `from <= date <= until` and `at >= from_at` are in.
    Bounds {
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
        from_at: Option<DateTime<Utc>>,
    },
}

impl Window {
    /// The window of `q` for the rule being evaluated.
    pub(super) fn of(re: &RuleEval, q: &Query) -> Window {
        let bounded = q.since_day.is_some()
            || q.until_day.is_some()
            || q.within_days.is_some()
            || q.within_hours.is_some()
            || q.before.is_some();
        if !bounded {
            return Window::All;
        }
        let day_offset = |n| re.num_in(n, "d").map(|d| Duration::days(d.floor() as i64));
        let (mut from, mut until, mut from_at) = (None, None, None);
        let later = |a: Option<NaiveDate>, b: NaiveDate| Some(a.map_or(b, |a| a.max(b)));
        let earlier = |a: Option<NaiveDate>, b: NaiveDate| Some(a.map_or(b, |a| a.min(b)));
        if let Some(n) = &q.since_day {
            match (re.ctx.cohort.day0, day_offset(n)) {
                (Some(d0), Some(off)) => from = later(from, d0 + off),
                _ => return Window::Nothing,
            }
        }
        if let Some(n) = &q.until_day {
            match (re.ctx.cohort.day0, day_offset(n)) {
                (Some(d0), Some(off)) => until = earlier(until, d0 + off),
                _ => return Window::Nothing,
            }
        }
        if let Some(n) = &q.within_days {
            match day_offset(n) {
                Some(off) => from = later(from, re.ctx.today - off),
                None => return Window::Nothing,
            }
        }
        if let Some(n) = &q.within_hours {
            match re.num_in(n, "h") {
                Some(h) => {
                    from_at = Some(re.ctx.input.now - Duration::seconds((h * 3600.0) as i64))
                }
                None => return Window::Nothing,
            }
        }
        if let Some(before) = &q.before {
            let Some(anchor) = re.item(&before.of).and_then(|i| i.when) else {
                return Window::Nothing;
            };
            let off = match &before.minus_days {
                Some(n) => match day_offset(n) {
                    Some(off) => off,
                    None => return Window::Nothing,
                },
                None => Duration::zero(),
            };
            until = earlier(until, anchor.date - off);
        }
        Window::Bounds {
            from,
            until,
            from_at,
        }
    }

    /// Whether an item dated `when` is in the window.
    pub(super) fn contains(&self, when: Option<When>) -> bool {
        match self {
            Window::All => true,
            Window::Nothing => false,
            Window::Bounds {
                from,
                until,
                from_at,
            } => when.is_some_and(|w| {
                from.is_none_or(|f| w.date >= f)
                    && until.is_none_or(|u| w.date <= u)
                    && from_at.is_none_or(|a| w.at >= a)
            }),
        }
    }
}
