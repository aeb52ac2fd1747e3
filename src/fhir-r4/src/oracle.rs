//! The reference reading of a projected resource, for tests: fhirbolt 0.4's strict parse of
//! the concrete type, then its typed model flattened into [`Facts`]. This was the service's
//! reading path until `read` replaced it (issue #6); `read` must give exactly what this gives,
//! over every projected resource of the fixtures and bench patients and over mutations of them
//! (`lib.rs` tests).

use std::panic::{catch_unwind, AssertUnwindSafe};

use fhirbolt::model::r4::{resources as r, types as t, Resource};
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, DeserializeResourceOwned};

use crate::fhirbolt_io::{self, Failure};
use crate::tape::Tape;
use crate::{Coding, Common, Component, Concept, DecodeError, Facts, ObsValue, Quantity};

/// What `read::facts` must give for the projected `text` of a resource of type
/// `resource_type`: fhirbolt's strict parse of the concrete type, then [`extract`].
pub(crate) fn facts(resource_type: &str, tape: &Tape) -> Result<Facts, DecodeError> {
    facts_of(
        resource_type,
        parse_projected(resource_type, &tape.to_json()),
    )
}

/// [`facts`] through the `Resource` enum's parse (the entry point fhirbolt's own tests use;
/// it builds fhirbolt's element tree first).
pub(crate) fn facts_by_enum(resource_type: &str, tape: &Tape) -> Result<Facts, DecodeError> {
    let value = serde_json::from_slice(&tape.to_json()).expect("projections are JSON");
    facts_of(resource_type, fhirbolt_io::parse_strict(value))
}

fn facts_of(resource_type: &str, parsed: Result<Resource, Failure>) -> Result<Facts, DecodeError> {
    let invalid = || DecodeError::Invalid {
        resource_type: resource_type.to_owned(),
    };
    let resource = parsed.map_err(|failure| match failure {
        Failure::Error(_) => invalid(),
        Failure::Panic => panic!("fhirbolt panicked on a projected {resource_type}"),
    })?;
    extract(&resource).map_err(|_| invalid())
}

/// Parses a *projected* resource (see `project`) of a type the engine reads straight into its
/// concrete fhirbolt type, in strict mode, catching panics; any other type goes through
/// `parse_strict`. (Until issue #6's fifth round this was the service's reading path.)
///
/// The `Resource` enum first builds fhirbolt's generic element tree of the input and then the
/// typed resource from it; a concrete type is built straight from the projection's text, which
/// roughly halves fhirbolt's cost per resource (issue #6). The concrete entry points mis-parse
/// what follows a nested resource (`shared/docs/dependencies.md`), which a projection never
/// contains (`contained` and Bundle entries are not projected); a test in `lib.rs` decodes every
/// fixture resource both ways. Types without a concrete arm (none today: the arms are the
/// projection's tables) take the enum.
pub(super) fn parse_projected(resource_type: &str, text: &[u8]) -> Result<Resource, Failure> {
    fn typed<T: DeserializeResourceOwned>(
        text: &[u8],
        wrap: fn(Box<T>) -> Resource,
    ) -> Result<Resource, Failure> {
        let config = DeserializationConfig {
            mode: DeserializationMode::Strict,
        };
        // The concrete types read neither a `Value` holding an arbitrary-precision number nor
        // a JSON number in text; the projection writes decimals as JSON strings holding the
        // number's text, which they read (`project::write_one`).
        match catch_unwind(AssertUnwindSafe(move || {
            fhirbolt::json::from_slice::<T>(text, Some(config))
        })) {
            Ok(Ok(resource)) => Ok(wrap(Box::new(resource))),
            Ok(Err(e)) => Err(Failure::Error(e.to_string())),
            Err(_) => Err(Failure::Panic),
        }
    }
    match resource_type {
        "Observation" => typed::<r::Observation>(text, Resource::Observation),
        "Condition" => typed::<r::Condition>(text, Resource::Condition),
        "MedicationRequest" => typed::<r::MedicationRequest>(text, Resource::MedicationRequest),
        "MedicationAdministration" => {
            typed::<r::MedicationAdministration>(text, Resource::MedicationAdministration)
        }
        "MedicationStatement" => {
            typed::<r::MedicationStatement>(text, Resource::MedicationStatement)
        }
        "Procedure" => typed::<r::Procedure>(text, Resource::Procedure),
        "Immunization" => typed::<r::Immunization>(text, Resource::Immunization),
        "Encounter" => typed::<r::Encounter>(text, Resource::Encounter),
        "ServiceRequest" => typed::<r::ServiceRequest>(text, Resource::ServiceRequest),
        "Patient" => typed::<r::Patient>(text, Resource::Patient),
        _ => match serde_json::from_slice(text) {
            Ok(value) => fhirbolt_io::parse_strict(value),
            Err(e) => Err(Failure::Error(e.to_string())),
        },
    }
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
