//! The elements of each resource type that [`check`](crate::check) looks at, with their JSON
//! types and the FHIR R4 cardinalities that fhirbolt's strict mode enforces on them.
//!
//! Only these elements are looked at: unknown, vendor and other-version elements (extensions,
//! `meta`, `text`, `contained`…) are ignored. The rules' FHIRPath may read any element; these are
//! the ones whose shape the shipped sources rely on (codes, dates, values, statuses, subject).
//! The schema is not recursive, so a check has a fixed depth whatever the input.

/// Type of an element's value.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Any string-valued primitive (string, code, uri, dateTime, instant, date, id).
    Str,
    /// `decimal`: a JSON number that is a finite `f64`.
    Decimal,
    /// `integer`: a JSON integer within `i32`.
    Integer,
    /// `boolean`.
    Boolean,
    /// A complex type.
    Complex(&'static Shape),
}

/// Cardinality of an element, as far as the check cares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    /// 0..1
    Optional,
    /// 1..1, for a complex element: present with content counts as present even when none of
    /// its content is an element listed here (an identifier-only Reference), so a conformant
    /// resource is not refused for what the check does not look at.
    Required,
    /// 0..* (a JSON array).
    Many,
}

/// One element looked at.
pub(crate) struct Element {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) card: Card,
}

/// A complex type or resource: its elements, and groups of them of which at most one may be
/// present (a choice element, `value[x]`), or exactly one when `required` (a required element
/// is a group of one).
pub(crate) struct Shape {
    pub(crate) elements: &'static [Element],
    pub(crate) groups: &'static [Group],
}

/// See [`Shape`].
pub(crate) struct Group {
    pub(crate) names: &'static [&'static str],
    pub(crate) required: bool,
}

const fn opt(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Optional,
    }
}

const fn req(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Required,
    }
}

const fn many(name: &'static str, kind: Kind) -> Element {
    Element {
        name,
        kind,
        card: Card::Many,
    }
}

const fn one(names: &'static [&'static str]) -> Group {
    Group {
        names,
        required: true,
    }
}

const fn at_most_one(names: &'static [&'static str]) -> Group {
    Group {
        names,
        required: false,
    }
}

/// A complex type with no groups.
macro_rules! plain {
    ($($element:expr),* $(,)?) => {
        Kind::Complex(&Shape { elements: &[$($element),*], groups: &[] })
    };
}

const STR: Kind = Kind::Str;

const CODING: Kind = plain![opt("system", STR), opt("code", STR), opt("display", STR)];

const CONCEPT: Kind = plain![many("coding", CODING), opt("text", STR)];

const QUANTITY: Kind = plain![
    opt("value", Kind::Decimal),
    opt("comparator", STR),
    opt("unit", STR),
    opt("system", STR),
    opt("code", STR),
];

const PERIOD: Kind = plain![opt("start", STR), opt("end", STR)];

const REFERENCE: Kind = plain![opt("reference", STR), opt("display", STR)];

const VALUES: &[&str] = &[
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
];

const COMPONENT: Kind = Kind::Complex(&Shape {
    elements: &[
        req("code", CONCEPT),
        opt("valueQuantity", QUANTITY),
        opt("valueCodeableConcept", CONCEPT),
        opt("valueString", STR),
        opt("valueBoolean", Kind::Boolean),
        opt("valueInteger", Kind::Integer),
    ],
    groups: &[one(&["code"]), at_most_one(VALUES)],
});

const OBSERVATION: Shape = Shape {
    elements: &[
        opt("status", STR),
        req("code", CONCEPT),
        opt("subject", REFERENCE),
        opt("effectiveDateTime", STR),
        opt("effectivePeriod", PERIOD),
        opt("effectiveInstant", STR),
        opt("issued", STR),
        opt("valueQuantity", QUANTITY),
        opt("valueCodeableConcept", CONCEPT),
        opt("valueString", STR),
        opt("valueBoolean", Kind::Boolean),
        opt("valueInteger", Kind::Integer),
        many("interpretation", CONCEPT),
        many("component", COMPONENT),
    ],
    groups: &[
        one(&["status"]),
        one(&["code"]),
        at_most_one(&["effectiveDateTime", "effectivePeriod", "effectiveInstant"]),
        at_most_one(VALUES),
    ],
};

const CONDITION: Shape = Shape {
    elements: &[
        opt("clinicalStatus", CONCEPT),
        opt("verificationStatus", CONCEPT),
        opt("code", CONCEPT),
        req("subject", REFERENCE),
        opt("onsetDateTime", STR),
        opt("onsetPeriod", PERIOD),
        opt("recordedDate", STR),
    ],
    groups: &[
        one(&["subject"]),
        at_most_one(&["onsetDateTime", "onsetPeriod"]),
    ],
};

const MEDICATION: &[&str] = &["medicationCodeableConcept", "medicationReference"];

const MEDICATION_REQUEST: Shape = Shape {
    elements: &[
        opt("status", STR),
        opt("intent", STR),
        req("subject", REFERENCE),
        req("medicationCodeableConcept", CONCEPT),
        req("medicationReference", REFERENCE),
        opt("authoredOn", STR),
    ],
    groups: &[
        one(&["status"]),
        one(&["intent"]),
        one(&["subject"]),
        one(MEDICATION),
    ],
};

const MEDICATION_ADMINISTRATION: Shape = Shape {
    elements: &[
        opt("status", STR),
        req("subject", REFERENCE),
        req("medicationCodeableConcept", CONCEPT),
        req("medicationReference", REFERENCE),
        opt("effectiveDateTime", STR),
        req("effectivePeriod", PERIOD),
    ],
    groups: &[
        one(&["status"]),
        one(&["subject"]),
        one(MEDICATION),
        one(&["effectiveDateTime", "effectivePeriod"]),
    ],
};

