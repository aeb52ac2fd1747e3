//! Type tests (`is`, `as`, `ofType`) on JSON, where a node's type is what its element name or
//! its `resourceType` says, or what its JSON kind admits.

use crate::json::{get_str, view, View};

use crate::item::{Item, Plain};

/// The FHIR primitive types, by the name a choice suffix spells with a capital.
const PRIMITIVES: [&str; 19] = [
    "boolean",
    "integer",
    "string",
    "decimal",
    "uri",
    "url",
    "canonical",
    "base64Binary",
    "instant",
    "date",
    "dateTime",
    "time",
    "code",
    "oid",
    "id",
    "markdown",
    "unsignedInt",
    "positiveInt",
    "uuid",
];

/// Whether `name` (optionally `FHIR.` or `System.` qualified) names a type the subset knows:
/// a FHIR primitive, a System type, or any capitalised FHIR complex or resource type.
pub fn known(name: &str) -> bool {
    let (ns, bare) = split(name);
    match ns {
        Some("System") => matches!(
            bare,
            "Boolean"
                | "String"
                | "Integer"
                | "Decimal"
                | "Date"
                | "DateTime"
                | "Time"
                | "Quantity"
        ),
        _ => PRIMITIVES.contains(&bare) || bare.starts_with(|c: char| c.is_ascii_uppercase()),
    }
}

fn split(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((ns, bare)) => (Some(ns), bare),
        None => (None, name),
    }
}

fn same(suffix: &str, bare: &str) -> bool {
    let mut a = suffix.chars();
    let mut b = bare.chars();
    match (a.next(), b.next()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(&y) && a.as_str() == b.as_str(),
        _ => false,
    }
}

/// Whether `item` is of type `name`.
pub fn is(item: &Item, name: &str) -> bool {
    let (ns, bare) = split(name);
    if let Item::Node { value, choice } = item {
        if let Some(rt) = get_str(value, "resourceType") {
            return rt == bare || matches!(bare, "Resource" | "DomainResource");
        }
        if let Some(suffix) = choice {
            if ns != Some("System") {
                return same(suffix, bare);
            }
        }
        if ns == Some("System") {
            // A resource's nodes are FHIR types, never System types.
            return false;
        }
        {
            return match view(value) {
                View::String(_) => matches!(bare, "string" | "code" | "id" | "uri"),
                View::Bool(_) => bare == "boolean",
                View::Number => match item.plain(false) {
                    Plain::Integer(_) => matches!(bare, "integer" | "decimal"),
                    _ => bare == "decimal",
                },
                View::Object(_) => bare == "Quantity" && item.quantity().is_some(),
                _ => false,
            };
        }
    }
    let system = match item.plain(false) {
        Plain::Boolean(_) => "Boolean",
        Plain::Integer(_) => "Integer",
        Plain::Decimal(_) => "Decimal",
        Plain::String(_) => "String",
        Plain::Temporal(t) => match t.kind {
            crate::temporal::Kind::Date => "Date",
            crate::temporal::Kind::DateTime => "DateTime",
            crate::temporal::Kind::Time => "Time",
        },
        Plain::Quantity(..) => "Quantity",
        Plain::Object(_) | Plain::Nothing => return false,
    };
    system == bare
}
