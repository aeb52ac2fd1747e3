//! Plain data extracted from typed fhirbolt resources: what the rule engine may read.
//!
//! The public types here carry no fhirbolt type. [`extract`] turns a typed resource (already
//! projected and parsed) into [`Facts`]; choice types are read as documented on each field.
//! Strings are copied as written (dates are not parsed); empty strings count as absent.

use fhirbolt::model::r4::{resources as r, types as t, Resource};

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

/// Fields common to every resource kind the engine reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Common {
    /// Resource id.
    pub id: Option<String>,
    /// Status code (`status`), when the resource has one.
    pub status: Option<String>,
    /// The patient reference (`subject`, or `patient` for Immunization), as written.
    pub subject: Option<String>,
}

/// What the engine reads from one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    /// Patient.
    Patient {
        /// Common fields (id).
        common: Common,
        /// birthDate as written.
        birth_date: Option<String>,
        /// administrative gender.
        gender: Option<String>,
    },
    /// Observation.
    Observation {
        /// Common fields.
        common: Common,
        /// Observation.code.
        code: Concept,
        /// effectiveDateTime, else effectivePeriod.start, else effectiveInstant, else issued.
        date: Option<String>,
        /// `value[x]`; `None` when absent, of an unsupported type (Range, Ratio…), or a Quantity
        /// without a value.
        value: Option<ObsValue>,
        /// interpretation.
        interpretation: Vec<Concept>,
        /// component.
        components: Vec<Component>,
    },
    /// Condition.
    Condition {
        /// Common fields (status is None).
        common: Common,
        /// clinicalStatus.
        clinical_status: Option<Concept>,
        /// verificationStatus.
        verification_status: Option<Concept>,
        /// Condition.code.
        code: Concept,
        /// onsetDateTime, else onsetPeriod.start.
        onset: Option<String>,
        /// recordedDate.
        recorded_date: Option<String>,
    },
    /// `MedicationRequest`.
    MedicationRequest {
        /// Common fields.
        common: Common,
        /// intent.
        intent: Option<String>,
        /// medicationCodeableConcept, or medicationReference.display as text.
        medication: Concept,
        /// authoredOn.
        authored_on: Option<String>,
    },
    /// `MedicationAdministration`.
    MedicationAdministration {
        /// Common fields.
        common: Common,
        /// `medication[x]`.
        medication: Concept,
        /// effectiveDateTime, else effectivePeriod.start.
        effective: Option<String>,
    },
    /// `MedicationStatement`.
    MedicationStatement {
        /// Common fields.
        common: Common,
        /// `medication[x]`.
        medication: Concept,
        /// effectiveDateTime, else effectivePeriod.start, else dateAsserted.
        effective: Option<String>,
    },
    /// Procedure.
    Procedure {
        /// Common fields.
        common: Common,
        /// Procedure.code.
        code: Concept,
        /// performedDateTime, else performedPeriod.start.
        performed: Option<String>,
    },
    /// Immunization.
    Immunization {
        /// Common fields (subject = Immunization.patient).
        common: Common,
        /// vaccineCode.
        vaccine_code: Concept,
        /// occurrenceDateTime (`None` for occurrenceString).
        occurrence: Option<String>,
    },
    /// Encounter.
    Encounter {
        /// Common fields.
        common: Common,
        /// Encounter.type.
        types: Vec<Concept>,
        /// serviceType.
        service_type: Option<Concept>,
        /// reasonCode.
        reason_codes: Vec<Concept>,
        /// period.start.
        start: Option<String>,
        /// period.end.
        end: Option<String>,
    },
    /// `ServiceRequest`.
    ServiceRequest {
        /// Common fields.
        common: Common,
        /// intent.
        intent: Option<String>,
        /// ServiceRequest.code.
        code: Concept,
        /// authoredOn.
        authored_on: Option<String>,
    },
    /// An `OperationOutcome` (a prefetch error, not data).
    OperationOutcome,
    /// Any other R4 resource type: recognised, not read.
    Other {
        /// Its resourceType.
        resource_type: String,
    },
}

/// The typed resource holds a value the engine cannot use (a decimal that is not a finite
/// `f64`, such as `1e400`), or is of a kind [`extract`] does not read. Carries no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unusable;

