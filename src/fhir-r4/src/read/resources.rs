//! One struct per projection table (`project.rs`), members in the table's order, and the facts
//! each gives. Every struct has `resourceType` and `id` (written first by the projection) and
//! refuses any other member.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::datatypes::{
    common, concepts, date_or_start, medication, start, text, value, CodingIn, ConceptIn, PeriodIn,
    QuantityIn, ReferenceIn, Str,
};
use super::one_of;
use crate::{Common, Component, Facts};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ComponentIn {
    code: Option<ConceptIn>,
    value_quantity: Option<QuantityIn>,
    value_codeable_concept: Option<ConceptIn>,
    value_string: Str,
    value_boolean: Option<bool>,
    value_integer: Option<i32>,
}

impl ComponentIn {
    fn component(self) -> Option<Component> {
        let value = value(
            self.value_quantity,
            self.value_codeable_concept,
            self.value_string,
            self.value_boolean,
            self.value_integer,
        );
        Some(Component {
            code: self.code?.concept(),
            value: value.ok()?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Observation {
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
    pub(super) fn facts(self) -> Option<Facts> {
        self.status.as_ref()?;
        one_of(&[
            self.effective_date_time.is_some(),
            self.effective_period.is_some(),
            self.effective_instant.is_some(),
        ])?;
        let value = value(
            self.value_quantity,
            self.value_codeable_concept,
            self.value_string,
            self.value_boolean,
            self.value_integer,
        );
        Some(Facts::Observation {
            common: common(self.id, self.status, self.subject),
            code: self.code?.concept(),
            date: text(self.effective_date_time)
                .or_else(|| start(self.effective_period))
                .or_else(|| text(self.effective_instant))
                .or_else(|| text(self.issued)),
            value: value.ok()?,
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
pub(super) struct Condition {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct MedicationRequest {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct MedicationAdministration {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct MedicationStatement {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct Procedure {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct Immunization {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct Encounter {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct ServiceRequest {
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
    pub(super) fn facts(self) -> Option<Facts> {
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
pub(super) struct Patient {
    #[allow(dead_code)]
    resource_type: IgnoredAny,
    id: Str,
    birth_date: Str,
    gender: Str,
}

impl Patient {
    pub(super) fn facts(self) -> Facts {
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
