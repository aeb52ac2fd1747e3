//! Projection of untrusted resource JSON onto the elements cart-sentinel reads.
//!
//! A resource is read (`read`, and fhirbolt's strict parse in the tests' reference, `oracle`)
//! from its projection, never from the raw JSON: unknown, vendor and other-version elements must
//! not make a resource unreadable, blanks must count as absent, and no JSON type may be coerced
//! (fhirbolt's `from_json_value` accepts `"value": "high"` as a decimal, `"true"` as a boolean and
//! `["final"]` as a code; its lenient modes loop forever on unknown arrays). So the projection
//! walks a small schema per resource type and builds a *new* value:
//!
//! * only the elements listed in [`elements_of`] (and the datatypes' own whitelists) are copied;
//!   everything else (extensions, `_element` primitive extensions, `meta`, `text`, `contained`,
//!   vendor and other-version elements) is dropped without being looked at;
//! * `null`, `""`, `[]` and `{}` count as absent, at every level; an array item or an optional
//!   object that is empty after projection is dropped, and so is an array left empty;
//! * a *required* complex element (for example `Observation.code`, `Condition.subject`) that was
//!   present with content but projects to nothing (say an identifier-only Reference, or a
//!   `CodeableConcept` carrying only an extension) is kept as `{}`, so a conformant resource is not
//!   rejected because of what the projection dropped; a required element that is absent (or
//!   blank) stays absent, and the reading then rejects the resource;
//! * a copied element whose JSON shape is wrong (a string where a decimal or an object is
//!   expected, a number where a string is expected, an object where an array is expected, an
//!   integer outside `i32`) makes the whole resource [`Mismatch`]: nothing is coerced;
//! * a decimal (a JSON number) is written as a JSON string holding the number's text, kept
//!   exactly (also the form fhirbolt's concrete resource types read, `oracle::parse_projected`).
//!
//! The schema is not recursive, so the walk has a fixed depth whatever the input.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Object, Value};

use crate::tape::Tape;

/// The JSON shape of a projected element did not match the schema. Carries no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mismatch;

/// Type of an element's value.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Any string-valued primitive (string, code, uri, dateTime, instant, date, id).
    Str,
    /// `decimal`: a JSON number.
    Decimal,
    /// `integer`: a JSON integer within `i32`.
    Integer,
    /// `boolean`.
    Boolean,
    /// A complex type with its whitelisted elements.
    Complex(&'static [Element]),
}

/// Cardinality of an element, as far as the projection cares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    /// 0..1
    Optional,
    /// 1..1 (only meaningful for complex elements: see the module docs).
    Required,
    /// 0..* (a JSON array).
    Many,
}

/// One whitelisted element.
pub(crate) struct Element {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) card: Card,
}

const fn opt(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Optional,
    }
}

const fn req(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Required,
    }
}

const fn many(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Many,
    }
}

const STR: Kind = Kind::Str;

const CODING: Kind = Kind::Complex(&[opt("system", STR), opt("code", STR), opt("display", STR)]);

const CONCEPT: Kind = Kind::Complex(&[many("coding", CODING), opt("text", STR)]);

const QUANTITY: Kind = Kind::Complex(&[
    opt("value", Kind::Decimal),
    opt("comparator", STR),
    opt("unit", STR),
    opt("system", STR),
    opt("code", STR),
]);

const PERIOD: Kind = Kind::Complex(&[opt("start", STR), opt("end", STR)]);

const REFERENCE: Kind = Kind::Complex(&[opt("reference", STR), opt("display", STR)]);

const COMPONENT: Kind = Kind::Complex(&[
    req("code", CONCEPT),
    opt("valueQuantity", QUANTITY),
    opt("valueCodeableConcept", CONCEPT),
    opt("valueString", STR),
    opt("valueBoolean", Kind::Boolean),
    opt("valueInteger", Kind::Integer),
]);

const OBSERVATION: &[Element] = &[
    opt("status", STR),
    req("code", CONCEPT),
    opt("subject", REFERENCE),
    opt("effectiveDateTime", STR),
    opt("effectivePeriod", PERIOD),
    opt("effectiveInstant", STR),
    opt("issued", STR),
    opt("valueQuantity", QUANTITY),
    opt("valueCodeableConcept", CONCEPT),
    opt("valueString", STR),
    opt("valueBoolean", Kind::Boolean),
    opt("valueInteger", Kind::Integer),
    many("interpretation", CONCEPT),
    many("component", COMPONENT),
];

