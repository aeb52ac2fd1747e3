//! The serde side of the reader: `Deserializer` for [`Reader`], and the map and sequence
//! accesses its visitors get.

use serde::de::value::StringDeserializer;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{number_text, Reader, Refused, Result, Str};
use crate::stream::element::NUMBER_TOKEN;

impl<'de> Reader<'de> {
    fn visit_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        match self.string()? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Copied(s) => visitor.visit_str(s),
        }
    }

    fn visit_map<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        let value = visitor.visit_map(Map {
            reader: self,
            first: true,
        })?;
        self.visited -= 1;
        self.close(b'}')?;
        Ok(value)
    }

    fn visit_seq<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.enter()?;
        let value = visitor.visit_seq(Seq {
            reader: self,
            first: true,
        })?;
        self.visited -= 1;
        self.close(b']')?;
        Ok(value)
    }
}

/// Methods that refuse whatever the input holds; a method with arguments before the visitor
/// lists their types: `deserialize_tuple(usize)`.
macro_rules! refuse {
    ($($method:ident $(($($arg:ty),*))?)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($(_: $arg,)*)? _: V) -> Result<V::Value> {
            Err(Refused)
        })*
    };
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek().ok_or(Refused)? {
            b'"' => self.visit_string(visitor),
            b'{' => self.visit_map(visitor),
            b'[' => self.visit_seq(visitor),
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'-' | b'0'..=b'9' => {
                let (text, integer) = self.number()?;
                if integer {
                    if !text.starts_with('-') {
                        if let Ok(n) = text.parse::<u64>() {
                            return visitor.visit_u64(n);
                        }
                    } else if text != "-0" {
                        if let Ok(n) = text.parse::<i64>() {
                            return visitor.visit_i64(n);
                        }
                    }
                }
                visitor.visit_map(Number {
                    text: Some(number_text(text)),
                })
            }
            _ => Err(Refused),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b't' | b'f') => self.deserialize_any(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'"') => self.visit_string(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'n') => {
                self.literal(b"null")?;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'n') => self.deserialize_any(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        // `serde_json::value::RawValue` asks for its text by name: not given here.
        if name.starts_with("$serde_json::") {
            return Err(Refused);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'[') => self.visit_seq(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek() {
            Some(b'{') => self.visit_map(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek() {
            Some(b'{') => self.visit_map(visitor),
            Some(b'[') => self.visit_seq(visitor),
            _ => Err(Refused),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }

    refuse! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// The members of an object, for a visitor.
struct Map<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let reader = &mut *self.reader;
        let mut next = reader.peek().ok_or(Refused)?;
        if next == b'}' {
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            if next != b',' {
                return Err(Refused);
            }
            reader.pos += 1;
            next = reader.peek().ok_or(Refused)?;
        }
        if next != b'"' {
            return Err(Refused);
        }
        seed.deserialize(Key { reader }).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let reader = &mut *self.reader;
        if reader.peek() != Some(b':') {
            return Err(Refused);
        }
        reader.pos += 1;
        seed.deserialize(reader)
    }
}

/// The items of an array, for a visitor.
struct Seq<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let reader = &mut *self.reader;
        if reader.peek().ok_or(Refused)? == b']' {
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            if reader.peek() != Some(b',') {
                return Err(Refused);
            }
            reader.pos += 1;
            if reader.peek().ok_or(Refused)? == b']' {
                return Err(Refused);
            }
        }
        seed.deserialize(reader).map(Some)
    }
}

/// An object member's name (at its opening quote).
struct Key<'a, 'de> {
    reader: &'a mut Reader<'de>,
}

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.reader.string()? {
            s if s.is_number_token() => Err(Refused),
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Copied(s) => visitor.visit_str(s),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        str string identifier ignored_any
    }

    refuse! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_seq deserialize_map
        deserialize_unit_struct(&'static str) deserialize_tuple(usize)
        deserialize_tuple_struct(&'static str, usize)
        deserialize_struct(&'static str, &'static [&'static str])
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// A number that is not a `u64`/`i64`, as `serde_json` hands it to `visit_map`: one member,
/// the private number token, whose value is the number's text.
struct Number {
    text: Option<String>,
}

impl<'de> MapAccess<'de> for Number {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.text.is_none() {
            return Ok(None);
        }
        seed.deserialize(NumberKey).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let text = self.text.take().ok_or(Refused)?;
        seed.deserialize(StringDeserializer::new(text))
    }
}

/// The key of [`Number`]: the token, whatever the visitor asks for, as `serde_json` gives it.
struct NumberKey;

impl<'de> Deserializer<'de> for NumberKey {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(NUMBER_TOKEN)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}
