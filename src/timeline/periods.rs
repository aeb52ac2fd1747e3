//! Medications as periods and dated readings as events.

use chrono::NaiveDate;
use chrono_tz::Tz;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::{Event, Period};
use crate::engine::readings::Reading;
use crate::engine::EvalInput;
use crate::record::parse_when;

pub(super) fn event(r: &Reading) -> Option<Event> {
    Some(Event {
        date: r.when?.date,
        label: r.display.clone().unwrap_or_else(|| r.reference.clone()),
    })
}

/// The end of a medication's period, as FHIR R4 gives it: an administration's or statement's
/// `effectivePeriod.end`, a request's dosage bounds or dispense validity.
fn period_end(resource: &Value, tz: Tz) -> Option<NaiveDate> {
    let text = |v: Option<&Value>| v.and_then(|v| v.as_str()).and_then(|s| parse_when(s, tz));
    let effective = text(resource.pointer(["effectivePeriod", "end"]));
    let bounds = || {
        resource
            .get("dosageInstruction")
            .and_then(|d| d.as_array())
            .into_iter()
            .flat_map(|a| a.iter())
            .filter_map(|d| text(d.pointer(["timing", "repeat", "boundsPeriod", "end"])))
            .max()
    };
    let validity = || text(resource.pointer(["dispenseRequest", "validityPeriod", "end"]));
    effective.or_else(bounds).or_else(validity).map(|w| w.date)
}

/// A medication reading as a period: to its end; to today while active without one; the day
/// itself otherwise (a single administration).
pub(super) fn period(r: &Reading, input: &EvalInput) -> Option<Period> {
    let start = r.when?.date;
    let today = input.now.with_timezone(&input.tz).date_naive();
    let active = r.status.as_deref() == Some("active");
    let (end, ongoing) = match period_end(r.resource, input.tz) {
        Some(end) => (end.max(start), false),
        None if active => (today.max(start), true),
        None => (start, false),
    };
    Some(Period {
        start,
        end,
        ongoing,
        label: r.display.clone().unwrap_or_else(|| r.reference.clone()),
    })
}
