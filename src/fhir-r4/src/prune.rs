//! One-pass parsing of untrusted FHIR JSON (a prefetch value, a fetched page) that builds a
//! `serde_json::Value` of only what cart-sentinel reads.
//!
//! A hook request is mostly resource content no rule reads: `meta`, narrative, identifiers,
//! `category`, `performer`, reference ranges, Bundle `fullUrl` and `search`. Building a `Value`
//! tree of all of it and then projecting it was most of a call's cost (issue #6). The
//! [`Pruned`] seed keeps, while parsing:
//!
//! * at the top level: `resourceType`, `id`, `entry` (each entry pruned to its `resource`),
//!   `link`, and every element any projected type reads;
//! * in an entry's resource: `resourceType`, `id` and every element any projected type reads.
//!
//! Everything else is skipped by the parser without being built. What is kept is parsed into
//! ordinary `Value`s, so [`crate::decode`], `next_link` and the prefetch limits see exactly the
//! members they read in the full tree: the result is the full tree minus members nobody reads.
//!
//! Only well-shaped input takes this path: an `entry` that is not an array, an entry or a
//! resource that is not an object, a number where an object is expected, or any surrogate
//! escape ([`prunable`]) makes [`try_pruned`] give up, and the caller parses the same bytes the
//! ordinary way (which then reports the error, or yields the odd value that the reader skips
//! and counts as before). So pruning never changes what is accepted or how it is read; it only
//! skips building what is dropped later anyway.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// serde_json's private key for a number under `arbitrary_precision` (which fhirbolt turns
/// on): a number reaches `visit_map` as a one-member map with this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Seed for a top-level prefetch value or a fetched page: `null`, a resource or a Bundle.
pub struct Pruned;

/// Parses a page or prefetch value with [`Pruned`], falling back to an ordinary parse when the
/// input is not well shaped (see the module docs). The error is the ordinary parse's.
///
/// # Errors
///
/// The bytes are not JSON (`serde_json`'s error of the ordinary parse).
pub fn parse_pruned(json: &[u8]) -> serde_json::Result<Value> {
    match try_pruned(json, Pruned) {
        Some(value) => Ok(value),
        None => serde_json::from_slice(json),
    }
}