/// Flattens a typed resource of one of the kinds the engine reads into [`Facts`].
pub(crate) fn extract(resource: &Resource) -> Result<Facts, Unusable> {
    Ok(match resource {
        Resource::Patient(p) => Facts::Patient {
            common: Common {
                id: id(p.id.as_ref()),
                ..Common::default()
            },
            birth_date: p.birth_date.as_ref().and_then(|d| text(&d.value)),
            gender: p.gender.as_ref().and_then(|g| text(&g.value)),
        },
        Resource::Observation(o) => Facts::Observation {
            common: common(o.id.as_ref(), Some(&o.status), o.subject.as_deref()),
            code: concept(&o.code),
            date: observation_date(o),
            value: o
                .value
                .as_ref()
                .map(observation_value)
                .transpose()?
                .flatten(),
            interpretation: o.interpretation.iter().map(concept).collect(),
            components: o
                .component
                .iter()
                .map(|c| {
                    Ok(Component {
                        code: concept(&c.code),
                        value: c.value.as_ref().map(component_value).transpose()?.flatten(),
                    })
                })
                .collect::<Result<_, Unusable>>()?,
        },
        Resource::Condition(c) => Facts::Condition {
            common: common(c.id.as_ref(), None, Some(&c.subject)),
            clinical_status: c.clinical_status.as_deref().map(concept),
            verification_status: c.verification_status.as_deref().map(concept),
            code: c.code.as_deref().map(concept).unwrap_or_default(),
            onset: match &c.onset {
                Some(r::ConditionOnset::DateTime(d)) => text(&d.value),
                Some(r::ConditionOnset::Period(p)) => start(p),
                _ => None,
            },
            recorded_date: c.recorded_date.as_ref().and_then(|d| text(&d.value)),
        },
        Resource::MedicationRequest(m) => Facts::MedicationRequest {
            common: common(m.id.as_ref(), Some(&m.status), Some(&m.subject)),
            intent: text(&m.intent.value),
            medication: match &m.medication {
                r::MedicationRequestMedication::CodeableConcept(c) => concept(c),
                r::MedicationRequestMedication::Reference(r) => reference_concept(r),
                r::MedicationRequestMedication::Invalid => Concept::default(),
            },
            authored_on: m.authored_on.as_ref().and_then(|d| text(&d.value)),
        },
        Resource::MedicationAdministration(m) => Facts::MedicationAdministration {
            common: common(m.id.as_ref(), Some(&m.status), Some(&m.subject)),
            medication: match &m.medication {
                r::MedicationAdministrationMedication::CodeableConcept(c) => concept(c),
                r::MedicationAdministrationMedication::Reference(r) => reference_concept(r),
                r::MedicationAdministrationMedication::Invalid => Concept::default(),
            },
            effective: match &m.effective {
                r::MedicationAdministrationEffective::DateTime(d) => text(&d.value),
                r::MedicationAdministrationEffective::Period(p) => start(p),
                r::MedicationAdministrationEffective::Invalid => None,
            },
        },
        Resource::MedicationStatement(m) => Facts::MedicationStatement {
            common: common(m.id.as_ref(), Some(&m.status), Some(&m.subject)),
            medication: match &m.medication {
                r::MedicationStatementMedication::CodeableConcept(c) => concept(c),
                r::MedicationStatementMedication::Reference(r) => reference_concept(r),
                r::MedicationStatementMedication::Invalid => Concept::default(),
            },
            effective: match &m.effective {
                Some(r::MedicationStatementEffective::DateTime(d)) => text(&d.value),
                Some(r::MedicationStatementEffective::Period(p)) => start(p),
                _ => None,
            }
            .or_else(|| m.date_asserted.as_ref().and_then(|d| text(&d.value))),
        },
        Resource::Procedure(p) => Facts::Procedure {
            common: common(p.id.as_ref(), Some(&p.status), Some(&p.subject)),
            code: p.code.as_deref().map(concept).unwrap_or_default(),
            performed: match &p.performed {
                Some(r::ProcedurePerformed::DateTime(d)) => text(&d.value),
                Some(r::ProcedurePerformed::Period(p)) => start(p),
                _ => None,
            },
        },
        Resource::Immunization(i) => Facts::Immunization {
            common: common(i.id.as_ref(), Some(&i.status), Some(&i.patient)),
            vaccine_code: concept(&i.vaccine_code),
            occurrence: match &i.occurrence {
                r::ImmunizationOccurrence::DateTime(d) => text(&d.value),
                _ => None,
            },
        },
        Resource::Encounter(e) => Facts::Encounter {
            common: common(e.id.as_ref(), Some(&e.status), e.subject.as_deref()),
            types: e.r#type.iter().map(concept).collect(),
            service_type: e.service_type.as_deref().map(concept),
            reason_codes: e.reason_code.iter().map(concept).collect(),
            start: e.period.as_deref().and_then(start),
            end: e
                .period
                .as_ref()
                .and_then(|p| p.end.as_ref())
                .and_then(|d| text(&d.value)),
        },
        Resource::ServiceRequest(s) => Facts::ServiceRequest {
            common: common(s.id.as_ref(), Some(&s.status), Some(&s.subject)),
            intent: text(&s.intent.value),
            code: s.code.as_deref().map(concept).unwrap_or_default(),
            authored_on: s.authored_on.as_ref().and_then(|d| text(&d.value)),
        },
        // Only the kinds above are projected and parsed; anything else is not ours to read.
        _ => return Err(Unusable),
    })
}

