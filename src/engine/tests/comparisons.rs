//! Comparisons: the conditions `lt`, `le`, `gt`, `ge` (false when either side is unknown; the
//! right side converted to the left side's unit) and a query's `value: {lt|le|gt|ge: N}`.

use serde_json::Value;

use crate::engine::test_support::*;

fn temp(value: f64) -> Vec<Value> {
    vec![result("T", "2026-03-15T08:00:00Z", qty(value, "Cel"))]
}

#[test]
fn a_comparison_condition_holds_by_its_operator_and_fails_when_unknown() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, bool)> = vec![
        // (case, when, record, the rule fires) — t is the latest temperature in Cel
        ("ge holds when equal", "{ge: [{value_of: t}, 38]}", temp(38.0), true),
        ("ge fails just below", "{ge: [{value_of: t}, 38]}", temp(37.9), false),
        ("gt fails when equal", "{gt: [{value_of: t}, 38]}", temp(38.0), false),
        ("gt holds just above", "{gt: [{value_of: t}, 38]}", temp(38.1), true),
        ("le holds when equal", "{le: [{value_of: t}, 38]}", temp(38.0), true),
        ("le fails just above", "{le: [{value_of: t}, 38]}", temp(38.1), false),
        ("lt fails when equal", "{lt: [{value_of: t}, 38]}", temp(38.0), false),
        ("lt holds just below", "{lt: [{value_of: t}, 38]}", temp(37.9), true),
        ("literals compare as numbers", "{lt: [2, 10]}", vec![], true),
        ("literals compare as numbers, not text", "{lt: [10, 2]}", vec![], false),
        ("lt fails when the left side is unknown (not read as 0)", "{lt: [{value_of: t}, 38]}", vec![], false),
        ("le fails when the left side is unknown (not read as 0)", "{le: [{value_of: t}, 38]}", vec![], false),
        ("gt fails when the left side is unknown (not read as 0)", "{gt: [{value_of: t}, -1]}", vec![], false),
        ("ge fails when the left side is unknown (not read as 0)", "{ge: [{value_of: t}, -1]}", vec![], false),
        ("gt fails when the right side is unknown (not read as 0)", "{gt: [30, {value_of: t}]}", vec![], false),
        ("not of an unknown comparison holds", "{not: {lt: [{value_of: t}, 38]}}", vec![], true),
        ("the right side is converted to the left's unit (100.4 [degF] = 38 Cel)", "{ge: [{value_of: t}, {param: fever_f}]}", temp(38.0), true),
        ("the right side is converted to the left's unit (37.9 Cel < 100.4 [degF])", "{ge: [{value_of: t}, {param: fever_f}]}", temp(37.9), false),
        ("incompatible units never compare (38 Cel ge 30 h)", "{ge: [{value_of: t}, {param: hours_30}]}", temp(38.0), false),
        ("incompatible units never compare (38 Cel lt 40 h)", "{lt: [{value_of: t}, {param: hours_40}]}", temp(38.0), false),
        ("a parameter compares with a literal in its own unit", "{ge: [{param: fever_f}, 100]}", vec![], true),
    ];
    let params = "{fever_f: {value: 100.4, unit: \"[degF]\", description: f}, hours_30: {value: 30, unit: h, description: h}, hours_40: {value: 40, unit: h, description: h}}";
    for (case, when, mut resources, fires) in rows {
        let r = rule("t", when)
            .params(params)
            .bind("{t: {latest: {results: temp, unit: Cel}}}");
        resources.push(yescarta(DAY0));
        let found = summary_of(r, &[codes("temp", &["T"])], &resources).is_some();
        assert_eq!(found, fires, "{case}");
    }
}

#[test]
fn a_query_value_filter_keeps_results_by_its_operator() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, f64, bool)> = vec![
        // (case, value filter, the result (10*9/L), the query finds it)
        ("le keeps an equal value", "le: 0.5", 0.5, true),
        ("le drops a greater value", "le: 0.5", 0.51, false),
        ("lt drops an equal value", "lt: 0.5", 0.5, false),
        ("lt keeps a smaller value", "lt: 0.5", 0.49, true),
        ("ge keeps an equal value", "ge: 0.5", 0.5, true),
        ("ge drops a smaller value", "ge: 0.5", 0.49, false),
        ("gt drops an equal value", "gt: 0.5", 0.5, false),
        ("gt keeps a greater value", "gt: 0.5", 0.51, true),
        ("a parameter as the bound", "le: {param: anc}", 0.5, true),
        ("a parameter as the bound, above it", "le: {param: anc}", 0.6, false),
    ];
    for (case, filter, value, found) in rows {
        let r = rule("t", "{exists: anc}")
            .params("{anc: {value: 500, unit: /uL, description: a}}")
            .bind(&format!(
                "{{anc: {{latest: {{results: anc, unit: 10*9/L, value: {{{filter}}}}}}}}}"
            ));
        let record = [
            yescarta(DAY0),
            result("A", "2026-03-14", qty(value, "10*9/L")),
        ];
        let fires = summary_of(r, &[codes("anc", &["A"])], &record).is_some();
        assert_eq!(fires, found, "{case}");
    }
}
