//! The other conditions (`all`, `any`, `not`, `hook`, `product`, `exists`, `nonempty`) and
//! numbers (`add`, `sub`, `mul`, `div`, `case`, `{patient: age}`).

use serde_json::{json, Value};

use crate::engine::test_support::*;

fn x() -> Value {
    result("X", "2026-03-14", qty(2.0, "1"))
}

fn born(date: &str) -> Value {
    json!({"resourceType": "Patient", "id": PATIENT, "birthDate": date})
}

#[test]
fn a_condition_combines_and_reads_the_call_and_the_record() {
    let pv = At::default();
    let sign = At::default().hook("order-sign");
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, At, bool)> = vec![
        // (case, when (rule for any patient on patient-view and order-sign), record, call, fires)
        ("all holds when every part holds", "{all: [{exists: x}, {hook: [patient-view]}]}", vec![x()], pv, true),
        ("all fails when one part fails", "{all: [{exists: x}, {hook: [order-sign]}]}", vec![x()], pv, false),
        ("any holds when one part holds", "{any: [{exists: nothing}, {exists: x}]}", vec![x()], pv, true),
        ("any fails when no part holds", "{any: [{exists: nothing}, {hook: [order-sign]}]}", vec![x()], pv, false),
        ("not inverts", "{not: {exists: x}}", vec![], pv, true),
        ("not inverts a holding condition", "{not: {exists: x}}", vec![x()], pv, false),
        ("hook holds on a listed hook", "{hook: [order-select, order-sign]}", vec![], sign, true),
        ("hook fails on another hook", "{hook: [order-select, order-sign]}", vec![], pv, false),
        ("product holds for a recipient of a listed product", "{product: [tisa-cel, axi-cel]}", vec![yescarta(DAY0)], pv, true),
        ("product fails for another product", "{product: [tisa-cel]}", vec![yescarta(DAY0)], pv, false),
        ("product fails when the product is not recorded", "{product: [axi-cel]}",
            vec![procedure(json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0540T"}]}), "completed", DAY0)], pv, false),
        ("exists holds for a text binding that found text", "{exists: name}", vec![with(x(), "code", json!({"text": "Ferritin", "coding": [{"system": SYS, "code": "X"}]}))], pv, true),
        ("exists fails for a text binding that found none", "{exists: name}", vec![x()], pv, false),
        ("nonempty holds when an item's condition holds", "{nonempty: why}", vec![x()], pv, true),
        ("nonempty fails when no item's condition holds", "{nonempty: why}", vec![], pv, false),
    ];
    for (case, when, resources, call, fires) in rows {
        let r = rule("t", when)
            .any_patient()
            .hooks("[patient-view, order-sign]")
            .bind("{x: {latest: {results: x}}, nothing: {latest: {results: nothing}}, name: {text: {of: x, expr: \"code.text\"}}}")
            .lists("{why: [{when: {exists: nothing}, text: a}, {when: {exists: x}, text: b}]}");
        let pack = compile(&[r], &[codes("x", &["X"]), codes("nothing", &["N"])]);
        assert_eq!(call.fires(&pack, &record(&resources), "t"), fires, "{case}");
    }
}

#[test]
fn a_number_is_computed_as_written() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, &str)> = vec![
        // (case, number n, record, the card says "n = …")
        ("add", "{add: [{value_of: x}, 3]}", vec![x()], "n = 5"),
        ("sub", "{sub: [{value_of: x}, 3]}", vec![x()], "n = -1"),
        ("mul", "{mul: [{value_of: x}, 3]}", vec![x()], "n = 6"),
        ("div", "{div: [{value_of: x}, 4]}", vec![x()], "n = 0.5"),
        ("div by zero is unknown", "{div: [{value_of: x}, 0]}", vec![x()], "n = unknown"),
        ("arithmetic on an unknown value is unknown", "{add: [{value_of: x}, 3]}", vec![], "n = unknown"),
        ("add converts the second operand to the first's unit (1 d + 2 wk)", "{add: [{param: one_day}, {param: two_weeks}]}", vec![], "n = 15 days"),
        ("sub converts too (1 d - 12 h)", "{sub: [{param: one_day}, {param: half_day}]}", vec![], "n = 0.5 days"),
        ("mul by a plain number keeps the unit", "{mul: [{param: one_day}, 3]}", vec![], "n = 3 days"),
        ("case takes the first branch that holds", "{case: {when: [{if: {exists: nothing}, then: 1}, {if: {exists: x}, then: 2}, {if: {exists: x}, then: 3}], else: 4}}", vec![x()], "n = 2"),
        ("case takes else when no branch holds", "{case: {when: [{if: {exists: x}, then: 2}], else: 4}}", vec![], "n = 4"),
        ("age in whole years, the day before the birthday", "{patient: age}", vec![born("1960-03-16")], "n = 65 years"),
        ("age in whole years, on the birthday", "{patient: age}", vec![born("1960-03-15")], "n = 66 years"),
        ("age is unknown without a birth date", "{patient: age}", vec![], "n = unknown"),
        ("day as a number", "{add: [{patient: day}, 1]}", vec![yescarta(DAY0)], "n = 15 days"),
    ];
    for (case, number, resources, says) in rows {
        let r = rule("t", "{hook: [patient-view]}")
            .any_patient()
            .params("{one_day: {value: 1, unit: d, description: d}, half_day: {value: 12, unit: h, description: h}, two_weeks: {value: 2, unit: wk, description: w}}")
            .bind(&format!("{{x: {{latest: {{results: x}}}}, nothing: {{latest: {{results: nothing}}}}, n: {{num: {number}}}}}"))
            .summary("n = {{n}}");
        let vs = [codes("x", &["X"]), codes("nothing", &["N"])];
        assert_eq!(
            summary_of(r, &vs, &resources).as_deref(),
            Some(says),
            "{case}"
        );
    }
}
