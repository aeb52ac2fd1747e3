//! Facts from a projected resource: the projection's [`Tape`] read straight into [`Facts`],
//! with the conformance checks fhirbolt's strict mode makes on a projection.
//!
//! The projection ([`crate::project`]) already keeps only whitelisted elements, each of the
//! right JSON type, with blanks pruned. On such input, fhirbolt 0.4's strict parse of the
//! concrete type rejects exactly two things (read in its generated deserialisers; no primitive
//! format is checked there: a code, a date or a decimal is kept as the string it is):
//!
//! * a required element that is absent (`Observation.status`, `Condition.subject`,
//!   `Immunization.occurrence[x]`, `Observation.component.code`…);
//! * two values of one choice element (`valueQuantity` beside `valueString`).
//!
//! This module makes those checks itself and builds the facts in the same pass. Until issue
//! #6's fifth round the projection was JSON text that fhirbolt parsed into its typed model,
//! every string of which was then copied out: 40 % of reading a hook request. The typed structs
//! below mirror the projection's tables ([`crate::project::TABLES`]) and refuse any other
//! member, so a table and its struct cannot drift apart silently. fhirbolt's own parse stays
//! the reference (`crate::oracle`): a test reads every projected resource of the fixtures and
//! bench patients, and every variant of them with one member removed or a choice value added,
//! both ways and compares.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::tape::Tape;
use crate::{Coding, Common, Component, Concept, DecodeError, Facts, ObsValue, Quantity};

/// Reads the projection of a resource of type `resource_type` (one of the projection's tables)
/// into its facts.
///
/// # Errors
///
/// [`DecodeError::Invalid`] when a required element is absent, a choice element holds two
/// values, a decimal is not a finite `f64`, or the tape is not what the projection writes.
pub(crate) fn facts(resource_type: &str, tape: &Tape) -> Result<Facts, DecodeError> {
    let facts = match resource_type {
        "Observation" => parse::<Observation>(tape).and_then(Observation::facts),
        "Condition" => parse::<Condition>(tape).and_then(Condition::facts),
        "MedicationRequest" => parse::<MedicationRequest>(tape).and_then(MedicationRequest::facts),
        "MedicationAdministration" => {
            parse::<MedicationAdministration>(tape).and_then(MedicationAdministration::facts)
        }
        "MedicationStatement" => {
            parse::<MedicationStatement>(tape).and_then(MedicationStatement::facts)
        }
        "Procedure" => parse::<Procedure>(tape).and_then(Procedure::facts),
        "Immunization" => parse::<Immunization>(tape).and_then(Immunization::facts),
        "Encounter" => parse::<Encounter>(tape).and_then(Encounter::facts),
        "ServiceRequest" => parse::<ServiceRequest>(tape).and_then(ServiceRequest::facts),
        "Patient" => parse::<Patient>(tape).map(Patient::facts),
        _ => None,
    };
    facts.ok_or_else(|| DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    })
}

/// The projection as `T`; `None` when it is not.
fn parse<'t, T: Deserialize<'t>>(tape: &'t Tape) -> Option<T> {
    tape.read().ok()
}

/// `Some` when at most one of a choice element's values is present.
fn one_of(present: &[bool]) -> Option<()> {
    (present.iter().filter(|p| **p).count() <= 1).then_some(())
}

type Str = Option<String>;

