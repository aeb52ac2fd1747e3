//! A finding's due date from its rule's `due:` setting (`rule::Due`), on the rule's own
//! bindings and numbers. Days are floored as the windows floor them (`window.rs`), so that a
//! `due` written with the numbers of a `within_days` window falls on that window's last day.

use chrono::{Duration, NaiveDate};

use super::ctx::{RuleEval, RuleValues};

/// The due date of a rule that fired, when its `due:` can say.
pub(super) fn date(re: &RuleEval) -> Option<NaiveDate> {
    let due = re.rule.due.as_ref()?;
    let days = |n| re.num_in(n, "d").map(|d| Duration::days(d.floor() as i64));
    let after = due
        .after
        .as_deref()
        .and_then(|name| re.item(name))
        .and_then(|item| item.when.as_ref().map(|w| w.date));
    let since_last = after.zip(due.every.as_ref().and_then(days));
    let since_last = since_last.and_then(|(date, every)| date.checked_add_signed(every));
    let first_day = re.ctx.cohort.day0.zip(due.day.as_ref().and_then(days));
    let first_day = first_day.and_then(|(day0, day)| day0.checked_add_signed(day));
    // A result from before the rule's first day (a baseline before infusion) does not make
    // it due before that day.
    since_last.max(first_day)
}
