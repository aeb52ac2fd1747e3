//! How values cross into the databases, so that both backends can share SQL and row types.
//! [`Timestamp`] is `TIMESTAMPTZ` on `PostgreSQL` and fixed-width RFC 3339 UTC text on `SQLite`,
//! which sorts and compares correctly as text. The text enums are stored as lowercase `TEXT`.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Type};

use super::models::{CardIndicator, FeedbackOutcome};

/// A UTC instant with microsecond precision, as stored by both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(pub DateTime<Utc>);

/// `TIMESTAMPTZ`'s fixed OID in every `PostgreSQL` installation.
const TIMESTAMPTZ_OID: Oid = Oid(1184);

impl Timestamp {
    /// `2024-05-01T08:30:00.000000Z`: always the same width, so text order is time order.
    pub(crate) fn to_text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// `PostgreSQL` counts microseconds from 2000-01-01T00:00:00Z.
    fn postgres_epoch() -> DateTime<Utc> {
        DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01 is a valid instant")
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(value: Timestamp) -> Self {
        value.0
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <str as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.to_text(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Self(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
        ))
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(TIMESTAMPTZ_OID)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        let micros = (self.0 - Self::postgres_epoch())
            .num_microseconds()
            .ok_or("timestamp out of range for PostgreSQL")?;
        Encode::<Postgres>::encode(micros, buf)
    }

    fn size_hint(&self) -> usize {
        std::mem::size_of::<i64>()
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let micros = <i64 as Decode<Postgres>>::decode(value)?;
                Ok(Self(
                    Self::postgres_epoch() + TimeDelta::microseconds(micros),
                ))
            }
            PgValueFormat::Text => {
                let text = value.as_str()?;
                let parsed = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")?;
                Ok(Self(parsed.with_timezone(&Utc)))
            }
        }
    }
}

/// Stores an enum as its `as_str()` text on any backend that stores text.
macro_rules! text_codec {
    ($name:ty) => {
        impl<DB: Database> Type<DB> for $name
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $name
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                Encode::<DB>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&str as Decode<DB>>::decode(value)?.parse()?)
            }
        }
    };
}

text_codec!(FeedbackOutcome);
text_codec!(CardIndicator);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_has_a_fixed_width_and_round_trips() {
        let at = DateTime::from_timestamp(1_714_552_200, 5_000).expect("valid time");
        let text = Timestamp(at).to_text();
        assert_eq!(text, "2024-05-01T08:30:00.000005Z");
        let parsed = DateTime::parse_from_rfc3339(&text).expect("RFC 3339");
        assert_eq!(parsed.with_timezone(&Utc), at);
    }
}
