//! Value sets as a query matches them against a record: exact codes, code prefixes, and
//! case-insensitive whole-word text on `CodeableConcept.text` and `Coding.display`, vetoed by
//! `exclude_text`; `value_in` on a result's value and interpretation.

use serde_json::{json, Value};

use crate::engine::test_support::*;

const ATC: &str = "http://www.whocc.no/atc";

fn coded(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

fn text(t: &str) -> Value {
    json!({"text": t})
}

#[test]
fn a_value_set_matches_codes_prefixes_and_whole_words() {
    let code = |c: &str| format!("codes: [{{system: \"{SYS}\", code: {c}, status: local}}]");
    let prefix = |c: &str| format!("prefixes: [{{system: \"{ATC}\", code: {c}, status: M}}]");
    #[rustfmt::skip]
    let rows: Vec<(&str, String, Value, bool)> = vec![
        // (case, entries of value set v, the result's code, the query finds it)
        ("an exact code matches", code("A1"), coded(SYS, "A1"), true),
        ("the same code in another system does not", code("A1"), coded("http://other.example/codes", "A1"), false),
        ("a longer code is not an exact match", code("A1"), coded(SYS, "A12"), false),
        ("a trailing slash on the system is ignored", code("A1"), coded(&format!("{SYS}/"), "A1"), true),
        ("a coding without a system does not match", code("A1"), json!({"coding": [{"code": "A1"}]}), false),
        ("any coding of the concept may match", code("A1"), json!({"coding": [{"system": SYS, "code": "B2"}, {"system": SYS, "code": "A1"}]}), true),
        ("a prefix matches a code of its class", prefix("L01A"), coded(ATC, "L01AA09"), true),
        ("a prefix matches the class code itself", prefix("L01A"), coded(ATC, "L01A"), true),
        ("a prefix does not match a broader code", prefix("L01A"), coded(ATC, "L01"), false),
        ("a prefix does not match a sibling class", prefix("L01A"), coded(ATC, "L01BA01"), false),
        ("a prefix does not match another system", prefix("L01A"), coded(SYS, "L01AA09"), false),
        ("text matches the concept's text", "text: [{match: Privigen}]".into(), text("Privigen 10% solution"), true),
        ("text ignores case", "text: [{match: Privigen}]".into(), text("PRIVIGEN"), true),
        ("text matches a coding's display", "text: [{match: Privigen}]".into(),
            json!({"coding": [{"system": "http://local.example", "code": "123", "display": "privigen infusion"}]}), true),
        ("text matches whole words only", "text: [{match: Privigen}]".into(), text("Privigenx"), false),
        ("text matches a phrase whatever the punctuation", "text: [{match: immune globulin intravenous}]".into(),
            text("Immune Globulin, Intravenous (Human)"), true),
        ("text matches the words in order only", "text: [{match: immune globulin intravenous}]".into(),
            text("intravenous immune globulin"), false),
        ("text does not match a code", "text: [{match: A1}]".into(), coded(SYS, "A1"), false),
        ("exclude_text vetoes a text match", "text: [{match: detected}]\nexclude_text: [not detected]".into(), text("CMV DNA not detected"), false),
        ("exclude_text leaves other texts matching", "text: [{match: detected}]\nexclude_text: [not detected]".into(), text("CMV DNA detected"), true),
        ("exclude_text does not veto a code match", format!("{}\nexclude_text: [not detected]", code("A1")),
            json!({"coding": [{"system": SYS, "code": "A1"}], "text": "not detected"}), true),
        ("include: a value set has the codes of those it includes", "include: [w]".into(), coded(SYS, "W1"), true),
        ("an empty value set never matches", String::new(), text("anything"), false),
    ];
    for (case, entries, code, found) in rows {
        let r = rule("t", "{exists: found}").bind("{found: {latest: {results: v}}}");
        let vs = [valueset("v", &entries), codes("w", &["W1"])];
        let record = [
            yescarta(DAY0),
            observation(code, "2026-03-10", qty(1.0, "1")),
        ];
        assert_eq!(summary_of(r, &vs, &record).is_some(), found, "{case}");
    }
}

#[test]
fn value_in_reads_the_coded_or_text_value_and_the_interpretation() {
    #[rustfmt::skip]
    let rows: Vec<(&str, Value, bool)> = vec![
        // (case, the result's value / interpretation, value_in: positive finds it)
        ("a coded value whose text says detected", json!({"valueCodeableConcept": {"text": "Detected"}}), true),
        ("a coded value whose display says reactive", json!({"valueCodeableConcept": {"coding": [{"system": "http://lab.example", "code": "R", "display": "Reactive"}]}}), true),
        ("a coded value in the value set's codes", json!({"valueCodeableConcept": {"coding": [{"system": SYS, "code": "POS"}]}}), true),
        ("a text value", json!({"valueString": "HBsAg reactive"}), true),
        ("a negation vetoes the text", json!({"valueString": "Not detected"}), false),
        ("a negation vetoes the coded value's text", json!({"valueCodeableConcept": {"text": "non reactive"}}), false),
        ("an interpretation that says positive", json!({"valueQuantity": {"value": 12}, "interpretation": [{"text": "Positive"}]}), true),
        ("an interpretation coded without a display in the set", json!({"interpretation": [{"coding": [{"system": "http://lab.example", "code": "POS"}]}]}), false),
        ("a number alone is not positive", json!({"valueQuantity": {"value": 12}}), false),
        ("no value at all", json!({}), false),
    ];
    let positive = valueset(
        "positive",
        &format!(
            "codes: [{{system: \"{SYS}\", code: POS, status: local}}]\n\
            text: [{{match: positive}}, {{match: reactive}}, {{match: detected}}]\n\
            exclude_text: [negative, not detected, non reactive]"
        ),
    );
    for (case, value, found) in rows {
        let r = rule("t", "{exists: found}")
            .bind("{found: {latest: {results: x, numeric: false, value_in: positive}}}");
        let record = [yescarta(DAY0), result("X", "2026-03-10", value)];
        let vs = [codes("x", &["X"]), positive.clone()];
        assert_eq!(summary_of(r, &vs, &record).is_some(), found, "{case}");
    }
}

/// Many rules of one call match the same record texts (a call splits each text into words
/// once): each rule still counts the results its own words match, whichever rule asks first.
#[test]
fn each_rule_of_a_call_counts_the_texts_its_own_words_match() {
    let names = [
        "Hemoglobin [Mass/volume] in Blood",
        "Hemoglobin [Mass/volume] in Blood",
        "Platelets [#/volume] in Blood",
        "hemoglobin A1c",
    ];
    let resources: Vec<Value> = names
        .iter()
        .map(|n| observation(text(n), "2026-03-10", qty(1.0, "1")))
        .chain([yescarta(DAY0)])
        .collect();
    #[rustfmt::skip]
    let rows: [(&str, &str, &str); 5] = [
        // (rule, its text entry, the card says "<count>")
        ("hb", "hemoglobin", "3"),
        ("hb-mass", "hemoglobin mass volume", "2"),
        ("plt", "platelets", "1"),
        ("blood", "in blood", "3"),
        ("a1c", "A1c", "1"),
    ];
    let rules: Vec<RuleText> = rows
        .iter()
        .map(|(id, _, _)| {
            rule(id, "{hook: [patient-view]}")
                .bind(&format!("{{n: {{num: {{count: {{results: {id}}}}}}}}}"))
                .summary("{{n}}")
        })
        .collect();
    let vs: Vec<String> = rows
        .iter()
        .map(|(id, words, _)| valueset(id, &format!("text: [{{match: {words}}}]")))
        .collect();
    let pack = compile(&rules, &vs);
    let findings = At::default().findings(&pack, &record(&resources));
    for (id, words, says) in rows {
        let summary = findings
            .iter()
            .find(|f| f.rule_id == id)
            .map(|f| f.summary.as_str());
        assert_eq!(summary, Some(says), "{id}: results matching {words:?}");
    }
}
