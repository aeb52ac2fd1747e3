//! The JSON document expressions read: sonic-rs's `Value` (an arena-backed tree, parsed several
//! times faster than serde_json's `Value` with the features fhirbolt turns on), seen through a
//! small [`View`] so that the evaluator matches on kinds.

pub use sonic_rs::Value;
use sonic_rs::{Array, JsonContainerTrait, JsonValueTrait, Object};

/// What a JSON value is.
pub enum View<'a> {
    Null,
    Bool(bool),
    /// A number; read it with [`number`].
    Number,
    String(&'a str),
    Array(&'a Array),
    Object(&'a Object),
}

/// The kind of `v`, with its content.
pub fn view(v: &Value) -> View<'_> {
    if let Some(s) = v.as_str() {
        View::String(s)
    } else if let Some(o) = v.as_object() {
        View::Object(o)
    } else if let Some(a) = v.as_array() {
        View::Array(a)
    } else if let Some(b) = v.as_bool() {
        View::Bool(b)
    } else if v.is_number() {
        View::Number
    } else {
        View::Null
    }
}

/// A number as an integer (written without a fraction or exponent) or a decimal.
pub enum Num {
    Integer(i64),
    Decimal(f64),
}

/// The number `v` holds, `None` for any other kind.
pub fn number(v: &Value) -> Option<Num> {
    if let Some(i) = v.as_i64() {
        return Some(Num::Integer(i));
    }
    v.as_f64().filter(|f| f.is_finite()).map(Num::Decimal)
}

/// The member `name` of an object.
pub fn get<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name)
}

/// The string member `name` of an object.
pub fn get_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(|m| m.as_str())
}
