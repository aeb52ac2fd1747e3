//! `GET /metrics` (Prometheus). Not implemented yet (issue #6).

use actix_web::web;

pub(super) fn configure(_cfg: &mut web::ServiceConfig) {}
