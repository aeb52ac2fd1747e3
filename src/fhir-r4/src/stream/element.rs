//! Projecting one element's value while it is parsed, as `crate::project` projects it from a
//! `Value`: member names, blankness (for required elements), and the writers for one value and
//! for an array of values.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::project::{self, Card, Element, Kind, BLANK_DEPTH};
use crate::tape::Tape;

/// serde_json's private key for a number under `arbitrary_precision` (which fhirbolt turns
/// on): a number reaches `visit_map` as a one-member map with this key.
pub(super) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

// ---- names ------------------------------------------------------------------------------

/// A member name, borrowed from the input unless it holds escapes.
pub(super) struct Name;

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
pub(super) fn first_time<'de, E: de::Error>(
    seen: &mut Vec<Cow<'de, str>>,
    name: &Cow<'de, str>,
) -> Result<(), E> {
    if seen.iter().any(|s| s == name) {
        return Err(E::custom("a repeated member name"));
    }
    seen.push(name.clone());
    Ok(())
}

/// Which of an object's read members were seen, by index (at most 64): repeated names of
/// members that are read make the caller fall back, as [`first_time`] does, without a list
/// of names per object. Members that are skipped are not tracked where their blankness is not
/// needed: a repeated skipped member changes nothing the projection writes (issue #6).
#[derive(Default)]
pub(super) struct Seen(u64);

impl Seen {
    /// Refuses when member `index` was already seen, or when it cannot be tracked.
    pub(super) fn first<E: de::Error>(&mut self, index: usize) -> Result<(), E> {
        let bit = u32::try_from(index)
            .ok()
            .and_then(|i| 1u64.checked_shl(i))
            .ok_or_else(|| E::custom("too many members to track"))?;
        if self.0 & bit != 0 {
            return Err(E::custom("a repeated member name"));
        }
        self.0 |= bit;
        Ok(())
    }
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

/// The projection being written, and whether a member had the wrong shape (the resource is
/// then invalid; the rest of it is still parsed, to consume the input).
pub(super) struct Out {
    pub(super) tape: Tape,
    pub(super) mismatch: bool,
}

/// What projecting a value did: whether anything was written, and how blank the input was.
#[derive(Clone, Copy)]
pub(super) struct Done {
    pub(super) written: bool,
    blank: Blank,
}

const ABSENT: Done = Done {
    written: false,
    blank: Some(0),
};

/// A value written: it holds a value at some depth.
const WRITTEN: Done = Done {
    written: true,
    blank: None,
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
    /// Whether the caller reads [`Done::blank`]; when it does not (and the element is not
    /// required), members that are not written are skipped without measuring them.
    need_blank: bool,
}

/// An element of `card` Many, written as `project::write_many` does.
struct Many<'o> {
    out: &'o mut Out,
    kind: Kind,
    need_blank: bool,
}

/// Writes the value of `element` (its name already written). `need_blank`: whether the
/// caller reads the returned [`Done::blank`] (otherwise it is not meaningful).
pub(super) fn element_value<'de, A: MapAccess<'de>>(
    map: &mut A,
    out: &mut Out,
    element: &Element,
    need_blank: bool,
) -> Result<Done, A::Error> {
    match element.card {
        Card::Many => map.next_value_seed(Many {
            out,
            kind: element.kind,
            need_blank,
        }),
        card => map.next_value_seed(One {
            out,
            kind: element.kind,
            keep_empty: card == Card::Required,
            need_blank,
        }),
    }
}

/// Writes the members of an object that `elements` whitelists, starting after `first` (the
/// first member name, already read), as `project::write_members` does; returns how many
/// were written and, when `need_blank`, how blank the object is (otherwise `None`: members
/// that are not written are then skipped by the parser without being measured).
fn members<'de, A: MapAccess<'de>>(
    map: &mut A,
    out: &mut Out,
    elements: &[Element],
    first: Cow<'de, str>,
    need_blank: bool,
) -> Result<(usize, Blank), A::Error> {
    // Repeated names make the caller fall back: those of read members always (`seen`), the
    // others when blankness is measured (a repeated skipped member would be measured twice,
    // where the ordinary parse keeps only the last). Only the others are listed by name, so
    // the list is empty, and never allocated, for an object of whitelisted members.
    let mut names = Vec::new();
    let mut seen = Seen::default();
    let mut written = 0;
    let mut blank = Some(0);
    let mut next = Some(first);
    while let Some(name) = next {
        match project::position(elements, &name) {
            Some(index) => {
                seen.first(index)?;
                let mark = out.tape.mark();
                out.tape.key(elements[index].name());
                let done = element_value(map, out, &elements[index], need_blank)?;
                if done.written {
                    written += 1;
                } else {
                    out.tape.truncate(mark);
                }
                blank = with_member(blank, done.blank);
            }
            None if need_blank => {
                first_time(&mut names, &name)?;
                blank = with_member(blank, map.next_value_seed(BlankSeed)?);
            }
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        next = map.next_key_seed(Name)?;
    }
    Ok((written, if need_blank { blank } else { None }))
}

impl One<'_> {
    /// A string, written as `project::write_one` does.
    fn string(self, s: &str) -> Done {
        if s.is_empty() {
            return ABSENT;
        }
        if !matches!(self.kind, Kind::Str) {
            return self.out.mismatch(None);
        }
        self.out.tape.str(s);
        WRITTEN
    }

    /// A number, from its text as a `Value` keeps it, written as `project::write_one` does.
    fn number(self, text: &str) -> Done {
        match self.kind {
            // The number's text, as written.
            Kind::Decimal => self.out.tape.str(text),
            Kind::Integer => match project::integer(text) {
                Some(n) => self.out.tape.int(n),
                None => return self.out.mismatch(None),
            },
            _ => return self.out.mismatch(None),
        }
        WRITTEN
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
        Ok(self.string(s))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Done, E> {
        if !matches!(self.kind, Kind::Boolean) {
            return Ok(self.out.mismatch(None));
        }
        self.out.tape.bool(b);
        Ok(WRITTEN)
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
            // Consume the rest of the object: the resource is invalid whatever it holds.
            map.next_value::<IgnoredAny>()?;
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value::<IgnoredAny>()?;
            }
            return Ok(self.out.mismatch(None));
        };
        let start = self.out.tape.mark();
        self.out.tape.open();
        // A required element's own blankness decides whether it is kept.
        let need_blank = self.need_blank || self.keep_empty;
        let (written, blank) = members(&mut map, self.out, elements, first, need_blank)?;
        let is_blank = blank.is_some_and(|m| m <= BLANK_DEPTH);
        if written == 0 && (!self.keep_empty || is_blank) {
            self.out.tape.truncate(start);
            return Ok(Done {
                written: false,
                blank,
            });
        }
        self.out.tape.close();
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
        let start = self.out.tape.open_array();
        let mut written = 0;
        let mut blank = Some(0);
        loop {
            let mark = self.out.tape.mark();
            let item = One {
                out: &mut *self.out,
                kind: self.kind,
                keep_empty: false,
                need_blank: self.need_blank,
            };
            let Some(done) = seq.next_element_seed(item)? else {
                self.out.tape.truncate(mark);
                break;
            };
            if done.written {
                written += 1;
            } else {
                self.out.tape.truncate(mark);
            }
            blank = with_member(blank, done.blank);
        }
        if written == 0 {
            self.out.tape.truncate(start);
            return Ok(Done {
                written: false,
                blank,
            });
        }
        self.out.tape.close_array(start, written);
        Ok(Done {
            written: true,
            blank,
        })
    }
}
