//! One CAR-T recipient's monitoring over time, from day 0: the results the rules judge (ANC,
//! platelets, hemoglobin, IgG, CD4, temperature) with the thresholds the active pack's rules use,
//! IVIG given, prophylaxis and antiviral coverage as periods, malignancy and infection events,
//! and the patient's worklist findings and the cards the pack raises now as markers.
//!
//! Made from the same record the engine evaluates: the `patient-view` service's prefetch, read
//! from the `[bulk]` FHIR server with the service's own token through the hook fetch path
//! (`fetch.rs`, the module's only I/O), then read here through the engine's own sources and value
//! sets ([`crate::engine::readings`]) and evaluated by the same pack. The worklist's stored
//! findings are not a simpler source of the same record: a population run keeps what fired,
//! not the results a chart draws, and runs only as often as it is started. What to draw is
//! named in `spec.rs`; everything here is pure (no I/O, no clock: `now` is given). Must not
//! import `actix_web` or sqlx.

pub mod fetch;
mod link;
mod past;
mod periods;
#[cfg(test)]
mod site_tests;
pub mod spec;
#[cfg(test)]
mod tests;
mod thresholds;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::engine::readings::{Reading, ReadingQuery};
use crate::engine::{CompiledPack, EvalInput};
use crate::record::{units, PatientRecord};
pub use link::card_link;
pub use past::markers as past_markers;
use periods::{event, period};
use spec::{SeriesSpec, COVERAGE, EVENTS, SERIES};
use thresholds::thresholds;
pub use thresholds::Threshold;

/// The hook whose rules and prefetch the timeline follows.
pub const HOOK: &str = "patient-view";

/// A result on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub date: NaiveDate,
    /// The value in the series' unit.
    pub value: f64,
    /// As recorded (`650 /uL`).
    pub shown: String,
    /// On the rule's side of one of the series' thresholds.
    pub beyond: bool,
}

/// A dated event (a dose, a diagnosis, a positive result).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub date: NaiveDate,
    pub label: String,
}

/// One series of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: &'static str,
    pub label: &'static str,
    /// UCUM unit of the values and thresholds.
    pub unit: &'static str,
    pub points: Vec<Point>,
    /// Results of the series whose unit cannot be converted (not drawn, counted).
    pub unconverted: usize,
    pub thresholds: Vec<Threshold>,
    /// Doses drawn on the chart (IVIG on IgG), with their label.
    pub doses: Option<(&'static str, Vec<Event>)>,
}

/// A medication's period: from its date to its end, or to today while it is active.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Active with no end: drawn to today.
    pub ongoing: bool,
    pub label: String,
}

/// Periods of one kind of medication.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub key: &'static str,
    pub label: &'static str,
    pub periods: Vec<Period>,
}

/// Events of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLane {
    pub key: &'static str,
    pub label: &'static str,
    pub events: Vec<Event>,
}

/// A finding of the worklist, as the timeline marks it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownFinding {
    pub rule_id: String,
    pub indicator: String,
    pub summary: String,
    pub first_seen: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
}

/// A card the service returned for this patient earlier (kept by the patient's keyed hash),
/// with the latest feedback on it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastCard {
    pub rule_id: String,
    pub indicator: String,
    pub hook: String,
    pub issued_at: DateTime<Utc>,
    /// `accepted` or `overridden`, when feedback came.
    pub outcome: Option<String>,
    pub override_reason: Option<String>,
}

/// Where a marker comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A worklist finding, from its first appearance (to its closing, when closed).
    Finding,
    /// Cards of one rule the service returned on one day, with what the clinician answered.
    Issued,
    /// A card the active pack raises for the record now.
    Card,
}

/// A finding or card on the time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub kind: MarkerKind,
    pub date: NaiveDate,
    pub closed: Option<NaiveDate>,
    pub rule_id: String,
    pub indicator: String,
    pub summary: String,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub today: NaiveDate,
    /// The active pack's cohort: a CAR-T recipient.
    pub recipient: bool,
    pub day0: Option<NaiveDate>,
    /// The product's label (`Yescarta (axicabtagene ciloleucel)`).
    pub product: Option<String>,
    pub series: Vec<Series>,
    pub coverage: Vec<Coverage>,
    pub events: Vec<EventLane>,
    pub markers: Vec<Marker>,
    /// What the active pack lacks of `spec.rs` (`value set cd4`, `parameter x of rule y`).
    pub missing: Vec<String>,
}

impl Timeline {
    /// Day N of a date (day 0 the infusion), when day 0 is known.
    pub fn day(&self, date: NaiveDate) -> Option<i64> {
        self.day0.map(|d0| (date - d0).num_days())
    }
}

