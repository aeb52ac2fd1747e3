//! Rule references: `rule: <id>` holds when that rule is active and its condition (with its
//! own cohort requirement, bindings and parameters) holds; a draft or retired rule holds for no
//! one, so retiring a rule neither silences nor fires the rules that refer to it.

use serde_json::Value;

use crate::engine::test_support::*;

fn fever(value: f64) -> Value {
    result("T", "2026-03-15T08:00:00Z", qty(value, "Cel"))
}

#[test]
fn a_rule_reference_holds_when_the_active_rule_it_names_holds() {
    let febrile =
        || rule("a", "{exists: f}").bind("{f: {latest: {results: temp, value: {ge: 38}}}}");
    #[rustfmt::skip]
    let rows: Vec<(&str, RuleText, &str, Vec<Value>, bool)> = vec![
        // (case, referenced rule a, condition of rule b (any patient), record, b fires)
        ("an active rule that holds", febrile(), "{rule: a}", vec![yescarta(DAY0), fever(38.5)], true),
        ("an active rule that does not hold", febrile(), "{rule: a}", vec![yescarta(DAY0), fever(37.0)], false),
        ("a draft rule that would hold holds for no one", febrile().status("draft"), "{rule: a}", vec![yescarta(DAY0), fever(38.5)], false),
        ("a retired rule that would hold holds for no one", febrile().status("retired"), "{rule: a}", vec![yescarta(DAY0), fever(38.5)], false),
        ("not of a draft rule holds: a draft does not silence", febrile().status("draft"), "{not: {rule: a}}", vec![yescarta(DAY0), fever(38.5)], true),
        ("not of a retired rule holds", febrile().status("retired"), "{not: {rule: a}}", vec![yescarta(DAY0), fever(38.5)], true),
        ("not of an active rule that holds silences", febrile(), "{not: {rule: a}}", vec![yescarta(DAY0), fever(38.5)], false),
        ("the referenced rule's cohort requirement counts", febrile(), "{rule: a}", vec![fever(38.5)], false),
        ("a referenced rule for every patient holds without CAR-T", febrile().any_patient(), "{rule: a}", vec![fever(38.5)], true),
        ("the referenced rule's condition holds whatever hooks it runs on", febrile().hooks("[order-sign]"), "{rule: a}", vec![yescarta(DAY0), fever(38.5)], true),
        ("the referenced rule reads its own parameters",
            rule("a", "{ge: [{value_of: f}, {param: limit}]}").params("{limit: {value: 38, unit: Cel, description: l}}").bind("{f: {latest: {results: temp, unit: Cel}}}"),
            "{rule: a}", vec![yescarta(DAY0), fever(38.5)], true),
        ("a chain of references: c holds when b's reference to a holds", febrile(), "{rule: c}", vec![yescarta(DAY0), fever(38.5)], true),
        ("a chain of references through a draft holds for no one", febrile().status("draft"), "{rule: c}", vec![yescarta(DAY0), fever(38.5)], false),
    ];
    for (case, a, when, resources, fires) in rows {
        // b has a parameter named like a's, which a must not read.
        let b = rule("b", when)
            .any_patient()
            .params("{limit: {value: 40, unit: Cel, description: l}}");
        let c = rule("c", "{rule: a}").any_patient().hooks("[order-select]");
        let pack = compile(&[a, b, c], &[codes("temp", &["T"])]);
        assert_eq!(
            At::default().fires(&pack, &record(&resources), "b"),
            fires,
            "{case}"
        );
    }
}
