//! Validation: `rules check` (and every pack import) refuses a rule that names an unknown
//! parameter, value set, binding, list, rule, unit, hook or placeholder, reporting the file and
//! the path of each problem, so that an author can find it.

use crate::engine::test_support::*;

/// The rule every row breaks in one place: a valid rule (the first row checks it is).
fn base() -> RuleText {
    rule("t", "{all: [{day: {from: 0, to: {param: end}}}, {exists: fever}]}")
        .params("{end: {value: 28, unit: d, description: e, min: 0}, limit: {value: 38, unit: Cel, description: l}}")
        .bind("{fever: {latest: {results: temp, unit: Cel, value: {ge: {param: limit}}, within_hours: 24}}}")
        .summary("Fever {{fever.value}} on day {{day}}")
}

#[test]
fn an_unknown_name_is_refused_with_the_file_and_path() {
    let bind = |b: &str| base().bind(b);
    #[rustfmt::skip]
    let rows: Vec<(&str, RuleText, Option<(&str, &str)>)> = vec![
        // (case, rule t, the problem: (path in rules/t.yaml, message contains); None: accepted)
        ("the valid rule is accepted", base(), None),
        ("an unknown parameter in a day bound", base().params("{limit: {value: 38, unit: Cel, description: l}}"),
            Some(("when.all[0].day.to.param", "unknown parameter `end`"))),
        ("an unknown parameter in a query filter", base().params("{end: {value: 28, unit: d, description: e}}"),
            Some(("let.fever.latest.value.param", "unknown parameter `limit`"))),
        ("an unknown parameter in a placeholder", base().summary("{{param.nope}}"),
            Some(("card.summary", "unknown placeholder `{{param.nope}}`"))),
        ("an unknown value set", bind("{fever: {latest: {results: temperature}}}"),
            Some(("let.fever.latest.results", "unknown value set `temperature`"))),
        ("an unknown value set through source and codes", bind("{fever: {latest: {source: results, codes: temperature}}}"),
            Some(("let.fever.latest.codes", "unknown value set `temperature`"))),
        ("an unknown value set in value_in", bind("{fever: {latest: {results: temp, numeric: false, value_in: positive}}}"),
            Some(("let.fever.latest.value_in", "unknown value set `positive`"))),
        ("an unknown source", bind("{fever: {latest: {source: vitals, codes: temp}}}"),
            Some(("let.fever.latest.source", "unknown source `vitals`"))),
        ("an unknown binding in exists", base().bind("{temp: {latest: {results: temp}}}"),
            Some(("when.all[1].exists", "unknown binding `fever`"))),
        ("an unknown binding in value_of", rule("t", "{day: {to: {value_of: fevr}}}"),
            Some(("when.day.to.value_of", "unknown binding `fevr`"))),
        ("an unknown binding in before", bind("{fever: {latest: {results: temp, before: {of: ivig}}}}"),
            Some(("let.fever.latest.before.of", "unknown binding `ivig`"))),
        ("a due date after a query binding", base().due("{after: fever, every: {param: end}, day: 0}"), None),
        ("a due date after an unknown binding", base().due("{after: fevr, every: 7}"),
            Some(("due.after", "unknown binding `fevr`"))),
        ("a due date after a binding with no interval", base().due("{after: fever}"),
            Some(("due.every", "`after` needs `every`"))),
        ("a due date with an unknown parameter", base().due("{day: {param: start}}"),
            Some(("due.day.param", "unknown parameter `start`"))),
        ("an empty due date", base().due("{}"), Some(("due", "give `after` and `every`"))),
        ("a snooze on one of the card's override reasons", base().card("override_reasons: [{system: s, code: done, display: Done}], snooze: {days: 7, reasons: [done]}"), None),
        ("a snooze on a reason the card does not offer", base().card("override_reasons: [{system: s, code: done, display: Done}], snooze: {days: 7, reasons: [later]}"),
            Some(("card.snooze.reasons[0]", "`later` is not a code of card.override_reasons"))),
        ("a snooze of no days", base().card("override_reasons: [{system: s, code: done, display: Done}], snooze: {days: 0, reasons: [done]}"),
            Some(("card.snooze.days", "must be from 1 to 365"))),
        ("a snooze without reasons", base().card("snooze: {days: 7, reasons: []}"),
            Some(("card.snooze.reasons", "at least one"))),
        ("an unknown binding in within", rule("t", "{within: {of: ivig, days: 7}}"),
            Some(("when.within.of", "unknown binding `ivig`"))),
        ("a query binding used as a number", rule("t", "{day: {to: {var: fever}}}").bind("{fever: {latest: {results: temp}}}"),
            Some(("when.day.to.var", "type error: `fever` is a query; use value_of"))),
        ("the value of a query without values", rule("t", "{exists: c}").bind("{c: {latest: {conditions: temp}}}").summary("{{c.value}}"),
            Some(("card.summary", "unknown placeholder `{{c.value}}`"))),
        ("an unknown attribute of a binding", base().summary("{{fever.valu}}"),
            Some(("card.summary", "unknown placeholder `{{fever.valu}}`"))),
        ("an unknown placeholder in a list item", base().lists("{why: [{when: {exists: fever}, text: \"{{fevr}}\"}]}"),
            Some(("lists.why[0].text", "unknown placeholder `{{fevr}}`"))),
        ("an unknown list", rule("t", "{nonempty: why}"), Some(("when.nonempty", "unknown list `why`"))),
        ("an unknown rule", rule("t", "{rule: no-such-rule}"), Some(("when.rule", "unknown rule `no-such-rule`"))),
        ("an unknown unit in a query", bind("{fever: {latest: {results: temp, unit: kelvinish}}}"),
            Some(("let.fever.latest.unit", "unknown unit `kelvinish`"))),
        ("an unknown unit of a parameter", base().params("{end: {value: 28, unit: days, description: e}, limit: {value: 38, unit: Cel, description: l}}"),
            Some(("parameters.end.unit", "unknown unit `days`"))),
        ("a parameter below its minimum", base().params("{end: {value: -1, unit: d, description: e, min: 0}, limit: {value: 38, unit: Cel, description: l}}"),
            Some(("parameters.end.value", "-1 is outside"))),
        ("a product value for an unknown product", base().params("{end: {value: 28, unit: d, description: e, products: {obecel: 56}}, limit: {value: 38, unit: Cel, description: l}}"),
            Some(("parameters.end.products.obecel", "unknown product `obecel`"))),
        ("an unknown product in a condition", rule("t", "{product: [lisocel]}"), Some(("when.product", "unknown product `lisocel`"))),
        ("an unknown hook in a condition", rule("t", "{hook: [patient-open]}"), Some(("when.hook", "unknown hook `patient-open`"))),
        ("an unknown hook of the rule", base().hooks("[patient-view, chart-open]"), Some(("hooks[1]", "unknown hook `chart-open`"))),
        ("a filter that does not apply to the source", bind("{fever: {latest: {conditions: temp, unit: Cel}}}"),
            Some(("let.fever.latest.unit", "`unit` does not apply to conditions"))),
        ("a within with both days and hours", rule("t", "{within: {of: f, days: 7, hours: 24}}").bind("{f: {latest: {results: temp}}}"),
            Some(("when.within", "give exactly one of days or hours"))),
    ];
    for (case, r, problem) in rows {
        check(case, r, problem);
    }
}

