use super::*;
use chrono::DateTime;
use sonic_rs::json;

struct Site;

impl<'a> Env<'a> for Site {
    fn variable(&self, name: &str) -> Option<Collection<'a>> {
        (name == "threshold").then(|| vec![Item::Integer(400)])
    }
    fn member_of(&self, item: &Item<'a>, id: &str) -> bool {
        let Item::Node { value, .. } = item else {
            return false;
        };
        id == "ivig" && value.to_string().contains("J06BA02")
    }
    fn now(&self) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-03-01T09:00:00+01:00").unwrap()
    }
}

fn test(expr: &str, resource: &Value) -> Option<bool> {
    compile(expr).unwrap().test(resource, &Site).unwrap()
}

#[test]
fn errors_name_the_column() {
    let e = compile("status = 'final' and code.coding.exists(").unwrap_err();
    assert!(e.column > 30, "{e}");
    let e = compile("code.memberof('x')").unwrap_err();
    assert_eq!((e.column, e.message.contains("memberof")), (6, true));
    let e = compile("value.ofType(Quantity).count(1)").unwrap_err();
    assert_eq!(e.column, 24, "{e}");
    assert_eq!(compile("code.memberOf(%vs)").unwrap_err().column, 6);
    assert_eq!(compile("'unterminated").unwrap_err().column, 14);
}

#[test]
fn reports_value_sets_and_variables_with_columns() {
    let e = compile("code.memberOf('ivig') and %threshold > 1").unwrap();
    assert_eq!(e.value_sets().collect::<Vec<_>>(), [("ivig", 6)]);
    assert_eq!(e.variables().collect::<Vec<_>>(), [("threshold", 27)]);
}

#[test]
fn choice_elements_are_found_by_their_stem_and_typed_by_their_suffix() {
    let obs = json!({"resourceType": "Observation", "valueQuantity": {"value": 350, "unit": "mg/dL", "code": "mg/dL"},
        "effectiveDateTime": "2026-02-20"});
    assert_eq!(
        test("value.ofType(Quantity).value <= %threshold", &obs),
        Some(true)
    );
    assert_eq!(
        test("value.ofType(CodeableConcept).exists()", &obs),
        Some(false)
    );
    assert_eq!(test("value > 300 'mg/dL'", &obs), Some(true));
    assert_eq!(
        test("value > 300 'g/L'", &obs),
        None,
        "no UCUM conversion: undecided"
    );
    assert_eq!(
        test(
            "Observation.value.exists() and Condition.exists().not()",
            &obs
        ),
        Some(true)
    );
}

#[test]
fn dates_compare_with_today_and_durations() {
    let given = |d: &str| json!({"resourceType": "MedicationAdministration", "status": "completed", "effectiveDateTime": d});
    let recent = "effective >= today() - 28 days";
    assert_eq!(
        test(recent, &given("2026-02-01")),
        Some(true),
        "28 days before 1 March"
    );
    assert_eq!(test(recent, &given("2026-01-31")), Some(false));
    assert_eq!(
        test(recent, &given("2026-02-01T08:00:00+01:00")),
        None,
        "a time against a date is undecided"
    );
    assert_eq!(
        test(
            "effective.toDate() >= today() - 4 weeks",
            &given("2026-02-01T08:00:00+01:00")
        ),
        Some(true)
    );
    assert_eq!(
        test(
            "effective < now() - 24 hours",
            &given("2026-02-28T08:00:00+01:00")
        ),
        Some(true)
    );
}

#[test]
fn member_of_asks_the_environment() {
    let med = json!({"resourceType": "MedicationRequest", "status": "stopped",
        "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J06BA02"}]}});
    assert_eq!(
        test(
            "medication.memberOf('ivig') and status in ('active' | 'completed')",
            &med
        ),
        Some(false)
    );
    assert_eq!(
        test("medication.memberOf('ivig') and status = 'stopped'", &med),
        Some(true)
    );
    assert_eq!(test("medication.memberOf('scig')", &med), Some(false));
}

#[test]
fn three_valued_logic_and_string_functions() {
    let c = json!({"resourceType": "Condition", "code": {"text": "Acute Myeloid Leukemia"}});
    assert_eq!(
        test("code.text.lower().contains('myeloid')", &c),
        Some(true)
    );
    assert_eq!(
        test("code.text.startsWith('Acute') implies onset.exists()", &c),
        Some(false)
    );
    assert_eq!(
        test("onset.exists().not() or onset > @2020-01-01", &c),
        Some(true)
    );
    assert_eq!(test("onset > @2020-01-01", &c), None);
    assert_eq!(test("(onset > @2020-01-01) or true", &c), Some(true));
    assert_eq!(
        test("code.coding.all(system = 'x')", &c),
        Some(true),
        "all() of nothing is true"
    );
}

