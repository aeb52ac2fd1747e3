//! The projection of a resource as a tape of tokens, and a serde `Deserializer` over it.
//!
//! The projection ([`crate::project`], from a `Value`) writes
//! what it keeps of a resource here, and `crate::read` reads the facts back with serde. A tape
//! instead of JSON text (issue #6): writing needs no escaping, reading needs no tokenizing, no
//! UTF-8 validation and no number parsing, and it still truncates back to a mark as text did
//! when a value turns out to project to nothing. Strings live in one `String`, tokens refer to
//! them by range; member names are the projection tables' own `&'static str`s, never copied.
//!
//! Decimals are kept as strings holding the number's text as written (the precision is the
//! input's; `read` parses them), integers as `i32`.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A projected resource.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tape {
    tokens: Vec<Token>,
    text: String,
}

/// A range of [`Tape::text`].
type Span = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Open,
    Close,
    /// With the number of items, so that a `Vec` read from it is allocated once, to size.
    OpenArray(usize),
    CloseArray,
    /// A member name: always one of the projection tables' names.
    Key(&'static str),
    Str(Span),
    Int(i32),
    Bool(bool),
}

/// A position to truncate a [`Tape`] back to.
#[derive(Clone, Copy)]
pub(crate) struct Mark(usize, usize);

impl Tape {
    /// An empty tape with room for a typical resource.
    pub(crate) fn with_capacity() -> Self {
        Tape {
            tokens: Vec::with_capacity(64),
            text: String::with_capacity(512),
        }
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark(self.tokens.len(), self.text.len())
    }

    /// Forgets everything written after `mark`.
    pub(crate) fn truncate(&mut self, mark: Mark) {
        self.tokens.truncate(mark.0);
        self.text.truncate(mark.1);
    }

    fn span(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        (start, self.text.len())
    }

    /// `{`
    pub(crate) fn open(&mut self) {
        self.tokens.push(Token::Open);
    }

    /// `}`
    pub(crate) fn close(&mut self) {
        self.tokens.push(Token::Close);
    }

    /// `[`; returns the mark to give [`Tape::close_array`].
    pub(crate) fn open_array(&mut self) -> Mark {
        let mark = self.mark();
        self.tokens.push(Token::OpenArray(0));
        mark
    }

    /// `]` of the array opened at `open`, which holds `items` items.
    pub(crate) fn close_array(&mut self, open: Mark, items: usize) {
        debug_assert!(matches!(self.tokens[open.0], Token::OpenArray(_)));
        self.tokens[open.0] = Token::OpenArray(items);
        self.tokens.push(Token::CloseArray);
    }

    /// A member name (one of the projection's own).
    pub(crate) fn key(&mut self, name: &'static str) {
        self.tokens.push(Token::Key(name));
    }

    /// A string, or a decimal's text.
    pub(crate) fn str(&mut self, s: &str) {
        let span = self.span(s);
        self.tokens.push(Token::Str(span));
    }

    pub(crate) fn int(&mut self, n: i32) {
        self.tokens.push(Token::Int(n));
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.tokens.push(Token::Bool(b));
    }

    /// Reads the whole tape as a `T`.
    pub(crate) fn read<'t, T: Deserialize<'t>>(&'t self) -> Result<T, Refused> {
        let mut de = De { tape: self, pos: 0 };
        let value = T::deserialize(&mut de)?;
        match de.pos == self.tokens.len() {
            true => Ok(value),
            false => Err(Refused),
        }
    }

    /// The tape as JSON text (decimals as JSON strings): what fhirbolt's concrete types read,
    /// for the tests' reference reading (`oracle`) and the projection's tests.
    #[cfg(test)]
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut comma = false;
        for token in &self.tokens {
            if comma && !matches!(token, Token::Close | Token::CloseArray) {
                out.push(b',');
            }
            match token {
                Token::Open => out.push(b'{'),
                Token::Close => out.push(b'}'),
                Token::OpenArray(_) => out.push(b'['),
                Token::CloseArray => out.push(b']'),
                Token::Key(name) => {
                    serde_json::to_writer(&mut out, name).expect("to memory");
                    out.push(b':');
                }
                Token::Str(s) => {
                    serde_json::to_writer(&mut out, &self.text[s.0..s.1]).expect("to memory");
                }
                Token::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
                Token::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            }
            comma = !matches!(token, Token::Open | Token::OpenArray(_) | Token::Key(_));
        }
        out
    }

    /// A tape of a JSON value written as the projection writes (strings, `i32` integers,
    /// booleans, objects, arrays), for tests that edit a projection as JSON. Member names are
    /// leaked to be `'static` as the projection's are (a test's few bytes).
    #[cfg(test)]
    pub(crate) fn of_json(value: &serde_json::Value) -> Tape {
        fn write(tape: &mut Tape, value: &serde_json::Value) {
            use serde_json::Value;
            match value {
                Value::String(s) => tape.str(s),
                Value::Bool(b) => tape.bool(*b),
                Value::Number(n) => tape.int(
                    n.as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .expect("an i32"),
                ),
                Value::Array(items) => {
                    let open = tape.open_array();
                    items.iter().for_each(|item| write(tape, item));
                    tape.close_array(open, items.len());
                }
                Value::Object(map) => {
                    tape.open();
                    for (k, v) in map {
                        tape.key(Box::leak(k.clone().into_boxed_str()));
                        write(tape, v);
                    }
                    tape.close();
                }
                Value::Null => panic!("the projection writes no null"),
            }
        }
        let mut tape = Tape::default();
        write(&mut tape, value);
        tape
    }
}

