//! `/admin`: the authenticated, versioned, audited rule administration API (issue #4).

use actix_web::web;

pub(super) fn configure(_cfg: &mut web::ServiceConfig) {}
