//! Snoozes on the hook path: the cards of rules snoozed for the call's patient are left out of
//! the answer. The engine knows nothing of it (it stays pure); this is one store read per call
//! that has cards, bounded like every store call (`storage.timeout_ms`).
//!
//! When the store cannot answer, the cards are shown as if nothing were snoozed: a reminder
//! shown again is a nuisance, a warning hidden by an outage could be harm. The failure is
//! counted by the store guard and logged without the patient, and the calls of the next 5 s
//! do not read snoozes at all: an unreachable store would otherwise hold every call that has
//! cards for `storage.timeout_ms`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, TimeZone, Utc};
use chrono_tz::Tz;

use crate::cds::Card;
use crate::storage::Store;

/// The end of a snooze of `days` days made at `now`: quiet through calendar day `days` after
/// today (in `rules.time_zone`), back from the next midnight.
pub(crate) fn until(now: DateTime<Utc>, days: u32, tz: Tz) -> DateTime<Utc> {
    let back_on = now
        .with_timezone(&tz)
        .date_naive()
        .checked_add_days(Days::new(u64::from(days) + 1))
        .unwrap_or(chrono::NaiveDate::MAX);
    let midnight = back_on.and_time(chrono::NaiveTime::MIN);
    // A midnight that daylight saving skips: the first instant after it.
    tz.from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// How long hook calls skip the snooze read after one failed.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Whether hook calls read snoozes now, or skip them after a failure.
#[derive(Debug, Default)]
pub struct SnoozeReads {
    paused_until: Mutex<Option<Instant>>,
}

impl SnoozeReads {
    fn paused(&self) -> bool {
        let until = self.paused_until.lock().map(|u| *u).unwrap_or(None);
        until.is_some_and(|u| Instant::now() < u)
    }

    fn pause(&self) {
        if let Ok(mut until) = self.paused_until.lock() {
            *until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
        }
    }
}

/// Removes from `cards` those of rules snoozed for the patient with key `patient_key` at `now`.
pub(crate) async fn drop_snoozed(
    (reads, store): (&SnoozeReads, &dyn Store),
    patient_key: &str,
    now: DateTime<Utc>,
    cards: &mut Vec<Card>,
) {
    if cards.is_empty() || reads.paused() {
        return;
    }
    match store.active_snoozes(patient_key, now).await {
        Ok(rules) if !rules.is_empty() => cards.retain(|c| {
            let rule = c.source.topic.as_ref().map(|t| t.code.as_str());
            !rule.is_some_and(|r| rules.iter().any(|s| s == r))
        }),
        Ok(_) => {}
        Err(e) => {
            reads.pause();
            tracing::warn!(error = %e, "snoozes unreadable; cards shown unsnoozed for 5 s");
        }
    }
}
