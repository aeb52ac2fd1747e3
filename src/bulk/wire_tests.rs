//! `Retry-After`, OperationOutcome diagnostics, line counting and file-name safety.

use std::time::{Duration, SystemTime};

use super::wire::{diagnostics, is_resource_type, read_outcome, retry_after, LineCounter};

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(retry_after(" 3 ", now), Some(Duration::from_secs(3)));
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
        Some(Duration::from_secs(30))
    );
    // A date already past: poll again without waiting (the caller's minimum still applies).
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(retry_after("soon", now), None);
    assert_eq!(retry_after("-5", SystemTime::now()), None);
}

#[test]
fn outcome_text_names_code_and_diagnostics_and_tells_transient_from_fatal() {
    let fatal = br#"{"resourceType":"OperationOutcome","issue":[
        {"severity":"error","code":"not-supported","diagnostics":"_type Foo is not supported"}]}"#;
    let o = read_outcome(fatal).unwrap();
    assert_eq!(o.text, "not-supported: _type Foo is not supported");
    assert!(!o.transient);
    let transient = br#"{"resourceType":"OperationOutcome","issue":[
        {"severity":"error","code":"transient","details":{"text":"try later"}}]}"#;
    let o = read_outcome(transient).unwrap();
    assert_eq!(o.text, "transient: try later");
    assert!(o.transient);
    assert!(read_outcome(b"<html>oops</html>").is_none());
    assert_eq!(diagnostics(b""), "no OperationOutcome in the answer");
    let long = format!(
        r#"{{"resourceType":"OperationOutcome","issue":[{{"code":"x","diagnostics":"{}\nnext"}}]}}"#,
        "a".repeat(1000)
    );
    let text = diagnostics(long.as_bytes());
    assert_eq!(text.chars().count(), 301, "bounded, with an ellipsis");
    assert!(!text.contains('\n'));
}

#[test]
fn lines_are_counted_across_chunk_boundaries() {
    let count = |chunks: &[&[u8]]| {
        let mut c = LineCounter::default();
        for chunk in chunks {
            c.feed(chunk);
        }
        c.finish()
    };
    assert_eq!(count(&[b"{\"a\":1}\n{\"b\":2}\n"]), 2);
    assert_eq!(
        count(&[b"{\"a\"", b":1}\n{\"b\"", b":2}"]),
        2,
        "no final newline"
    );
    assert_eq!(
        count(&[b"{}\n\n\n", b"{}\n"]),
        2,
        "blank lines are not resources"
    );
    assert_eq!(count(&[b"{}", b"\n"]), 1);
    assert_eq!(count(&[]), 0);
}

#[test]
fn only_resource_type_names_become_file_names() {
    assert!(is_resource_type("Observation"));
    assert!(is_resource_type("MedicationRequest"));
    for bad in [
        "",
        "observation",
        "../etc",
        "Observation/../x",
        "Obs ervation",
        "Ob.s",
    ] {
        assert!(!is_resource_type(bad), "{bad}");
    }
}
