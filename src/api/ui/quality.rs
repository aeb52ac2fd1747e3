//! `/ui/quality` (scope `rules:read`): the quality report month by month and the worklist's
//! trends. It shows counts only, never a patient, so it writes no audit entry.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use serde::Deserialize;

use super::{html, UiError, UiUser};
use crate::api::worklist::read_findings;
use crate::api::AppState;
use crate::cds::RequestError;
use crate::storage::{report_months, PopulationFindingFilter, Store, MAX_LIST_LIMIT};
use crate::ui::layout::{page, Nav};
use crate::ui::quality::{render, QualityView};
use crate::ui::trends::by_month;

#[derive(Deserialize)]
pub(super) struct QualityQuery {
    months: Option<String>,
}

/// The `count` calendar months (UTC) up to and including the month of `now`.
fn period(now: DateTime<Utc>, count: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    (
        this_month - Months::new(count.saturating_sub(1)),
        this_month + Months::new(1),
    )
}

/// The quality page.
pub(super) async fn get_quality(
    user: UiUser,
    query: web::Query<QualityQuery>,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    user.require("rules:read")?;
    let count: u32 = match query.months.as_deref() {
        None => 12,
        Some(m) => m
            .parse()
            .ok()
            .filter(|n| (1..=36).contains(n))
            .ok_or_else(|| RequestError::new("months", "must be a whole number from 1 to 36"))?,
    };
    let (from, to) = period((state.clock)(), count);
    let cards = store.quality_report_by_month(from, to).await?;
    let months: Vec<String> = report_months(from, to).into_iter().map(|m| m.0).collect();
    let runs = store.list_population_runs(MAX_LIST_LIMIT).await?;
    let all = PopulationFindingFilter {
        include_closed: true,
        ..Default::default()
    };
    let findings = read_findings(store.as_ref(), all, i64::MAX).await?;
    let worklist = by_month(&months, &runs, &findings, state.tz);
    let (pack, _) = state.active_pack();
    let titles: BTreeMap<String, String> = pack
        .pack()
        .rules
        .iter()
        .map(|(id, r)| (id.clone(), r.title.clone()))
        .collect();
    let view = QualityView {
        months: &months,
        cards: &cards,
        titles: &titles,
        worklist: &worklist,
    };
    Ok(html(page(
        &user.chrome("Quality", Some(Nav::Quality)),
        &render(&view),
    )))
}
