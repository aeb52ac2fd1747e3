//! Per-product parameter values: `{value: 14, products: {obe-cel: 28}}` is 28 for recipients of
//! obe-cel (the product of the most recent course) and 14 for everyone else, wherever the
//! parameter is read (conditions, query filters, card text).

use serde_json::Value;

use crate::engine::test_support::*;

fn aucatzyl(when: &str) -> Value {
    administered("Q2058", when)
}

#[test]
fn a_product_value_replaces_the_parameter_for_that_products_recipients() {
    let infusion = procedure(
        serde_json::json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0540T"}]}),
        "completed",
        DAY0,
    );
    let day20 = at("2026-03-21T12:00:00Z");
    let day29 = at("2026-03-30T12:00:00Z");
    #[rustfmt::skip]
    let rows: Vec<(&str, Vec<Value>, At, Option<&str>)> = vec![
        // (case, record, call, the card says "window <param>")
        ("axi-cel reads the value: day 14 is inside", vec![yescarta(DAY0)], At::default(), Some("window 14 days")),
        ("axi-cel reads the value: day 20 is outside", vec![yescarta(DAY0)], day20, None),
        ("obe-cel reads its own value: day 20 is inside", vec![aucatzyl(DAY0)], day20, Some("window 28 days")),
        ("obe-cel reads its own value: day 29 is outside", vec![aucatzyl(DAY0)], day29, None),
        ("an unknown product reads the value: day 14 is inside", vec![infusion.clone()], At::default(), Some("window 14 days")),
        ("an unknown product reads the value: day 20 is outside", vec![infusion], day20, None),
        ("the most recent course's product counts (obe-cel then axi-cel)", vec![aucatzyl("2025-01-01"), yescarta(DAY0)], day20, None),
        ("the most recent course's product counts (axi-cel then obe-cel)", vec![yescarta("2025-01-01"), aucatzyl(DAY0)], day20, Some("window 28 days")),
    ];
    for (case, resources, call, says) in rows {
        let r = rule("t", "{day: {from: 0, to: {param: window}}}")
            .params("{window: {value: 14, unit: d, description: w, products: {obe-cel: 28}}}")
            .summary("window {{param.window}}");
        let pack = compile(&[r], &[]);
        let summary = call.summary(&pack, &record(&resources), "t");
        assert_eq!(summary.as_deref(), says, "{case}");
    }
}

#[test]
fn a_product_value_applies_to_query_filters_and_windows() {
    #[rustfmt::skip]
    let rows: Vec<(&str, Value, f64, &str, bool)> = vec![
        // (case, administration, IgG in mg/dL, its date, the rule fires: a low IgG in the lookback)
        ("axi-cel: 450 is above the 400 threshold", yescarta(DAY0), 450.0, "2026-03-14", false),
        ("axi-cel: 400 is at the threshold", yescarta(DAY0), 400.0, "2026-03-14", true),
        ("obe-cel: 450 is under its own 500 threshold", aucatzyl(DAY0), 450.0, "2026-03-14", true),
        ("obe-cel: 550 is above its own 500 threshold", aucatzyl(DAY0), 550.0, "2026-03-14", false),
        ("axi-cel: the 90-day lookback keeps a result 2 days old", yescarta(DAY0), 400.0, "2026-03-13", true),
        ("obe-cel: its own 1-day lookback leaves out a result 2 days old", aucatzyl(DAY0), 450.0, "2026-03-13", false),
    ];
    for (case, given, igg, when, fires) in rows {
        let r = rule("t", "{exists: low}")
            .params(
                "{igg: {value: 400, unit: mg/dL, description: i, products: {obe-cel: 500}}, \
                 days: {value: 90, unit: d, description: d, products: {obe-cel: 1}}}",
            )
            .bind("{low: {latest: {results: igg, unit: mg/dL, value: {le: {param: igg}}, within_days: {param: days}}}}");
        let record = [given, result("G", when, qty(igg, "mg/dL"))];
        assert_eq!(
            summary_of(r, &[codes("igg", &["G"])], &record).is_some(),
            fires,
            "{case}"
        );
    }
}
