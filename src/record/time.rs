//! FHIR date and dateTime values as calendar dates (in the configured offset) and instants.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// When something happened: its calendar date in the service's offset, and its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct When {
    /// Instant (a date-only value is midnight at the service's offset).
    pub at: DateTime<Utc>,
    /// Calendar date in the service's offset.
    pub date: NaiveDate,
}

/// Parses a FHIR date (`2024`, `2024-03`, `2024-03-05`) or dateTime/instant.
/// Partial dates are taken as their first day. Returns `None` for anything else.
pub fn parse_when(s: &str, tz: FixedOffset) -> Option<When> {
    if s.len() > 10 {
        let at = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
        let date = at.with_timezone(&tz).date_naive();
        return Some(When { at, date });
    }
    let date = match s.len() {
        4 => NaiveDate::from_ymd_opt(s.parse().ok()?, 1, 1)?,
        7 => NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?,
        10 => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?,
        _ => return None,
    };
    let at = tz
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()?
        .with_timezone(&Utc);
    Some(When { at, date })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_fhir_precision() {
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            parse_when("2024", utc).unwrap().date.to_string(),
            "2024-01-01"
        );
        assert_eq!(
            parse_when("2024-03", utc).unwrap().date.to_string(),
            "2024-03-01"
        );
        assert_eq!(
            parse_when("2024-03-05", utc).unwrap().date.to_string(),
            "2024-03-05"
        );
        let w = parse_when("2024-03-05T23:30:00-02:00", utc).unwrap();
        assert_eq!(w.date.to_string(), "2024-03-06");
        assert!(parse_when("yesterday", utc).is_none());
        assert!(parse_when("2024-13-01", utc).is_none());
    }

    #[test]
    fn calendar_date_follows_the_configured_offset() {
        let plus8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let w = parse_when("2024-03-05T20:00:00Z", plus8).unwrap();
        assert_eq!(w.date.to_string(), "2024-03-06");
    }
}