#[test]
fn a_type_mismatch_at_run_time_is_an_error_not_a_panic() {
    let obs = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}});
    let expr = compile("status > 5").unwrap();
    assert!(expr.test(&obs, &Site).is_err());
    let two = json!({"resourceType": "Patient", "name": [{"given": ["a", "b"]}]});
    assert!(compile("name.given.single() = 'a'")
        .unwrap()
        .test(&two, &Site)
        .is_err());
}

#[test]
fn a_union_of_strings_is_one_list_and_other_unions_still_deduplicate() {
    let obs = json!({"resourceType": "Observation", "status": "amended"});
    assert_eq!(
        test("status in ('final' | 'amended' | 'final')", &obs),
        Some(true)
    );
    let count = |e: &str| compile(e).unwrap().evaluate(&obs, &Site).unwrap().len();
    assert_eq!(count("'final' | 'amended' | 'final'"), 2);
    assert_eq!(count("1 | 1.0"), 1, "1 = 1.0, so the union keeps one");
    assert_eq!(count("status | 'amended'"), 1);
}

/// `find_map` sees what `evaluate` finds, in its order and without the union's duplicates, and
/// fails where `evaluate` fails, however early it finds its answer.
#[test]
fn find_map_sees_the_union_as_evaluate_gives_it() {
    let obs = json!({"resourceType": "Observation", "status": "final",
        "effectivePeriod": {"start": "2026-02-01", "end": "2026-02-03"},
        "issued": "2026-02-01T00:00:00Z",
        "code": {"coding": [{"code": "a"}, {"code": "b"}]}});
    let date = "effective.ofType(dateTime) | effective.ofType(Period).start \
        | effective.ofType(instant) | issued";
    let exprs = [
        date,
        "issued | effective.ofType(Period).start | effective.ofType(Period).end",
        "effective.ofType(Period).end | code.coding.code | status | code.coding.code",
        "code.coding.code",
        "1 | 1.0 | 2",
    ];
    for source in exprs {
        let expr = compile(source).unwrap();
        let all: Vec<String> = (expr.evaluate(&obs, &Site).unwrap().iter())
            .map(|i| format!("{i:?}"))
            .collect();
        for stop in 0..=all.len() {
            let mut seen = Vec::new();
            let found = expr
                .find_map(&obs, &Site, |i| {
                    seen.push(format!("{i:?}"));
                    (seen.len() > stop).then_some(seen.len())
                })
                .unwrap();
            assert_eq!(seen, all[..(stop + 1).min(all.len())], "{source}, {stop}");
            assert_eq!(found, (stop < all.len()).then_some(stop + 1), "{source}");
        }
    }
    // The first branch has the date, and a later one fails (two codings, one expected): the
    // union fails, and so does find_map.
    let failing = compile("effective.ofType(Period).start | code.coding.code.single()").unwrap();
    let error = failing.evaluate(&obs, &Site).unwrap_err();
    assert_eq!(failing.find_map(&obs, &Site, |_| Some(())), Err(error));
    assert_eq!(
        compile("code.coding.code.single() | issued")
            .unwrap()
            .find_map(&obs, &Site, |_| Some(()))
            .unwrap_err()
            .0,
        "a single value was expected, found 2"
    );
}

#[test]
fn an_element_of_the_exact_name_comes_before_a_choice_element_of_that_stem() {
    let odd: Value = sonic_rs::from_str(
        r#"{"resourceType": "Observation", "valueString": "x", "value": 5,
        "effectivePeriod": {"start": "2026-01-01"}, "effectiveDateTime": "2026-02-01"}"#,
    )
    .unwrap();
    let first = |e: &str| format!("{:?}", compile(e).unwrap().evaluate(&odd, &Site).unwrap());
    assert_eq!(first("value"), first("value.ofType(integer) | 5"));
    assert_eq!(first("value.ofType(String)"), "[]");
    // Two choice members of one stem (invalid FHIR): the first in the object is the element.
    assert_eq!(first("effective.ofType(dateTime)"), "[]");
    assert_eq!(first("effective.start"), first("effectivePeriod.start"));
}

#[test]
fn a_member_that_only_starts_with_the_name_is_not_a_choice_element() {
    let request: Value = sonic_rs::from_str(
        r#"{"resourceType": "MedicationRequest", "dosageInstruction": [{"text": "daily"}],
        "codeX": "y", "medicationCodeableConcept": {"text": "entecavir"}}"#,
    )
    .unwrap();
    let found = |e: &str| {
        format!(
            "{:?}",
            compile(e).unwrap().evaluate(&request, &Site).unwrap()
        )
    };
    assert_eq!(found("dosage"), "[]", "dosageInstruction is not dosage[x]");
    assert_eq!(found("code"), "[]", "X is not a FHIR type");
    assert_eq!(
        found("medication.text"),
        found("medicationCodeableConcept.text")
    );
    assert_ne!(found("medication.text"), "[]");
}
