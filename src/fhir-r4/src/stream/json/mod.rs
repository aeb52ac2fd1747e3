//! The JSON reader of the one-pass path: a serde `Deserializer` that gives exactly what
//! `serde_json` (with `arbitrary_precision`, which fhirbolt turns on) gives for the same text,
//! or refuses. A refusal is not an error the caller reports: [`super::try_stream_within`] then
//! gives `None`, and the caller parses the ordinary way, which reports what is wrong.
//!
//! Why not `serde_json` itself: a hook request is about 55,000 small tokens, and `serde_json`'s
//! own code was about 40 % of reading one (7.5 M of 17.1 M instructions for the typical bench
//! patient, issue #6); and a second pass over the body (4.0 M) counted its nesting before the
//! parse. This reader counts nesting as it reads, every array and object, skipped or not, so
//! that a body it reads needs no separate depth scan.
//!
//! What it gives, token by token, as `serde_json` does:
//! * strings: borrowed from the input when they hold no escape; escapes decoded. A control
//!   character, an invalid escape or any `\u` escape of a UTF-16 surrogate (valid pairs
//!   included, which are rare) is refused;
//! * integers that fit `u64` (or `i64` when negative, `-0` aside) as `visit_u64`/`visit_i64`;
//!   every other number as a one-member map whose key is `serde_json`'s private number token
//!   and whose value is the number's text, its exponent written `e` with an explicit sign;
//! * arrays and objects through `SeqAccess`/`MapAccess` with `serde_json`'s rules for commas,
//!   and the same check that a visitor read its container to the end;
//! * skipped values (`IgnoredAny`) checked as strictly as `serde_json` checks them.
//!
//! An object member named with `serde_json`'s private number token is refused wherever it is:
//! `serde_json::Value` reads such an object as a number, the one-pass seeds would not.
//!
//! Typed numbers (`deserialize_u64`, `deserialize_f64`, …), bytes and enums are refused: the
//! one-pass seeds and `serde_json::Value` never ask for them, and refusing keeps the promise.
//! Nesting: at most `max_depth` arrays and objects open at once, and, as in `serde_json`, at
//! most 127 of them entered through a visitor.

use std::fmt;

use super::element::NUMBER_TOKEN;

/// `serde_json` refuses the 128th array or object nested through its visitors.
const VISITED_MAX_DEPTH: usize = 127;

/// The input is not read by this reader; the caller parses it the ordinary way. Carries no
/// content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read in one pass")
    }
}

impl std::error::Error for Refused {}

impl serde::de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

type Result<T> = std::result::Result<T, Refused>;

/// Bytes that end the plain run of a string: the closing quote, a backslash, and the control
/// characters JSON forbids in strings.
static STRING_STOP: [bool; 256] = {
    let mut stop = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        stop[b] = true;
        b += 1;
    }
    stop[b'"' as usize] = true;
    stop[b'\\' as usize] = true;
    stop
};

/// The length of the plain run at the start of `bytes`: the index of the first byte of
/// [`STRING_STOP`], if any. Eight bytes at a time: a byte of a word is flagged when it equals
/// `"` or `\\`, or is below 0x20 (the usual zero-byte test, `(x - 0x01…) & !x & 0x80…`, on the
/// word XOR the byte, and its `< n` form). A borrow can flag a byte above a true hit, never below
/// one, so the lowest flagged byte is the first stop.
#[inline]
fn plain_run(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let flagged = (below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20))
            & HIGH;
        if flagged != 0 {
            return Some(at + flagged.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| STRING_STOP[usize::from(b)])
        .map(|p| at + p)
}

/// A string read: borrowed from the input, or decoded into the reader's scratch buffer.
enum Str<'de, 's> {
    Borrowed(&'de str),
    Copied(&'s str),
}

impl Str<'_, '_> {
    /// `serde_json`'s private number token. As an object member's name it makes
    /// `serde_json::Value` read the object as a number (and refuse it unless its value is a
    /// number's text), which the one-pass seeds would not: such input is left to the ordinary
    /// parse, wherever it is.
    fn is_number_token(&self) -> bool {
        let (Str::Borrowed(s) | Str::Copied(s)) = self;
        *s == NUMBER_TOKEN
    }
}

/// Reads one JSON text; see the module docs.
pub(crate) struct Reader<'de> {
    text: &'de str,
    pos: usize,
    /// Arrays and objects open now, skipped or not.
    depth: usize,
    /// Of those, the ones entered through a visitor.
    visited: usize,
    max_depth: usize,
    scratch: String,
    /// Open containers of the value being skipped.
    stack: Vec<u8>,
}

impl<'de> Reader<'de> {
    pub(crate) fn new(text: &'de str, max_depth: usize) -> Self {
        Reader {
            text,
            pos: 0,
            depth: 0,
            visited: 0,
            max_depth,
            scratch: String::new(),
            stack: Vec::new(),
        }
    }

