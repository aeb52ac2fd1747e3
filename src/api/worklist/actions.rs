//! `POST /worklist/findings/{id}/actions`: acknowledging a finding, snoozing it for N days with
//! a reason, or recording that the patient was contacted. Stored with the finding (the latest
//! shows with it on this and later runs' worklist) and audited (who, which patient, what, why,
//! until when). A snooze also keeps the rule quiet in hook calls for that patient, whom the
//! snooze names by keyed hash only.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::{audit, read_findings};
use crate::api::admin::AdminUser;
use crate::api::{ApiError, AppState};
use crate::cds::RequestError;
use crate::storage::{
    ActionKind, NewFindingAction, NewSnooze, PopulationFindingFilter, SnoozeOrigin, Store,
};

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 1000;
/// Longest snooze, as for a rule's own (`card.snooze.days`).
const MAX_DAYS: u64 = 365;

fn bad(field: &str, message: &str) -> ApiError {
    RequestError::new(field, message).into()
}

/// The action, its reason and, for a snooze, its days.
fn parse(body: &[u8]) -> Result<(ActionKind, String, Option<u32>), ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad("", "the body must be a JSON object"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("", "the body must be a JSON object"))?;
    if let Some(other) = obj
        .keys()
        .find(|k| !["action", "reason", "days"].contains(&k.as_str()))
    {
        return Err(bad(other, "unknown field"));
    }
    let action: ActionKind = obj
        .get("action")
        .and_then(Value::as_str)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| bad("action", "must be acknowledge, snooze or contacted"))?;
    let reason = obj
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| bad("reason", "a reason is required"))?;
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(bad("reason", "at most 1000 characters"));
    }
    let days = match (action, obj.get("days")) {
        (ActionKind::Snooze, Some(d)) => match d.as_u64() {
            Some(n @ 1..=MAX_DAYS) => u32::try_from(n).ok(),
            _ => return Err(bad("days", "must be a whole number of days from 1 to 365")),
        },
        (ActionKind::Snooze, None) => return Err(bad("days", "a snooze needs its days")),
        (_, Some(_)) => return Err(bad("days", "only a snooze takes days")),
        (_, None) => None,
    };
    Ok((action, reason.to_owned(), days))
}

#[utoipa::path(
    post,
    path = "/worklist/findings/{id}/actions",
    tag = "worklist",
    summary = "Acknowledge a finding, snooze it for N days, or record that the patient was contacted",
    description = "Stored with the finding (its latest action shows in the worklist, on later runs too) and audited. A snooze hides the finding from the open list until it ends (includeSnoozed=true shows it) and keeps the rule quiet in hook calls for that patient.",
    params(("id" = i64, Path, description = "the finding's id")),
    request_body(content = super::super::admin::openapi::FindingActionRequest),
    responses(
        (status = 201, description = "recorded"),
        (status = 400, description = "a bad action, reason or days, named"),
        (status = 404, description = "no finding with that id")
    ),
    security(("bearer" = ["worklist:write"]))
)]
pub(super) async fn act_on_finding(
    user: AdminUser,
    store: web::Data<dyn Store>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("worklist:write")?;
    let id: i64 = id.parse().map_err(|_| bad("id", "must be a finding id"))?;
    let (action, reason, days) = parse(&body)?;
    let filter = PopulationFindingFilter {
        id: Some(id),
        include_closed: true,
        ..Default::default()
    };
    let finding = read_findings(store.as_ref(), filter, 1)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("no worklist finding {id}")))?;
    let now = (state.clock)();
    let until = days.map(|d| crate::api::snooze::until(now, d, state.tz));
    let snooze = until.map(|until| NewSnooze {
        patient_key: state.patient_keys.of(&finding.patient),
        rule_id: finding.rule_id.clone(),
        until,
        origin: SnoozeOrigin::Worklist,
        reason_code: None,
        reason_text: Some(reason.clone()),
        actor: Some(actor.to_owned()),
        at: now,
    });
    let new = NewFindingAction {
        finding_id: id,
        action,
        reason: reason.clone(),
        until,
        actor: actor.to_owned(),
        at: now,
    };
    let entry = json!({"finding": id, "patient": finding.patient, "rule": finding.rule_id,
        "action": action, "reason": reason, "until": until});
    // Audited first: no action stands without the record of who took it.
    audit(store.as_ref(), actor, "worklist.finding.action", entry).await?;
    store.act_on_finding(&new, snooze.as_ref()).await?;
    Ok(
        HttpResponse::Created().json(json!({"finding": id, "action": action, "reason": reason,
        "until": until, "actor": actor, "at": now})),
    )
}
