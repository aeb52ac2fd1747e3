//! `POST /cds-services/{id}/feedback`: what the clinician did with a card. Stored without any
//! patient data; idempotent (a repeated item is stored once). A card overridden with a reason
//! its rule marks as snoozing (`card.snooze`) snoozes the rule for the card's patient, named by
//! the keyed hash the card was issued with.

use actix_web::{web, HttpResponse};

use super::{ApiError, AppState};
use crate::auth::CdsClient;
use crate::cds::feedback::{parse_feedback, FeedbackItem, Outcome};
use crate::storage::{FeedbackOutcome, NewFeedback, NewSnooze, ReasonCoding, SnoozeOrigin, Store};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/{id}/feedback").route(web::post().to(submit_feedback)));
}

fn to_new(service_id: &str, f: FeedbackItem) -> NewFeedback {
    let (reason, comment) = match f.override_reason {
        Some(r) => (r.reason, r.user_comment),
        None => (None, None),
    };
    NewFeedback {
        service_id: service_id.to_owned(),
        card_uuid: f.card,
        outcome: match f.outcome {
            Outcome::Accepted => FeedbackOutcome::Accepted,
            Outcome::Overridden => FeedbackOutcome::Overridden,
        },
        outcome_timestamp: f.outcome_timestamp,
        accepted_suggestions: f.accepted_suggestions,
        override_reason: reason.map(|c| ReasonCoding {
            system: Some(c.system),
            code: c.code,
            display: c.display,
        }),
        override_comment: comment,
    }
}

/// How long feedback on a card not yet recorded waits once before it is refused: issued cards are
/// written in batches gathered over 50 ms after the call that returned them.
const ISSUED_WRITE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Refuses feedback on a card this service never issued (404 naming the item), rather than
/// storing it where no rule can be credited with it.
async fn unknown_card(store: &dyn Store, items: &[FeedbackItem]) -> Result<(), ApiError> {
    let mut waited = false;
    for (i, item) in items.iter().enumerate() {
        let mut known = store.card_issued(&item.card).await?;
        if !known && !waited {
            waited = true;
            tokio::time::sleep(ISSUED_WRITE_WAIT).await;
            known = store.card_issued(&item.card).await?;
        }
        if !known {
            return Err(ApiError::NotFound(format!(
                "feedback[{i}].card: this service issued no card with that uuid"
            )));
        }
    }
    Ok(())
}

/// For each card overridden with a reason its rule marks as snoozing, a snooze of that rule for
/// the card's patient (known by its key only) for the rule's days.
async fn snooze_overridden(
    state: &AppState,
    store: &dyn Store,
    items: &[NewFeedback],
) -> Result<(), ApiError> {
    let (pack, _) = state.active_pack();
    let now = (state.clock)();
    for item in items {
        let Some(code) = item.override_reason.as_ref().map(|r| r.code.as_str()) else {
            continue;
        };
        let Some(card) = store.issued_card_key(&item.card_uuid).await? else {
            continue;
        };
        let setting = pack.pack().rules.get(&card.rule_id);
        let setting = setting.and_then(|r| r.card.snooze.as_ref());
        let (Some(setting), Some(key)) = (setting, card.patient_key) else {
            continue;
        };
        if !setting.reasons.iter().any(|r| r == code) {
            continue;
        }
        let snooze = NewSnooze {
            patient_key: key,
            rule_id: card.rule_id,
            until: super::snooze::until(now, setting.days, state.tz),
            origin: SnoozeOrigin::Card,
            reason_code: Some(code.to_owned()),
            reason_text: None,
            actor: None,
            at: now,
        };
        store.record_snooze(&snooze).await?;
    }
    Ok(())
}

async fn submit_feedback(
    state: web::Data<AppState>,
    store: web::Data<dyn Store>,
    client: Option<CdsClient>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if !state.services.iter().any(|s| s.id == *id) {
        return Err(ApiError::NotFound(format!("no CDS service `{id}`")));
    }
    let request = parse_feedback(&body)?;
    unknown_card(store.get_ref(), &request.feedback).await?;
    let items: Vec<NewFeedback> = request
        .feedback
        .into_iter()
        .map(|f| to_new(&id, f))
        .collect();
    let saved = store.record_feedback(&items).await?;
    snooze_overridden(&state, store.get_ref(), &items).await?;
    let iss = client.as_ref().map(|c| c.iss.as_str());
    tracing::info!(cds.service_id = %id, cds.client = iss, inserted = saved.inserted, duplicates = saved.duplicates, "feedback stored");
    Ok(HttpResponse::Ok().json(saved))
}
