//! Time windows: a query's `since_day`, `until_day`, `within_days`, `within_hours` and
//! `before`, and the `within:` condition. Day 0 is [`DAY0`] (2026-03-01); the call is at
//! [`NOW`] (2026-03-15 12:00 UTC, day 14) unless a row says otherwise.

use chrono_tz::Tz;
use serde_json::Value;

use crate::engine::test_support::*;

/// A result of the window's value set `x` (code `X`) at `when`.
fn x(when: &str) -> Value {
    result("X", when, qty(1.0, "1"))
}

/// The anchor of `before:` (value set `y`, code `Y`).
fn y(when: &str) -> Value {
    result("Y", when, qty(1.0, "1"))
}

#[test]
fn a_query_window_keeps_the_results_dated_inside_it() {
    let utc = At::default();
    let chicago = At::default().tz(Tz::America__Chicago);
    let undated = with(x(NOW), "effectiveDateTime", Value::Null);
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, At, bool)> = vec![
        // (case, query window, record, call, the rule fires)
        ("since_day 7 counts a result on day 7", "since_day: 7", vec![yescarta(DAY0), x("2026-03-08")], utc, true),
        ("since_day 7 ignores a result on day 6", "since_day: 7", vec![yescarta(DAY0), x("2026-03-07T23:59:00Z")], utc, false),
        ("until_day 10 counts a result on day 10", "until_day: 10", vec![yescarta(DAY0), x("2026-03-11T23:59:00Z")], utc, true),
        ("until_day 10 ignores a result on day 11", "until_day: 10", vec![yescarta(DAY0), x("2026-03-12")], utc, false),
        ("since_day 3 and until_day 5 count day 4", "since_day: 3, until_day: 5", vec![yescarta(DAY0), x("2026-03-05")], utc, true),
        ("since_day 3 and until_day 5 ignore day 6", "since_day: 3, until_day: 5", vec![yescarta(DAY0), x("2026-03-07")], utc, false),
        ("since_day finds nothing when day 0 is unknown", "since_day: 0", vec![x("2026-03-08")], utc, false),
        ("since_day follows the most recent course's day 0", "since_day: 0", vec![yescarta("2025-01-01"), yescarta("2026-03-10"), x("2026-03-05")], utc, false),
        ("within_days 7 counts a result 7 calendar days ago", "within_days: 7", vec![x("2026-03-08T00:00:00Z")], utc, true),
        ("within_days 7 ignores a result 8 calendar days ago", "within_days: 7", vec![x("2026-03-07T23:59:59Z")], utc, false),
        ("within_days 1 counts yesterday morning (whole days, not 24 h)", "within_days: 1", vec![x("2026-03-14T00:30:00Z")], utc, true),
        ("within_days reads the parameter's weeks as 7 days each", "within_days: {param: one_week}", vec![x("2026-03-08")], utc, true),
        ("within_days reads the parameter's weeks: 8 days is outside", "within_days: {param: one_week}", vec![x("2026-03-07")], utc, false),
        ("within_days compares calendar dates in the time zone (UTC: 8 March)", "within_days: 7", vec![x("2026-03-08T03:00:00Z")], utc, true),
        ("within_days compares calendar dates in the time zone (Chicago: 7 March)", "within_days: 7", vec![x("2026-03-08T03:00:00Z")], chicago, false),
        ("within_hours 24 counts a result exactly 24 h ago", "within_hours: 24", vec![x("2026-03-14T12:00:00Z")], utc, true),
        ("within_hours 24 ignores a result 24 h and 1 s ago", "within_hours: 24", vec![x("2026-03-14T11:59:59Z")], utc, false),
        ("within_hours reads the result's offset (12:30+01:00 is 25 h 30 ago)", "within_hours: 24", vec![x("2026-03-14T12:30:00+01:00")], utc, false),
        ("within_hours reads the result's offset (13:00+01:00 is 24 h ago)", "within_hours: 24", vec![x("2026-03-14T13:00:00+01:00")], utc, true),
        ("within_hours takes a date-only result as midnight (today)", "within_hours: 24", vec![x("2026-03-15")], utc, true),
        ("within_hours takes a date-only result as midnight (yesterday, 36 h)", "within_hours: 24", vec![x("2026-03-14")], utc, false),
        ("within_hours reads a parameter in days as 24 h each (inside)", "within_hours: {param: one_day}", vec![x("2026-03-14T12:00:00Z")], utc, true),
        ("within_hours reads a parameter in days as 24 h each (outside)", "within_hours: {param: one_day}", vec![x("2026-03-14T11:00:00Z")], utc, false),
        ("before counts a result on the anchor's date", "before: {of: anchor}", vec![y("2026-03-10T08:00:00Z"), x("2026-03-10T20:00:00Z")], utc, true),
        ("before ignores a result the day after the anchor", "before: {of: anchor}", vec![y("2026-03-10"), x("2026-03-11")], utc, false),
        ("before minus_days 2 counts a result 2 days before the anchor", "before: {of: anchor, minus_days: 2}", vec![y("2026-03-10"), x("2026-03-08")], utc, true),
        ("before minus_days 2 ignores a result 1 day before the anchor", "before: {of: anchor, minus_days: 2}", vec![y("2026-03-10"), x("2026-03-09")], utc, false),
        ("before finds nothing when the anchor is missing", "before: {of: anchor}", vec![x("2026-03-01")], utc, false),
        ("an undated result counts when the query has no window", "", vec![undated.clone()], utc, true),
        ("an undated result is outside every window", "within_days: 36500", vec![undated], utc, false),
    ];
    let vs = [codes("x", &["X"]), codes("y", &["Y"])];
    for (case, window, resources, call, fires) in rows {
        let sep = if window.is_empty() { "" } else { ", " };
        let r = rule("t", "{exists: found}")
            .any_patient()
            .params("{one_day: {value: 1, unit: d, description: d}, one_week: {value: 1, unit: wk, description: w}}")
            .bind(&format!(
                "{{anchor: {{latest: {{results: y}}}}, found: {{latest: {{results: x{sep}{window}}}}}}}"
            ));
        let pack = compile(&[r], &vs);
        assert_eq!(call.fires(&pack, &record(&resources), "t"), fires, "{case}");
    }
}

