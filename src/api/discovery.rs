//! `GET /cds-services`: the discovery document.

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::cds::DiscoveryResponse;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(list_services));
}

async fn list_services(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(DiscoveryResponse {
        services: state.services.clone(),
    })
}
