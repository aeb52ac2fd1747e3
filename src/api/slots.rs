//! Bounds on the hook calls the HTTP layer lets in: evaluations in flight, and bodies held in
//! memory at once.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A bound on hook evaluations in flight. A call that finds no free slot is refused at once
/// (the HTTP layer answers 503 with `Retry-After`): overload becomes fast refusals, not queues.
#[derive(Debug, Clone)]
pub struct HookSlots(Arc<Semaphore>);

impl HookSlots {
    /// `max` slots (at least one).
    pub fn new(max: usize) -> HookSlots {
        HookSlots(Arc::new(Semaphore::new(
            max.clamp(1, Semaphore::MAX_PERMITS),
        )))
    }

    /// A slot, held until the permit is dropped; `None` when all are taken.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// A bound on hook-call bodies held in memory at once: a call waits here (it is not refused)
/// before its body is read, and leaves once the body is parsed into the (much smaller) request.
/// Parsing is CPU work, so a few more than the worker threads lose no throughput, while
/// without it every open connection's body is buffered at once (peak memory).
#[derive(Debug, Clone)]
pub struct BodySlots {
    slots: Arc<Semaphore>,
    max_bytes: usize,
    read_timeout: std::time::Duration,
}

impl BodySlots {
    /// `max` slots (at least one) for bodies of at most `max_bytes` bytes, each to be read
    /// within `read_timeout`.
    pub fn new(max: usize, max_bytes: usize, read_timeout: std::time::Duration) -> BodySlots {
        BodySlots {
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            max_bytes,
            read_timeout,
        }
    }

    /// The largest body accepted (`server.max_body_bytes`).
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// How long a body may take to arrive (`limits.body_read_timeout_ms`).
    pub fn read_timeout(&self) -> std::time::Duration {
        self.read_timeout
    }

    /// Waits for a slot, held until the permit is dropped; `None` only if the bound was closed
    /// (it never is).
    pub async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn body_slots_make_calls_wait_their_turn() {
        let slots = BodySlots::new(1, 10, std::time::Duration::from_secs(1));
        let held = slots.enter().await;
        assert!(held.is_some());
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), slots.enter());
        assert!(
            waiting.await.is_err(),
            "a second body waits while the first is held"
        );
        drop(held);
        assert!(slots.enter().await.is_some());
    }

    #[test]
    fn slots_are_refused_when_all_are_taken_and_freed_on_drop() {
        let slots = HookSlots::new(1);
        let held = slots.try_enter();
        assert!(held.is_some());
        assert!(slots.try_enter().is_none());
        drop(held);
        assert!(slots.try_enter().is_some());
    }
}
