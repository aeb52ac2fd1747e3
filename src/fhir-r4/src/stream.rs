//! One-pass reading of untrusted FHIR JSON (a prefetch value, a fetched page) straight into
//! decoded resources: each resource is projected *while it is parsed*, member by member,
//! onto the projection's schema ([`crate::project`]), and the projected text goes to fhirbolt.
//! No `serde_json::Value` of the resource is built.
//!
//! A hook request is mostly resource content no rule reads. Building a `Value` of even the
//! members a projection reads cost most of a call (issue #6): fhirbolt turns on serde_json's
//! `preserve_order`, so every object member is hashed into an `IndexMap`, and the tree is then
//! walked again by the projection and freed. Here the parser hands each member to the schema:
//! members no rule reads are skipped by the parser, members it reads are written to the
//! projected text as they are parsed.
//!
//! The result is exactly what [`crate::decode`] gives for the same resource parsed the ordinary
//! way (a test compares both over every resource of the fixtures and bench patients), including
//! the projection's rules for blank values, required elements and wrong shapes. Input that
//! cannot be read that way in one pass makes [`read_page`] fall back to the ordinary parse
//! ([`Page::Value`]), which is then read as before:
//!
//! * a resource or page whose first member is not `resourceType` (the schema depends on it);
//! * a member name repeated in an object whose members are read (the ordinary parse keeps the
//!   last value, which a one-pass reader cannot know when it meets the first);
//! * an `entry` that is not an array, an entry or a resource that is not an object;
//! * any `\u` escape of a UTF-16 surrogate ([`prunable`]: skipped strings are not
//!   decoded, so a lone surrogate there would go unnoticed while the ordinary parse refuses it).
//!
//! So the one-pass path never changes what is accepted or how it is read.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::project::{self, Card, Element, Kind, BLANK_DEPTH, ID};
use crate::{DecodeError, Facts};

/// serde_json's private key for a number under `arbitrary_precision` (which fhirbolt turns
/// on): a number reaches `visit_map` as a one-member map with this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A resource read from a page: its type and what it decoded to.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// `resourceType` as written.
    pub resource_type: String,
    /// The decoded facts, or why the resource is skipped.
    pub facts: Result<Facts, DecodeError>,
}

/// A prefetch value or a fetched page.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    /// `null` (a prefetch the EHR could not fill).
    Null,
    /// A single resource.
    Resource {
        /// The resource.
        read: Box<Read>,
        /// The `url` of its first `link` with relation `next`, if any.
        next: Option<String>,
    },
    /// A Bundle.
    Bundle {
        /// Each entry's resource in order; `None` for an entry without one.
        entries: Vec<Option<Read>>,
        /// The `url` of its first `link` with relation `next`, if any.
        next: Option<String>,
    },
    /// Parsed the ordinary way (see the module docs); read with [`crate::decode`].
    Value(Value),
}

impl Page {
    /// `null`: the EHR had no data for the key.
    pub fn is_null(&self) -> bool {
        matches!(self, Page::Null | Page::Value(Value::Null))
    }

    /// An OperationOutcome in place of the data (a prefetch error).
    pub fn is_operation_outcome(&self) -> bool {
        match self {
            Page::Resource { read, .. } => read.resource_type == "OperationOutcome",
            Page::Value(v) => {
                v.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome")
            }
            Page::Null | Page::Bundle { .. } => false,
        }
    }

    /// The `url` of the first `link` with relation `next`: the next page of a search.
    pub fn next_link(&self) -> Option<&str> {
        match self {
            Page::Resource { next, .. } | Page::Bundle { next, .. } => next.as_deref(),
            Page::Value(v) => next_in(v.get("link")),
            Page::Null => None,
        }
    }

    /// How many resources it holds: a Bundle's entries, one for any other object, none for
    /// `null`.
    pub fn resource_count(&self) -> usize {
        match self {
            Page::Null => 0,
            Page::Resource { .. } => 1,
            Page::Bundle { entries, .. } => entries.len(),
            Page::Value(v) => resource_count(v),
        }
    }
}

/// How many resources a JSON value holds (a prefetch value, `context.draftOrders`): a Bundle's
/// entries, one for any other object, none for `null`.
pub fn resource_count(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        v if v.get("resourceType").and_then(Value::as_str) == Some("Bundle") => {
            v.get("entry").and_then(Value::as_array).map_or(0, Vec::len)
        }
        _ => 1,
    }
}

