//! A finding's due date (`due:`): the date of what `after` found plus `every` days, not
//! before day `day`; day `day` when `after` found nothing; none without day 0 or a `due:`.
//! Day 0 is [`DAY0`] (2026-03-01), the call at [`NOW`] (day 14).

use chrono::NaiveDate;
use serde_json::Value;

use crate::engine::test_support::*;

fn x(when: &str) -> Value {
    result("X", when, qty(1.0, "1"))
}

#[test]
fn a_due_date_counts_from_the_last_result_and_never_precedes_the_first_day() {
    let fires = "{not: {exists: recent}}";
    let bind = "{last: {latest: {results: x}}, recent: {latest: {results: x, within_days: 7}}}";
    let due = "{after: last, every: {param: every}, day: 5}";
    let every = "{every: {value: 7, unit: d, description: e}}";
    #[rustfmt::skip]
    let rows: Vec<(&str, Option<&str>, Vec<Value>, Option<&str>)> = vec![
        // (case, due:, record, the due date)
        ("the last result plus the interval", Some(due), vec![yescarta(DAY0), x("2026-03-06")], Some("2026-03-13")),
        ("no result: the first day", Some(due), vec![yescarta(DAY0)], Some("2026-03-06")),
        ("a result before day 0 does not make it due before the first day", Some(due),
            vec![yescarta(DAY0), x("2026-02-20")], Some("2026-03-06")),
        ("after and every alone: no result, no due date", Some("{after: last, every: 7}"), vec![yescarta(DAY0)], None),
        ("day alone needs day 0", Some("{day: 5}"), vec![x("2026-03-01")], None),
        ("a rule without due: has none", None, vec![yescarta(DAY0)], None),
    ];
    for (case, due, resources, expected) in rows {
        let mut r = rule("t", fires).bind(bind).params(every).any_patient();
        if let Some(d) = due {
            r = r.due(d);
        }
        let pack = compile(&[r], &[codes("x", &["X"])]);
        let findings = At::default().findings(&pack, &record(&resources));
        assert_eq!(findings.len(), 1, "{case}: the rule fires");
        let expected = expected.map(|d| d.parse::<NaiveDate>().unwrap());
        assert_eq!(findings[0].due, expected, "{case}");
    }
}
