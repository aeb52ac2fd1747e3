//! The issued-cards queue: which rule produced each card a hook call returned, written to the
//! store off the request path so that a slow or absent database never delays a card.
//!
//! Cards are gathered for a short window and written in one transaction (one `SQLite` commit,
//! with its `fsync`, per hook call was a tenth of the service's CPU at concurrency 1). While the
//! store cannot take them, they are kept in memory, at most `max_pending` cards, and written
//! when it is back; past the bound the oldest are dropped, and every drop is counted in
//! `cart_sentinel_issued_cards_dropped_total` and logged. What is lost is only the quality
//! report's count of those cards and the check that feedback names an issued card: the cards
//! themselves were already answered. A stop with SIGTERM writes what is queued (within the
//! store's timeout); SIGKILL loses it. Must not import `actix_web`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::storage::{IssuedCard, Store};

/// How long the writer gathers cards after the first one before writing them.
const WINDOW: Duration = Duration::from_millis(50);
/// Most cards written in one transaction.
const MAX_BATCH: usize = 1024;
/// Hook calls' batches waiting for the writer before [`IssuedQueue::push`] drops one.
const CHANNEL_CAPACITY: usize = 1024;
/// First and longest wait before writing again after the store failed.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The sending side, held by the HTTP layer.
#[derive(Clone, Debug)]
pub struct IssuedQueue {
    tx: mpsc::Sender<Vec<IssuedCard>>,
    metrics: Arc<Metrics>,
}

impl IssuedQueue {
    /// Queues the cards of one hook call; never waits. A full channel drops them (counted).
    pub fn push(&self, cards: Vec<IssuedCard>) {
        if cards.is_empty() {
            return;
        }
        if let Err(e) = self.tx.try_send(cards) {
            let n = match &e {
                mpsc::error::TrySendError::Full(c) | mpsc::error::TrySendError::Closed(c) => {
                    c.len()
                }
            };
            self.metrics.issued_cards_dropped("channel_full", n);
            tracing::warn!(
                dropped = n,
                "issued-card queue full; the quality report will miss these cards"
            );
        }
    }
}

/// The running writer, held by whoever stops the service.
#[derive(Debug)]
pub struct WriterHandle {
    stop: oneshot::Sender<()>,
    join: JoinHandle<bool>,
}

impl WriterHandle {
    /// Asks the writer to write what it holds and end; waits at most `timeout` for that.
    /// Returns false when the cards could not all be written in time (they are lost).
    pub async fn finish(self, timeout: Duration) -> bool {
        // An error means the writer has already ended.
        let _ = self.stop.send(());
        matches!(tokio::time::timeout(timeout, self.join).await, Ok(Ok(true)))
    }
}

/// Starts the writer, keeping at most `max_pending` cards while the store fails.
pub fn spawn(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    max_pending: usize,
) -> (IssuedQueue, WriterHandle) {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (stop, stopped) = oneshot::channel();
    let writer = Writer {
        store,
        metrics: metrics.clone(),
        max_pending: max_pending.max(1),
        pending: Vec::new(),
    };
    let join = tokio::spawn(writer.run(rx, stopped));
    (IssuedQueue { tx, metrics }, WriterHandle { stop, join })
}

struct Writer {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    max_pending: usize,
    pending: Vec<IssuedCard>,
}

impl Writer {
    /// Writes until stopped (or every sender is gone); true when nothing was left unwritten.
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Vec<IssuedCard>>,
        mut stop: oneshot::Receiver<()>,
    ) -> bool {
        let mut retry = FIRST_RETRY;
        loop {
            // While cards wait for the store, try again after `retry`, taking new ones meanwhile.
            let again = (!self.pending.is_empty()).then_some(retry);
            let arrived = tokio::select! {
                more = rx.recv() => more,
                _ = &mut stop => None,
                () = sleep_or_never(again) => Some(Vec::new()),
            };
            let Some(first) = arrived else {
                rx.close();
                while let Ok(more) = rx.try_recv() {
                    self.keep(more);
                }
                return self.write().await;
            };
            let batch = gather(&mut rx, first, WINDOW, MAX_BATCH).await;
            self.keep(batch);
            if self.write().await {
                retry = FIRST_RETRY;
            } else {
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }

    /// Adds `batch`, dropping the oldest cards past the bound.
    fn keep(&mut self, batch: Vec<IssuedCard>) {
        self.pending.extend(batch);
        let over = self.pending.len().saturating_sub(self.max_pending);
        if over > 0 {
            self.pending.drain(..over);
            self.metrics.issued_cards_dropped("store_unavailable", over);
            tracing::warn!(
                dropped = over,
                kept = self.pending.len(),
                "issued-card queue over its bound while the store is failing; dropped the oldest cards"
            );
        }
        self.metrics.issued_cards_pending(self.pending.len());
    }

    /// Writes what is pending; false when the store failed (the cards stay pending).
    async fn write(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        for chunk in self.pending.chunks(MAX_BATCH) {
            if let Err(e) = self.store.record_issued_cards(chunk).await {
                tracing::warn!(
                    error = %e,
                    pending = self.pending.len(),
                    "could not record issued cards; keeping them to try again"
                );
                return false;
            }
        }
        self.pending.clear();
        self.metrics.issued_cards_pending(0);
        true
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// `first` and the batches that arrive within `window` of it, until `max` cards are gathered
/// or the channel is closed.
async fn gather<T>(
    rx: &mut mpsc::Receiver<Vec<T>>,
    mut batch: Vec<T>,
    window: Duration,
    max: usize,
) -> Vec<T> {
    let deadline = tokio::time::Instant::now() + window;
    while batch.len() < max {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(more)) => batch.extend(more),
            Ok(None) | Err(_) => break,
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_gathers_what_arrives_within_its_window() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        tx.send(vec![2, 3]).await.unwrap();
        tx.send(vec![4]).await.unwrap();
        let late = tx.clone();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            late.send(vec![5]).await.unwrap();
        });
        // Queued within the window: one batch. What comes after the window is the next one.
        let window = Duration::from_millis(20);
        assert_eq!(gather(&mut rx, vec![1], window, 100).await, [1, 2, 3, 4]);
        let first = rx.recv().await.unwrap();
        assert_eq!(gather(&mut rx, first, window, 100).await, [5]);
        sender.await.unwrap();
        // At most `max` cards (a batch is not split), and a closed channel ends the window.
        tx.send(vec![7, 8]).await.unwrap();
        tx.send(vec![9]).await.unwrap();
        assert_eq!(gather(&mut rx, vec![6], window, 2).await, [6, 7, 8]);
        drop(tx);
        let started = std::time::Instant::now();
        let long = Duration::from_secs(30);
        assert_eq!(gather(&mut rx, vec![10], long, 100).await, [10, 9]);
        assert!(started.elapsed() < long, "a closed channel ends the window");
    }
}
