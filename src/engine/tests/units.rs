//! Units: a query's `unit:` converts each result to it (UCUM: [degF] to Cel, g/L to mg/dL,
//! /uL to 10*9/L…); a result whose unit cannot be converted is ignored, never guessed; a
//! parameter compared with a result is converted to the query's unit.

use serde_json::{json, Value};

use crate::engine::test_support::*;

fn x(value: Value) -> Value {
    result("X", "2026-03-15T08:00:00Z", value)
}

#[test]
fn a_query_unit_converts_results_and_ignores_what_it_cannot_convert() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, Option<&str>)> = vec![
        // (case, query, record, the card says "<as recorded> read as <in the query's unit>")
        ("Cel is read as recorded", "unit: Cel", vec![x(qty(38.5, "Cel"))], Some("38.5 °C read as 38.5 °C")),
        ("[degF] is converted to Cel", "unit: Cel", vec![x(qty(100.4, "[degF]"))], Some("100.4 °F read as 38 °C")),
        ("degF without brackets is converted to Cel", "unit: Cel", vec![x(qty(98.6, "degF"))], Some("98.6 °F read as 37 °C")),
        ("Cel is converted to [degF] for a query in [degF]", "unit: \"[degF]\"", vec![x(qty(38.5, "Cel"))], Some("38.5 °C read as 101.3 °F")),
        ("a result without a unit is ignored", "unit: Cel", vec![x(json!({"valueQuantity": {"value": 38.5}}))], None),
        ("a unit that cannot be converted is ignored (mmol/L for Cel)", "unit: Cel", vec![x(qty(38.5, "mmol/L"))], None),
        ("a unit of another dimension is ignored (g/L for Cel)", "unit: Cel", vec![x(qty(38.5, "g/L"))], None),
        ("an ignored newer result does not hide an older convertible one", "unit: Cel",
            vec![result("X", "2026-03-14T08:00:00Z", qty(37.2, "Cel")), x(qty(39.0, "mmol/L"))], Some("37.2 °C read as 37.2 °C")),
        ("g/L is converted to mg/dL", "unit: mg/dL", vec![x(qty(3.9, "g/L"))], Some("3.9 g/L read as 390 mg/dL")),
        ("g/dL is converted to mg/dL", "unit: mg/dL", vec![x(qty(0.39, "g/dL"))], Some("0.39 g/dL read as 390 mg/dL")),
        ("mg/L is converted to mg/dL", "unit: mg/dL", vec![x(qty(3900.0, "mg/L"))], Some("3900.0 mg/L read as 390 mg/dL")),
        ("/uL is converted to 10*9/L", "unit: 10*9/L", vec![x(qty(500.0, "/uL"))], Some("500.0 /µL read as 0.5 ×10⁹/L")),
        ("10*3/uL equals 10*9/L", "unit: 10*9/L", vec![x(qty(0.45, "10*3/uL"))], Some("0.45 ×10³/µL read as 0.45 ×10⁹/L")),
        ("a cell count in mg/dL is ignored", "unit: 10*9/L", vec![x(qty(0.45, "mg/dL"))], None),
        ("without a query unit the value keeps its own unit", "numeric: true", vec![x(qty(3.9, "g/L"))], Some("3.9 g/L read as 3.9 g/L")),
        ("a coded result has no number and is ignored by default", "numeric: true",
            vec![x(json!({"valueCodeableConcept": {"text": "positive"}}))], None),
        ("numeric: false keeps a coded result (no number to show)", "numeric: false",
            vec![x(json!({"valueCodeableConcept": {"text": "positive"}}))], Some("positive read as unknown")),
    ];
    for (case, query, resources, says) in rows {
        let r = rule("t", "{exists: t}")
            .bind(&format!(
                "{{t: {{latest: {{results: x, {query}}}}}, v: {{num: {{value_of: t}}}}}}"
            ))
            .summary("{{t.value}} read as {{v}}");
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
fn a_threshold_is_compared_in_the_query_unit() {
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Value, bool)> = vec![
        // (case, query, result, the rule fires)
        ("38 Cel catches 100.4 [degF]", "unit: Cel, value: {ge: {param: fever_cel}}", qty(100.4, "[degF]"), true),
        ("38 Cel does not catch 100.3 [degF]", "unit: Cel, value: {ge: {param: fever_cel}}", qty(100.3, "[degF]"), false),
        ("a 100.4 [degF] threshold catches 38.0 Cel", "unit: Cel, value: {ge: {param: fever_degf}}", qty(38.0, "Cel"), true),
        ("a 100.4 [degF] threshold does not catch 37.9 Cel", "unit: Cel, value: {ge: {param: fever_degf}}", qty(37.9, "Cel"), false),
        ("a 4 g/L threshold catches 390 mg/dL", "unit: mg/dL, value: {le: {param: igg_g_l}}", qty(390.0, "mg/dL"), true),
        ("a 4 g/L threshold does not catch 4.1 g/L", "unit: mg/dL, value: {le: {param: igg_g_l}}", qty(4.1, "g/L"), false),
        ("a 400 mg/dL threshold catches 4 g/L (equal)", "unit: mg/dL, value: {le: {param: igg_mg_dl}}", qty(4.0, "g/L"), true),
        ("a literal is in the query unit: le 0.5 catches 500 /uL", "unit: 10*9/L, value: {le: 0.5}", qty(500.0, "/uL"), true),
        ("a literal is in the query unit: le 0.5 does not catch 501 /uL", "unit: 10*9/L, value: {le: 0.5}", qty(501.0, "/uL"), false),
        ("a threshold in an incompatible unit never holds", "unit: Cel, value: {ge: {param: hours}}", qty(38.0, "Cel"), false),
    ];
    let params = "{fever_cel: {value: 38.0, unit: Cel, description: f}, fever_degf: {value: 100.4, unit: \"[degF]\", description: f}, \
        igg_g_l: {value: 4, unit: g/L, description: i}, igg_mg_dl: {value: 400, unit: mg/dL, description: i}, hours: {value: 1, unit: h, description: h}}";
    for (case, query, value, fires) in rows {
        let r = rule("t", "{exists: t}")
            .params(params)
            .bind(&format!("{{t: {{latest: {{results: x, {query}}}}}}}"));
        let record = [yescarta(DAY0), x(value)];
        assert_eq!(
            summary_of(r, &[codes("x", &["X"])], &record).is_some(),
            fires,
            "{case}"
        );
    }
}
