//! `/ui/`: the HTTP side of the pages (rendering is `crate::ui`). A handler takes [`UiUser`],
//! checks the page's scope, reads through the store, audits what it shows of patients exactly
//! as the worklist API does, and answers [`html`]. Every POST passes the same-origin check of
//! `csrf`. Failures are [`UiError`] pages.

mod auth;
mod csrf;
mod error;
mod quality;
mod signin;
mod timeline;
mod worklist;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use actix_web::{web, HttpResponse};
use maud::Markup;

pub use auth::{UiAuthConfig, UiUser};
pub use error::UiError;

/// What a page may load and where its forms may go: this origin only, nothing inline.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// A page: HTML that no cache keeps (it may show patient data) and that no other site frames.
pub fn html(markup: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(markup.into_string())
}

/// A `303 See Other` to `to` (the answer to a page's POST).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to))
        .finish()
}

async fn get_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, crate::ui::assets::CACHE_CONTROL))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(crate::ui::assets::CSS)
}

async fn not_found() -> Result<HttpResponse, UiError> {
    Err(UiError::NotFound(
        "There is no page at this address.".into(),
    ))
}

/// The `/ui` routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ui").route(web::get().to(|| async { see_other("/ui/worklist") })));
    cfg.service(
        web::scope("/ui")
            .wrap(actix_web::middleware::from_fn(csrf::refuse_cross_site))
            .route("/", web::get().to(|| async { see_other("/ui/worklist") }))
            .route("/assets/style.css", web::get().to(get_stylesheet))
            .route("/sign-in", web::get().to(signin::get_sign_in))
            .route("/sign-in", web::post().to(signin::post_sign_in))
            .route("/sign-out", web::post().to(signin::post_sign_out))
            .route("/quality", web::get().to(quality::get_quality))
            .route("/worklist", web::get().to(worklist::get_worklist))
            .route("/worklist.csv", web::get().to(worklist::get_worklist_csv))
            .route(
                "/worklist/findings/{id}/actions",
                web::post().to(worklist::post_action),
            )
            .route("/patients/{id}", web::get().to(timeline::get_timeline))
            .default_service(web::to(not_found)),
    );
}
