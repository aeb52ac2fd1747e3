//! Day N: the `day: {from, to}` condition and `{patient: day}`, counted in calendar days of the
//! configured time zone from day 0 (the first administration of the most recent course).

use chrono_tz::Tz;
use serde_json::Value;

use crate::engine::test_support::*;

/// A CAR-T recipient whose administration (a statement) has no date: day 0 is unknown.
fn undated_recipient() -> Value {
    let statement = with(yescarta(DAY0), "resourceType", "MedicationStatement".into());
    with(
        with(statement, "status", "active".into()),
        "effectiveDateTime",
        Value::Null,
    )
}

#[test]
fn the_day_condition_holds_between_its_bounds_inclusive() {
    let on_day_14 = || vec![yescarta(DAY0)];
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, bool)> = vec![
        // (case, when, record, the rule fires) — at NOW, day 14 after DAY0
        ("from 0 to 14 holds on day 14", "{day: {from: 0, to: 14}}", on_day_14(), true),
        ("from 0 to 13 fails on day 14", "{day: {from: 0, to: 13}}", on_day_14(), false),
        ("from 14 holds on day 14", "{day: {from: 14}}", on_day_14(), true),
        ("from 15 fails on day 14", "{day: {from: 15}}", on_day_14(), false),
        ("to 14 holds on day 14", "{day: {to: 14}}", on_day_14(), true),
        ("to 13 fails on day 14", "{day: {to: 13}}", on_day_14(), false),
        ("from 0 holds on day 0 itself", "{day: {from: 0, to: 0}}", vec![yescarta("2026-03-15")], true),
        ("from 0 fails the day before day 0 (day -1)", "{day: {from: 0}}", vec![yescarta("2026-03-16")], false),
        ("no bounds holds on any known day", "{day: {}}", vec![yescarta("2020-01-01")], true),
        ("no bounds fails when day 0 is unknown (undated administration)", "{day: {}}", vec![undated_recipient()], false),
        ("no bounds fails for a patient who received no CAR-T", "{day: {}}", vec![], false),
        ("to from a parameter in days (14 d)", "{day: {from: 0, to: {param: d14}}}", on_day_14(), true),
        ("to from a parameter in days (13 d)", "{day: {from: 0, to: {param: d13}}}", on_day_14(), false),
        ("to from a parameter in weeks (2 wk = day 14)", "{day: {from: 0, to: {param: wk2}}}", on_day_14(), true),
        ("from a parameter in weeks (2 wk = day 14) on day 13", "{day: {from: {param: wk2}}}", vec![yescarta("2026-03-02")], false),
        ("patient day as a number: ge 14 on day 14", "{ge: [{patient: day}, 14]}", on_day_14(), true),
        ("patient day as a number: gt 14 on day 14", "{gt: [{patient: day}, 14]}", on_day_14(), false),
        ("patient day is unknown without day 0: lt 1000 fails", "{lt: [{patient: day}, 1000]}", vec![undated_recipient()], false),
    ];
    for (case, when, resources, fires) in rows {
        let r = rule("t", when).any_patient().params(
            "{d14: {value: 14, unit: d, description: d}, d13: {value: 13, unit: d, description: d}, wk2: {value: 2, unit: wk, description: w}}",
        );
        let pack = compile(&[r], &[]);
        assert_eq!(
            At::default().fires(&pack, &record(&resources), "t"),
            fires,
            "{case}"
        );
    }
}

#[test]
fn day_n_counts_calendar_days_in_the_time_zone() {
    #[rustfmt::skip]
    let rows: Vec<(&str, Tz, &str, &str, &str)> = vec![
        // (case, time zone, now, administration, the card says)
        ("UTC: 1 March to 15 March is day 14", Tz::UTC, NOW, "2026-03-01T12:00:00Z", "day 14 since 2026-03-01"),
        ("UTC: an infusion at 03:00 UTC on 2 March is day 0 on 2 March", Tz::UTC, NOW, "2026-03-02T03:00:00Z", "day 13 since 2026-03-02"),
        ("Chicago: the same infusion was on the evening of 1 March", Tz::America__Chicago, NOW, "2026-03-02T03:00:00Z", "day 14 since 2026-03-01"),
        ("Chicago: 04:59 UTC on 16 March is still 15 March", Tz::America__Chicago, "2026-03-16T04:59:00Z", DAY0, "day 14 since 2026-03-01"),
        ("Chicago: 05:00 UTC on 16 March is 16 March (daylight time)", Tz::America__Chicago, "2026-03-16T05:00:00Z", DAY0, "day 15 since 2026-03-01"),
        ("Chicago: the change to daylight time (8 March) does not add a day", Tz::America__Chicago, "2026-03-09T12:00:00Z", "2026-03-07T12:00:00Z", "day 2 since 2026-03-07"),
        ("Shanghai: 20:00 UTC on 15 March is 16 March", Tz::Asia__Shanghai, "2026-03-15T20:00:00Z", "2026-03-01T12:00:00Z", "day 15 since 2026-03-01"),
        ("Tokyo: a date-only administration is day 0 on its date", Tz::Asia__Tokyo, NOW, DAY0, "day 14 since 2026-03-01"),
    ];
    for (case, tz, now, given, says) in rows {
        let r = rule("t", "{hook: [patient-view]}").summary("day {{day}} since {{day0}}");
        let pack = compile(&[r], &[]);
        let summary = at(now)
            .tz(tz)
            .summary(&pack, &record(&[yescarta(given)]), "t");
        assert_eq!(summary.as_deref(), Some(says), "{case}");
    }
}
