//! `GET /metrics` (`OpenMetrics` text format) and the middleware that times every hook call.
//!
//! The middleware wraps the whole application (inside `TracingLogger`), so it also sees the
//! answers produced before the handler runs: 401 from client authentication, 503 from the
//! load limit, 400 from the body limit. Only `POST /cds-services/{id}` is counted; the service
//! label is a known service id or `unknown` (never raw path text, so a scanner cannot create
//! series).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use super::AppState;
use crate::metrics::Metrics;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(get_metrics)));
}

async fn get_metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.render())
}

/// Times hook calls and counts them by status (wrap the `App` with `from_fn`).
pub async fn record_hook_calls(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = (req.method() == Method::POST)
        .then(|| req.path().strip_prefix("/cds-services/"))
        .flatten()
        .filter(|id| !id.is_empty() && !id.contains('/'));
    let Some(id) = id else {
        return next.call(req).await;
    };
    let (service, hook) = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.services.iter().find(|s| s.id == id))
        .map_or(("unknown".to_owned(), "unknown".to_owned()), |s| {
            (s.id.clone(), s.hook.clone())
        });
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        metrics.hook_call(&service, &hook, status.as_u16(), started.elapsed());
    }
    result
}