/// Parses the whole of `json` with a pruning `seed` ([`Pruned`], [`PrunedMap`] or a caller's
/// seed built on them). `None` when the input may not take the pruning path ([`prunable`], not
/// UTF-8) or the seed refuses its shape: the caller then parses it the ordinary way.
pub fn try_pruned<'a, S: DeserializeSeed<'a>>(json: &'a [u8], seed: S) -> Option<S::Value> {
    if !prunable(json) {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(std::str::from_utf8(json).ok()?);
    let value = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Whether `json` may take the pruning path: it holds no `\u` escape of a UTF-16 surrogate.
/// The parser skips members without decoding their strings, so a lone surrogate there would go
/// unnoticed, while the ordinary parse refuses it; such input (rare) takes the ordinary parse,
/// so both paths accept exactly the same bodies. Conservative: an escaped backslash followed by
/// `ud8…` also takes the ordinary parse.
pub fn prunable(json: &[u8]) -> bool {
    !memchr::memmem::find_iter(json, b"\\u").any(|at| {
        matches!(json.get(at + 2), Some(b'd' | b'D'))
            && matches!(
                json.get(at + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    })
}

/// Whether any projected resource type reads a member called `name` (besides `resourceType`
/// and `id`). A test checks this against the projection's tables in both directions.
pub(crate) fn is_read_element(name: &str) -> bool {
    matches!(
        name,
        "status"
            | "code"
            | "subject"
            | "patient"
            | "effectiveDateTime"
            | "effectivePeriod"
            | "effectiveInstant"
            | "issued"
            | "valueQuantity"
            | "valueCodeableConcept"
            | "valueString"
            | "valueBoolean"
            | "valueInteger"
            | "interpretation"
            | "component"
            | "clinicalStatus"
            | "verificationStatus"
            | "onsetDateTime"
            | "onsetPeriod"
            | "recordedDate"
            | "intent"
            | "medicationCodeableConcept"
            | "medicationReference"
            | "authoredOn"
            | "dateAsserted"
            | "performedDateTime"
            | "performedPeriod"
            | "vaccineCode"
            | "occurrenceDateTime"
            | "occurrenceString"
            | "class"
            | "type"
            | "serviceType"
            | "reasonCode"
            | "period"
            | "birthDate"
            | "gender"
    )
}

/// Where an object sits, which decides what of it is kept.
#[derive(Clone, Copy)]
enum Level {
    /// A prefetch value or page: a resource or a Bundle.
    Top,
    /// `Bundle.entry[i]`.
    Entry,
    /// `Bundle.entry[i].resource`.
    Resource,
}

/// What to do with one member.
enum Member {
    /// Parse as an ordinary value.
    Keep(String),
    /// `Bundle.entry`: an array of entries, pruned.
    Entries,
    /// `entry.resource`: a resource, pruned.
    Resource,
    /// Skip without building.
    Skip,
}

struct KeySeed(Level);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Member;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        if name == NUMBER_TOKEN {
            return Err(E::custom("a number where an object is expected"));
        }
        let keep = || Member::Keep(name.to_owned());
        Ok(match (self.0, name) {
            (Level::Entry, "resource") => Member::Resource,
            (Level::Entry, _) => Member::Skip,
            (Level::Top, "entry") => Member::Entries,
            (Level::Top, "link") => keep(),
            (_, "resourceType" | "id") => keep(),
            (_, name) if is_read_element(name) => keep(),
            _ => Member::Skip,
        })
    }
}

/// An object at `level`, pruned.
struct ObjectSeed(Level);

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(member) = map.next_key_seed(KeySeed(self.0))? {
            match member {
                Member::Keep(name) => {
                    out.insert(name, map.next_value()?);
                }
                Member::Entries => {
                    out.insert("entry".to_owned(), map.next_value_seed(EntriesSeed)?);
                }
                Member::Resource => {
                    let resource = map.next_value_seed(ObjectSeed(Level::Resource))?;
                    out.insert("resource".to_owned(), resource);
                }
                Member::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// `Bundle.entry`: an array of objects, each pruned.
struct EntriesSeed;

impl<'de> DeserializeSeed<'de> for EntriesSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(entry) = seq.next_element_seed(ObjectSeed(Level::Entry))? {
            entries.push(entry);
        }
        Ok(Value::Array(entries))
    }
}

impl<'de> DeserializeSeed<'de> for Pruned {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a FHIR resource or a Bundle")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        ObjectSeed(Level::Top).visit_map(map)
    }
}

/// Seed for an object whose every value is a [`Pruned`] value (a hook request's `prefetch`),
/// or `null`.
pub struct PrunedMap;

impl<'de> DeserializeSeed<'de> for PrunedMap {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        // `deserialize_any`, so that `null` is kept; a number (a map under
        // `arbitrary_precision`) fails on its private key's string value, which `Pruned` refuses.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PrunedMap {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or an object of FHIR resources and Bundles")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Pruned)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{elements_of, TABLES};
    use serde_json::json;

    #[test]
    fn read_elements_are_exactly_the_projection_tables() {
        let mut names: Vec<&str> = TABLES
            .iter()
            .flat_map(|(t, _)| elements_of(t).expect("a projected type"))
            .map(|e| e.name())
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in &names {
            assert!(is_read_element(name), "{name} is projected but pruned");
        }
        let listed = 37;
        assert_eq!(names.len(), listed, "is_read_element lists {listed} names");
        assert!(!is_read_element("meta") && !is_read_element("entry"));
    }

    #[test]
    fn bundles_keep_entries_resources_and_links_only() {
        let page = r#"{
            "resourceType": "Bundle", "type": "searchset", "total": 2,
            "meta": {"lastUpdated": "2026-01-01"},
            "link": [{"relation": "next", "url": "https://ehr/fhir/Observation?page=2"}],
            "entry": [
                {"fullUrl": "https://ehr/fhir/Observation/1", "search": {"mode": "match"},
                 "resource": {"resourceType": "Observation", "id": "1", "status": "final",
                   "meta": {"versionId": "3"}, "category": [{"text": "lab"}],
                   "code": {"text": "x", "extension": [{"url": "u"}]},
                   "referenceRange": [{"low": {"value": 1.5}}], "valueQuantity": {"value": 1.50}}},
                {"fullUrl": "urn:x"},
                {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01",
                   "name": [{"family": "Doe"}]}}
            ]
        }"#;
        let pruned = parse_pruned(page.as_bytes()).expect("parses");
        let expected = r#"{
            "resourceType": "Bundle", "type": "searchset",
            "link": [{"relation": "next", "url": "https://ehr/fhir/Observation?page=2"}],
            "entry": [
                {"resource": {"resourceType": "Observation", "id": "1", "status": "final",
                   "code": {"text": "x", "extension": [{"url": "u"}]},
                   "valueQuantity": {"value": 1.50}}},
                {},
                {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1960-01-01"}}
            ]
        }"#;
        assert_eq!(
            pruned,
            serde_json::from_str::<Value>(expected).expect("JSON")
        );
        // Decimals keep their text (arbitrary precision), as in the ordinary parse.
        assert_eq!(
            pruned["entry"][0]["resource"]["valueQuantity"]["value"].to_string(),
            "1.50"
        );
    }

    #[test]
    fn a_single_resource_or_null_is_pruned_at_the_top() {
        let patient =
            br#"{"resourceType":"Patient","id":"p","text":{"div":"<div/>"},"gender":"female"}"#;
        assert_eq!(
            parse_pruned(patient).expect("parses"),
            json!({"resourceType": "Patient", "id": "p", "gender": "female"})
        );
        assert_eq!(parse_pruned(b" null ").expect("parses"), Value::Null);
    }

    #[test]
    fn odd_shapes_fall_back_to_the_ordinary_parse() {
        for odd in [
            json!({"resourceType": "Bundle", "entry": {"resource": {}}}),
            json!({"resourceType": "Bundle", "entry": [null, 5, "x"]}),
            json!({"resourceType": "Bundle", "entry": [{"resource": 7}]}),
            json!({"resourceType": "Bundle", "entry": [{"resource": [1]}]}),
            json!(12.50),
            json!("text"),
            json!([{"resourceType": "Patient", "meta": {}}]),
        ] {
            let text = odd.to_string();
            assert_eq!(
                parse_pruned(text.as_bytes()).expect("parses"),
                odd,
                "{text}"
            );
        }
    }

    #[test]
    fn surrogate_escapes_take_the_ordinary_parse_which_checks_them() {
        let lone = br#"{"resourceType":"Patient","meta":{"source":"\ud800"}}"#;
        assert!(!prunable(lone));
        assert!(
            parse_pruned(lone).is_err(),
            "a lone surrogate is refused even where unread"
        );
        let pair = br#"{"resourceType":"Patient","meta":{"source":"\uD83D\uDE00"},"gender":"x"}"#;
        assert!(!prunable(pair));
        assert_eq!(parse_pruned(pair).expect("parses")["gender"], "x");
        assert!(prunable(br#"{"a":"\u00e9"}"#));
        // Conservative: an escaped backslash before "ud800" also takes the ordinary parse,
        // which reads it correctly.
        let text = br#"{"resourceType":"Patient","gender":"\\ud800"}"#;
        assert!(!prunable(text));
        assert_eq!(parse_pruned(text).expect("parses")["gender"], "\\ud800");
    }

    #[test]
    fn invalid_json_is_the_ordinary_error() {
        for bad in [&b"{\"entry\": [}"[..], b"{} {}", b"\xff", b""] {
            let ours = parse_pruned(bad).expect_err("invalid").to_string();
            let plain = serde_json::from_slice::<Value>(bad).expect_err("invalid");
            assert_eq!(ours, plain.to_string());
        }
    }

    #[test]
    fn duplicate_members_keep_the_last_as_the_ordinary_parse_does() {
        let text = br#"{"resourceType":"Patient","gender":"male","meta":{},"gender":"female"}"#;
        let ordinary: Value = serde_json::from_slice(text).expect("parses");
        assert_eq!(
            parse_pruned(text).expect("parses")["gender"],
            ordinary["gender"]
        );
    }
}
