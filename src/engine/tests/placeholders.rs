//! Card placeholders: what the clinician reads in place of `{{day}}`, `{{product}}`,
//! `{{param.x}}`, `{{binding.value}}`… and when the value is not known.

use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::engine::test_support::*;

/// A temperature of 100.4 [degF] at 08:00 UTC on 15 March, coded with a display.
fn fever() -> Value {
    let code = json!({"coding": [{"system": SYS, "code": "T", "display": "Body temperature"}]});
    observation(code, "2026-03-15T08:00:00Z", qty(100.4, "[degF]"))
}

#[test]
fn a_placeholder_is_filled_with_what_the_clinician_reads() {
    let utc = At::default();
    let infusion = procedure(
        json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0540T"}]}),
        "completed",
        DAY0,
    );
    let uncoded = observation(
        json!({"coding": [{"system": SYS, "code": "T"}]}),
        "2026-03-14T08:00:00Z",
        qty(37.0, "Cel"),
    );
    #[rustfmt::skip]
    let rows: Vec<(&str, &str, Vec<Value>, At, &str)> = vec![
        // (case, template, record (the rule is for every patient), call, the card says)
        ("day is day N", "{{day}}", vec![yescarta(DAY0)], utc, "14"),
        ("day0 is day 0's date", "{{day0}}", vec![yescarta(DAY0)], utc, "2026-03-01"),
        ("product is the brand and name", "{{product}}", vec![yescarta(DAY0)], utc, "Yescarta (axicabtagene ciloleucel)"),
        ("target is the product's target", "{{target}}", vec![administered("Q2055", DAY0)], utc, "BCMA"),
        ("product when only an uncoded infusion is on record", "{{product}}", vec![infusion.clone()], utc, "CAR-T therapy (product not recorded)"),
        ("target when the product is unknown", "{{target}}", vec![infusion], utc, "unknown target"),
        ("day is unknown for a patient without CAR-T", "day {{day}}", vec![], utc, "day unknown"),
        ("day0 is unknown for a patient without CAR-T", "{{day0}}", vec![], utc, "unknown"),
        ("today is the date of the call", "{{today}}", vec![], utc, "2026-03-15"),
        ("today is the date in the time zone", "{{today}}", vec![], at("2026-03-15T20:00:00Z").tz(Tz::Asia__Shanghai), "2026-03-16"),
        ("patient.ref names the patient", "{{patient.ref}}", vec![], utc, "Patient/p1"),
        ("param prints the value and its unit", "{{param.igg}}", vec![], utc, "400 mg/dL"),
        ("param prints days as days", "{{param.window}}", vec![], utc, "28 days"),
        ("param prints hours as hours", "{{param.lookback}}", vec![], utc, "24 hours"),
        ("param prints a product's own value", "{{param.window}}", vec![administered("Q2058", DAY0)], utc, "56 days"),
        ("a query binding alone is its display", "{{t}}", vec![fever()], utc, "Body temperature"),
        ("display falls back to the code", "{{t.display}}", vec![uncoded.clone()], utc, "T"),
        ("value is as recorded, with its unit", "{{t.value}}", vec![fever()], utc, "100.4 °F"),
        ("a numeric binding is in the query's unit", "{{n}}", vec![fever()], utc, "38 °C"),
        ("date is the calendar date", "{{t.date}}", vec![fever()], utc, "2026-03-15"),
        ("time is in UTC", "{{t.time}}", vec![fever()], utc, "2026-03-15 08:00 +00:00"),
        ("time is in the time zone", "{{t.time}}", vec![fever()], utc.tz(Tz::America__Chicago), "2026-03-15 03:00 -05:00"),
        ("ref is Type/id", "{{t.ref}}", vec![uncoded.clone(), fever()], utc, "Observation/r1"),
        ("date of an undated result", "{{t.date}}", vec![with(fever(), "effectiveDateTime", Value::Null)], utc, "undated"),
        ("a binding that found nothing", "{{t}}", vec![], utc, "none on record"),
        ("the value of a binding that found nothing", "{{t.value}}", vec![], utc, "none on record"),
        ("the date of a binding that found nothing", "{{t.date}}", vec![], utc, "none on record"),
        ("a numeric binding that is unknown", "{{n}}", vec![], utc, "unknown"),
        ("a text binding", "{{name}}", vec![fever()], utc, "Body temperature"),
        ("a text binding that found nothing", "{{name}}", vec![], utc, "none on record"),
        ("a list prints the items whose condition holds", "{{list.found}}", vec![fever()], utc, "temperature 100.4 °F"),
        ("an empty list prints none", "{{list.found}}", vec![], utc, "none"),
        ("count of a list", "{{count.found}} found", vec![fever()], utc, "1 found"),
        ("count of an empty list", "{{count.found}} found", vec![], utc, "0 found"),
        ("text around placeholders is kept", "T {{t.value}} on day {{day}}.", vec![yescarta(DAY0), fever()], utc, "T 100.4 °F on day 14."),
        ("a card variant replaces the summary when its condition holds", "{{day}}", vec![yescarta(DAY0), result("A", NOW, qty(1.0, "1"))], utc, "variant on day 14"),
    ];
    for (case, template, resources, call, says) in rows {
        let r = rule("t", "{hook: [patient-view]}")
            .any_patient()
            .params(
                "{igg: {value: 400, unit: mg/dL, description: i}, lookback: {value: 24, unit: h, description: l}, \
                 window: {value: 28, unit: d, description: w, products: {obe-cel: 56}}}",
            )
            .bind(
                "{t: {latest: {results: temp}}, n: {num: {value_of: c}}, c: {latest: {results: temp, unit: Cel}}, \
                 alarm: {latest: {results: alarm}}, name: {text: {of: t, expr: \"code.coding.display\"}}}",
            )
            .lists("{found: [{when: {exists: t}, text: \"temperature {{t.value}}\"}, {when: {exists: alarm}, text: never}]}")
            .card("variants: [{when: {exists: alarm}, summary: \"variant on day {{day}}\"}]")
            .summary(template);
        let pack = compile(&[r], &[codes("temp", &["T"]), codes("alarm", &["A"])]);
        let summary = call.summary(&pack, &record(&resources), "t");
        assert_eq!(summary.as_deref(), Some(says), "{case}");
    }
}
