//! Tests of the one-pass reader against the ordinary decode.

use super::*;
use serde_json::json;

/// The ordinary reading of a page: the full `Value`, each resource through
/// [`crate::decode`] (what `Page::Value` gives the record).
fn ordinary(value: &Value) -> Page {
    let read = |r: &Value| Read {
        resource_type: r["resourceType"].as_str().unwrap_or_default().to_owned(),
        facts: crate::decode(r),
    };
    let next = next_of(value.get("link"));
    match value {
        Value::Null => Page::Null,
        v if v["resourceType"] == "Bundle" => Page::Bundle {
            entries: v["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e.get("resource").map(read))
                .collect(),
            next,
        },
        v => Page::Resource {
            read: Box::new(read(v)),
            next,
        },
    }
}

/// Reads `value`'s text in one pass; `None` when it fell back to the ordinary parse.
fn one_pass(value: &Value) -> Option<Page> {
    let text = serde_json::to_vec(value).expect("serialisable");
    match read_page(&text).expect("valid JSON") {
        Page::Value(v) => {
            assert_eq!(&v, value, "the fallback is the ordinary parse");
            None
        }
        page => Some(page),
    }
}

#[test]
fn one_pass_reading_equals_the_ordinary_decode_over_every_fixture() {
    let corpus = crate::tests::corpus();
    let mut read = 0;
    for value in &corpus {
        if let Some(page) = one_pass(value) {
            assert_eq!(page, ordinary(value), "{value}");
            read += 1;
        }
    }
    // Every resource and Bundle of the fixtures and bench patients starts with
    // `resourceType`, except the hostile ones written to fall back.
    assert!(
        read > 1000 && read + 20 > corpus.len(),
        "{read} of {}",
        corpus.len()
    );
}

#[test]
fn blank_required_and_wrongly_shaped_elements_read_as_the_projection_does() {
    let deep = (0..40).fold(json!(null), |v, _| json!([v]));
    let deep_value = (0..40).fold(json!("x"), |v, _| json!([v]));
    let mut cluttered = crate::project::tests::cluttered_observation();
    cluttered["valueQuantity"] = json!({"value": 38.50, "unit": "Cel"});
    let cases = [
        cluttered,
        json!({"resourceType": "Condition", "subject": {"identifier": {"value": "1"}}}),
        json!({"resourceType": "Condition", "subject": {"display": "", "x": [null]}}),
        json!({"resourceType": "Condition", "subject": {"x": deep}}),
        json!({"resourceType": "Condition", "subject": {"x": deep_value}}),
        json!({"resourceType": "Condition", "subject": {"reference": "Patient/1"},
            "code": {"coding": [{"code": "x"}], "text": 5}}),
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "component": [{"code": {"extension": [{"url": "u"}]}, "valueInteger": 7},
                          {"code": {}, "valueInteger": 3_000_000_000_i64}]}),
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "valueInteger": 12, "interpretation": {"text": "H"}}),
        json!({"resourceType": "Observation", "status": ["final"], "code": {"text": "x"}}),
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "valueBoolean": "true"}),
        json!({"resourceType": "Observation", "status": "final", "code": "x"}),
        json!({"resourceType": "Observation", "id": 7, "code": {"text": "x"}}),
        json!({"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01",
            "link": [{"relation": "next", "url": "https://x/next"}]}),
        json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}),
        json!({"resourceType": "Basic", "id": "b1"}),
        json!({"resourceType": "not a type", "id": "b1"}),
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": "x"}, {"resource": {"resourceType": "Patient", "id": "p1"}},
            {"resource": {"resourceType": "Bundle", "entry": [{"resource": {}}]}}],
            "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "b"}]}),
        json!({"resourceType": "Bundle"}),
        json!(null),
    ];
    // Blankness at the projection's depth limit: nested just within it and just beyond.
    let boundary = (10..20).map(|n| {
        let nested = (0..n).fold(json!({"y": null}), |v, _| json!([v]));
        json!({"resourceType": "Condition", "subject": {"x": nested}})
    });
    for case in cases.iter().cloned().chain(boundary) {
        let case = &case;
        let page = one_pass(case).unwrap_or_else(|| panic!("fell back: {case}"));
        assert_eq!(page, ordinary(case), "{case}");
    }
}

