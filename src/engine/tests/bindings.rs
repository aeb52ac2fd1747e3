//! Query bindings: `latest` is the newest item the query finds, `previous` the second newest,
//! both after the query's filters and window.

use serde_json::Value;

use crate::engine::test_support::*;

fn x(when: &str, value: f64) -> Value {
    result("X", when, qty(value, "1"))
}

#[test]
fn latest_and_previous_are_the_newest_two_items_the_query_finds() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, Option<&str>)> = vec![
        // (case, query filters, record, the card says)
        ("latest is the newest by date whatever the record order", "",
            vec![x("2026-03-10", 1.5), x("2026-03-14", 3.5), x("2026-03-12", 2.5)], Some("latest 3.5 on 2026-03-14, previous 2.5")),
        ("previous is none on record with a single result", "",
            vec![x("2026-03-10", 1.5)], Some("latest 1.5 on 2026-03-10, previous none on record")),
        ("nothing found: the rule does not fire", "", vec![], None),
        ("the time orders two results of one day", "",
            vec![x("2026-03-14T20:00:00Z", 2.5), x("2026-03-14T08:00:00Z", 1.5)], Some("latest 2.5 on 2026-03-14, previous 1.5")),
        ("instants are compared, not local clock times", "",
            vec![x("2026-03-14T10:00:00+05:00", 1.5), x("2026-03-14T06:00:00Z", 2.5)], Some("latest 2.5 on 2026-03-14, previous 1.5")),
        ("a value filter applies first: the newest passing result is latest", "value: {ge: 2}",
            vec![x("2026-03-14", 1.5), x("2026-03-12", 2.5)], Some("latest 2.5 on 2026-03-12, previous none on record")),
        ("previous is the second newest passing result", "value: {ge: 2}",
            vec![x("2026-03-14", 2.5), x("2026-03-13", 1.5), x("2026-03-12", 3.5)], Some("latest 2.5 on 2026-03-14, previous 3.5")),
        ("a window applies first: an old result is not previous", "within_days: 3",
            vec![x("2026-03-14", 1.5), x("2026-03-01", 2.5)], Some("latest 1.5 on 2026-03-14, previous none on record")),
        ("a status filter applies first: a preliminary newer result is skipped", "",
            vec![x("2026-03-10", 1.5), with(x("2026-03-14", 9.5), "status", "preliminary".into())], Some("latest 1.5 on 2026-03-10, previous none on record")),
    ];
    for (case, filters, resources, says) in rows {
        let sep = if filters.is_empty() { "" } else { ", " };
        let r = rule("t", "{exists: last}")
            .bind(&format!(
                "{{last: {{latest: {{results: x{sep}{filters}}}}}, prev: {{previous: {{results: x{sep}{filters}}}}}}}"
            ))
            .summary("latest {{last.value}} on {{last.date}}, previous {{prev.value}}");
        let mut record = resources;
        record.push(yescarta(DAY0));
        assert_eq!(
            summary_of(r, &[codes("x", &["X"])], &record).as_deref(),
            says,
            "{case}"
        );
    }
}

#[test]
fn latest_and_previous_compare_as_a_trend() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, bool)> = vec![
        // (case, query filters, record, "rising" fires: latest > previous)
        ("a rising value fires", "", vec![x("2026-03-10", 1.5), x("2026-03-14", 2.5)], true),
        ("a falling value does not", "", vec![x("2026-03-10", 2.5), x("2026-03-14", 1.5)], false),
        ("a stable value does not", "", vec![x("2026-03-10", 2.5), x("2026-03-14", 2.5)], false),
        ("a single value has no trend", "", vec![x("2026-03-14", 2.5)], false),
        ("values in different units are compared in the query's unit (300 mg/dL then 3.5 g/L)", ", unit: mg/dL",
            vec![result("X", "2026-03-10", qty(300.0, "mg/dL")), result("X", "2026-03-14", qty(3.5, "g/L"))], true),
        ("values in different units are compared in the query's unit (4 g/L then 350 mg/dL)", ", unit: mg/dL",
            vec![result("X", "2026-03-10", qty(4.0, "g/L")), result("X", "2026-03-14", qty(350.0, "mg/dL"))], false),
    ];
    for (case, unit, resources, fires) in rows {
        let r = rule("t", "{gt: [{value_of: last}, {value_of: prev}]}").bind(&format!(
            "{{last: {{latest: {{results: x{unit}}}}}, prev: {{previous: {{results: x{unit}}}}}}}"
        ));
        let mut record = resources;
        record.push(yescarta(DAY0));
        assert_eq!(
            summary_of(r, &[codes("x", &["X"])], &record).is_some(),
            fires,
            "{case}"
        );
    }
}