    /// Only whitespace may follow the value.
    pub(crate) fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Refused),
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.text.as_bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn open(&mut self) -> Result<()> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Refused);
        }
        Ok(())
    }

    fn close(&mut self, byte: u8) -> Result<()> {
        if self.peek() != Some(byte) {
            return Err(Refused);
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Opens a container for a visitor.
    fn enter(&mut self) -> Result<()> {
        self.open()?;
        self.visited += 1;
        if self.visited > VISITED_MAX_DEPTH {
            return Err(Refused);
        }
        Ok(())
    }

    /// The string whose opening quote is at `pos`.
    #[inline]
    fn string(&mut self) -> Result<Str<'de, '_>> {
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let rest = bytes.get(start..).ok_or(Refused)?;
        let end = start + plain_run(rest).ok_or(Refused)?;
        if bytes[end] == b'"' {
            self.pos = end + 1;
            // Quotes are ASCII: the slice lies on character boundaries of valid UTF-8.
            return self.text.get(start..end).map(Str::Borrowed).ok_or(Refused);
        }
        self.escaped(start, end)
    }

    /// The rest of a string whose plain run `start..end` stops at something other than the
    /// closing quote: decoded into the scratch buffer.
    #[cold]
    fn escaped(&mut self, start: usize, mut end: usize) -> Result<Str<'de, '_>> {
        let (text, bytes) = (self.text, self.text.as_bytes());
        self.scratch.clear();
        self.scratch.push_str(text.get(start..end).ok_or(Refused)?);
        loop {
            match bytes[end] {
                b'"' => {
                    self.pos = end + 1;
                    return Ok(Str::Copied(&self.scratch));
                }
                b'\\' => {
                    let (c, len) = escape(bytes.get(end + 1..).ok_or(Refused)?)?;
                    self.scratch.push(c);
                    end += 1 + len;
                }
                _ => return Err(Refused),
            }
            let from = end;
            let rest = bytes.get(from..).ok_or(Refused)?;
            end = from + plain_run(rest).ok_or(Refused)?;
            self.scratch.push_str(text.get(from..end).ok_or(Refused)?);
        }
    }

    /// The number at `pos`, checked against JSON's grammar: its text, and whether it is an
    /// integer (no fraction, no exponent).
    fn number(&mut self) -> Result<(&'de str, bool)> {
        let bytes = self.text.as_bytes();
        let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let start = self.pos;
        let mut i = start + usize::from(bytes.get(start) == Some(&b'-'));
        match bytes.get(i) {
            Some(b'0') if digit(i + 1) => return Err(Refused),
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while digit(i) {
                    i += 1;
                }
            }
            _ => return Err(Refused),
        }
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            if !digit(i) {
                return Err(Refused);
            }
            while digit(i) {
                i += 1;
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digit(i) {
                return Err(Refused);
            }
            while digit(i) {
                i += 1;
            }
        }
        self.pos = i;
        Ok((&self.text[start..i], integer))
    }

    /// Skips one value, checked as strictly as a value that is read. Iterative: a skipped
    /// value may nest as deep as `max_depth` allows without using the stack.
    fn skip(&mut self) -> Result<()> {
        self.stack.clear();
        loop {
            // A value.
            match self.peek().ok_or(Refused)? {
                b'"' => {
                    self.string()?;
                }
                open @ (b'{' | b'[') => {
                    self.open()?;
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        self.depth -= 1;
                    } else {
                        self.stack.push(open);
                        if open == b'{' {
                            self.key_and_colon()?;
                        }
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => drop(self.number()?),
                _ => return Err(Refused),
            }
            // After a value: close containers, or go on after a comma.
            loop {
                let Some(&open) = self.stack.last() else {
                    return Ok(());
                };
                match (self.peek().ok_or(Refused)?, open) {
                    (b',', _) => {
                        self.pos += 1;
                        if open == b'{' {
                            self.key_and_colon()?;
                        }
                        break;
                    }
                    (b']', b'[') | (b'}', b'{') => {
                        self.pos += 1;
                        self.depth -= 1;
                        self.stack.pop();
                    }
                    _ => return Err(Refused),
                }
            }
        }
    }

    /// An object member's name and the colon after it (skipped).
    fn key_and_colon(&mut self) -> Result<()> {
        if self.peek() != Some(b'"') {
            return Err(Refused);
        }
        if self.string()?.is_number_token() {
            return Err(Refused);
        }
        if self.peek() != Some(b':') {
            return Err(Refused);
        }
        self.pos += 1;
        Ok(())
    }
}

/// The character of the escape after a backslash, and the escape's length.
fn escape(after: &[u8]) -> Result<(char, usize)> {
    let c = match after.first().ok_or(Refused)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\x08',
        b'f' => '\x0c',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hex = after.get(1..5).ok_or(Refused)?;
            let mut n = 0u32;
            for &h in hex {
                n = n * 16 + char::from(h).to_digit(16).ok_or(Refused)?;
            }
            // Surrogates (paired or lone) are left to the ordinary parse.
            return char::from_u32(n).map(|c| (c, 5)).ok_or(Refused);
        }
        _ => return Err(Refused),
    };
    Ok((c, 1))
}

/// The text `serde_json` gives a number that is not a `u64`/`i64`: as written, but with the
/// exponent marker `e` and an explicit exponent sign.
fn number_text(text: &str) -> String {
    match text.find(['e', 'E']) {
        None => text.to_owned(),
        Some(at) => {
            let exponent = &text[at + 1..];
            let sign = if exponent.starts_with(['+', '-']) {
                ""
            } else {
                "+"
            };
            format!("{}e{sign}{exponent}", &text[..at])
        }
    }
}

mod access;
#[cfg(test)]
pub(crate) mod tests;