/// Asserts that the pack of rule `r` is accepted (`None`) or refused with a problem of
/// `rules/t.yaml` at `path` whose message contains `message`.
fn check(case: &str, r: RuleText, problem: Option<(&str, &str)>) {
    match (try_compile(&[r], &[codes("temp", &["T"])]), problem) {
        (Ok(_), None) => {}
        (Ok(_), Some((path, _))) => panic!("{case}: accepted, expected a problem at {path}"),
        (Err(problems), None) => panic!("{case}: refused: {problems:?}"),
        (Err(problems), Some((path, message))) => assert!(
            problems
                .iter()
                .any(|p| p.file == "rules/t.yaml" && p.path == path && p.message.contains(message)),
            "{case}: expected rules/t.yaml: {path}: {message}, got {problems:?}"
        ),
    }
}

/// The path of a problem in an operand of a comparison (`lt`, `le`, `gt`, `ge`) or of
/// arithmetic (`add`, `sub`, `mul`, `div`) leaves out the operator: `when[0].var` for
/// `when: {ge: [{var: x}, 1]}`, where every other condition and number names its key
/// (`when.day.to.var`, `when.within.of`). `when[0]` is no path of the document.
#[test]
fn an_operand_of_a_comparison_or_arithmetic_is_reported_under_its_operator() {
    #[rustfmt::skip]
    let rows: Vec<(&str, RuleText, Option<(&str, &str)>)> = vec![
        // (case, rule t, the problem: (path in rules/t.yaml, message contains))
        ("an unknown binding in ge", rule("t", "{ge: [{value_of: fevr}, 38]}"),
            Some(("when.ge[0].value_of", "unknown binding `fevr`"))),
        ("an unknown parameter on the right of lt", rule("t", "{all: [{lt: [1, {param: nope}]}]}"),
            Some(("when.all[0].lt[1].param", "unknown parameter `nope`"))),
        ("an unknown parameter in add", rule("t", "{day: {to: {add: [1, {param: nope}]}}}"),
            Some(("when.day.to.add[1].param", "unknown parameter `nope`"))),
    ];
    for (case, r, problem) in rows {
        check(case, r, problem);
    }
}