const CONDITION: &[Element] = &[
    opt("clinicalStatus", CONCEPT),
    opt("verificationStatus", CONCEPT),
    opt("code", CONCEPT),
    req("subject", REFERENCE),
    opt("onsetDateTime", STR),
    opt("onsetPeriod", PERIOD),
    opt("recordedDate", STR),
];

const MEDICATION_REQUEST: &[Element] = &[
    opt("status", STR),
    opt("intent", STR),
    req("subject", REFERENCE),
    req("medicationCodeableConcept", CONCEPT),
    req("medicationReference", REFERENCE),
    opt("authoredOn", STR),
];

const MEDICATION_ADMINISTRATION: &[Element] = &[
    opt("status", STR),
    req("subject", REFERENCE),
    req("medicationCodeableConcept", CONCEPT),
    req("medicationReference", REFERENCE),
    opt("effectiveDateTime", STR),
    req("effectivePeriod", PERIOD),
];

const MEDICATION_STATEMENT: &[Element] = &[
    opt("status", STR),
    req("subject", REFERENCE),
    req("medicationCodeableConcept", CONCEPT),
    req("medicationReference", REFERENCE),
    opt("effectiveDateTime", STR),
    opt("effectivePeriod", PERIOD),
    opt("dateAsserted", STR),
];

const PROCEDURE: &[Element] = &[
    opt("status", STR),
    req("subject", REFERENCE),
    opt("code", CONCEPT),
    opt("performedDateTime", STR),
    opt("performedPeriod", PERIOD),
];

const IMMUNIZATION: &[Element] = &[
    opt("status", STR),
    req("patient", REFERENCE),
    req("vaccineCode", CONCEPT),
    opt("occurrenceDateTime", STR),
    // Not read, but occurrence[x] is required: without it an Immunization recorded with a
    // free-text occurrence ("spring 2019") would be rejected.
    opt("occurrenceString", STR),
];

const ENCOUNTER: &[Element] = &[
    opt("status", STR),
    // Not read, but required (1..1) by R4: without it every Encounter would be rejected.
    req("class", CODING),
    opt("subject", REFERENCE),
    many("type", CONCEPT),
    opt("serviceType", CONCEPT),
    many("reasonCode", CONCEPT),
    opt("period", PERIOD),
];

const SERVICE_REQUEST: &[Element] = &[
    opt("status", STR),
    opt("intent", STR),
    req("subject", REFERENCE),
    opt("code", CONCEPT),
    opt("authoredOn", STR),
];

const PATIENT: &[Element] = &[opt("birthDate", STR), opt("gender", STR)];

/// Every resource type with a projection, and its whitelisted elements (besides `resourceType`
/// and `id`).
pub(crate) const TABLES: &[(&str, &[Element])] = &[
    ("Observation", OBSERVATION),
    ("Condition", CONDITION),
    ("MedicationRequest", MEDICATION_REQUEST),
    ("MedicationAdministration", MEDICATION_ADMINISTRATION),
    ("MedicationStatement", MEDICATION_STATEMENT),
    ("Procedure", PROCEDURE),
    ("Immunization", IMMUNIZATION),
    ("Encounter", ENCOUNTER),
    ("ServiceRequest", SERVICE_REQUEST),
    ("Patient", PATIENT),
];

/// `id`, projected like every other string element (read by every type).
pub(crate) const ID: &[Element] = &[opt("id", STR)];

/// The index of the element named `name` in `elements`. Lengths and first bytes are compared
/// before the names (member names are looked up for every member of every resource: issue
/// #6).
pub(crate) fn position(elements: &[Element], name: &str) -> Option<usize> {
    let first = name.as_bytes().first()?;
    elements.iter().position(|e| {
        e.name.len() == name.len() && e.name.as_bytes().first() == Some(first) && e.name == name
    })
}

/// The whitelisted elements (besides `resourceType` and `id`) of a resource type the engine
/// reads, or `None` for any other type.
pub(crate) fn elements_of(resource_type: &str) -> Option<&'static [Element]> {
    TABLES
        .iter()
        .find(|(name, _)| *name == resource_type)
        .map(|(_, elements)| *elements)
}

/// Builds the projected resource: `resourceType`, `id` and the whitelisted `elements` of
/// `input`, pruned and shape-checked as described in the module docs, written straight to a
/// [`Tape`] (no intermediate `Value`), which is what `read` reads.
pub(crate) fn project(
    resource_type: &str,
    elements: &[Element],
    input: &Object,
) -> Result<Tape, Mismatch> {
    let mut out = Tape::with_capacity();
    out.open();
    out.key("resourceType");
    out.str(resource_type);
    write_members(&mut out, ID, input)?;
    write_members(&mut out, elements, input)?;
    out.close();
    Ok(out)
}

