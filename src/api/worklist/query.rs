//! The parameters of `GET /worklist/findings`, read by hand so that every refusal names its
//! parameter.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::cds::RequestError;
use crate::storage::{CardIndicator, PopulationFindingFilter, MAX_LIST_LIMIT};

/// Findings on one JSON page unless `limit` says otherwise.
pub const DEFAULT_PAGE: i64 = 100;

/// A hundred years: more is a mistake, not a filter.
const MAX_OVERDUE_DAYS: u32 = 36_500;

/// A parsed query: the store's filter (open findings only), the page size asked for, and the
/// parameters as given (what the audit entry records).
#[derive(Debug)]
pub struct FindingsQuery {
    pub filter: PopulationFindingFilter,
    pub limit: Option<i64>,
    /// Overdue by more than this many days: the store's `due_before` is set from the latest
    /// run once parsing is done.
    pub overdue_days: Option<u32>,
    /// Snoozed findings too (hidden until their snooze ends unless asked for).
    pub include_snoozed: bool,
    pub given: Map<String, Value>,
}

fn bad(field: &str, message: &str) -> RequestError {
    RequestError::new(field, message)
}

/// Reads the query string's `(name, value)` pairs.
///
/// # Errors
///
/// An unknown or repeated parameter, or a value that does not parse.
pub fn parse(pairs: Vec<(String, String)>) -> Result<FindingsQuery, RequestError> {
    let mut q = FindingsQuery {
        filter: PopulationFindingFilter::default(),
        limit: None,
        overdue_days: None,
        include_snoozed: false,
        given: Map::new(),
    };
    for (name, value) in pairs {
        if q.given.contains_key(&name) {
            return Err(bad(&name, "given more than once"));
        }
        match name.as_str() {
            "rule" => q.filter.rule_id = Some(value.clone()),
            "indicator" => {
                let indicator: CardIndicator = value
                    .parse()
                    .map_err(|_| bad(&name, "must be info, warning or critical"))?;
                q.filter.indicator = Some(indicator);
            }
            "firstSeenAfter" => {
                let at: DateTime<Utc> = value.parse().map_err(|_| {
                    bad(
                        &name,
                        "must be an RFC 3339 date-time, e.g. 2026-06-01T00:00:00Z",
                    )
                })?;
                q.filter.first_seen_after = Some(at);
            }
            "includeSnoozed" => match value.as_str() {
                "true" => q.include_snoozed = true,
                "false" => q.include_snoozed = false,
                _ => return Err(bad(&name, "must be true or false")),
            },
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => q.limit = Some(n),
                _ => return Err(bad(&name, "must be a whole number from 1 to 1000")),
            },
            "cursor" => {
                let after: i64 = value
                    .parse()
                    .map_err(|_| bad(&name, "must be the nextCursor of a previous page"))?;
                q.filter.after_id = Some(after);
            }
            "product" => q.filter.product = Some(value.clone()),
            "prevention" => {
                let level = value
                    .parse()
                    .map_err(|()| bad(&name, "must be primary, secondary or tertiary"))?;
                q.filter.prevention = Some(level);
            }
            "overdueDays" => match value.parse::<u32>() {
                Ok(n) if n <= MAX_OVERDUE_DAYS => q.overdue_days = Some(n),
                _ => return Err(bad(&name, "must be a whole number of days from 0 to 36500")),
            },
            _ => return Err(bad(&name, "unknown parameter")),
        }
        q.given.insert(name, Value::String(value));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::storage::{CardIndicator, Prevention};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn filters_and_paging_are_read() {
        let q = parse(pairs(&[
            ("rule", "cbc-surveillance-overdue"),
            ("indicator", "warning"),
            ("firstSeenAfter", "2026-06-01T00:00:00Z"),
            ("limit", "2"),
            ("cursor", "41"),
            ("product", "obe-cel"),
            ("prevention", "tertiary"),
            ("overdueDays", "30"),
        ]))
        .unwrap();
        assert_eq!(
            q.filter.rule_id.as_deref(),
            Some("cbc-surveillance-overdue")
        );
        assert_eq!(q.filter.indicator, Some(CardIndicator::Warning));
        assert_eq!(
            q.filter.first_seen_after.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-06-01T00:00:00+00:00")
        );
        assert_eq!((q.limit, q.filter.after_id), (Some(2), Some(41)));
        assert!(!q.filter.include_closed);
        assert_eq!(q.filter.product.as_deref(), Some("obe-cel"));
        assert_eq!(q.filter.prevention, Some(Prevention::Tertiary));
        assert_eq!(q.overdue_days, Some(30));
        assert_eq!(q.given.len(), 8);
    }

    #[test]
    fn each_refusal_names_its_parameter() {
        for (name, value) in [
            ("indicator", "urgent"),
            ("firstSeenAfter", "last week"),
            ("limit", "0"),
            ("limit", "1001"),
            ("cursor", "abc"),
            ("prevention", "quaternary"),
            ("overdueDays", "-1"),
            ("overdueDays", "ten"),
            ("overdueDays", "36501"),
            ("patient", "Patient/1"),
        ] {
            let e = parse(pairs(&[(name, value)])).unwrap_err();
            assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
        }
        let e = parse(pairs(&[("rule", "a"), ("rule", "b")])).unwrap_err();
        assert_eq!(e.to_string(), "rule: given more than once");
    }
}
