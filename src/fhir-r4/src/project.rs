//! The projection of a resource onto the elements of [`crate::schema`], for the tests'
//! reference (`oracle`): fhirbolt's strict parse cannot read a raw resource (its lenient modes
//! loop on unknown arrays, its strict mode refuses unknown elements and coerces `"true"` to a
//! boolean), so the oracle parses the projection, built as a new value:
//!
//! * only the elements the schema lists (and `resourceType`, `id`) are copied;
//! * `null`, `""`, `[]` and `{}` count as absent at every level; an array item or an optional
//!   object that is empty after projection is dropped, and so is an array left empty; a
//!   required complex element present with content but projected to nothing is kept as `{}`;
//! * a copied element of the wrong JSON shape, or repeated in its object, is a [`Mismatch`];
//! * decimals are written as JSON numbers, or as strings holding the number's text when
//!   `decimal_text` is set (the form fhirbolt's concrete resource types read).

use serde_json::{Map, Value as Json};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Object, Value};

use crate::check::{integer, is_absent, is_blank, BLANK_DEPTH};
use crate::schema::{position, Card, Element, Kind, Shape, ID};

/// The shape of a projected element did not match the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mismatch;

/// The projection of a resource of type `resource_type` with shape `shape`.
pub(crate) fn project(
    resource_type: &str,
    shape: &Shape,
    input: &Object,
    decimal_text: bool,
) -> Result<Json, Mismatch> {
    let mut out = Map::new();
    out.insert("resourceType".into(), resource_type.into());
    members(&mut out, std::slice::from_ref(&ID), input, decimal_text)?;
    members(&mut out, shape.elements, input, decimal_text)?;
    Ok(Json::Object(out))
}

fn members(
    out: &mut Map<String, Json>,
    elements: &[Element],
    input: &Object,
    decimal_text: bool,
) -> Result<(), Mismatch> {
    let mut seen = 0u64;
    for (name, value) in input.iter() {
        let Some(index) = position(elements, name) else {
            continue;
        };
        if seen & (1 << index) != 0 {
            return Err(Mismatch);
        }
        seen |= 1 << index;
        let element = &elements[index];
        let projected = match element.card {
            Card::Many if is_absent(value) => None,
            Card::Many => {
                let items = value.as_array().ok_or(Mismatch)?;
                let mut kept = Vec::new();
                for item in items.iter() {
                    kept.extend(one(element.kind, false, item, decimal_text)?);
                }
                (!kept.is_empty()).then_some(Json::Array(kept))
            }
            Card::Optional => one(element.kind, false, value, decimal_text)?,
            Card::Required => one(element.kind, true, value, decimal_text)?,
        };
        if let Some(projected) = projected {
            out.insert(element.name.to_owned(), projected);
        }
    }
    Ok(())
}

fn one(kind: Kind, required: bool, value: &Value, text: bool) -> Result<Option<Json>, Mismatch> {
    if is_absent(value) {
        return Ok(None);
    }
    Ok(Some(match kind {
        Kind::Str if value.is_str() => value.as_str().unwrap_or_default().into(),
        Kind::Decimal if value.is_number() && text => value.to_string().into(),
        Kind::Decimal if value.is_number() => {
            serde_json::from_str(&value.to_string()).map_err(|_| Mismatch)?
        }
        Kind::Integer if value.is_number() => integer(&value.to_string()).ok_or(Mismatch)?.into(),
        Kind::Boolean if value.is_boolean() => value.as_bool().unwrap_or_default().into(),
        Kind::Complex(shape) if value.is_object() => {
            let mut out = Map::new();
            members(
                &mut out,
                shape.elements,
                value.as_object().ok_or(Mismatch)?,
                text,
            )?;
            if out.is_empty() && (!required || is_blank(value, BLANK_DEPTH)) {
                return Ok(None);
            }
            Json::Object(out)
        }
        _ => return Err(Mismatch),
    }))
}
