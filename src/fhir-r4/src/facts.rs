//! Plain FHIR values the rule engine reads out of a resource's document (`engine::values`):
//! codes, quantities and Observation values. They carry no fhirbolt type. Strings are copied as
//! written (dates are not parsed); empty strings count as absent.

/// A code from a terminology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coding {
    /// Code system URI.
    pub system: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Human-readable display.
    pub display: Option<String>,
}

/// A `CodeableConcept` (or a Reference's display, for `medicationReference`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Concept {
    /// Codings, in document order.
    pub codings: Vec<Coding>,
    /// `text`.
    pub text: Option<String>,
}

/// A Quantity with its value as a float (decimal text kept in `raw`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantity {
    /// Numeric value.
    pub value: f64,
    /// Decimal as written in the source.
    pub raw: String,
    /// UCUM code when `system` is UCUM, else `code`, else `unit`.
    pub unit: Option<String>,
    /// `<`, `<=`, `>=`, `>` when present.
    pub comparator: Option<String>,
}

/// The value of an Observation or one of its components.
#[derive(Debug, Clone, PartialEq)]
pub enum ObsValue {
    /// valueQuantity (also valueInteger, with no unit).
    Quantity(Quantity),
    /// valueCodeableConcept.
    Concept(Concept),
    /// valueString.
    Text(String),
    /// valueBoolean.
    Boolean(bool),
}

/// An Observation component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// component.code.
    pub code: Concept,
    /// `component.value[x]`, when it is one of the supported kinds.
    pub value: Option<ObsValue>,
}
