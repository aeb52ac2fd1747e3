//! One-pass reading of untrusted FHIR JSON (a prefetch value, a fetched page) straight into
//! decoded resources: each resource is projected *while it is parsed*, member by member,
//! onto the projection's schema ([`crate::project`]), and the projection is read into facts
//! (`crate::read`). No `serde_json::Value` of the resource is built.
//!
//! A hook request is mostly resource content no rule reads. Building a `Value` of even the
//! members a projection reads cost most of a call (issue #6): fhirbolt turns on serde_json's
//! `preserve_order`, so every object member is hashed into an `IndexMap`, and the tree is then
//! walked again by the projection and freed. Here the parser hands each member to the schema:
//! members no rule reads are skipped by the parser, members it reads are written to the
//! projection's tape as they are parsed.
//!
//! The result is exactly what [`crate::decode`] gives for the same resource parsed the ordinary
//! way (a test compares both over every resource of the fixtures and bench patients), including
//! the projection's rules for blank values, required elements and wrong shapes. Input that
//! cannot be read that way in one pass makes [`read_page`] fall back to the ordinary parse
//! ([`Page::Value`]), which is then read as before:
//!
//! * a resource or page whose first member is not `resourceType` (the schema depends on it);
//! * a repeated name of a member that is read, or of any member of an object whose blankness
//!   decides whether a required element is kept (the ordinary parse keeps the last value,
//!   which a one-pass reader cannot know when it meets the first); repeated members that are
//!   skipped change nothing and are read in one pass;
//! * an `entry` that is not an array, an entry or a resource that is not an object;
//! * any `\u` escape of a UTF-16 surrogate (the reader, [`json`], refuses them: the ordinary
//!   parse checks that they pair);
//! * an object member named with serde_json's private number token, which the ordinary parse
//!   reads as a number (and refuses unless its value is a number's text).
//!
//! So the one-pass path never changes what is accepted or how it is read.

mod element;
mod json;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::project::ID;
use crate::tape::Tape;
use crate::{DecodeError, Facts};
use element::{element_value, Name, Out, Seen, NUMBER_TOKEN};

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

/// Parses the whole of `json` with a one-pass `seed` ([`PageSeed`], [`PagesSeed`] or a
/// caller's seed built on them). `None` when the input may not take that path (not UTF-8, or
/// refused by the reader: see [`try_stream_within`]) or the seed refuses its shape: the caller
/// then parses it the ordinary way.
pub fn try_stream<'a, S: DeserializeSeed<'a>>(json: &'a [u8], seed: S) -> Option<S::Value> {
    try_stream_within(json, seed, usize::MAX)
}

/// [`try_stream`], also `None` when more than `max_depth` arrays and objects are open at once
/// anywhere in `json`, read or skipped. So input it reads nests no deeper than `max_depth`,
/// and needs no separate depth check.
///
/// The reader ([`json`]) gives exactly what `serde_json` gives for the same text, or refuses
/// it; it refuses any `\u` escape of a UTF-16 surrogate, which the ordinary parse checks.
pub fn try_stream_within<'a, S: DeserializeSeed<'a>>(
    json: &'a [u8],
    seed: S,
    max_depth: usize,
) -> Option<S::Value> {
    let mut reader = json::Reader::new(std::str::from_utf8(json).ok()?, max_depth);
    let value = seed.deserialize(&mut reader).ok()?;
    reader.end().ok()?;
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
            tape: Tape::default(),
            mismatch: false,
        };
        if elements.is_some() {
            out.tape = Tape::with_capacity();
            out.tape.open();
            out.tape.key("resourceType");
            out.tape.str(&resource_type);
        }
        let (mut entries, mut link) = (None, None);
        // Members that are read, by index: the elements', then these. A repeated one makes
        // the input fall back (the ordinary parse keeps the last); repeated members that
        // are skipped change nothing.
        let specials = elements.map_or(0, <[_]>::len);
        let [resource_type_at, id_at, entry_at, link_at] = [0, 1, 2, 3].map(|i| specials + i);
        let mut seen = Seen::default();
        seen.first(resource_type_at)?;
        while let Some(name) = map.next_key_seed(Name)? {
            let (index, element) = match &*name {
                "resourceType" => (Some(resource_type_at), None),
                "id" => (Some(id_at), ID.first()),
                "entry" if bundle => (Some(entry_at), None),
                "link" if self.top => (Some(link_at), None),
                _ => match elements.and_then(|e| crate::project::position(e, &name)) {
                    Some(i) => (Some(i), elements.map(|e| &e[i])),
                    None => (None, None),
                },
            };
            if let Some(index) = index {
                seen.first(index)?;
            }
            match (&*name, element) {
                ("entry", _) if bundle => {
                    entries = Some(map.next_value_seed(EntriesSeed {
                        budget: self.budget,
                    })?);
                }
                ("link", _) if self.top => link = Some(map.next_value::<Value>()?),
                (_, Some(element)) if elements.is_some() => {
                    let mark = out.tape.mark();
                    out.tape.key(element.name());
                    if !element_value(&mut map, &mut out, element, false)?.written {
                        out.tape.truncate(mark);
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
                out.tape.close();
                crate::read::facts(&resource_type, &out.tape)
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
        let mut seen = Seen::default();
        while let Some(name) = map.next_key_seed(Name)? {
            if name == "resource" {
                seen.first(0)?;
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
