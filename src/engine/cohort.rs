//! The CAR-T cohort: is the patient a recipient, what is day 0, which product.
//!
//! Evidence (rule catalogue, "Identifying a CAR-T recipient"): a product administered or an
//! infusion procedure, read through the two sources `cohort.yaml` names (which statuses count
//! is theirs, in `sources.yaml`). Administrations less than `course_gap_days` apart form one
//! course; day 0 is the first administration of the most recent course.

use std::cell::Cell;

use chrono::NaiveDate;

use super::path::PackEnv;
use super::scans::Scans;
use super::source::{Reader, Variant};
use super::{CompiledPack, EvalInput};

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

/// The cohort facts of the input's record; resources a source's FHIRPath fails on are
/// skipped and counted in `failures`. The sources' items are kept in `scans` for the rules.
pub(super) fn compute(
    pack: &CompiledPack,
    input: &EvalInput,
    failures: &Cell<usize>,
    scans: &Scans,
) -> Cohort {
    let def = &pack.pack.cohort;
    let now = input.now.with_timezone(&input.tz).fixed_offset();
    let mut events = Vec::new();
    for (source, vs) in [
        (&def.product_source, &def.product_valueset),
        (&def.infusion_source, &def.infusion_valueset),
    ] {
        let (Some(source), Some(vs)) = (pack.pack.sources.get(source), pack.valuesets.get(vs))
        else {
            return Cohort::default();
        };
        let reader = Reader {
            record: input.record,
            tz: input.tz,
            env: PackEnv {
                valuesets: &pack.valuesets,
                now,
            },
            failures,
            def: source,
        };
        for item in scans
            .items(source, input.record, |t| reader.read_all(t))
            .iter()
        {
            if !item.passes(Variant::Filter) {
                continue;
            }
            if let Some(tag) = item.concepts.iter().find_map(|c| vs.match_concept(c)) {
                events.push(Event {
                    date: reader.when(item).map(|w| w.date),
                    product: tag,
                    reference: item.reference(input.record),
                });
            }
        }
    }
    if events.is_empty() {
        return Cohort::default();
    }
    let mut dated: Vec<&Event> = events.iter().filter(|e| e.date.is_some()).collect();
    dated.sort_by_key(|e| e.date);
    // Walk back from the newest administration while the gap stays under the course gap (a
    // product's own when either administration names one with a longer gap).
    let gap = |e: &Event| {
        let own = e.product.as_deref().and_then(|p| def.products.get(p));
        own.and_then(|p| p.course_gap_days)
            .map_or(def.course_gap_days, |g| g.max(def.course_gap_days))
    };
    let mut course_start = dated.len().saturating_sub(1);
    while course_start > 0 {
        let (a, b) = (dated[course_start - 1], dated[course_start]);
        match (a.date, b.date) {
            (Some(da), Some(db)) if (db - da).num_days() < gap(a).max(gap(b)) => course_start -= 1,
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
