//! Rule pack change notifications between replicas: `LISTEN cart_sentinel_pack` on a
//! connection of its own, forwarding each announced version to an `mpsc` channel. After a lost
//! connection it reconnects with backoff and re-sends the active version, since notifications
//! sent while it was away are gone.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::mpsc;

use crate::storage::{sql, StoreError, PACK_CHANNEL};

/// Versions buffered for a slow subscriber before the listener waits.
const CAPACITY: usize = 16;
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Starts listening and returns the receiving end; listening stops when it is dropped.
/// `LISTEN` has run when this returns, so later notifications are not missed.
pub(super) async fn subscribe(pool: &PgPool) -> Result<mpsc::Receiver<i64>, StoreError> {
    // A pool of one, separate from the query pool: the listener holds its connection forever.
    let listen_pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with((*pool.connect_options()).clone());
    let listener = open(&listen_pool).await?;
    let (tx, rx) = mpsc::channel(CAPACITY);
    tokio::spawn(forward(listener, listen_pool, pool.clone(), tx));
    Ok(rx)
}

async fn open(listen_pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(listen_pool).await?;
    listener.listen(PACK_CHANNEL).await?;
    Ok(listener)
}

async fn forward(
    mut listener: PgListener,
    listen_pool: PgPool,
    pool: PgPool,
    tx: mpsc::Sender<i64>,
) {
    loop {
        let event = tokio::select! {
            () = tx.closed() => return,
            event = listener.try_recv() => event,
        };
        match event {
            Ok(Some(notification)) => match notification.payload().parse::<i64>() {
                Ok(version) => {
                    if tx.send(version).await.is_err() {
                        return;
                    }
                }
                Err(_) => tracing::warn!("ignoring a malformed rule pack notification"),
            },
            // sqlx has reconnected and listens again, but may have missed notifications.
            Ok(None) => resend_active(&pool, &tx).await,
            Err(error) => {
                tracing::warn!(error = %error, "rule pack listener failed; reconnecting");
                listener = match reconnect(listener, &listen_pool, &tx).await {
                    Some(listener) => listener,
                    None => return,
                };
                resend_active(&pool, &tx).await;
            }
        }
    }
}

/// Retries with exponential backoff until it listens again, or `None` once nobody listens.
async fn reconnect(
    broken: PgListener,
    listen_pool: &PgPool,
    tx: &mpsc::Sender<i64>,
) -> Option<PgListener> {
    // The pool has one connection: give it back before asking for a new one.
    drop(broken);
    let mut delay = FIRST_RETRY;
    loop {
        tokio::select! {
            () = tx.closed() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        match open(listen_pool).await {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::warn!(error = %error, "rule pack listener could not reconnect");
                delay = (delay * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Sends the active version, so a subscriber that missed notifications catches up.
async fn resend_active(pool: &PgPool, tx: &mpsc::Sender<i64>) {
    match sqlx::query_scalar::<_, Option<i64>>(sql::ACTIVE_VERSION)
        .fetch_one(pool)
        .await
    {
        Ok(Some(version)) => {
            // A closed channel is noticed by the caller's next `tx.closed()`.
            let _ = tx.send(version).await;
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(error = %error, "could not read the active rule pack"),
    }
}
