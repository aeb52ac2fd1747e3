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
    /// The database rejected or failed an operation.
    #[error("database operation failed")]
    Database(#[source] sqlx::Error),
    /// The embedded schema migrations could not be applied.
    #[error("database migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            other => Self::Database(other),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(error)
    }
}
