//! `GET /healthz` (the process is alive) and `GET /readyz` (the store answers).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiError;
use crate::storage::Store;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(get_health)));
    cfg.service(web::resource("/readyz").route(web::get().to(get_ready)));
}

async fn get_health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn get_ready(store: web::Data<dyn Store>) -> Result<HttpResponse, ApiError> {
    store.ping().await.map_err(|_| ApiError::Unavailable)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
