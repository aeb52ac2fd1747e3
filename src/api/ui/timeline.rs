//! `/ui/patients/{id}`: one patient's monitoring timeline, the page a card's
//! "Monitoring timeline" link opens. Needs `worklist:read`. The record is what a `patient-view`
//! call reads, fetched from the `[bulk]` FHIR server (`crate::timeline::fetch`); the worklist's
//! findings come from the store. One audit entry per page (`worklist.patient.timeline`: who,
//! which patient, when), written before the page is sent; the path is logged by its route.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{html, UiError, UiUser};
use crate::api::worklist::{audit, findings_of, patient_reference};
use crate::api::AppState;
use crate::cds::discovery::ServiceDescriptor;
use crate::storage::{PatientCard, PopulationFinding, Store};
use crate::timeline::fetch::{read_record, RecordAccess, RecordSource};
use crate::timeline::{self, Inputs, KnownFinding, PastCard, HOOK};
use crate::ui::layout::page;
use crate::ui::timeline::{render, Chart, TimelineView};

const READ: &str = "worklist:read";

/// The most cards returned earlier that the page reads (newest first).
const PAST_CARDS: i64 = 500;

fn past(c: PatientCard) -> PastCard {
    PastCard {
        rule_id: c.rule_id,
        indicator: c.indicator.as_str().to_owned(),
        hook: c.hook,
        issued_at: c.issued_at,
        outcome: c.outcome,
        override_reason: c.override_reason,
    }
}

fn known(f: &PopulationFinding) -> KnownFinding {
    KnownFinding {
        rule_id: f.rule_id.clone(),
        indicator: f.indicator.as_str().to_owned(),
        summary: f.summary.clone(),
        first_seen: f.first_seen_at,
        closed: f.closed_at,
    }
}

/// The `patient-view` service whose prefetch the record follows (a bare one when none is
/// registered: the active pack's prefetch alone).
fn patient_view(state: &AppState) -> ServiceDescriptor {
    state
        .services
        .iter()
        .find(|s| s.hook == HOOK)
        .cloned()
        .unwrap_or_else(|| ServiceDescriptor {
            hook: HOOK.to_owned(),
            title: None,
            description: String::new(),
            id: "timeline".to_owned(),
            prefetch: Default::default(),
            usage_requirements: None,
        })
}

/// The timeline page.
pub(super) async fn get_timeline(
    user: UiUser,
    state: web::Data<AppState>,
    store: web::Data<dyn Store>,
    access: web::Data<RecordAccess>,
    given: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let actor = user.require(READ)?;
    let patient = patient_reference(&given)?;
    let rows = findings_of(store.as_ref(), &patient).await?;
    let findings: Vec<KnownFinding> = rows.iter().map(known).collect();
    let key = state.patient_keys.of(&patient);
    let cards: Vec<PastCard> = store
        .patient_cards(&key, PAST_CARDS)
        .await?
        .into_iter()
        .map(past)
        .collect();
    let past_cards = timeline::past_markers(&cards, state.tz);
    let (pack, _) = state.active_pack();
    let read = match &access.0 {
        Some(access) => {
            let source = RecordSource {
                access,
                client: &state.fhir,
                limits: state.limits,
            };
            let id = patient.trim_start_matches("Patient/");
            Some(read_record(&pack, &patient_view(&state), id, source).await)
        }
        None => None,
    };
    let drawn = match &read {
        Some(Ok(record)) => Some(timeline::build(&Inputs {
            pack: &pack,
            record,
            findings: &findings,
            past_cards: &past_cards,
            now: (state.clock)(),
            tz: state.tz,
        })),
        _ => None,
    };
    let why = match &read {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let chart = match (&drawn, &why) {
        (Some(t), _) => Chart::Drawn(t),
        (None, Some(why)) => Chart::Unavailable(why),
        (None, None) => Chart::NoServer,
    };
    let entry = json!({"patient": patient, "findings": findings.len(), "cards": cards.len(),
        "record": drawn.is_some()});
    audit(store.as_ref(), actor, "worklist.patient.timeline", entry).await?;
    let view = TimelineView {
        patient: &patient,
        name: rows.iter().rev().find_map(|f| f.display_name.as_deref()),
        findings: &findings,
        past_cards: &past_cards,
        chart,
    };
    Ok(html(page(
        &user.chrome("Monitoring timeline", None),
        &render(&view),
    )))
}
