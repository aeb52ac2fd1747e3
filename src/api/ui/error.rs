//! `UiError`: how a page fails, as an HTML page a person can read (the JSON APIs keep their
//! OperationOutcome). Same statuses as `ApiError`: 400 naming the field, 401 (the sign-in page),
//! 403 naming the scope, 404, 503 with `Retry-After`, 500 opaque.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::{html, Markup};

use crate::api::ApiError;
use crate::cds::RequestError;
use crate::ui::layout::{page, Chrome};
use crate::ui::pages;

/// Every failure of a page handler.
#[derive(thiserror::Error, Debug)]
pub enum UiError {
    /// Not signed in, or the token was refused: the sign-in page. `dev`: the development form;
    /// `next`: the page to return to.
    #[error("sign-in needed")]
    SignIn { dev: bool, next: String },
    /// Signed in without the scope the page needs.
    #[error("the scope {0} is needed")]
    Forbidden(&'static str),
    /// A form or query parameter that cannot be used.
    #[error("{0}")]
    BadRequest(RequestError),
    /// A POST that did not come from these pages.
    #[error("cross-site request refused")]
    CrossSite,
    /// Nothing at this address.
    #[error("{0}")]
    NotFound(String),
    /// The store or the identity provider's keys are unavailable.
    #[error("service unavailable")]
    Unavailable,
    /// Anything else: logged with its cause, answered opaquely.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(e) => UiError::BadRequest(e),
            ApiError::NotFound(m) => UiError::NotFound(m),
            ApiError::Unavailable => UiError::Unavailable,
            other => UiError::Unexpected(anyhow::anyhow!("{other:?}")),
        }
    }
}

impl From<crate::storage::StoreError> for UiError {
    fn from(e: crate::storage::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<RequestError> for UiError {
    fn from(e: RequestError) -> Self {
        UiError::BadRequest(e)
    }
}

impl UiError {
    fn title_and_body(&self) -> (&'static str, Markup) {
        match self {
            UiError::SignIn { dev, next } => ("Sign in", pages::sign_in(*dev, next)),
            UiError::Forbidden(scope) => (
                "Not allowed",
                pages::error(
                    &format!(
                        "Your sign-in does not grant the scope {scope}, which this page needs."
                    ),
                    Some(html! { p { "Ask your administrator for access." } }),
                ),
            ),
            UiError::BadRequest(e) => ("Cannot show this", pages::error(&e.to_string(), None)),
            UiError::CrossSite => (
                "Refused",
                pages::error(
                    "This form was not sent from these pages, so it was refused.",
                    Some(html! { p { "Reload the page and send the form again." } }),
                ),
            ),
            UiError::NotFound(m) => ("Not found", pages::error(m, None)),
            UiError::Unavailable => (
                "Unavailable",
                pages::error(
                    "The service cannot reach its database or the identity provider just now; \
                    try again in a moment.",
                    None,
                ),
            ),
            UiError::Unexpected(_) => (
                "Error",
                pages::error("The service failed; the failure is logged.", None),
            ),
        }
    }
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::SignIn { .. } => StatusCode::UNAUTHORIZED,
            UiError::Forbidden(_) | UiError::CrossSite => StatusCode::FORBIDDEN,
            UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            UiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, body) = self.title_and_body();
        let chrome = Chrome {
            title,
            user: None,
            current: None,
            sign_out: false,
        };
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, UiError::Unavailable) {
            resp.insert_header(("Retry-After", "1"));
        }
        resp.insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(page(&chrome, &body).into_string())
    }
}