#[test]
fn input_one_pass_cannot_read_takes_the_ordinary_parse() {
    for text in [
        r#"{"id": "p1", "resourceType": "Patient"}"#,
        r#"{"resourceType": "Patient", "gender": "male", "gender": "female"}"#,
        r#"{"resourceType": "Condition", "subject": {"x": 1, "x": null}}"#,
        r#"{"resourceType": "Bundle", "entry": {"resource": {}}}"#,
        r#"{"resourceType": "Bundle", "entry": [5]}"#,
        r#"{"resourceType": "Bundle", "entry": [{"resource": 5}]}"#,
        r#"{"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}"#,
        r#"{"resourceType": 5}"#,
        r#"{"resourceType": "Patient", "gender": "\ud800"}"#,
        r#"[]"#,
        r#""Patient""#,
        r#"7"#,
    ] {
        match read_page(text.as_bytes()) {
            Ok(Page::Value(v)) => {
                let ordinary: Value = serde_json::from_str(text).expect("JSON");
                assert_eq!(v, ordinary, "{text}");
            }
            Ok(page) => panic!("read in one pass: {text} -> {page:?}"),
            Err(e) => {
                let plain = serde_json::from_str::<Value>(text).expect_err("invalid");
                assert_eq!(e.to_string(), plain.to_string(), "{text}");
            }
        }
    }
}

#[test]
fn repeated_members_that_are_skipped_are_read_in_one_pass_as_the_ordinary_parse_reads_them() {
    // Repeated names of members no projection writes, where their blankness is not needed
    // (the resource's own members, optional elements' members): nothing written changes.
    for text in [
        r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "note": [{"text": "a"}], "note": [], "meta": {"a": 1, "a": 2}}"#,
        r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "valueQuantity": {"value": 1.5, "unit": "g/dL", "x": 1, "x": {"y": 2}}}"#,
        r#"{"resourceType": "Bundle", "entry": [{"fullUrl": "a", "fullUrl": "b",
            "resource": {"resourceType": "Patient", "id": "p", "gender": "male"}}]}"#,
        r#"{"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "valueQuantity": {"value": 1.5, "unit": {"a": 1, "a": 2}}}"#,
    ] {
        let value: Value = serde_json::from_str(text).expect("JSON");
        let page = read_page(text.as_bytes()).expect("JSON");
        assert!(!matches!(page, Page::Value(_)), "fell back: {text}");
        assert_eq!(page, ordinary(&value), "{text}");
    }
    // Repeated members that are read, or whose blankness decides a required element, still
    // take the ordinary parse (which keeps the last).
    for text in [
        r#"{"resourceType": "Observation", "status": "final", "code": {"text": "a", "text": "b"}}"#,
        r#"{"resourceType": "Observation", "code": {"text": "x"}, "resourceType": "Condition"}"#,
        r#"{"resourceType": "Observation", "id": "1", "code": {"text": "x"}, "id": "2"}"#,
        r#"{"resourceType": "Bundle", "entry": [], "entry": [{"resource": {"resourceType": "Patient"}}]}"#,
        r#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"},
            "resource": {"resourceType": "Basic"}}]}"#,
        r#"{"resourceType": "Observation", "status": "final", "code": {"x": null, "x": 1}}"#,
    ] {
        let value: Value = serde_json::from_str(text).expect("JSON");
        match read_page(text.as_bytes()).expect("JSON") {
            Page::Value(v) => assert_eq!(v, value, "{text}"),
            page => panic!("read in one pass: {text} -> {page:?}"),
        }
    }
}

#[test]
fn invalid_json_is_the_ordinary_error() {
    for bad in [
        &b"{"[..],
        b"{\"resourceType\": \"Patient\",}",
        b"nul",
        b"\xff",
        b"{} x",
    ] {
        let plain = serde_json::from_slice::<Value>(bad).expect_err("invalid");
        let read = read_page(bad).expect_err("invalid");
        assert_eq!(read.to_string(), plain.to_string());
    }
}

#[test]
fn prefetch_objects_keep_the_last_of_a_repeated_key() {
    let text = br#"{"a": null, "b": {"resourceType": "Patient", "id": "1"}, "a": {"resourceType": "Basic"}}"#;
    let all = || PagesSeed {
        max_resources: usize::MAX,
    };
    let pages = try_stream(text, all())
        .expect("one pass")
        .expect("an object");
    assert_eq!(pages.len(), 2);
    assert!(matches!(&pages["a"], Page::Resource { read, .. } if read.resource_type == "Basic"));
    assert_eq!(try_stream(b"null", all()), Some(None));
    assert_eq!(try_stream(b"[]", all()), None);
    assert_eq!(try_stream(b"5", all()), None);
}