/// A string element that is checked to be a string and not kept (no allocation).
struct UnreadStr;

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
fn text(value: Str) -> Str {
    value.filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodingIn {
    system: Str,
    code: Str,
    display: Str,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConceptIn {
    #[serde(default)]
    coding: Vec<CodingIn>,
    text: Str,
}

impl ConceptIn {
    fn concept(self) -> Concept {
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

fn concepts(items: Vec<ConceptIn>) -> Vec<Concept> {
    items.into_iter().map(ConceptIn::concept).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuantityIn {
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
struct PeriodIn {
    start: Str,
    end: Str,
}

fn start(period: Option<PeriodIn>) -> Str {
    period.and_then(|p| text(p.start))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceIn {
    reference: Str,
    display: Str,
}

fn reference(r: Option<ReferenceIn>) -> Str {
    r.and_then(|r| text(r.reference))
}

/// `value[x]` of an Observation or of one of its components, as read.
struct ValueIn {
    quantity: Option<QuantityIn>,
    concept: Option<ConceptIn>,
    string: Str,
    boolean: Option<bool>,
    integer: Option<i32>,
}

impl ValueIn {
    /// The value; `Ok(None)` when absent or a Quantity without a value; `Err` for two values or
    /// a decimal that is not a finite `f64`.
    fn value(self) -> Result<Option<ObsValue>, ()> {
        one_of(&[
            self.quantity.is_some(),
            self.concept.is_some(),
            self.string.is_some(),
            self.boolean.is_some(),
            self.integer.is_some(),
        ])
        .ok_or(())?;
        if let Some(q) = self.quantity {
            return Ok(q.quantity()?.map(ObsValue::Quantity));
        }
        if let Some(c) = self.concept {
            return Ok(Some(ObsValue::Concept(c.concept())));
        }
        if let Some(n) = self.integer {
            return Ok(Some(ObsValue::Quantity(Quantity {
                value: f64::from(n),
                raw: n.to_string(),
                unit: None,
                comparator: None,
            })));
        }
        Ok(text(self.string)
            .map(ObsValue::Text)
            .or(self.boolean.map(ObsValue::Boolean)))
    }
}

/// `medication[x]` of the medication resources: required, one of two. The codeable concept, or
/// the reference's display as text; `None` when neither or both are present.
fn medication(concept: Option<ConceptIn>, reference: Option<ReferenceIn>) -> Option<Concept> {
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
fn date_or_start(date_time: Str, period: Option<PeriodIn>) -> Result<Str, ()> {
    one_of(&[date_time.is_some(), period.is_some()]).ok_or(())?;
    Ok(text(date_time).or_else(|| start(period)))
}

fn common(id: Str, status: Str, subject: Option<ReferenceIn>) -> Common {
    Common {
        id: text(id),
        status: text(status),
        subject: reference(subject),
    }
}

// One struct per projection table (`project.rs`), members in the table's order. Every struct
// has `resourceType` and `id` (written first by the projection) and refuses any other member.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ComponentIn {
    code: Option<ConceptIn>,
    value_quantity: Option<QuantityIn>,
    value_codeable_concept: Option<ConceptIn>,
    value_string: Str,
    value_boolean: Option<bool>,
    value_integer: Option<i32>,
}

impl ComponentIn {
    fn component(self) -> Option<Component> {
        let value = ValueIn {
            quantity: self.value_quantity,
            concept: self.value_codeable_concept,
            string: self.value_string,
            boolean: self.value_boolean,
            integer: self.value_integer,
        };
        Some(Component {
            code: self.code?.concept(),
            value: value.value().ok()?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Observation {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    code: Option<ConceptIn>,
    subject: Option<ReferenceIn>,
    effective_date_time: Str,
    effective_period: Option<PeriodIn>,
    effective_instant: Str,
    issued: Str,
    value_quantity: Option<QuantityIn>,
    value_codeable_concept: Option<ConceptIn>,
    value_string: Str,
    value_boolean: Option<bool>,
    value_integer: Option<i32>,
    #[serde(default)]
    interpretation: Vec<ConceptIn>,
    #[serde(default)]
    component: Vec<ComponentIn>,
}

impl Observation {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        one_of(&[
            self.effective_date_time.is_some(),
            self.effective_period.is_some(),
            self.effective_instant.is_some(),
        ])?;
        let value = ValueIn {
            quantity: self.value_quantity,
            concept: self.value_codeable_concept,
            string: self.value_string,
            boolean: self.value_boolean,
            integer: self.value_integer,
        };
        Some(Facts::Observation {
            common: common(self.id, self.status, self.subject),
            code: self.code?.concept(),
            date: text(self.effective_date_time)
                .or_else(|| start(self.effective_period))
                .or_else(|| text(self.effective_instant))
                .or_else(|| text(self.issued)),
            value: value.value().ok()?,
            interpretation: concepts(self.interpretation),
            components: self
                .component
                .into_iter()
                .map(ComponentIn::component)
                .collect::<Option<_>>()?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Condition {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    clinical_status: Option<ConceptIn>,
    verification_status: Option<ConceptIn>,
    code: Option<ConceptIn>,
    subject: Option<ReferenceIn>,
    onset_date_time: Str,
    onset_period: Option<PeriodIn>,
    recorded_date: Str,
}

impl Condition {
    fn facts(self) -> Option<Facts> {
        self.subject.as_ref()?;
        Some(Facts::Condition {
            common: common(self.id, None, self.subject),
            clinical_status: self.clinical_status.map(ConceptIn::concept),
            verification_status: self.verification_status.map(ConceptIn::concept),
            code: self.code.map(ConceptIn::concept).unwrap_or_default(),
            onset: date_or_start(self.onset_date_time, self.onset_period).ok()?,
            recorded_date: text(self.recorded_date),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MedicationRequest {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    intent: Str,
    subject: Option<ReferenceIn>,
    medication_codeable_concept: Option<ConceptIn>,
    medication_reference: Option<ReferenceIn>,
    authored_on: Str,
}

impl MedicationRequest {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.intent.as_ref()?;
        self.subject.as_ref()?;
        Some(Facts::MedicationRequest {
            medication: medication(self.medication_codeable_concept, self.medication_reference)?,
            common: common(self.id, self.status, self.subject),
            intent: text(self.intent),
            authored_on: text(self.authored_on),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MedicationAdministration {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    subject: Option<ReferenceIn>,
    medication_codeable_concept: Option<ConceptIn>,
    medication_reference: Option<ReferenceIn>,
    effective_date_time: Str,
    effective_period: Option<PeriodIn>,
}

impl MedicationAdministration {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.subject.as_ref()?;
        // effective[x] is required here (1..1).
        if self.effective_date_time.is_none() && self.effective_period.is_none() {
            return None;
        }
        Some(Facts::MedicationAdministration {
            medication: medication(self.medication_codeable_concept, self.medication_reference)?,
            effective: date_or_start(self.effective_date_time, self.effective_period).ok()?,
            common: common(self.id, self.status, self.subject),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MedicationStatement {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    subject: Option<ReferenceIn>,
    medication_codeable_concept: Option<ConceptIn>,
    medication_reference: Option<ReferenceIn>,
    effective_date_time: Str,
    effective_period: Option<PeriodIn>,
    date_asserted: Str,
}

impl MedicationStatement {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.subject.as_ref()?;
        Some(Facts::MedicationStatement {
            medication: medication(self.medication_codeable_concept, self.medication_reference)?,
            effective: date_or_start(self.effective_date_time, self.effective_period)
                .ok()?
                .or_else(|| text(self.date_asserted)),
            common: common(self.id, self.status, self.subject),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Procedure {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    subject: Option<ReferenceIn>,
    code: Option<ConceptIn>,
    performed_date_time: Str,
    performed_period: Option<PeriodIn>,
}

impl Procedure {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.subject.as_ref()?;
        Some(Facts::Procedure {
            code: self.code.map(ConceptIn::concept).unwrap_or_default(),
            performed: date_or_start(self.performed_date_time, self.performed_period).ok()?,
            common: common(self.id, self.status, self.subject),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Immunization {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    patient: Option<ReferenceIn>,
    vaccine_code: Option<ConceptIn>,
    occurrence_date_time: Str,
    occurrence_string: Str,
}

impl Immunization {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.patient.as_ref()?;
        // occurrence[x] is required (1..1), one of two.
        match (&self.occurrence_date_time, &self.occurrence_string) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => return None,
        }
        Some(Facts::Immunization {
            vaccine_code: self.vaccine_code?.concept(),
            occurrence: text(self.occurrence_date_time),
            common: common(self.id, self.status, self.patient),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Encounter {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    // Required (1..1), not read.
    class: Option<CodingIn>,
    subject: Option<ReferenceIn>,
    #[serde(default)]
    r#type: Vec<ConceptIn>,
    service_type: Option<ConceptIn>,
    #[serde(default)]
    reason_code: Vec<ConceptIn>,
    period: Option<PeriodIn>,
}

impl Encounter {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.class.as_ref()?;
        let (start, end) = match self.period {
            Some(p) => (text(p.start), text(p.end)),
            None => (None, None),
        };
        Some(Facts::Encounter {
            common: common(self.id, self.status, self.subject),
            types: concepts(self.r#type),
            service_type: self.service_type.map(ConceptIn::concept),
            reason_codes: concepts(self.reason_code),
            start,
            end,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceRequest {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    status: Str,
    intent: Str,
    subject: Option<ReferenceIn>,
    code: Option<ConceptIn>,
    authored_on: Str,
}

impl ServiceRequest {
    fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        self.intent.as_ref()?;
        self.subject.as_ref()?;
        Some(Facts::ServiceRequest {
            common: common(self.id, self.status, self.subject),
            intent: text(self.intent),
            code: self.code.map(ConceptIn::concept).unwrap_or_default(),
            authored_on: text(self.authored_on),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Patient {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    birth_date: Str,
    gender: Str,
}

impl Patient {
    fn facts(self) -> Facts {
        Facts::Patient {
            common: Common {
                id: text(self.id),
                ..Common::default()
            },
            birth_date: text(self.birth_date),
            gender: text(self.gender),
        }
    }
}
