//! The check of one untrusted resource, made on the parsed document itself: the rules read the
//! document as received, so the check writes nothing and copies nothing but the patient
//! reference.
//!
//! It refuses what fhirbolt's strict parse refuses on the elements of [`crate::schema`], and a
//! little more (fhirbolt's parse is the tests' reference, `oracle`):
//!
//! * an element of the wrong JSON type (`"status": 5`, `"value": "high"` for a decimal,
//!   `"true"` for a boolean, an object where an array is expected): nothing is coerced;
//! * a required element that is absent, or two values of one choice element;
//! * a decimal that is not a finite `f64` (`1e400`), an integer outside `i32` or `-0`;
//! * an element of the schema that appears twice in one object (the parser keeps repeated
//!   names, and which value counts would be a guess).
//!
//! `null`, `""`, `[]` and `{}` count as absent at every level, and so does an object none of
//! whose members the schema lists (`{"extension": […]}`), except a required complex element
//! present with content (see [`Card::Required`]).

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Object, Value};

use crate::schema::{position, shape_of, Card, Element, Kind, Shape, ID};
use crate::DecodeError;

/// What the service reads of a resource that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A Patient: its id and birth date as written.
    Patient {
        /// `id`.
        id: Option<String>,
        /// `birthDate`.
        birth_date: Option<String>,
    },
    /// An OperationOutcome in place of data (a prefetch error).
    OperationOutcome,
    /// Any other resource, with its patient reference as written (`subject`, or `patient`),
    /// when it has one.
    Clinical {
        /// The reference, say `Patient/p1`.
        subject: Option<String>,
    },
}

/// The shape of an element did not match the schema. Carries no content.
struct Mismatch;

/// Checks one untrusted resource (see the module docs).
///
/// # Errors
///
/// Not an object, or no string `resourceType` that looks like a type name →
/// [`DecodeError::NotAResource`]; any refusal of the module docs → [`DecodeError::Invalid`].
pub fn check(value: &Value) -> Result<Checked, DecodeError> {
    let object = value.as_object().ok_or(DecodeError::NotAResource)?;
    let resource_type = object
        .get(&"resourceType")
        .and_then(|t| t.as_str())
        .filter(|t| is_type_name(t))
        .ok_or(DecodeError::NotAResource)?;
    if resource_type == "OperationOutcome" {
        return Ok(Checked::OperationOutcome);
    }
    let text = |name: &str| {
        object
            .get(&name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let reference = |name: &str| {
        object
            .get(&name)
            .and_then(|r| r.get("reference"))
            .and_then(|r| r.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(shape) = shape_of(resource_type) {
        resource(shape, object).map_err(|Mismatch| DecodeError::Invalid {
            resource_type: resource_type.to_owned(),
        })?;
    }
    Ok(match resource_type {
        "Patient" => Checked::Patient {
            id: text("id"),
            birth_date: text("birthDate"),
        },
        _ => Checked::Clinical {
            subject: reference("subject").or_else(|| reference("patient")),
        },
    })
}

/// A resource's members: its shape's, and `id`.
fn resource(shape: &Shape, object: &Object) -> Result<(), Mismatch> {
    let present = members(shape, object, true)?;
    groups(shape, present)
}

/// Checks the members of `object` that `shape` lists (and `id` when `with_id`), and returns
/// which are present, as bits by index in `shape.elements`.
fn members(shape: &Shape, object: &Object, with_id: bool) -> Result<u64, Mismatch> {
    // `id` takes the last bit: shapes have fewer than 63 elements (a test says so).
    const ID_BIT: usize = 63;
    let (mut seen, mut present) = (0u64, 0u64);
    for (name, value) in object.iter() {
        let (index, element) = match position(shape.elements, name) {
            Some(index) => (index, &shape.elements[index]),
            None if with_id && name == "id" => (ID_BIT, &ID),
            None => continue,
        };
        let bit = 1u64 << index;
        if seen & bit != 0 {
            return Err(Mismatch);
        }
        seen |= bit;
        if element_present(element, value)? {
            present |= bit;
        }
    }
    Ok(present)
}

/// Every group of `shape` has at most one present member, and a required one exactly one.
fn groups(shape: &Shape, present: u64) -> Result<(), Mismatch> {
    for group in shape.groups {
        let count = group
            .names
            .iter()
            .filter_map(|name| position(shape.elements, name))
            .filter(|index| present & (1u64 << index) != 0)
            .count();
        if count > 1 || (group.required && count == 0) {
            return Err(Mismatch);
        }
    }
    Ok(())
}

/// Whether an element counts as present, once its shape is checked.
fn element_present(element: &Element, value: &Value) -> Result<bool, Mismatch> {
    match element.card {
        Card::Optional => one(element.kind, false, value),
        Card::Required => one(element.kind, true, value),
        Card::Many => {
            if is_absent(value) {
                return Ok(false);
            }
            let items = value.as_array().ok_or(Mismatch)?;
            let mut any = false;
            for item in items.iter() {
                any |= one(element.kind, false, item)?;
            }
            Ok(any)
        }
    }
}

/// Whether one value of `kind` counts as present, once checked. `required` is set for a
/// required complex element (see [`Card::Required`]).
fn one(kind: Kind, required: bool, value: &Value) -> Result<bool, Mismatch> {
    if is_absent(value) {
        return Ok(false);
    }
    match kind {
        Kind::Str if value.is_str() => Ok(true),
        Kind::Decimal if value.is_number() => match value.as_f64() {
            Some(number) if number.is_finite() => Ok(true),
            _ => Err(Mismatch),
        },
        Kind::Integer if value.is_number() => match integer(&value.to_string()) {
            Some(_) => Ok(true),
            None => Err(Mismatch),
        },
        Kind::Boolean if value.is_boolean() => Ok(true),
        Kind::Complex(shape) => {
            let object = value.as_object().ok_or(Mismatch)?;
            let present = members(shape, object, false)?;
            let kept = present != 0 || (required && !is_blank(value, BLANK_DEPTH));
            // An object none of whose listed members is present is not there for its groups.
            if kept {
                groups(shape, present)?;
            }
            Ok(kept)
        }
        _ => Err(Mismatch),
    }
}

/// An `integer` element's value from its JSON text: within `i32`, and not `-0`, which FHIR's
/// integer syntax (`[0]|[-+]?[1-9][0-9]*`) excludes.
pub(crate) fn integer(text: &str) -> Option<i32> {
    if text == "-0" {
        return None;
    }
    text.parse::<i32>().ok()
}

/// `null`, `""`, `[]` or `{}`.
pub(crate) fn is_absent(value: &Value) -> bool {
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
/// untrusted content the schema does not list).
pub(crate) const BLANK_DEPTH: usize = 16;

/// Absent, or an array/object made only of blank values (looked at up to `depth` levels).
pub(crate) fn is_blank(value: &Value, depth: usize) -> bool {
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

/// A plausible resource type name: an ASCII letter-and-digit word starting with an upper-case
/// letter, at most 64 characters (so arbitrary text never travels on as a type name).
pub(crate) fn is_type_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}
