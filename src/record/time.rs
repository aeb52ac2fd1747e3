//! FHIR date and dateTime values as calendar dates (in the configured IANA time zone) and
//! instants.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

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
pub fn parse_when(s: &str, tz: Tz) -> Option<When> {
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
    // Midnight may not exist (a daylight-saving jump at 00:00): the earliest instant of the
    // date is taken then.
    let local = tz.from_local_datetime(&date.and_time(NaiveTime::MIN));
    let at = match local.earliest() {
        Some(at) => at.with_timezone(&Utc),
        None => tz
            .from_local_datetime(&date.and_hms_opt(1, 0, 0)?)
            .earliest()?
            .with_timezone(&Utc),
    };
    Some(When { at, date })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_fhir_precision() {
        let utc = Tz::UTC;
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
        let w = parse_when("2024-03-05T20:00:00Z", Tz::Asia__Shanghai).unwrap();
        assert_eq!(w.date.to_string(), "2024-03-06");
    }

    /// Calendar dates follow daylight saving: 05:30Z is 23:30 the day before in a Chicago winter
    /// (UTC-6) but 00:30 the same day in summer (UTC-5), which a fixed -06:00 offset gets wrong.
    #[test]
    fn calendar_date_follows_daylight_saving() {
        let chicago = Tz::America__Chicago;
        let winter = parse_when("2026-01-15T05:30:00Z", chicago).unwrap();
        assert_eq!(winter.date.to_string(), "2026-01-14");
        let summer = parse_when("2026-07-15T05:30:00Z", chicago).unwrap();
        assert_eq!(summer.date.to_string(), "2026-07-15");
        // Midnight exists in Chicago on the change days (the jumps are at 02:00); a date is
        // midnight local.
        let spring = parse_when("2026-03-08", chicago).unwrap();
        assert_eq!(spring.at.to_rfc3339(), "2026-03-08T06:00:00+00:00");
    }
}
