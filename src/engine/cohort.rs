//! The CAR-T cohort: is the patient a recipient, what is day 0, which product.
//!
//! Evidence (rule catalogue, "Identifying a CAR-T recipient"): a product administered
//! (MedicationAdministration completed, MedicationStatement completed or active,
//! MedicationRequest completed only) or an infusion procedure (Procedure completed).
//! Administrations less than `course_gap_days` apart form one course; day 0 is the first
//! administration of the most recent course.

use chrono::{FixedOffset, NaiveDate};

use super::CompiledPack;
use crate::record::{MedKind, PatientRecord};

/// What the engine knows about the patient's CAR-T therapy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cohort {
    /// A CAR-T recipient.
    pub member: bool,
    /// Day 0, when a dated administration is on record.
    pub day0: Option<NaiveDate>,
    /// Product id (from cohort.yaml) of the most recent course, when known.
    pub product: Option<String>,
    /// `Type/id` of the administration that set day 0 (or any, when undated).
    pub evidence: Option<String>,
}

struct Event {
    date: Option<NaiveDate>,
    product: Option<String>,
    reference: String,
}

pub(super) fn compute(pack: &CompiledPack, record: &PatientRecord, _tz: FixedOffset) -> Cohort {
    let def = &pack.pack.cohort;
    let (Some(products), Some(infusions)) = (
        pack.valuesets.get(&def.product_valueset),
        pack.valuesets.get(&def.infusion_valueset),
    ) else {
        return Cohort::default();
    };
    let mut events = Vec::new();
    for m in &record.medications {
        let counts = match m.kind {
            MedKind::Administration => m.status == "completed",
            MedKind::Statement => matches!(m.status.as_str(), "completed" | "active"),
            MedKind::Request => m.status == "completed",
        };
        if !counts {
            continue;
        }
        if let Some(tag) = products.match_concept(&m.medication) {
            events.push(Event {
                date: m.when.map(|w| w.date),
                product: tag,
                reference: m.reference.clone(),
            });
        }
    }
    for p in record.procedures.iter().filter(|p| p.status == "completed") {
        if let Some(tag) = infusions.match_concept(&p.code) {
            events.push(Event {
                date: p.when.map(|w| w.date),
                product: tag,
                reference: p.reference.clone(),
            });
        }
    }
    if events.is_empty() {
        return Cohort::default();
    }
    let mut dated: Vec<&Event> = events.iter().filter(|e| e.date.is_some()).collect();
    dated.sort_by_key(|e| e.date);
    // Walk back from the newest administration while the gap stays under the course gap.
    let mut course_start = dated.len().saturating_sub(1);
    while course_start > 0 {
        let (a, b) = (dated[course_start - 1].date, dated[course_start].date);
        match (a, b) {
            (Some(a), Some(b)) if (b - a).num_days() < def.course_gap_days => course_start -= 1,
            _ => break,
        }
    }
    let course = &dated[course_start.min(dated.len())..];
    let product = course
        .iter()
        .find_map(|e| e.product.clone())
        .or_else(|| events.iter().rev().find_map(|e| e.product.clone()));
    Cohort {
        member: true,
        day0: course.first().and_then(|e| e.date),
        product,
        evidence: course
            .first()
            .map(|e| e.reference.clone())
            .or_else(|| events.first().map(|e| e.reference.clone())),
    }
}
