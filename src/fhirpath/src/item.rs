//! The items of a collection: nodes of the resource (JSON, with the FHIR type their element
//! name tells) and the values expressions compute. FHIR JSON carries no types, so a node is
//! read as the kind of value the operation needs: a string node compared with a date literal
//! is read as a date, an object with a numeric `value` compared with a quantity as a quantity.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::json::{get_str, number, view, Num, Value, View};
use sonic_rs::JsonValueTrait;

use crate::temporal::{Kind, Temporal};

/// One item of a collection.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    /// A node of a resource; `choice` is the type suffix of a choice element's name
    /// (`Quantity` for `valueQuantity`).
    Node {
        value: &'a Value,
        choice: Option<&'a str>,
    },
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    String(Cow<'a, str>),
    Temporal(Temporal),
    /// A value and its unit (UCUM code or calendar word).
    Quantity(f64, Cow<'a, str>),
}

/// An item read as a plain value.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain<'a> {
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    String(&'a str),
    Temporal(Temporal),
    Quantity(f64, &'a str),
    /// An object (a complex type or a resource).
    Object(&'a Value),
    /// JSON null or an array (never in a well-formed collection).
    Nothing,
}

impl<'a> Item<'a> {
    /// A node with no type hint.
    pub fn node(value: &'a Value) -> Item<'a> {
        Item::Node {
            value,
            choice: None,
        }
    }

    /// The item as a plain value; `temporal` reads string nodes as dates where they parse.
    pub fn plain(&self, temporal: bool) -> Plain<'_> {
        match self {
            Item::Boolean(b) => Plain::Boolean(*b),
            Item::Integer(n) => Plain::Integer(*n),
            Item::Decimal(d) => Plain::Decimal(*d),
            Item::String(s) => {
                if temporal {
                    if let Some(t) = Temporal::parse_fhir(s) {
                        return Plain::Temporal(t);
                    }
                }
                Plain::String(s)
            }
            Item::Temporal(t) => Plain::Temporal(*t),
            Item::Quantity(v, u) => Plain::Quantity(*v, u),
            Item::Node { value, choice } => match view(value) {
                View::Bool(b) => Plain::Boolean(b),
                View::Number => match number(value) {
                    Some(Num::Integer(i)) => Plain::Integer(i),
                    Some(Num::Decimal(d)) => Plain::Decimal(d),
                    None => Plain::Nothing,
                },
                View::String(s) => {
                    let dated = matches!(*choice, Some("Date" | "DateTime" | "Instant"));
                    if temporal || dated {
                        if let Some(t) = Temporal::parse_fhir(s) {
                            return Plain::Temporal(t);
                        }
                    }
                    Plain::String(s)
                }
                View::Object(_) => match quantity_of(value) {
                    Some((v, u)) if matches!(*choice, Some("Quantity" | "Age" | "Duration")) => {
                        Plain::Quantity(v, u)
                    }
                    _ => Plain::Object(value),
                },
                View::Null | View::Array(_) => Plain::Nothing,
            },
        }
    }

    /// The item as a quantity when it is one (an object with a numeric `value`).
    pub fn quantity(&self) -> Option<(f64, &str)> {
        match self {
            Item::Quantity(v, u) => Some((*v, u)),
            Item::Node { value, .. } => quantity_of(value),
            Item::Integer(n) => Some((*n as f64, "1")),
            Item::Decimal(d) => Some((*d, "1")),
            _ => None,
        }
    }

    /// The item as text, for string functions (a string node, or a code, id, uri…).
    pub fn text(&self) -> Option<&str> {
        match self {
            Item::String(s) => Some(s),
            Item::Node { value, .. } => value.as_str(),
            _ => None,
        }
    }

    /// `toString()`: the item as text, or None for objects.
    pub fn to_text(&self) -> Option<String> {
        Some(match self.plain(false) {
            Plain::Boolean(b) => b.to_string(),
            Plain::Integer(n) => n.to_string(),
            Plain::Decimal(d) => fmt_decimal(d),
            Plain::String(s) => s.to_owned(),
            Plain::Temporal(t) => t.to_text(),
            Plain::Quantity(v, u) => format!("{} '{}'", fmt_decimal(v), u),
            Plain::Object(_) | Plain::Nothing => return None,
        })
    }
}

/// A decimal as FHIRPath prints it (no trailing `.0`).
pub fn fmt_decimal(d: f64) -> String {
    let s = format!("{d}");
    s
}

/// An object with a numeric `value` and a `code` (UCUM) or `unit`.
fn quantity_of(value: &Value) -> Option<(f64, &str)> {
    let v = value.get("value").and_then(number).map(|n| match n {
        Num::Integer(i) => i as f64,
        Num::Decimal(d) => d,
    })?;
    let unit = get_str(value, "code")
        .or_else(|| get_str(value, "unit"))
        .unwrap_or("1");
    Some((v, unit))
}

/// The calendar words and UCUM codes that name the same duration for comparisons.
fn unit_key(unit: &str) -> &str {
    let word = if unit.len() > 3 {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    match word {
        "year" => "a",
        "month" => "mo",
        "week" => "wk",
        "day" => "d",
        "hour" => "h",
        "minute" => "min",
        "second" => "s",
        "millisecond" => "ms",
        _ => unit,
    }
}

/// Equality of two items (`=`): `None` when undecided (dates of different precision,
/// quantities of different units).
pub fn equal(a: &Item, b: &Item, offset: i32) -> Option<bool> {
    let (pa, pb) = plains(a, b);
    match (&pa, &pb) {
        (Plain::Integer(x), Plain::Decimal(y)) | (Plain::Decimal(y), Plain::Integer(x)) => {
            Some(*x as f64 == *y)
        }
        (Plain::Temporal(x), Plain::Temporal(y)) => {
            if (x.kind == Kind::Time) != (y.kind == Kind::Time) {
                return Some(false);
            }
            x.compare(y, offset).map(|o| o == Ordering::Equal)
        }
        (Plain::Quantity(x, u), Plain::Quantity(y, v)) => {
            (unit_key(u) == unit_key(v)).then_some(x == y)
        }
        (Plain::Object(x), Plain::Object(y)) => Some(x == y),
        _ => Some(pa == pb),
    }
}

/// Equivalence (`~`): strings ignore case and surrounding or repeated whitespace, decimals
/// compare at the precision of the less precise, undecided dates are not equivalent.
pub fn equivalent(a: &Item, b: &Item, offset: i32) -> bool {
    match (a.plain(false), b.plain(false)) {
        (Plain::String(x), Plain::String(y)) => normalise(x) == normalise(y),
        (Plain::Decimal(x), Plain::Decimal(y)) => {
            let places = decimals(x).min(decimals(y)) as i32;
            let scale = 10f64.powi(places);
            (x * scale).round() == (y * scale).round()
        }
        _ => equal(a, b, offset).unwrap_or(false),
    }
}

fn decimals(d: f64) -> usize {
    let s = format!("{d}");
    s.split_once('.').map_or(0, |(_, f)| f.len())
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Two items read as plain values of the same kind where one of them decides it: a string
/// beside a date is read as a date, an object beside a quantity as a quantity.
fn plains<'b>(a: &'b Item, b: &'b Item) -> (Plain<'b>, Plain<'b>) {
    let temporal = is_temporal(a) || is_temporal(b);
    if matches!(a, Item::Quantity(..)) || matches!(b, Item::Quantity(..)) {
        (as_quantity(a), as_quantity(b))
    } else {
        (a.plain(temporal), b.plain(temporal))
    }
}

fn is_temporal(i: &Item) -> bool {
    matches!(i, Item::Temporal(_))
}

fn as_quantity<'b>(i: &'b Item) -> Plain<'b> {
    match i.quantity() {
        Some((v, u)) => Plain::Quantity(v, u),
        None => i.plain(false),
    }
}

/// Ordering (`<`, `>`…): `Ok(None)` when undecided, `Err` when the two cannot be compared.
pub fn compare(a: &Item, b: &Item, offset: i32) -> Result<Option<Ordering>, String> {
    let (pa, pb) = plains(a, b);
    let number = |p: &Plain| match p {
        Plain::Integer(n) => Some(*n as f64),
        Plain::Decimal(d) => Some(*d),
        _ => None,
    };
    if let (Some(x), Some(y)) = (number(&pa), number(&pb)) {
        return Ok(x.partial_cmp(&y));
    }
    match (&pa, &pb) {
        (Plain::String(x), Plain::String(y)) => Ok(Some(x.cmp(y))),
        (Plain::Temporal(x), Plain::Temporal(y)) => {
            if (x.kind == Kind::Time) != (y.kind == Kind::Time) {
                return Err("a time compared with a date".to_owned());
            }
            Ok(x.compare(y, offset))
        }
        (Plain::Quantity(x, u), Plain::Quantity(y, v)) => Ok((unit_key(u) == unit_key(v))
            .then(|| x.partial_cmp(y))
            .flatten()),
        _ => Err("values of different types compared".to_owned()),
    }
}