/// Reads a page or prefetch value in one pass, or parses it the ordinary way when it cannot
/// be read so (see the module docs). The error is the ordinary parse's.
///
/// # Errors
///
/// The bytes are not JSON (`serde_json`'s error of the ordinary parse).
pub fn read_page(json: &[u8]) -> serde_json::Result<Page> {
    match try_stream(json, PageSeed) {
        Some(page) => Ok(page),
        None => serde_json::from_slice(json).map(Page::Value),
    }
}

/// Whether `json` may take the one-pass path: it holds no `\u` escape of a UTF-16 surrogate.
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

/// Parses the whole of `json` with a one-pass `seed` ([`PageSeed`], [`PagesSeed`] or a
/// caller's seed built on them). `None` when the input may not take that path
/// ([`prunable`], not UTF-8) or the seed refuses its shape: the caller then parses it
/// the ordinary way.
pub fn try_stream<'a, S: DeserializeSeed<'a>>(json: &'a [u8], seed: S) -> Option<S::Value> {
    if !prunable(json) {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(std::str::from_utf8(json).ok()?);
    let value = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Seed for a top-level page or prefetch value: `null`, a resource or a Bundle.
pub struct PageSeed;

/// Seed for an object whose every value is a page (a hook request's `prefetch`), or `null`
/// (`None`). Members repeated keep the last value, as the ordinary parse does.
///
/// It refuses (so that the caller parses the ordinary way) an object holding more than
/// `max_resources` resources, counted as [`Page::resource_count`] counts them, before
/// decoding the one over the limit: a request the prefetch limit will refuse is not decoded.
pub struct PagesSeed {
    /// Most resources over all values.
    pub max_resources: usize,
}

/// Resources that may still be read; taking one more than are left refuses the input.
type Budget<'b> = &'b Cell<usize>;

fn take<E: de::Error>(budget: Budget<'_>) -> Result<(), E> {
    let left = budget.get();
    if left == 0 {
        return Err(E::custom("more resources than the limit"));
    }
    budget.set(left - 1);
    Ok(())
}

/// The pages of a prefetch, by key.
pub type Pages = std::collections::BTreeMap<String, Page>;

// ---- names ------------------------------------------------------------------------------

/// A member name, borrowed from the input unless it holds escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

/// Refuses (so that the caller falls back) when `name` was already seen in this object.
#[expect(
    clippy::ptr_arg,
    reason = "the name is kept as it came, borrowed or owned"
)]
fn first_time<'de, E: de::Error>(
    seen: &mut Vec<Cow<'de, str>>,
    name: &Cow<'de, str>,
) -> Result<(), E> {
    if seen.iter().any(|s| s == name) {
        return Err(E::custom("a repeated member name"));
    }
    seen.push(name.clone());
    Ok(())
}

// ---- blankness --------------------------------------------------------------------------

/// How blank a value is: the least depth at which `project::is_blank` calls it blank (`0`
/// for an absent value: `null`, `""`, `[]`, `{}`), or `None` when it holds a value at any
/// depth. `is_blank(v, d)` is exactly `blank(v).is_some_and(|m| m <= d)`.
type Blank = Option<usize>;

/// Blankness of a container from its members' (starting from `Some(0)`: no member yet).
fn with_member(acc: Blank, member: Blank) -> Blank {
    Some(acc?.max(member? + 1))
}

/// Consumes any value and tells how blank it is.
struct BlankSeed;

