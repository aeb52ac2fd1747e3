//! Checking a rule's settings beyond its card: `due:` (the worklist's due date).

use super::rule::RuleChecker;
use crate::engine::rule::Due;

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