/// Writes the projected members of `input`; returns how many were written.
fn write_members(out: &mut Tape, elements: &[Element], input: &Object) -> Result<usize, Mismatch> {
    let mut written = 0;
    // A member the projection reads may appear once: the parser keeps repeated names, and
    // which of two values counts would be a guess. (Tables have fewer than 64 elements.)
    let mut seen = 0u64;
    // Walks the input's members and looks each name up in the short whitelist.
    for (name, value) in input.iter() {
        let Some(index) = position(elements, name) else {
            continue;
        };
        if seen & (1 << index) != 0 {
            return Err(Mismatch);
        }
        seen |= 1 << index;
        let element = &elements[index];
        let mark = out.mark();
        out.key(element.name);
        let kept = match element.card {
            Card::Many => write_many(out, element.kind, value)?,
            Card::Optional => write_one(out, element.kind, false, value)?,
            Card::Required => write_one(out, element.kind, true, value)?,
        };
        if kept {
            written += 1;
        } else {
            out.truncate(mark);
        }
    }
    Ok(written)
}

/// Writes an array of `kind`; `false` (nothing written) when it is absent or every item is.
fn write_many(out: &mut Tape, kind: Kind, value: &Value) -> Result<bool, Mismatch> {
    if is_absent(value) {
        return Ok(false);
    }
    let Some(items) = value.as_array() else {
        return Err(Mismatch);
    };
    let start = out.open_array();
    let mut written = 0;
    for item in items.iter() {
        let mark = out.mark();
        if write_one(out, kind, false, item)? {
            written += 1;
        } else {
            out.truncate(mark);
        }
    }
    if written == 0 {
        out.truncate(start);
        return Ok(false);
    }
    out.close_array(start, written);
    Ok(true)
}

/// Writes one value of `kind`; `false` (nothing written) when it projects to nothing.
/// `keep_empty` is set for required complex elements (see the module docs).
fn write_one(
    out: &mut Tape,
    kind: Kind,
    keep_empty: bool,
    value: &Value,
) -> Result<bool, Mismatch> {
    if is_absent(value) {
        return Ok(false);
    }
    match kind {
        Kind::Str if value.is_str() => out.str(value.as_str().unwrap_or_default()),
        // The number's text, kept exactly (sonic-rs's `arbitrary_precision`); `read` parses it.
        Kind::Decimal if value.is_number() => out.str(&value.to_string()),
        Kind::Integer if value.is_number() => out.int(integer(&value.to_string()).ok_or(Mismatch)?),
        Kind::Boolean if value.is_boolean() => out.bool(value.as_bool().unwrap_or_default()),
        Kind::Complex(elements) if value.is_object() => {
            let Some(input) = value.as_object() else {
                return Err(Mismatch);
            };
            let start = out.mark();
            out.open();
            let written = write_members(out, elements, input)?;
            if written == 0 && (!keep_empty || is_blank(value, BLANK_DEPTH)) {
                out.truncate(start);
                return Ok(false);
            }
            out.close();
        }
        _ => return Err(Mismatch),
    }
    Ok(true)
}

/// An `integer` element's value from its JSON text: within `i32`, and not `-0`, which FHIR's
/// integer syntax (`[0]|[-+]?[1-9][0-9]*`) excludes (fhirbolt refused it too, as a float).
pub(crate) fn integer(text: &str) -> Option<i32> {
    if text == "-0" {
        return None;
    }
    text.parse::<i32>().ok()
}

/// `null`, `""`, `[]` or `{}`.
fn is_absent(value: &Value) -> bool {
    if let Some(s) = value.as_str() {
        return s.is_empty();
    }
    if let Some(a) = value.as_array() {
        return a.is_empty();
    }
    if let Some(o) = value.as_object() {
        return o.is_empty();
    }
    value.is_null()
}

/// How deep [`is_blank`] looks before calling a value non-blank (bounds the recursion on
/// untrusted, dropped content).
pub(crate) const BLANK_DEPTH: usize = 16;