/// A primitive's value, with `""` as absent (fhirbolt's primitives hold `Option<String>`).
#[allow(clippy::ref_option)]
fn text(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|s| !s.is_empty()).cloned()
}

fn id(id: Option<&t::Id>) -> Option<String> {
    id.and_then(|i| text(&i.value))
}

fn common(
    resource_id: Option<&t::Id>,
    status: Option<&t::Code>,
    subject: Option<&t::Reference>,
) -> Common {
    Common {
        id: id(resource_id),
        status: status.and_then(|s| text(&s.value)),
        subject: subject
            .and_then(|r| r.reference.as_ref())
            .and_then(|s| text(&s.value)),
    }
}

fn concept(c: &t::CodeableConcept) -> Concept {
    Concept {
        codings: c
            .coding
            .iter()
            .map(|c| Coding {
                system: c.system.as_ref().and_then(|s| text(&s.value)),
                code: c.code.as_ref().and_then(|s| text(&s.value)),
                display: c.display.as_ref().and_then(|s| text(&s.value)),
            })
            .collect(),
        text: c.text.as_ref().and_then(|s| text(&s.value)),
    }
}

/// `medicationReference` as a Concept: its display as text, no codings.
fn reference_concept(r: &t::Reference) -> Concept {
    Concept {
        codings: Vec::new(),
        text: r.display.as_ref().and_then(|s| text(&s.value)),
    }
}

fn start(p: &t::Period) -> Option<String> {
    p.start.as_ref().and_then(|d| text(&d.value))
}

fn observation_date(o: &r::Observation) -> Option<String> {
    let effective = match &o.effective {
        Some(r::ObservationEffective::DateTime(d)) => text(&d.value),
        Some(r::ObservationEffective::Period(p)) => start(p),
        Some(r::ObservationEffective::Instant(i)) => text(&i.value),
        _ => None,
    };
    effective.or_else(|| o.issued.as_ref().and_then(|i| text(&i.value)))
}

/// A Quantity, or `None` when it has no value (for example only a data-absent extension).
fn quantity(q: &t::Quantity) -> Result<Option<Quantity>, Unusable> {
    let Some(raw) = q.value.as_ref().and_then(|d| text(&d.value)) else {
        return Ok(None);
    };
    let value: f64 = raw.parse().map_err(|_| Unusable)?;
    if !value.is_finite() {
        return Err(Unusable);
    }
    let unit = q
        .code
        .as_ref()
        .and_then(|c| text(&c.value))
        .or_else(|| q.unit.as_ref().and_then(|u| text(&u.value)));
    Ok(Some(Quantity {
        value,
        raw,
        unit,
        comparator: q.comparator.as_ref().and_then(|c| text(&c.value)),
    }))
}

fn integer(i: &t::Integer) -> Option<ObsValue> {
    i.value.map(|n| {
        ObsValue::Quantity(Quantity {
            value: f64::from(n),
            raw: n.to_string(),
            unit: None,
            comparator: None,
        })
    })
}

fn observation_value(v: &r::ObservationValue) -> Result<Option<ObsValue>, Unusable> {
    Ok(match v {
        r::ObservationValue::Quantity(q) => quantity(q)?.map(ObsValue::Quantity),
        r::ObservationValue::CodeableConcept(c) => Some(ObsValue::Concept(concept(c))),
        r::ObservationValue::String(s) => text(&s.value).map(ObsValue::Text),
        r::ObservationValue::Boolean(b) => b.value.map(ObsValue::Boolean),
        r::ObservationValue::Integer(i) => integer(i),
        _ => None,
    })
}

fn component_value(v: &r::ObservationComponentValue) -> Result<Option<ObsValue>, Unusable> {
    Ok(match v {
        r::ObservationComponentValue::Quantity(q) => quantity(q)?.map(ObsValue::Quantity),
        r::ObservationComponentValue::CodeableConcept(c) => Some(ObsValue::Concept(concept(c))),
        r::ObservationComponentValue::String(s) => text(&s.value).map(ObsValue::Text),
        r::ObservationComponentValue::Boolean(b) => b.value.map(ObsValue::Boolean),
        r::ObservationComponentValue::Integer(i) => integer(i),
        _ => None,
    })
}
