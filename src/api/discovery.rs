//! `GET /cds-services`: the discovery document.

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::cds::DiscoveryResponse;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("").route(web::get().to(list_services)));
}

/// The descriptors with the prefetch the active pack needs: it changes with the pack, so an
/// EHR re-reads discovery after a pack change (see the README).
async fn list_services(state: web::Data<AppState>) -> HttpResponse {
    let (pack, _) = state.active_pack();
    HttpResponse::Ok().json(DiscoveryResponse {
        services: state
            .services
            .iter()
            .map(|s| s.with_prefetch(pack.prefetch(&s.hook)))
            .collect(),
    })
}