/// What the timeline is made of.
pub struct Inputs<'a> {
    pub pack: &'a CompiledPack,
    pub record: &'a PatientRecord,
    pub findings: &'a [KnownFinding],
    /// The cards returned earlier, one marker per rule and day ([`past_markers`]).
    pub past_cards: &'a [Marker],
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

/// Builds the timeline of `record` with the active pack.
pub fn build(inputs: &Inputs) -> Timeline {
    let input = EvalInput {
        record: inputs.record,
        hook: HOOK,
        now: inputs.now,
        tz: inputs.tz,
    };
    let pack = inputs.pack;
    let cohort = pack.cohort(&input);
    let product_def = cohort
        .product
        .as_deref()
        .and_then(|p| pack.pack().cohort.products.get(p));
    let mut missing = Vec::new();
    let mut read = |q: ReadingQuery| {
        pack.readings(&input, &q).unwrap_or_else(|| {
            missing.push(format!(
                "value set {} or source {} (not in the active pack)",
                q.valueset, q.source
            ));
            Vec::new()
        })
    };
    let mut series = Vec::new();
    for spec in SERIES {
        let readings = read(query(spec.valueset, "results", Some(spec.unit)));
        let doses = spec.doses.map(|d| {
            let given = read(query(d.valueset, d.source, None));
            (d.label, given.iter().filter_map(event).collect())
        });
        series.push((spec, readings, doses));
    }
    let coverage = COVERAGE
        .iter()
        .map(|c| Coverage {
            key: c.key,
            label: c.label,
            periods: read(query(c.valueset, c.source, None))
                .iter()
                .filter_map(|r| period(r, &input))
                .collect(),
        })
        .collect();
    let events = EVENTS
        .iter()
        .map(|e| {
            let mut q = query(e.valueset, e.source, None);
            q.include_inactive = true;
            q.value_in = e.value_in;
            EventLane {
                key: e.key,
                label: e.label,
                events: read(q).iter().filter_map(event).collect(),
            }
        })
        .collect();
    let series = series
        .into_iter()
        .map(|(spec, readings, doses)| {
            let thresholds = thresholds(pack, spec, cohort.product.as_deref(), &mut missing);
            to_series(spec, cohort.day0, &readings, thresholds, doses)
        })
        .collect();
    let today = inputs.now.with_timezone(&inputs.tz).date_naive();
    let mut markers = findings_markers(inputs.findings, inputs.tz);
    markers.extend(inputs.past_cards.iter().cloned());
    markers.extend(pack.evaluate(&input).into_iter().map(|f| Marker {
        kind: MarkerKind::Card,
        date: today,
        closed: None,
        rule_id: f.rule_id,
        indicator: f.indicator,
        summary: f.summary,
    }));
    Timeline {
        today,
        recipient: cohort.member,
        day0: cohort.day0,
        product: product_def.map(|p| p.label()),
        series,
        coverage,
        events,
        markers,
        missing,
    }
}

fn query<'q>(valueset: &'q str, source: &'q str, unit: Option<&'q str>) -> ReadingQuery<'q> {
    ReadingQuery {
        source,
        valueset,
        unit,
        include_inactive: false,
        value_in: None,
    }
}

fn to_series(
    spec: &'static SeriesSpec,
    day0: Option<NaiveDate>,
    readings: &[Reading],
    thresholds: Vec<Threshold>,
    doses: Option<(&'static str, Vec<Event>)>,
) -> Series {
    let mut unconverted = 0;
    let points = readings
        .iter()
        .filter_map(|r| {
            let date = r.when?.date;
            let Some(value) = r.value else {
                unconverted += 1;
                return None;
            };
            Some(Point {
                date,
                value,
                shown: r.shown.clone().unwrap_or_else(|| units::fmt_num(value)),
                beyond: thresholds.iter().any(|t| {
                    let day = day0.map(|d0| (date - d0).num_days());
                    t.beyond(day, value)
                }),
            })
        })
        .collect();
    Series {
        key: spec.key,
        label: spec.label,
        unit: spec.unit,
        points,
        unconverted,
        thresholds,
        doses,
    }
}

fn findings_markers(findings: &[KnownFinding], tz: Tz) -> Vec<Marker> {
    let date = |at: DateTime<Utc>| at.with_timezone(&tz).date_naive();
    findings
        .iter()
        .map(|f| Marker {
            kind: MarkerKind::Finding,
            date: date(f.first_seen),
            closed: f.closed.map(date),
            rule_id: f.rule_id.clone(),
            indicator: f.indicator.clone(),
            summary: f.summary.clone(),
        })
        .collect()
}