#[test]
fn the_within_condition_holds_for_a_finding_recent_enough() {
    let utc = At::default();
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, At, bool)> = vec![
        // (case, within:, record, call, the condition holds)
        ("days 7 holds for a finding 7 days ago", "days: 7", vec![x("2026-03-08T23:00:00Z")], utc, true),
        ("days 7 fails for a finding 8 days ago", "days: 7", vec![x("2026-03-07T23:00:00Z")], utc, false),
        ("days 0 holds for a finding today", "days: 0", vec![x("2026-03-15T00:10:00Z")], utc, true),
        ("days 0 fails for a finding yesterday", "days: 0", vec![x("2026-03-14T23:50:00Z")], utc, false),
        ("days reads the newest finding, not an older one", "days: 7", vec![x("2026-03-10"), x("2026-01-01")], utc, true),
        ("days reads a parameter in weeks (7 days)", "days: {param: one_week}", vec![x("2026-03-08")], utc, true),
        ("days reads a parameter in weeks (8 days is out)", "days: {param: one_week}", vec![x("2026-03-07")], utc, false),
        ("days compares calendar dates in the time zone", "days: 7", vec![x("2026-03-08T03:00:00Z")], utc.tz(Tz::America__Chicago), false),
        ("hours 24 holds exactly 24 h after", "hours: 24", vec![x("2026-03-14T12:00:00Z")], utc, true),
        ("hours 24 fails 24 h and 1 s after", "hours: 24", vec![x("2026-03-14T11:59:59Z")], utc, false),
        ("hours reads a parameter in days (1 d = 24 h)", "hours: {param: one_day}", vec![x("2026-03-14T12:00:00Z")], utc, true),
        ("hours reads a parameter in days (25 h is out)", "hours: {param: one_day}", vec![x("2026-03-14T11:00:00Z")], utc, false),
        ("never holds without a finding", "days: 36500", vec![], utc, false),
        ("never holds for an undated finding", "days: 36500", vec![with(x(NOW), "effectiveDateTime", Value::Null)], utc, false),
    ];
    let vs = [codes("x", &["X"])];
    for (case, within, resources, call, holds) in rows {
        let r = rule("t", &format!("{{within: {{of: found, {within}}}}}"))
            .any_patient()
            .params("{one_day: {value: 1, unit: d, description: d}, one_week: {value: 1, unit: wk, description: w}}")
            .bind("{found: {latest: {results: x}}}");
        let pack = compile(&[r], &vs);
        assert_eq!(call.fires(&pack, &record(&resources), "t"), holds, "{case}");
    }
}
