//! Tests of the JSON reader against serde_json.

use super::*;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

/// `json` read into a `Value` by this reader, as text; `None` when refused.
fn ours(json: &[u8], max_depth: usize) -> Option<String> {
    let mut reader = Reader::new(std::str::from_utf8(json).ok()?, max_depth);
    let value = Value::deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(value.to_string())
}

fn theirs(json: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(json)
        .ok()
        .map(|v| v.to_string())
}

/// `json` skipped whole by this reader.
fn skipped(json: &[u8], max_depth: usize) -> bool {
    let Ok(text) = std::str::from_utf8(json) else {
        return false;
    };
    let mut reader = Reader::new(text, max_depth);
    IgnoredAny::deserialize(&mut reader).is_ok() && reader.end().is_ok()
}

/// Holds a `\u` escape of a surrogate, or what looks like one (refused by this reader,
/// checked by `serde_json`).
fn has_surrogate_escape(json: &[u8]) -> bool {
    json.windows(4).any(|w| {
        w[..2] == *b"\\u"
            && matches!(w[2], b'd' | b'D')
            && matches!(w[3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
    })
}

/// Reads and skips `json` as `serde_json` does: the same text when both read it, and
/// refused exactly when `serde_json` refuses it (surrogate escapes aside, refused here).
fn assert_agrees(json: &[u8]) {
    let (read, expected) = (ours(json, usize::MAX), theirs(json));
    let skip = skipped(json, usize::MAX);
    let text = String::from_utf8_lossy(json);
    if has_surrogate_escape(json) {
        assert!(read.is_none() && !skip, "{text}");
        return;
    }
    assert_eq!(read, expected, "{text}");
    // serde_json skips nesting of any depth; it does not check UTF-8 in skipped strings.
    let skips = serde_json::from_slice::<IgnoredAny>(json).is_ok();
    assert_eq!(skip, skips && std::str::from_utf8(json).is_ok(), "{text}");
}

#[test]
fn numbers_read_as_serde_json_reads_them() {
    for number in [
        "0",
        "-0",
        "7",
        "-7",
        "1.50",
        "-0.0",
        "1e5",
        "1E5",
        "1e+5",
        "1E-5",
        "2.5e0",
        "0.000001",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "01",
        "-01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "1.e5",
        "--1",
        "0x1",
        "1_0",
        "Infinity",
        "NaN",
        "1.5.5",
    ] {
        for json in [
            number.to_owned(),
            format!("[{number}]"),
            format!("{{\"v\": {number}, \"w\": [ {number} , 1]}}"),
        ] {
            assert_agrees(json.as_bytes());
        }
    }
}

#[test]
fn strings_read_as_serde_json_reads_them() {
    for string in [
        r#""""#,
        r#""plain""#,
        r#""a\"b\\c\/d""#,
        r#""\b\f\n\r\t""#,
        r#""\u00e9\u0041""#,
        r#""\u0000""#,
        r#""\uD83D\uDE00""#,
        r#""\ud800""#,
        r#""\x""#,
        r#""\u12G4""#,
        r#""\u12""#,
        "\"tab\there\"",
        "\"new\nline\"",
        r#""unterminated"#,
        r#""µ€𝄞""#,
        r#""\"#,
        r#""a\"#,
    ] {
        for json in [
            string.to_owned(),
            format!("{{{string}: {string}}}"),
            format!("[{string}, {{\"k\": [{string}]}}]"),
        ] {
            assert_agrees(json.as_bytes());
        }
    }
}

#[test]
fn structure_is_checked_as_serde_json_checks_it() {
    for json in [
        "{}",
        "[]",
        " { } ",
        "{\"a\":1,}",
        "[1,]",
        "[,1]",
        "{,\"a\":1}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{1:2}",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "[",
        "]",
        "{",
        "[1,[2,[3]]]",
        "[[]",
        "[]]",
        "{\"a\":[}]",
        "true",
        "tru",
        "truex",
        "nul",
        "null null",
        "falsey",
        "\u{feff}{}",
        "{\"a\":1}\n\t\r ",
        "[true,false,null]",
        "{\"a\":{\"a\":{}}}",
    ] {
        assert_agrees(json.as_bytes());
    }
}

#[test]
fn nesting_is_limited_like_serde_json_and_by_max_depth() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // serde_json refuses the 128th array entered through a visitor, and skips any depth.
    for n in [126, 127, 128, 129] {
        assert_agrees(nested(n).as_bytes());
    }
    assert!(skipped(nested(100_000).as_bytes(), usize::MAX));
    // `max_depth` counts every open array and object, read or skipped.
    for n in 1..=70 {
        let json = format!(r#"{{"a": {}, "b": {{"c": 1}}}}"#, nested(n));
        let fits = n < 64;
        assert_eq!(ours(json.as_bytes(), 64).is_some(), fits, "{n}");
        assert_eq!(skipped(json.as_bytes(), 64), fits, "{n}");
    }
}

/// A small deterministic generator (xorshift), so that failures repeat.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One random edit of `json`: a byte deleted, inserted or replaced, or a run deleted or
/// doubled.
pub(crate) fn mutate(json: &[u8], rng: &mut Rng) -> Vec<u8> {
    const BYTES: &[u8] = b"{}[]\":,\\ \t\n0123456789-+.eEtrufalsn/ubx\x01";
    let mut out = json.to_vec();
    let at = rng.below(out.len() + 1);
    let byte = BYTES[rng.below(BYTES.len())];
    match rng.below(5) {
        0 if at < out.len() => drop(out.remove(at)),
        1 => out.insert(at, byte),
        2 if at < out.len() => out[at] = byte,
        3 => drop(out.drain(at..(at + 1 + rng.below(8)).min(out.len()))),
        _ => {
            let run = out[at..(at + 1 + rng.below(16)).min(out.len())].to_vec();
            out.splice(at..at, run);
        }
    }
    out
}

#[test]
fn edited_fixtures_read_and_fail_as_in_serde_json() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut samples = 0;
    for path in crate::tests::corpus_files() {
        let json = std::fs::read(&path).expect("readable fixture");
        assert_agrees(&json);
        if json.len() > 16_384 {
            continue;
        }
        samples += 1;
        for _ in 0..60 {
            let mut edited = mutate(&json, &mut rng);
            for _ in 0..rng.below(3) {
                edited = mutate(&edited, &mut rng);
            }
            assert_agrees(&edited);
        }
    }
    assert!(samples > 50, "only {samples} fixtures edited");
}

#[test]
fn plain_runs_end_at_the_first_stop_byte() {
    // Bytes around every edge of the word test: stops, their neighbours, high bytes.
    const BYTES: &[u8] = b"\x00\x01\x1f\x20\x21\"#[\\]a\x7f\x80\xa0\xc3\xff";
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len).map(|_| BYTES[rng.below(BYTES.len())]).collect();
        let expected = bytes.iter().position(|&b| STRING_STOP[usize::from(b)]);
        assert_eq!(plain_run(&bytes), expected, "{bytes:?}");
    }
    assert_eq!(plain_run(b"abcdefgh\"ijklmnop"), Some(8));
    assert_eq!(plain_run(b"abcdefghijklmnop"), None);
}