impl<'de> DeserializeSeed<'de> for BlankSeed {
    type Value = Blank;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Blank, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BlankSeed {
    type Value = Blank;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Blank, E> {
        Ok(Some(0))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Blank, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Blank, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Blank, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Blank, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Blank, E> {
        Ok(s.is_empty().then_some(0))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blank, A::Error> {
        let mut blank = Some(0);
        while let Some(item) = seq.next_element_seed(BlankSeed)? {
            blank = with_member(blank, item);
        }
        Ok(blank)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Blank, A::Error> {
        let mut seen = Vec::new();
        let mut blank = Some(0);
        while let Some(name) = map.next_key_seed(Name)? {
            if name == NUMBER_TOKEN {
                map.next_value::<IgnoredAny>()?;
                return Ok(None);
            }
            first_time(&mut seen, &name)?;
            blank = with_member(blank, map.next_value_seed(BlankSeed)?);
        }
        Ok(blank)
    }
}

// ---- projecting one element's value ------------------------------------------------------

/// The projected text being written, and whether a member had the wrong shape (the resource
/// is then invalid; the rest of it is still parsed, to consume the input).
struct Out {
    text: Vec<u8>,
    mismatch: bool,
}

/// What projecting a value did: whether anything was written, and how blank the input was.
#[derive(Clone, Copy)]
struct Done {
    written: bool,
    blank: Blank,
}

const ABSENT: Done = Done {
    written: false,
    blank: Some(0),
};

impl Out {
    /// Marks the resource invalid; the value is consumed without being written.
    fn mismatch(&mut self, blank: Blank) -> Done {
        self.mismatch = true;
        Done {
            written: false,
            blank,
        }
    }
}

/// One value of an element of `kind` (`card` Optional or Required), written as
/// `project::write_one` does.
struct One<'o> {
    out: &'o mut Out,
    kind: Kind,
    keep_empty: bool,
}

/// An element of `card` Many, written as `project::write_many` does.
struct Many<'o> {
    out: &'o mut Out,
    kind: Kind,
}

/// Writes the value of `element` (its name already written).
fn element_value<'de, A: MapAccess<'de>>(
    map: &mut A,
    out: &mut Out,
    element: &Element,
) -> Result<Done, A::Error> {
    match element.card {
        Card::Many => map.next_value_seed(Many {
            out,
            kind: element.kind,
        }),
        card => map.next_value_seed(One {
            out,
            kind: element.kind,
            keep_empty: card == Card::Required,
        }),
    }
}

/// Writes the members of an object that `elements` whitelists, starting after `first` (the
/// first member name, already read), as `project::write_members` does; returns how many
/// were written and how blank the object is.
fn members<'de, A: MapAccess<'de>>(
    map: &mut A,
    out: &mut Out,
    elements: &[Element],
    first: Cow<'de, str>,
    after_member: bool,
) -> Result<(usize, Blank), A::Error> {
    let mut seen = Vec::new();
    let mut written = 0;
    let mut blank = Some(0);
    let mut next = Some(first);
    while let Some(name) = next {
        first_time(&mut seen, &name)?;
        match elements.iter().find(|e| e.name() == name) {
            Some(element) => {
                let mark = out.text.len();
                if after_member || written > 0 {
                    out.text.push(b',');
                }
                project::write_str(&mut out.text, &name);
                out.text.push(b':');
                let done = element_value(map, out, element)?;
                if done.written {
                    written += 1;
                } else {
                    out.text.truncate(mark);
                }
                blank = with_member(blank, done.blank);
            }
            None => blank = with_member(blank, map.next_value_seed(BlankSeed)?),
        }
        next = map.next_key_seed(Name)?;
    }
    Ok((written, blank))
}

impl One<'_> {
    /// A number, from its text as a `Value` keeps it, written as `project::write_one` does.
    fn number(self, text: &str) -> Done {
        let out = &mut self.out.text;
        match self.kind {
            // As a JSON string holding the number's text.
            Kind::Decimal => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
            Kind::Integer if text.parse::<i64>().is_ok_and(|i| i32::try_from(i).is_ok()) => {
                out.extend_from_slice(text.as_bytes());
            }
            _ => return self.out.mismatch(None),
        }
        Done {
            written: true,
            blank: None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for One<'_> {
    type Value = Done;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Done, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for One<'_> {
    type Value = Done;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Done, E> {
        Ok(ABSENT)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Done, E> {
        if s.is_empty() {
            return Ok(ABSENT);
        }
        if !matches!(self.kind, Kind::Str) {
            return Ok(self.out.mismatch(None));
        }
        project::write_str(&mut self.out.text, s);
        Ok(Done {
            written: true,
            blank: None,
        })
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Done, E> {
        if !matches!(self.kind, Kind::Boolean) {
            return Ok(self.out.mismatch(None));
        }
        self.out
            .text
            .extend_from_slice(if b { b"true" } else { b"false" });
        Ok(Done {
            written: true,
            blank: None,
        })
    }

    // Integers arrive as integers, other numbers as NUMBER_TOKEN maps (`arbitrary_precision`,
    // where a `Value` keeps their text); a float (never under `arbitrary_precision`) takes the
    // ordinary parse.
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Done, E> {
        Ok(self.number(&n.to_string()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Done, E> {
        Ok(self.number(&n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Done, E> {
        Err(E::custom("a float outside arbitrary_precision"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Done, A::Error> {
        let blank = BlankSeed.visit_seq(seq)?;
        if blank == Some(0) {
            // `[]` is absent.
            return Ok(ABSENT);
        }
        Ok(self.out.mismatch(blank))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Done, A::Error> {
        let Some(first) = map.next_key_seed(Name)? else {
            return Ok(ABSENT);
        };
        if first == NUMBER_TOKEN {
            let text: Cow<'de, str> = map.next_value_seed(Name)?;
            return Ok(self.number(&text));
        }
        let Kind::Complex(elements) = self.kind else {
            // Consume the rest of the object: its blankness is not needed.
            let mut seen = vec![first];
            while let Some(name) = map.next_key_seed(Name)? {
                first_time(&mut seen, &name)?;
                map.next_value::<IgnoredAny>()?;
            }
            return Ok(self.out.mismatch(None));
        };
        let start = self.out.text.len();
        self.out.text.push(b'{');
        let (written, blank) = members(&mut map, self.out, elements, first, false)?;
        let is_blank = blank.is_some_and(|m| m <= BLANK_DEPTH);
        if written == 0 && (!self.keep_empty || is_blank) {
            self.out.text.truncate(start);
            return Ok(Done {
                written: false,
                blank,
            });
        }
        self.out.text.push(b'}');
        Ok(Done {
            written: true,
            blank,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Many<'_> {
    type Value = Done;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Done, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Many<'_> {
    type Value = Done;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Done, E> {
        Ok(ABSENT)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Done, E> {
        if s.is_empty() {
            return Ok(ABSENT);
        }
        Ok(self.out.mismatch(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Done, E> {
        Ok(self.out.mismatch(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Done, E> {
        Ok(self.out.mismatch(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Done, E> {
        Ok(self.out.mismatch(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Done, E> {
        Err(E::custom("a float outside arbitrary_precision"))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Done, A::Error> {
        let blank = BlankSeed.visit_map(map)?;
        if blank == Some(0) {
            // `{}` is absent.
            return Ok(ABSENT);
        }
        Ok(self.out.mismatch(blank))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Done, A::Error> {
        let start = self.out.text.len();
        self.out.text.push(b'[');
        let mut written = 0;
        let mut blank = Some(0);
        loop {
            let mark = self.out.text.len();
            if written > 0 {
                self.out.text.push(b',');
            }
            let item = One {
                out: &mut *self.out,
                kind: self.kind,
                keep_empty: false,
            };
            let Some(done) = seq.next_element_seed(item)? else {
                self.out.text.truncate(mark);
                break;
            };
            if done.written {
                written += 1;
            } else {
                self.out.text.truncate(mark);
            }
            blank = with_member(blank, done.blank);
        }
        if written == 0 {
            self.out.text.truncate(start);
            return Ok(Done {
                written: false,
                blank,
            });
        }
        self.out.text.push(b']');
        Ok(Done {
            written: true,
            blank,
        })
    }
}

// ---- resources, entries, pages -----------------------------------------------------------

/// A resource object (its `resourceType` first), decoded; at the top level its `link` member
/// is kept too (a page's `next` link).
struct ResourceSeed<'b> {
    top: bool,
    /// Charged one for a top-level resource, one per entry for a top-level Bundle.
    budget: Budget<'b>,
}

/// What a resource object gave: the resource, and at the top level the Bundle's entries and
/// the `link` member.
struct ReadObject {
    read: Read,
    entries: Option<Vec<Option<Read>>>,
    link: Option<Value>,
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_> {
    type Value = ReadObject;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ReadObject, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_> {
    type Value = ReadObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR resource")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadObject, A::Error> {
        use de::Error;
        if map.next_key_seed(Name)?.as_deref() != Some("resourceType") {
            return Err(A::Error::custom("resourceType is not the first member"));
        }
        let resource_type: Cow<'de, str> = map.next_value_seed(Name)?;
        let bundle = self.top && resource_type == "Bundle";
        if self.top && !bundle {
            take(self.budget)?;
        }
        let elements = crate::projection_of(&resource_type);
        let mut out = Out {
            text: Vec::new(),
            mismatch: false,
        };
        if elements.is_some() {
            out.text.reserve(512);
            out.text.extend_from_slice(b"{\"resourceType\":");
            project::write_str(&mut out.text, &resource_type);
        }
        let (mut entries, mut link) = (None, None);
        let mut seen: Vec<Cow<'de, str>> = vec![Cow::Borrowed("resourceType")];
        while let Some(name) = map.next_key_seed(Name)? {
            first_time(&mut seen, &name)?;
            let element = match &*name {
                "id" => ID.first(),
                _ => elements.and_then(|e| e.iter().find(|e| e.name() == name)),
            };
            match (&*name, element) {
                ("entry", _) if bundle => {
                    entries = Some(map.next_value_seed(EntriesSeed {
                        budget: self.budget,
                    })?);
                }
                ("link", _) if self.top => link = Some(map.next_value::<Value>()?),
                (_, Some(element)) if elements.is_some() => {
                    let mark = out.text.len();
                    out.text.push(b',');
                    project::write_str(&mut out.text, &name);
                    out.text.push(b':');
                    if !element_value(&mut map, &mut out, element)?.written {
                        out.text.truncate(mark);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let facts = match elements {
            None => crate::unprojected(&resource_type),
            Some(_) if out.mismatch => Err(DecodeError::Invalid {
                resource_type: resource_type.clone().into_owned(),
            }),
            Some(_) => {
                out.text.push(b'}');
                crate::decode_projected(
                    &resource_type,
                    &out.text,
                    crate::fhirbolt_io::parse_projected,
                )
            }
        };
        Ok(ReadObject {
            read: Read {
                resource_type: resource_type.into_owned(),
                facts,
            },
            entries,
            link,
        })
    }
}

/// `Bundle.entry`: an array of objects, each with its `resource` read.
struct EntriesSeed<'b> {
    budget: Budget<'b>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Vec<Option<Read>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = Vec<Option<Read>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(entry) = seq.next_element_seed(EntrySeed {
            budget: self.budget,
        })? {
            entries.push(entry);
        }
        Ok(entries)
    }
}

/// One entry, charged to the budget before it is read: its `resource`, if any.
struct EntrySeed<'b> {
    budget: Budget<'b>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = Option<Read>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        take(self.budget)?;
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = Option<Read>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Bundle entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut resource = None;
        let mut seen = Vec::new();
        while let Some(name) = map.next_key_seed(Name)? {
            first_time(&mut seen, &name)?;
            if name == "resource" {
                let seed = ResourceSeed {
                    top: false,
                    budget: &Cell::new(0),
                };
                resource = Some(map.next_value_seed(seed)?.read);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(resource)
    }
}

/// The `url` of the first item of a `link` array with relation `next`.
fn next_in(link: Option<&Value>) -> Option<&str> {
    link?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))?
        .get("url")?
        .as_str()
}

fn next_of(link: Option<&Value>) -> Option<String> {
    next_in(link).map(str::to_owned)
}

impl<'de> DeserializeSeed<'de> for PageSeed {
    type Value = Page;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        PageIn {
            budget: &Cell::new(usize::MAX),
        }
        .deserialize(d)
    }
}

/// A page, its resources charged to `budget`.
struct PageIn<'b> {
    budget: Budget<'b>,
}

impl<'de> DeserializeSeed<'de> for PageIn<'_> {
    type Value = Page;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Page, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PageIn<'_> {
    type Value = Page;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a FHIR resource or a Bundle")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Page, E> {
        Ok(Page::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Page, A::Error> {
        let object = ResourceSeed {
            top: true,
            budget: self.budget,
        }
        .visit_map(map)?;
        let next = next_of(object.link.as_ref());
        Ok(match object.entries {
            Some(entries) => Page::Bundle { entries, next },
            None if object.read.resource_type == "Bundle" => Page::Bundle {
                entries: Vec::new(),
                next,
            },
            None => Page::Resource {
                read: Box::new(object.read),
                next,
            },
        })
    }
}

impl<'de> DeserializeSeed<'de> for PagesSeed {
    type Value = Option<Pages>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        // `deserialize_any`, so that `null` is accepted; anything but an object or null (a
        // number is a map under `arbitrary_precision`, refused by `PageSeed`) takes the
        // ordinary parse, which reports it.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PagesSeed {
    type Value = Option<Pages>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or an object of FHIR resources and Bundles")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pages = Pages::new();
        let budget = Cell::new(self.max_resources);
        while let Some(key) = map.next_key_seed(Name)? {
            if key == NUMBER_TOKEN {
                return Err(de::Error::custom("a number where an object is expected"));
            }
            let page = map.next_value_seed(PageIn { budget: &budget })?;
            pages.insert(key.into_owned(), page);
        }
        Ok(Some(pages))
    }
}

#[cfg(test)]
mod tests {
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
        let cases = [
            json!({"resourceType": "Observation", "id": "o1", "status": "final",
                "meta": {"versionId": "1"}, "text": {"div": "<div/>"}, "contained": [],
                "extension": [{"url": "x", "valueString": "y"}], "_status": {"extension": []},
                "fhir_comments": ["c"], "category": [{"text": "vital-signs"}],
                "code": {"coding": [null, {}, {"system": "http://loinc.org", "code": "8310-5",
                         "version": "2.7", "userSelected": true, "extension": []}], "text": ""},
                "subject": {"reference": "Patient/p1", "identifier": {"value": "MRN"}},
                "effectivePeriod": {"start": null, "end": ""},
                "valueQuantity": {"value": 38.50, "unit": "Cel"},
                "interpretation": [], "component": [{"extension": [1]}]}),
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
        assert!(
            matches!(&pages["a"], Page::Resource { read, .. } if read.resource_type == "Basic")
        );
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
}
