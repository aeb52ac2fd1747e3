//! Replay protection while the store is unavailable: the documented choice is to accept a
//! client JWT and remember its `jti` in this replica's memory until it expires, so the point of
//! care keeps working and a replay to the same replica is still refused. A replay sent to
//! another replica during the outage is not caught (docs/OPERATIONS.md). The window is bounded:
//! when it is full of unexpired ids, a token that needs it is refused as the store's failure.
//!
//! Each store call waits up to `storage.timeout_ms` before it fails, which no hook call should
//! pay on every call of an outage: once the store has failed, calls use the window alone for
//! [`STORE_AWAY`] before they try the store again.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// Most `jti`s held in memory at once (about 200 bytes each).
pub(super) const CAPACITY: usize = 100_000;
/// How long after a store failure the store is left alone.
pub(super) const STORE_AWAY: TimeDelta = TimeDelta::seconds(5);

/// `(iss, jti)` pairs accepted while the store was unavailable, each until it expires.
pub(super) struct ReplayWindow {
    seen: Mutex<HashMap<(String, String), DateTime<Utc>>>,
    capacity: usize,
    store_away_until: Mutex<Option<DateTime<Utc>>>,
}

/// What the window says of a token.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Remembered {
    /// Not seen before: now remembered.
    New,
    /// Seen before and not yet expired.
    Replay,
    /// The window is full of unexpired ids.
    Full,
}

impl ReplayWindow {
    pub(super) fn new(capacity: usize) -> Self {
        ReplayWindow {
            seen: Mutex::new(HashMap::new()),
            capacity,
            store_away_until: Mutex::new(None),
        }
    }

    /// The store failed at `now`: leave it alone for [`STORE_AWAY`].
    pub(super) fn store_failed(&self, now: DateTime<Utc>) {
        *lock(&self.store_away_until) = Some(now + STORE_AWAY);
    }

    /// Whether the store failed less than [`STORE_AWAY`] before `now`.
    pub(super) fn store_away(&self, now: DateTime<Utc>) -> bool {
        lock(&self.store_away_until).is_some_and(|until| now < until)
    }

    /// Whether `(iss, jti)` was remembered here and has not expired at `now`.
    pub(super) fn contains(&self, iss: &str, jti: &str, now: DateTime<Utc>) -> bool {
        let seen = lock(&self.seen);
        seen.get(&(iss.to_owned(), jti.to_owned()))
            .is_some_and(|expires| *expires > now)
    }

    /// Remembers `(iss, jti)` until `expires`, unless it is a replay or the window is full.
    pub(super) fn remember(
        &self,
        iss: &str,
        jti: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Remembered {
        let mut seen = lock(&self.seen);
        let key = (iss.to_owned(), jti.to_owned());
        if seen.get(&key).is_some_and(|e| *e > now) {
            return Remembered::Replay;
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, e| *e > now);
            if seen.len() >= self.capacity {
                return Remembered::Full;
            }
        }
        seen.insert(key, expires);
        Remembered::New
    }
}

/// The data behind `mutex`; a panic elsewhere while it was held leaves nothing half-written
/// here (each use is one map or value operation), so a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + seconds, 0).expect("valid instant")
    }

    #[test]
    fn a_jti_is_a_replay_until_it_expires_and_is_kept_per_issuer() {
        let w = ReplayWindow::new(10);
        assert_eq!(w.remember("a", "j1", at(60), at(0)), Remembered::New);
        assert!(w.contains("a", "j1", at(59)));
        assert_eq!(w.remember("a", "j1", at(60), at(30)), Remembered::Replay);
        assert_eq!(w.remember("b", "j1", at(60), at(30)), Remembered::New);
        assert!(!w.contains("a", "j1", at(60)), "expired");
        assert_eq!(w.remember("a", "j1", at(120), at(61)), Remembered::New);
    }

    #[test]
    fn a_full_window_makes_room_from_expired_ids_or_refuses() {
        let w = ReplayWindow::new(2);
        assert_eq!(w.remember("a", "j1", at(10), at(0)), Remembered::New);
        assert_eq!(w.remember("a", "j2", at(100), at(0)), Remembered::New);
        assert_eq!(w.remember("a", "j3", at(100), at(5)), Remembered::Full);
        assert_eq!(w.remember("a", "j3", at(100), at(11)), Remembered::New);
        assert!(w.contains("a", "j2", at(11)), "an unexpired id is kept");
    }

    #[test]
    fn after_a_store_failure_the_store_is_left_alone_for_a_while() {
        let w = ReplayWindow::new(10);
        assert!(!w.store_away(at(0)));
        w.store_failed(at(0));
        assert!(w.store_away(at(0)));
        assert!(w.store_away(at(0) + STORE_AWAY - TimeDelta::milliseconds(1)));
        assert!(!w.store_away(at(0) + STORE_AWAY));
    }
}
