//! FHIRPath in a pack (a source's readings, a query's `where:`, a binding's `text:` or
//! `path:`): compiled when the document is read (a syntax or type error refuses it with its
//! path and the column) and evaluated on each resource as it was received. Every expression
//! sees the pack's value sets (`memberOf`) and the call's clock (`today()`, `now()`): outside a
//! rule that is all ([`PackEnv`]); inside one it also sees `%day0` and `%<binding>`
//! (`rule_path.rs`).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use fhirpath::Item;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sonic_rs::JsonValueTrait;

use super::values::concept;
use super::valueset::Compiled;

/// A compiled FHIRPath expression, written in a rule as a string.
#[derive(Debug, Clone)]
pub struct Path(fhirpath::Expr);

impl Path {
    /// The compiled expression.
    pub fn expr(&self) -> &fhirpath::Expr {
        &self.0
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.0.source() == other.0.source()
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.source())
    }
}

impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Path, D::Error> {
        let source = String::deserialize(d)?;
        fhirpath::compile(&source)
            .map(Path)
            .map_err(|e| serde::de::Error::custom(format!("FHIRPath `{source}`: {e}")))
    }
}

/// The variables a rule's FHIRPath may read besides the language's own.
pub const VARIABLES: [&str; 1] = ["day0"];

/// Whether `%name` is defined for the pack's FHIRPath: the language's own or [`VARIABLES`].
pub fn known_variable(name: &str) -> bool {
    let builtin = [
        "resource",
        "context",
        "rootResource",
        "ucum",
        "sct",
        "loinc",
    ];
    builtin.contains(&name) || VARIABLES.contains(&name)
}

/// Whether a code, Coding, CodeableConcept, Reference or text is in the pack's value set `id`.
pub(super) fn member_of(valuesets: &HashMap<String, Compiled>, item: &Item, id: &str) -> bool {
    let Some(vs) = valuesets.get(id) else {
        return false;
    };
    match item {
        Item::Node { value, .. } if value.as_str().is_some() => {
            vs.match_text(value.as_str().unwrap_or_default()).is_some()
        }
        Item::String(text) => vs.match_text(text).is_some(),
        Item::Node { .. } => concept(item).is_some_and(|c| vs.match_concept(&c).is_some()),
        _ => false,
    }
}

/// What an expression sees outside a rule (the cohort's sources): the pack's value sets and
/// the call's clock, no variables.
pub(super) struct PackEnv<'p> {
    pub valuesets: &'p HashMap<String, Compiled>,
    pub now: DateTime<FixedOffset>,
}

impl fhirpath::Env<'_> for PackEnv<'_> {
    fn member_of(&self, item: &Item, id: &str) -> bool {
        member_of(self.valuesets, item, id)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
}