/// Absent, or an array/object made only of blank values (looked at up to `depth` levels).
fn is_blank(value: &Value, depth: usize) -> bool {
    if is_absent(value) {
        return true;
    }
    if depth == 0 {
        return false;
    }
    if let Some(a) = value.as_array() {
        return a.iter().all(|v| is_blank(v, depth - 1));
    }
    if let Some(o) = value.as_object() {
        return o.iter().all(|(_, v)| is_blank(v, depth - 1));
    }
    false
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn proj(v: &Value) -> Result<Value, Mismatch> {
        let rt = v["resourceType"]
            .as_str()
            .expect("test input has a resourceType")
            .to_owned();
        let elements = elements_of(&rt).expect("supported type");
        let doc: sonic_rs::Value = sonic_rs::from_str(&v.to_string()).expect("JSON");
        project(&rt, elements, doc.as_object().expect("object"))
            .map(|tape| serde_json::from_slice(&tape.to_json()).expect("the projection is JSON"))
    }

    /// Every element table: the resources' and, recursively, their complex types'.
    fn every_table() -> Vec<&'static [Element]> {
        fn add(tables: &mut Vec<&'static [Element]>, elements: &'static [Element]) {
            tables.push(elements);
            for e in elements {
                if let Kind::Complex(inner) = e.kind {
                    add(tables, inner);
                }
            }
        }
        let mut tables = Vec::new();
        add(&mut tables, ID);
        for (_, elements) in TABLES {
            add(&mut tables, elements);
        }
        tables
    }

    #[test]
    fn position_finds_every_name_and_no_other() {
        let tables = every_table();
        assert!(tables.len() > 20);
        for elements in tables {
            for (index, element) in elements.iter().enumerate() {
                assert_eq!(position(elements, element.name,), Some(index));
            }
            for other in [
                "",
                "x",
                "extension",
                "Code",
                "codes",
                "cod",
                "valueQuantityX",
            ] {
                assert_eq!(position(elements, other), None, "{other}");
            }
        }
    }

    /// An Observation full of what the projection drops: unknown and other-version elements,
    /// blank values at every level, members a datatype does not whitelist.
    pub(crate) fn cluttered_observation() -> Value {
        json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "meta": {"versionId": "1"}, "text": {"div": "<div/>"}, "contained": [],
            "extension": [{"url": "x", "valueString": "y"}], "_status": {"extension": []},
            "fhir_comments": ["c"], "category": [{"text": "vital-signs"}],
            "code": {"coding": [null, {}, {"system": "http://loinc.org", "code": "8310-5",
                     "version": "2.7", "userSelected": true, "extension": []}], "text": ""},
            "subject": {"reference": "Patient/p1", "identifier": {"value": "MRN"}},
            "effectivePeriod": {"start": null, "end": ""},
            "interpretation": [], "component": [{"extension": [1]}],
        })
    }

    #[test]
    fn drops_unknown_and_blank_elements() {
        let v = cluttered_observation();
        assert_eq!(
            proj(&v),
            Ok(json!({
                "resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                "subject": {"reference": "Patient/p1"},
            }))
        );
    }

    #[test]
    fn required_objects_emptied_by_projection_are_kept() {
        let v = json!({"resourceType": "Condition", "subject": {"identifier": {"value": "1"}}});
        assert_eq!(
            proj(&v),
            Ok(json!({"resourceType": "Condition", "subject": {}}))
        );
        let v = json!({"resourceType": "Condition", "subject": {"display": "", "x": [null]}});
        assert_eq!(proj(&v), Ok(json!({"resourceType": "Condition"})));
    }

    #[test]
    fn wrong_shapes_are_mismatches() {
        for (k, v) in [
            ("status", json!(5)),
            ("status", json!(["final"])),
            ("status", json!({"value": "final"})),
            ("code", json!("x")),
            ("code", json!([{"text": "x"}])),
            ("interpretation", json!({"text": "x"})),
            ("valueQuantity", json!({"value": "high"})),
            ("valueBoolean", json!("true")),
            ("valueInteger", json!("5")),
            ("valueInteger", json!(5_000_000_000_i64)),
            ("valueInteger", json!(1.5)),
            ("valueInteger", serde_json::from_str::<Value>("-0").unwrap()),
            ("id", json!(7)),
        ] {
            let mut o =
                json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}});
            o[k] = v;
            assert_eq!(proj(&o), Err(Mismatch), "{k}");
        }
    }

    #[test]
    fn blankness_is_depth_limited() {
        let mut deep = json!(null);
        // Deeper than the look-ahead, within the parser's nesting limit.
        for _ in 0..40 {
            deep = json!([deep]);
        }
        let sonic_deep: sonic_rs::Value = sonic_rs::from_str(&deep.to_string()).unwrap();
        assert!(!is_blank(&sonic_deep, BLANK_DEPTH));
        let v = json!({"resourceType": "Procedure", "status": "done", "subject": {"x": deep}});
        assert_eq!(
            proj(&v),
            Ok(json!({"resourceType": "Procedure", "status": "done", "subject": {}}))
        );
    }
}
