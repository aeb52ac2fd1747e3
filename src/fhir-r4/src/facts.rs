//! Plain data read from a resource: what the rule engine may read.
//!
//! These types carry no fhirbolt type. `read` builds them from a projected resource; choice
//! types are read as documented on each field. Strings are copied as written (dates are not
//! parsed); empty strings count as absent.

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
