//! "Overdue by more than N days", for the command line and the API alike: a finding whose due
//! date is more than N days before the date of the latest successful run's "now" (in
//! `rules.time_zone`, where due dates are dates). Findings without a due date never match.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;

use crate::storage::{RunStatus, Store, StoreError, MAX_LIST_LIMIT};

/// The bound for the store's `due_before`: due dates before it are overdue by more than
/// `days` days. With no successful run yet (an empty worklist) it is a date no due date
/// precedes.
///
/// # Errors
///
/// The store.
pub async fn due_before(store: &dyn Store, days: u32, tz: Tz) -> Result<NaiveDate, StoreError> {
    let latest = store
        .list_population_runs(MAX_LIST_LIMIT)
        .await?
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded);
    Ok(latest
        .map(|r| r.run_at.with_timezone(&tz).date_naive())
        .and_then(|today| today.checked_sub_days(Days::new(u64::from(days))))
        .unwrap_or(NaiveDate::MIN))
}