const MEDICATION_STATEMENT: Shape = Shape {
    elements: &[
        opt("status", STR),
        req("subject", REFERENCE),
        req("medicationCodeableConcept", CONCEPT),
        req("medicationReference", REFERENCE),
        opt("effectiveDateTime", STR),
        opt("effectivePeriod", PERIOD),
        opt("dateAsserted", STR),
    ],
    groups: &[
        one(&["status"]),
        one(&["subject"]),
        one(MEDICATION),
        at_most_one(&["effectiveDateTime", "effectivePeriod"]),
    ],
};

const PROCEDURE: Shape = Shape {
    elements: &[
        opt("status", STR),
        req("subject", REFERENCE),
        opt("code", CONCEPT),
        opt("performedDateTime", STR),
        opt("performedPeriod", PERIOD),
    ],
    groups: &[
        one(&["status"]),
        one(&["subject"]),
        at_most_one(&["performedDateTime", "performedPeriod"]),
    ],
};

const IMMUNIZATION: Shape = Shape {
    elements: &[
        opt("status", STR),
        req("patient", REFERENCE),
        req("vaccineCode", CONCEPT),
        opt("occurrenceDateTime", STR),
        // Not read, but occurrence[x] is required: without it an Immunization recorded with a
        // free-text occurrence ("spring 2019") would be refused.
        opt("occurrenceString", STR),
    ],
    groups: &[
        one(&["status"]),
        one(&["patient"]),
        one(&["vaccineCode"]),
        one(&["occurrenceDateTime", "occurrenceString"]),
    ],
};

const ENCOUNTER: Shape = Shape {
    elements: &[
        opt("status", STR),
        // Not read, but required (1..1) by R4: without it every Encounter would be refused.
        req("class", CODING),
        opt("subject", REFERENCE),
        many("type", CONCEPT),
        opt("serviceType", CONCEPT),
        many("reasonCode", CONCEPT),
        opt("period", PERIOD),
    ],
    groups: &[one(&["status"]), one(&["class"])],
};

const SERVICE_REQUEST: Shape = Shape {
    elements: &[
        opt("status", STR),
        opt("intent", STR),
        req("subject", REFERENCE),
        opt("code", CONCEPT),
        opt("authoredOn", STR),
    ],
    groups: &[one(&["status"]), one(&["intent"]), one(&["subject"])],
};

const PATIENT: Shape = Shape {
    elements: &[opt("birthDate", STR), opt("gender", STR)],
    groups: &[],
};

/// Every resource type with a shape. `id` is checked for every type (see [`ID`]).
pub(crate) const TABLES: &[(&str, &Shape)] = &[
    ("Observation", &OBSERVATION),
    ("Condition", &CONDITION),
    ("MedicationRequest", &MEDICATION_REQUEST),
    ("MedicationAdministration", &MEDICATION_ADMINISTRATION),
    ("MedicationStatement", &MEDICATION_STATEMENT),
    ("Procedure", &PROCEDURE),
    ("Immunization", &IMMUNIZATION),
    ("Encounter", &ENCOUNTER),
    ("ServiceRequest", &SERVICE_REQUEST),
    ("Patient", &PATIENT),
];

/// `id`, a string in every resource (and the one element of an unlisted type that is checked).
pub(crate) const ID: Element = opt("id", STR);

/// The index of the element named `name` in `elements`. Lengths and first bytes are compared
/// before the names: this runs for every member of every resource of a call.
pub(crate) fn position(elements: &[Element], name: &str) -> Option<usize> {
    let first = name.as_bytes().first()?;
    elements.iter().position(|e| {
        e.name.len() == name.len() && e.name.as_bytes().first() == Some(first) && e.name == name
    })
}

/// The shape of a resource type, or `None` for a type with none.
pub(crate) fn shape_of(resource_type: &str) -> Option<&'static Shape> {
    TABLES
        .iter()
        .find(|(name, _)| *name == resource_type)
        .map(|(_, shape)| *shape)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every shape: the resources' and, recursively, their complex types'.
    pub(crate) fn every_shape() -> Vec<&'static Shape> {
        fn add(shapes: &mut Vec<&'static Shape>, shape: &'static Shape) {
            shapes.push(shape);
            for e in shape.elements {
                if let Kind::Complex(inner) = e.kind {
                    add(shapes, inner);
                }
            }
        }
        let mut shapes = Vec::new();
        for (_, shape) in TABLES {
            add(&mut shapes, shape);
        }
        shapes
    }

    #[test]
    fn position_finds_every_name_and_no_other() {
        let shapes = every_shape();
        assert!(shapes.len() > 20);
        for shape in shapes {
            for (index, element) in shape.elements.iter().enumerate() {
                assert_eq!(position(shape.elements, element.name), Some(index));
            }
            for other in [
                "",
                "x",
                "extension",
                "Code",
                "codes",
                "cod",
                "valueQuantityX",
            ] {
                assert_eq!(position(shape.elements, other), None, "{other}");
            }
        }
    }

    /// A group naming an element its shape does not list would never be satisfied (or never
    /// conflict): a typo in a table must fail here, not refuse every resource of a type.
    #[test]
    fn every_group_names_elements_of_its_shape() {
        for shape in every_shape() {
            assert!(shape.elements.len() < 64, "presence is a 64-bit set");
            for group in shape.groups {
                for name in group.names {
                    assert!(position(shape.elements, name).is_some(), "{name}");
                }
            }
        }
    }
}