#[test]
fn next_links_outcomes_and_counts_read_the_same_on_both_paths() {
    let bundle = json!({"resourceType": "Bundle", "entry": [{"fullUrl": "x"}, {}],
        "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "b"}]});
    let outcome = json!({"resourceType": "OperationOutcome"});
    for (value, next, is_outcome, count) in [
        (bundle, Some("b"), false, 2),
        (outcome, None, true, 1),
        (json!(null), None, false, 0),
    ] {
        let read = one_pass(&value).expect("one pass");
        for page in [read, Page::Value(value.clone())] {
            assert_eq!(page.next_link(), next, "{page:?}");
            assert_eq!(page.is_operation_outcome(), is_outcome, "{page:?}");
            assert_eq!(page.resource_count(), count, "{page:?}");
            assert_eq!(page.is_null(), value.is_null(), "{page:?}");
        }
    }
}

#[test]
fn prefetch_objects_over_the_resource_limit_are_left_to_the_ordinary_parse() {
    let text = br#"{"p": {"resourceType": "Patient", "id": "1"}, "n": null,
        "b": {"resourceType": "Bundle", "entry": [{"fullUrl": "x"},
            {"resource": {"resourceType": "Condition"}}]}, "e": {"resourceType": "Bundle"}}"#;
    let within = |max_resources| try_stream(text, PagesSeed { max_resources });
    let pages = within(3).expect("3 resources").expect("an object");
    assert_eq!(pages.values().map(Page::resource_count).sum::<usize>(), 3);
    assert_eq!(within(2), None);
    assert_eq!(within(0), None);
}

/// Every page of the fixtures small enough to edit many times: resource and Bundle files, and
/// each prefetch value of the hook requests.
fn small_pages() -> Vec<Vec<u8>> {
    let mut pages = Vec::new();
    for path in crate::tests::corpus_files() {
        let Ok(value) = serde_json::from_slice::<Value>(&std::fs::read(&path).expect("readable"))
        else {
            continue;
        };
        let values: Vec<&Value> = match value.get("prefetch").and_then(Value::as_object) {
            Some(prefetch) => prefetch.values().collect(),
            None if value.get("resourceType").is_some() => vec![&value],
            None => Vec::new(),
        };
        pages.extend(
            values
                .into_iter()
                .map(|v| serde_json::to_vec(v).expect("serialisable"))
                .filter(|text| text.len() <= 16_384),
        );
    }
    pages
}

/// Whatever the one-pass reader reads, edited or not, is valid JSON and reads as the ordinary
/// decode of that JSON reads.
#[test]
fn edited_pages_read_in_one_pass_equal_the_ordinary_decode() {
    use super::json::tests::{mutate, Rng};
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut read, mut total) = (0, 0);
    let pages = small_pages();
    assert!(pages.len() > 100, "only {} pages", pages.len());
    for page in &pages {
        for _ in 0..25 {
            let edited = mutate(page, &mut rng);
            total += 1;
            if let Some(one_pass) = try_stream(&edited, PageSeed) {
                let value = serde_json::from_slice::<Value>(&edited)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&edited)));
                assert_eq!(one_pass, ordinary(&value), "{value}");
                read += 1;
            }
        }
    }
    // Most edits break the JSON; some thousands still read.
    assert!(
        read * 10 > total,
        "{read} of {total} edits read in one pass"
    );
}

/// serde_json reads an object whose member is named with its private number token as a number
/// (and refuses it when the value is not a number's text): the one-pass path leaves such input
/// to it, so both paths accept and refuse the same pages.
#[test]
fn a_member_named_with_the_number_token_takes_the_ordinary_parse() {
    let text = br#"{"resourceType": "Patient", "id": "1",
        "extension": {"$serde_json::private::Number": "abc"}}"#;
    assert_eq!(try_stream(text, PageSeed), None);
    let plain = serde_json::from_slice::<Value>(text).expect_err("not a number");
    assert_eq!(
        read_page(text).expect_err("refused").to_string(),
        plain.to_string()
    );
    let text = br#"{"resourceType": "Patient", "id": "1", "birthDate": {"$serde_json::private::Number": "1"}}"#;
    assert_eq!(try_stream(text, PageSeed), None);
    assert!(matches!(read_page(text), Ok(Page::Value(_))));
}
