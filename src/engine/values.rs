//! FHIR values read from JSON nodes as the engine compares them: a concept (CodeableConcept,
//! Coding, Reference display or text), an Observation-like value, an Observation's components.

use fhir_r4::{Coding, Concept, ObsValue, Quantity};
use fhirpath::json::{get_str, view, View};
use fhirpath::Item;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

/// A CodeableConcept, a Coding, a Reference (its display as text) or a string as a [`Concept`].
pub(super) fn concept(item: &Item) -> Option<Concept> {
    concept_ref(item).map(|c| c.to_concept())
}

/// A [`Concept`]'s parts where the resource holds them, not yet copied: a source's reading
/// copies each distinct concept once (the same panel code recurs on every monthly result).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct ConceptRef<'v> {
    /// Each coding's system, code and display.
    codings: Vec<[Option<&'v str>; 3]>,
    text: Option<&'v str>,
}

impl ConceptRef<'_> {
    pub fn to_concept(&self) -> Concept {
        let owned = |s: &Option<&str>| s.map(str::to_owned);
        Concept {
            codings: (self.codings.iter())
                .map(|[system, code, display]| Coding {
                    system: owned(system),
                    code: owned(code),
                    display: owned(display),
                })
                .collect(),
            text: owned(&self.text),
        }
    }

    /// Whether `c` is this concept, copied.
    pub fn is(&self, c: &Concept) -> bool {
        self.text == c.text.as_deref()
            && self.codings.len() == c.codings.len()
            && self.codings.iter().zip(&c.codings).all(|([s, k, d], c)| {
                *s == c.system.as_deref() && *k == c.code.as_deref() && *d == c.display.as_deref()
            })
    }
}

/// What [`concept`] reads, borrowed.
pub(super) fn concept_ref<'i>(item: &'i Item) -> Option<ConceptRef<'i>> {
    let value = match item {
        Item::Node { value, .. } => *value,
        Item::String(s) => {
            return Some(ConceptRef {
                codings: Vec::new(),
                text: Some(s),
            })
        }
        _ => return None,
    };
    let text = |v: &'i Value, k: &str| get_str(v, k).filter(|s| !s.is_empty());
    let coding = |c: &'i Value| [text(c, "system"), text(c, "code"), text(c, "display")];
    Some(match view(value) {
        View::String(s) => ConceptRef {
            codings: Vec::new(),
            text: Some(s),
        },
        View::Object(_) => match value.get("coding").and_then(|c| c.as_array()) {
            Some(codings) => ConceptRef {
                codings: codings.iter().map(coding).collect(),
                text: text(value, "text"),
            },
            None if value.get("code").is_some() || value.get("system").is_some() => ConceptRef {
                codings: vec![coding(value)],
                text: None,
            },
            None => ConceptRef {
                codings: Vec::new(),
                text: text(value, "text").or_else(|| text(value, "display")),
            },
        },
        _ => return None,
    })
}

/// A value as an Observation's: a Quantity (or an integer, without unit), a CodeableConcept,
/// a string or a boolean; `None` for the other types of a choice element (Range, Ratio,
/// Period, dateTime…) and for a Quantity without a finite value.
pub(super) fn obs_value(item: &Item) -> Option<ObsValue> {
    let Item::Node { value, choice } = item else {
        return None;
    };
    // A number's text as written (sonic-rs's arbitrary_precision prints it so).
    let number = |n: &Value| -> Option<(f64, String)> {
        let v = n.as_f64().filter(|v| n.is_number() && v.is_finite())?;
        Some((v, n.to_string()))
    };
    let quantity = || {
        let (v, raw) = value.get("value").and_then(number)?;
        let text = |k: &str| get_str(value, k).map(str::to_owned);
        Some(ObsValue::Quantity(Quantity {
            value: v,
            raw,
            unit: text("code").or_else(|| text("unit")),
            comparator: text("comparator"),
        }))
    };
    let integer = || {
        let (v, raw) = number(value)?;
        Some(ObsValue::Quantity(Quantity {
            value: v,
            raw,
            unit: None,
            comparator: None,
        }))
    };
    match *choice {
        Some("Quantity") => quantity(),
        Some("Integer") => integer(),
        Some("CodeableConcept") => concept(item).map(ObsValue::Concept),
        Some("String") => value.as_str().map(|s| ObsValue::Text(s.to_owned())),
        Some("Boolean") => value.as_bool().map(ObsValue::Boolean),
        Some(_) => None,
        None => match view(value) {
            View::Bool(b) => Some(ObsValue::Boolean(b)),
            View::Number => integer(),
            View::String(s) => Some(ObsValue::Text(s.to_owned())),
            View::Object(o) if o.contains_key(&"value") => quantity(),
            View::Object(_) => concept(item).map(ObsValue::Concept),
            _ => None,
        },
    }
}

/// An Observation's components (`component`), each code with its value as an Observation's.
pub(super) fn components(resource: &Value) -> Vec<fhir_r4::Component> {
    let Some(list) = resource.get("component").and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .map(|c| {
            let code = c
                .get("code")
                .and_then(|code| concept(&Item::node(code)))
                .unwrap_or_default();
            let value = c.as_object().and_then(|o| {
                o.iter().find_map(|(k, v)| {
                    let suffix = k.strip_prefix("value")?;
                    suffix
                        .starts_with(|ch: char| ch.is_ascii_uppercase())
                        .then(|| {
                            obs_value(&Item::Node {
                                value: v,
                                choice: Some(suffix),
                            })
                        })
                        .flatten()
                })
            });
            fhir_r4::Component { code, value }
        })
        .collect()
}
