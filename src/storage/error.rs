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

/// Whether a failure says the database is away, busy or out of room rather than that the
/// operation is wrong: a pool timeout, a broken connection; `SQLite`'s busy, locked, read-only,
/// I/O error and full codes (primary codes 5, 6, 8, 10, 13, with their extended forms: a full
/// disk or a file size limit shows as 13 or as an I/O error); `PostgreSQL`'s
/// connection-exception (08), insufficient-resources (53: a full disk, too many connections) and
/// operator-intervention (57: a shutdown, a restart, a statement cancelled by
/// `statement_timeout`) classes.
fn transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                let primary = code.parse::<i32>().map(|n| n & 0xff);
                matches!(primary, Ok(5 | 6 | 8 | 10 | 13))
            } else {
                ["08", "53", "57"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }
        }),
        _ => false,
    }
}