/// A tape that is not a `T` (never happens to a tape the projection wrote and a type that
/// mirrors its table); carries no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not the projection of a resource of this type")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

/// The reading position in a tape.
struct De<'t> {
    tape: &'t Tape,
    pos: usize,
}

impl<'t> De<'t> {
    fn next(&mut self) -> Result<Token, Refused> {
        let token = *self.tape.tokens.get(self.pos).ok_or(Refused)?;
        self.pos += 1;
        Ok(token)
    }

    fn peek(&self) -> Option<Token> {
        self.tape.tokens.get(self.pos).copied()
    }

    fn text(&self, span: Span) -> &'t str {
        &self.tape.text[span.0..span.1]
    }

    /// Moves past one value.
    fn skip(&mut self) -> Result<(), Refused> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Token::Open | Token::OpenArray(_) => depth += 1,
                Token::Close | Token::CloseArray => depth = depth.checked_sub(1).ok_or(Refused)?,
                Token::Key(_) => continue,
                Token::Str(_) | Token::Int(_) | Token::Bool(_) => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

impl<'de> Deserializer<'de> for &mut De<'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.next()? {
            Token::Open => visitor.visit_map(Members(self)),
            Token::OpenArray(items) => visitor.visit_seq(Items {
                de: self,
                left: items,
            }),
            Token::Str(span) => visitor.visit_borrowed_str(self.text(span)),
            Token::Int(n) => visitor.visit_i64(i64::from(n)),
            Token::Bool(b) => visitor.visit_bool(b),
            Token::Key(_) | Token::Close | Token::CloseArray => Err(Refused),
        }
    }

    /// A member that is present has a value: the projection writes no `null`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        self.skip()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
    }
}

/// An object's members, up to its `Close`.
struct Members<'a, 'de>(&'a mut De<'de>);

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        match self.0.next()? {
            Token::Close => Ok(None),
            Token::Key(name) => seed
                .deserialize(BorrowedStrDeserializer::new(name))
                .map(Some),
            _ => Err(Refused),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        seed.deserialize(&mut *self.0)
    }
}

/// An array's items, up to its `CloseArray`.
struct Items<'a, 'de> {
    de: &'a mut De<'de>,
    /// Items not yet read, as the writer counted them.
    left: usize,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        if self.de.peek() == Some(Token::CloseArray) {
            self.de.pos += 1;
            return Ok(None);
        }
        self.left = self.left.saturating_sub(1);
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn truncating_to_a_mark_forgets_what_followed_and_reading_needs_the_whole_tape() {
        let mut tape = Tape::with_capacity();
        tape.open();
        tape.key("a");
        tape.str("é\"x\\");
        let mark = tape.mark();
        tape.key("b");
        let open = tape.open_array();
        tape.int(-3);
        tape.bool(true);
        tape.close_array(open, 2);
        tape.close();
        let whole: Value = serde_json::from_slice(&tape.to_json()).unwrap();
        assert_eq!(whole, json!({"a": "é\"x\\", "b": [-3, true]}));
        assert_eq!(tape.read::<Value>(), Ok(whole.clone()));
        assert_eq!(Tape::of_json(&whole), tape);

        tape.truncate(mark);
        tape.close();
        assert_eq!(tape.read::<Value>(), Ok(json!({"a": "é\"x\\"})));
        // Anything after the value, or a value cut short, is refused.
        tape.str("more");
        assert_eq!(tape.read::<Value>(), Err(Refused));
        assert_eq!(Tape::default().read::<Value>(), Err(Refused));
    }
}
