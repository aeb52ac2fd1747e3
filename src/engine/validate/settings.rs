//! Checking a rule's settings outside what a card shows: `due:` (the worklist's due date) and
//! the card's `snooze:` (which override reasons keep the rule quiet, and how long).

use super::rule::RuleChecker;
use crate::engine::rule::{CodingTemplate, Due, SnoozeSetting};

/// Longest snooze: a year. A longer one is a rule switched off for a patient.
const MAX_SNOOZE_DAYS: u32 = 365;

impl RuleChecker<'_, '_> {
    /// `after` is a query binding and comes with `every`; at least one of `after` and `day`.
    pub(super) fn due(&mut self, due: &Due) {
        match (&due.after, &due.every) {
            (Some(name), Some(_)) => self.query_binding("due.after", name),
            (Some(_), None) => self.c.err("due.every", "`after` needs `every` (days)"),
            (None, Some(_)) => self.c.err("due.after", "`every` needs `after`"),
            (None, None) if due.day.is_none() => self
                .c
                .err("due", "give `after` and `every`, or `day`, or both"),
            (None, None) => {}
        }
        for (key, n) in [("every", &due.every), ("day", &due.day)] {
            if let Some(n) = n {
                self.num(&format!("due.{key}"), n);
            }
        }
    }
}

impl RuleChecker<'_, '_> {
    /// `days` from 1 to 365; `reasons` not empty, each a code of the card's override reasons.
    pub(super) fn snooze(&mut self, s: &SnoozeSetting, offered: &[CodingTemplate]) {
        if !(1..=MAX_SNOOZE_DAYS).contains(&s.days) {
            self.c.err(
                "card.snooze.days",
                format!("must be from 1 to {MAX_SNOOZE_DAYS}"),
            );
        }
        if s.reasons.is_empty() {
            self.c
                .err("card.snooze.reasons", "at least one override reason code");
        }
        for (i, code) in s.reasons.iter().enumerate() {
            if !offered.iter().any(|o| o.code == *code) {
                self.c.err(
                    &format!("card.snooze.reasons[{i}]"),
                    format!("`{code}` is not a code of card.override_reasons"),
                );
            }
        }
    }
}
