//! Counts: `{count: <query>}` is how many items the query finds, after its filters and window.

use serde_json::Value;

use crate::engine::test_support::*;

fn x(when: &str) -> Value {
    result("X", when, qty(0.4, "10*9/L"))
}

#[test]
fn a_count_is_the_number_of_items_the_query_finds() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, &str)> = vec![
        // (case, query, record, the card says "<count> found")
        ("nothing found counts 0", "{results: x}", vec![], "0 found"),
        ("every matching result counts", "{results: x}", vec![x("2026-03-10"), x("2026-03-11"), x("2026-03-12")], "3 found"),
        ("a result of another code does not count", "{results: x}", vec![x("2026-03-10"), result("Z", "2026-03-11", qty(0.4, "10*9/L"))], "1 found"),
        ("a preliminary result does not count", "{results: x}", vec![x("2026-03-10"), with(x("2026-03-11"), "status", "preliminary".into())], "1 found"),
        ("the window limits the count", "{results: x, within_days: 7}", vec![x("2026-03-14"), x("2026-03-08"), x("2026-03-07")], "2 found"),
        ("since_day counts from day 0", "{results: x, since_day: 0}", vec![x("2026-03-01"), x("2026-02-28")], "1 found"),
        ("the value filter limits the count (le 0.5 in 10*9/L)", "{results: x, unit: 10*9/L, value: {le: 0.5}}",
            vec![result("X", "2026-03-10", qty(500.0, "/uL")), result("X", "2026-03-11", qty(0.6, "10*9/L")), x("2026-03-12")], "2 found"),
        ("a result in an unconvertible unit does not count", "{results: x, unit: 10*9/L}",
            vec![x("2026-03-10"), result("X", "2026-03-11", qty(0.4, "mg/dL"))], "1 found"),
        ("an empty value set counts nothing", "{results: nothing}", vec![x("2026-03-10")], "0 found"),
        ("medications count by their own source", "{medications: m}",
            vec![medication("MedicationAdministration", "completed", "M", "2026-03-10"), medication("MedicationRequest", "active", "M", "2026-03-11"), x("2026-03-12")], "2 found"),
        ("conditions count by their own source", "{conditions: c}",
            vec![condition("C", "active", "confirmed", "2026-03-10"), condition("C", "resolved", "confirmed", "2026-03-11")], "1 found"),
    ];
    let vs = [
        codes("x", &["X"]),
        codes("m", &["M"]),
        codes("c", &["C"]),
        valueset("nothing", ""),
    ];
    for (case, query, resources, says) in rows {
        let r = rule("t", "{ge: [{var: n}, 0]}")
            .bind(&format!("{{n: {{num: {{count: {query}}}}}}}"))
            .summary("{{n}} found");
        let mut record = resources;
        record.push(yescarta(DAY0));
        assert_eq!(summary_of(r, &vs, &record).as_deref(), Some(says), "{case}");
    }
}

#[test]
fn a_count_compared_with_a_threshold_fires_at_the_threshold() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, usize, bool)> = vec![
        // (case, when, results on record, the rule fires)
        ("twice fires with two results", "{ge: [{count: {results: x}}, 2]}", 2, true),
        ("twice does not fire with one", "{ge: [{count: {results: x}}, 2]}", 1, false),
        ("none fires with no result", "{lt: [{count: {results: x}}, 1]}", 0, true),
        ("none does not fire with one result", "{lt: [{count: {results: x}}, 1]}", 1, false),
        ("a count compares with a parameter", "{ge: [{count: {results: x}}, {param: times}]}", 3, true),
        ("a count below the parameter does not fire", "{ge: [{count: {results: x}}, {param: times}]}", 2, false),
    ];
    for (case, when, n, fires) in rows {
        let r = rule("t", when).params("{times: {value: 3, unit: \"1\", description: t}}");
        let mut record: Vec<Value> = (0..n).map(|i| x(&format!("2026-03-1{i}"))).collect();
        record.push(yescarta(DAY0));
        assert_eq!(
            summary_of(r, &[codes("x", &["X"])], &record).is_some(),
            fires,
            "{case}"
        );
    }
}
