//! Everything the record holds of one value set, read as a rule's query reads it: the
//! source's resources, filters, dates and values, matched by the pack's value set, values
//! converted to the unit asked for. A query keeps one or two items; this keeps them all, in
//! date order, for whoever shows the record over time (the patient timeline). Pure: no I/O,
//! no clock beyond the input's `now`.

use std::cell::Cell;

use fhir_r4::ObsValue;
use sonic_rs::Value;

use super::path::PackEnv;
use super::query::{concept_text, shown, value_matches};
use super::scans::Scans;
use super::source::{Reader, Variant};
use super::{CompiledPack, EvalInput};
use crate::record::{units, When};

/// What to read: a source of `sources.yaml`, a value set, and the unit values are wanted in.
#[derive(Debug, Clone, Copy)]
pub struct ReadingQuery<'q> {
    /// A source name (`results`, `medications`, `conditions`…).
    pub source: &'q str,
    /// A value set id.
    pub valueset: &'q str,
    /// UCUM unit to convert quantities to; a quantity that cannot be converted has no value.
    pub unit: Option<&'q str>,
    /// The source's `history` filter in place of its `filter` (a resolved condition counts).
    pub include_inactive: bool,
    /// Only results whose value or interpretation is in this value set (as `value_in`).
    pub value_in: Option<&'q str>,
}

/// One resource of the source that the value set matches.
#[derive(Debug, Clone)]
pub struct Reading<'r> {
    /// `Type/id`.
    pub reference: String,
    /// When it happened, by the source's `date`.
    pub when: Option<When>,
    /// The value in the query's unit (or as recorded without one).
    pub value: Option<f64>,
    /// The value as recorded, for people (`0.4 10*9/L`).
    pub shown: Option<String>,
    /// The matching code's text or display.
    pub display: Option<String>,
    /// The resource's `status`.
    pub status: Option<String>,
    /// The resource as received.
    pub resource: &'r Value,
}

impl CompiledPack {
    /// The readings of `q` in the input's record, oldest first (undated last); `None` when the
    /// pack has no such source or value set.
    pub fn readings<'r>(
        &self,
        input: &EvalInput<'r>,
        q: &ReadingQuery,
    ) -> Option<Vec<Reading<'r>>> {
        let def = self.pack.sources.get(q.source)?;
        let vs = self.valuesets.get(q.valueset)?;
        let value_in = match q.value_in {
            Some(id) => Some(self.valuesets.get(id)?),
            None => None,
        };
        let failures = Cell::new(0);
        let reader = Reader {
            record: input.record,
            tz: input.tz,
            env: PackEnv {
                valuesets: &self.valuesets,
                now: input.now.with_timezone(&input.tz).fixed_offset(),
            },
            failures: &failures,
            def,
        };
        let variant = if q.include_inactive {
            Variant::History
        } else {
            Variant::Filter
        };
        let scans = Scans::default();
        let mut out = Vec::new();
        for item in scans
            .items(def, input.record, |t| reader.read_all(t))
            .iter()
        {
            if !item.passes(variant) {
                continue;
            }
            let Some(concept) = item.concepts.iter().find(|c| vs.match_concept(c).is_some()) else {
                continue;
            };
            let Some(resource) = item.json.in_record(input.record) else {
                continue;
            };
            let recorded = reader.value(item);
            if let Some(vin) = value_in {
                if !value_matches(&scans, vin, recorded, reader.interpretation(item)) {
                    continue;
                }
            }
            let value = match recorded {
                Some(ObsValue::Quantity(qty)) => match (q.unit, qty.unit.as_deref()) {
                    (Some(to), Some(from)) => units::convert(qty.value, from, to),
                    (Some(_), None) => None,
                    (None, _) => Some(qty.value),
                },
                _ => None,
            };
            out.push(Reading {
                reference: item.reference(input.record),
                when: reader.when(item),
                value,
                shown: shown(recorded),
                display: concept_text(concept).first().map(|s| (*s).to_owned()),
                status: item.status(input.record).map(str::to_owned),
                resource,
            });
        }
        out.sort_by_key(|r| (r.when.is_none(), r.when));
        Some(out)
    }
}
