//! HL7's official FHIRPath test suite (`tests/suite/tests-fhir-r4.xml`, see its README): every
//! case that is not listed in `tests/suite/skipped.txt` must pass; a listed case that passes
//! fails the run too, so the list stays true. `SUITE_REPORT=1` prints every outcome.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use fhirpath::Value;
use fhirpath::{Env, Item, Plain, Temporal};
use quick_xml::events::Event;

#[derive(Debug, Default, Clone)]
struct Case {
    name: String,
    input: Option<String>,
    expression: String,
    invalid: Option<String>,
    predicate: Option<bool>,
    outputs: Vec<(Option<String>, String)>,
}

fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .map(|a| a.unescape_value().expect("attribute").into_owned())
}

fn cases(xml: &str) -> Vec<Case> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut out, mut case, mut text) = (Vec::new(), Case::default(), String::new());
    let mut output_type = None;
    loop {
        match reader.read_event().expect("well-formed suite") {
            Event::Start(e) => {
                text.clear();
                match e.name().as_ref() {
                    b"test" => {
                        case = Case {
                            name: attr(&e, "name").unwrap_or_default(),
                            input: attr(&e, "inputfile"),
                            predicate: attr(&e, "predicate").map(|p| p == "true"),
                            ..Case::default()
                        }
                    }
                    b"expression" => case.invalid = attr(&e, "invalid"),
                    b"output" => output_type = Some(attr(&e, "type")),
                    _ => {}
                }
            }
            Event::Empty(e) if e.name().as_ref() == b"output" => {
                case.outputs.push((attr(&e, "type"), String::new()))
            }
            Event::Text(t) => text.push_str(&t.unescape().expect("text")),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::End(e) => match e.name().as_ref() {
                b"expression" => case.expression = text.clone(),
                b"output" => case
                    .outputs
                    .push((output_type.take().flatten(), text.clone())),
                b"test" => out.push(case.clone()),
                _ => {}
            },
            Event::Eof => return out,
            _ => {}
        }
    }
}

/// The suite's clock is not fixed; `now()` and `today()` cases only compare with themselves.
struct Clock;

impl Env<'_> for Clock {
    fn now(&self) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00+00:00").expect("date")
    }
}

fn matches(item: &Item, ty: Option<&str>, expected: &str) -> bool {
    let expected = expected.trim();
    match (
        ty,
        item.plain(matches!(ty, Some("date" | "dateTime" | "time"))),
    ) {
        (_, Plain::Boolean(b)) => b.to_string() == expected,
        (_, Plain::Integer(n)) => expected.parse::<f64>() == Ok(n as f64),
        (_, Plain::Decimal(d)) => expected.parse::<f64>().is_ok_and(|e| (e - d).abs() < 1e-9),
        (_, Plain::String(s)) => s == expected,
        (_, Plain::Temporal(t)) => {
            let e = expected.trim_start_matches('@');
            Temporal::parse_literal(e)
                .is_some_and(|e| e.compare(&t, 0) == Some(std::cmp::Ordering::Equal))
        }
        (_, Plain::Quantity(v, u)) => {
            let (n, unit) = expected.split_once(' ').unwrap_or((expected, "'1'"));
            n.parse::<f64>() == Ok(v) && unit.trim_matches('\'') == u
        }
        _ => false,
    }
}

/// Runs one case: `Ok(())` when the result is the expected one, else what went wrong.
fn run(case: &Case, inputs: &BTreeMap<String, Value>) -> Result<(), String> {
    let compiled = fhirpath::compile(&case.expression);
    let expect_compile_error = matches!(case.invalid.as_deref(), Some("syntax" | "semantic"));
    let expr = match (compiled, expect_compile_error) {
        (Err(_), true) => return Ok(()),
        (Ok(_), true) => return Err("compiled, but the suite expects it refused".to_owned()),
        (Err(e), false) => return Err(format!("refused: {e}")),
        (Ok(e), false) => e,
    };
    let empty = Value::new();
    let resource = match &case.input {
        Some(f) => inputs.get(f).ok_or(format!("no input {f}"))?,
        None => &empty,
    };
    let result = expr.evaluate(resource, &Clock);
    let result = match (result, case.invalid.as_deref()) {
        (Err(_), Some("execution")) => return Ok(()),
        (Ok(_), Some("execution")) => {
            return Err("evaluated, but the suite expects an error".to_owned())
        }
        (Err(e), _) => return Err(format!("failed: {e}")),
        (Ok(r), _) => r,
    };
    let result = match case.predicate {
        Some(true) => vec![Item::Boolean(!result.is_empty())],
        _ => result,
    };
    if result.len() != case.outputs.len() {
        return Err(format!(
            "{} results, {} expected",
            result.len(),
            case.outputs.len()
        ));
    }
    for (item, (ty, text)) in result.iter().zip(&case.outputs) {
        if !matches(item, ty.as_deref(), text) {
            return Err(format!("{item:?} where {text} ({ty:?}) was expected"));
        }
    }
    Ok(())
}

#[test]
fn official_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite");
    let xml = std::fs::read_to_string(dir.join("tests-fhir-r4.xml")).expect("suite");
    let mut inputs = BTreeMap::new();
    for case in cases(&xml) {
        if let Some(f) = case.input {
            let json = dir.join(f.replace(".xml", ".json"));
            let value =
                sonic_rs::from_str(&std::fs::read_to_string(json).expect("input")).expect("json");
            inputs.insert(f, value);
        }
    }
    let skipped: BTreeMap<String, String> = std::fs::read_to_string(dir.join("skipped.txt"))
        .expect("skipped.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once(':').unwrap_or((l, ""));
            (name.trim().to_owned(), why.trim().to_owned())
        })
        .collect();
    let report = std::env::var_os("SUITE_REPORT").is_some();
    let (mut passed, mut failed, mut skipped_n, mut problems) = (0, 0, 0, Vec::new());
    for case in cases(&xml) {
        let outcome = run(&case, &inputs);
        if report {
            println!(
                "{}\t{}\t{:?}",
                case.name,
                case.expression.replace('\n', " "),
                outcome
            );
        }
        match (skipped.contains_key(&case.name), outcome) {
            (false, Ok(())) => passed += 1,
            (false, Err(e)) => {
                failed += 1;
                problems.push(format!("{}: {} -> {e}", case.name, case.expression));
            }
            (true, Ok(())) => {
                problems.push(format!("{} passes: remove it from skipped.txt", case.name))
            }
            (true, Err(_)) => skipped_n += 1,
        }
    }
    println!("FHIRPath suite: {passed} passed, {failed} failed, {skipped_n} skipped");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
