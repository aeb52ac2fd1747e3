//! The storage layer's single error type. Its `Display` output never contains a connection
//! string or a query parameter, so it is safe to log; sources hold the driver's detail.

/// Why a [`Store`](super::Store) call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The requested record does not exist.
    #[error("record not found")]
    NotFound,
    /// The active rule pack is not the version the caller expected (someone else committed
    /// first); `current` is the version active now, `None` if there is none.
    #[error(
        "rule pack conflict: the active version is {}",
        .current.map_or_else(|| "none".to_owned(), |v| v.to_string())
    )]
    Conflict {
        /// The version active now.
        current: Option<i64>,
    },
    /// The database settings are unusable (unknown URL scheme, empty pool).
    #[error("invalid storage configuration: {0}")]
    Config(String),
    /// The database did not answer within `storage.timeout_ms`, is unreachable, or is locked
    /// by another writer: the operation may succeed if retried later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database rejected or failed an operation.
    #[error("database operation failed")]
    Database(#[source] sqlx::Error),
    /// The embedded schema migrations could not be applied.
    #[error("database migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The database gave no answer within `storage.timeout_ms`.
    pub(crate) fn timed_out() -> Self {
        Self::Unavailable(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer within storage.timeout_ms",
        )))
    }

    /// How a failure is counted: `unavailable` (the database is away, locked or too slow;
    /// retrying later may succeed) or `other`. `None` for the answers that are not failures of
    /// the database: a record that does not exist, a pack version that lost a race.
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            Self::NotFound | Self::Conflict { .. } => None,
            Self::Unavailable(_) => Some("unavailable"),
            Self::Config(_) | Self::Database(_) | Self::Migration(_) => Some("other"),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            e if transient(&e) => Self::Unavailable(e),
            other => Self::Database(other),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(error)
    }
}

/// Whether a failure says the database is away or busy rather than that the operation is
/// wrong: a pool timeout, a broken connection, SQLite's busy and locked codes, and PostgreSQL's
/// connection-exception (08) and operator-intervention (57) classes (a shutdown, a restart, a
/// statement cancelled by `statement_timeout`).
fn transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "5" | "6" | "261" | "262" | "517")
                || code.starts_with("08")
                || code.starts_with("57")
        }),
        _ => false,
    }
}