#[test]
fn members_named_with_serde_jsons_number_token_are_refused_anywhere() {
    // serde_json reads `{"<token>": "1.5"}` as the number 1.5 and refuses `{"<token>": "x"}`;
    // the one-pass seeds would read either as an object. Both are left to serde_json.
    for json in [
        r#"{"$serde_json::private::Number": "1.5"}"#,
        r#"{"$serde_json::private::Number": "x"}"#,
        r#"{"a": [{"$serde_json::private::Number": "1"}]}"#,
        r#"{"a": {"b": 1, "\u0024serde_json::private::Number": "1"}}"#,
    ] {
        assert_eq!(ours(json.as_bytes(), usize::MAX), None, "{json}");
        assert!(!skipped(json.as_bytes(), usize::MAX), "{json}");
    }
    assert_eq!(
        theirs(br#"{"$serde_json::private::Number": "1.5"}"#).as_deref(),
        Some("1.5")
    );
    // A string value equal to the token is an ordinary string.
    assert_agrees(br#"{"a": "$serde_json::private::Number"}"#);
}

#[test]
fn the_number_keys_visitor_gets_the_token_whatever_it_asks_for() {
    use serde::de::{DeserializeSeed, Deserializer as _, MapAccess, Visitor};
    /// Asks for the key as an enum: serde_json gives the token as a string, which an enum
    /// visitor refuses.
    #[derive(Deserialize, Debug)]
    enum Key {
        #[serde(other)]
        Other,
    }
    struct FirstKey;
    impl<'de> Visitor<'de> for FirstKey {
        type Value = Option<Key>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let key = map.next_key::<Key>()?;
            map.next_value::<IgnoredAny>()?;
            Ok(key)
        }
    }
    impl<'de> DeserializeSeed<'de> for FirstKey {
        type Value = Option<Key>;
        fn deserialize<D: serde::Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    let theirs = FirstKey.deserialize(&mut serde_json::Deserializer::from_str("1.5"));
    let mut reader = Reader::new("1.5", usize::MAX);
    let ours = (&mut reader).deserialize_any(FirstKey);
    assert_eq!(ours.is_ok(), theirs.is_ok(), "{ours:?} {theirs:?}");
}
