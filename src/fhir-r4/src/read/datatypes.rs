//! The datatypes of a projection (Coding, CodeableConcept, Quantity, Period, Reference), the
//! choice elements several resources share, and the facts they give.

use serde::Deserialize;

use super::one_of;
use crate::{Coding, Common, Concept, ObsValue, Quantity};

pub(super) type Str = Option<String>;

/// A string element that is checked to be a string and not kept (no allocation).
pub(super) struct UnreadStr;

impl<'de> Deserialize<'de> for UnreadStr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = UnreadStr;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<UnreadStr, E> {
                Ok(UnreadStr)
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// A string primitive's value, with `""` as absent (the projection prunes blanks; kept so that
/// the facts never hold an empty string whatever the text).
pub(super) fn text(value: Str) -> Str {
    value.filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CodingIn {
    system: Str,
    code: Str,
    display: Str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConceptIn {
    #[serde(default)]
    coding: Vec<CodingIn>,
    text: Str,
}

impl ConceptIn {
    pub(super) fn concept(self) -> Concept {
        Concept {
            codings: self
                .coding
                .into_iter()
                .map(|c| Coding {
                    system: text(c.system),
                    code: text(c.code),
                    display: text(c.display),
                })
                .collect(),
            text: text(self.text),
        }
    }
}

pub(super) fn concepts(items: Vec<ConceptIn>) -> Vec<Concept> {
    items.into_iter().map(ConceptIn::concept).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QuantityIn {
    /// A decimal: the projection keeps its number text as a string.
    value: Str,
    comparator: Str,
    unit: Str,
    // Projected (Quantity's whitelist), not read: the unit is `code`, else `unit`.
    #[allow(dead_code)]
    system: Option<UnreadStr>,
    code: Str,
}

impl QuantityIn {
    /// `Ok(None)` when there is no value (say only a data-absent extension); `Err` for a value
    /// that is not a finite `f64` (`1e400`).
    fn quantity(self) -> Result<Option<Quantity>, ()> {
        let Some(raw) = text(self.value) else {
            return Ok(None);
        };
        let value: f64 = raw.parse().map_err(|_| ())?;
        if !value.is_finite() {
            return Err(());
        }
        Ok(Some(Quantity {
            value,
            raw,
            unit: text(self.code).or_else(|| text(self.unit)),
            comparator: text(self.comparator),
        }))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodIn {
    pub(super) start: Str,
    pub(super) end: Str,
}

pub(super) fn start(period: Option<PeriodIn>) -> Str {
    period.and_then(|p| text(p.start))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReferenceIn {
    reference: Str,
    display: Str,
}

pub(super) fn reference(r: Option<ReferenceIn>) -> Str {
    r.and_then(|r| text(r.reference))
}

/// `value[x]` of an Observation or of one of its components: `Ok(None)` when absent or a
/// Quantity without a value; `Err` for two values or a decimal that is not a finite `f64`.
pub(super) fn value(
    quantity: Option<QuantityIn>,
    concept: Option<ConceptIn>,
    string: Str,
    boolean: Option<bool>,
    integer: Option<i32>,
) -> Result<Option<ObsValue>, ()> {
    one_of(&[
        quantity.is_some(),
        concept.is_some(),
        string.is_some(),
        boolean.is_some(),
        integer.is_some(),
    ])
    .ok_or(())?;
    if let Some(q) = quantity {
        return Ok(q.quantity()?.map(ObsValue::Quantity));
    }
    if let Some(c) = concept {
        return Ok(Some(ObsValue::Concept(c.concept())));
    }
    if let Some(n) = integer {
        return Ok(Some(ObsValue::Quantity(Quantity {
            value: f64::from(n),
            raw: n.to_string(),
            unit: None,
            comparator: None,
        })));
    }
    Ok(text(string)
        .map(ObsValue::Text)
        .or(boolean.map(ObsValue::Boolean)))
}

/// `medication[x]` of the medication resources: required, one of two. The codeable concept, or
/// the reference's display as text; `None` when neither or both are present.
pub(super) fn medication(
    concept: Option<ConceptIn>,
    reference: Option<ReferenceIn>,
) -> Option<Concept> {
    match (concept, reference) {
        (Some(c), None) => Some(c.concept()),
        (None, Some(r)) => Some(Concept {
            codings: Vec::new(),
            text: text(r.display),
        }),
        _ => None,
    }
}

/// A `DateTime` or `Period` choice element (`effective[x]`, `onset[x]`, `performed[x]`): the
/// date time, else the period's start; `Err` when both are present.
pub(super) fn date_or_start(date_time: Str, period: Option<PeriodIn>) -> Result<Str, ()> {
    one_of(&[date_time.is_some(), period.is_some()]).ok_or(())?;
    Ok(text(date_time).or_else(|| start(period)))
}

pub(super) fn common(id: Str, status: Str, subject: Option<ReferenceIn>) -> Common {
    Common {
        id: text(id),
        status: text(status),
        subject: reference(subject),
    }
}
