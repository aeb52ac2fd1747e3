//! `/ui/sign-in` and `/ui/sign-out`: the development sign-in (a token minted with the
//! development key, kept in the `/ui` cookie). In production these pages explain that sign-in
//! is the sign-on proxy's, and the POSTs answer 404.

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::{dev_cookie, return_path, UiAuthConfig};
use super::{html, UiError};
use crate::cds::RequestError;
use crate::ui::layout::{page, Chrome};
use crate::ui::pages::{self, DEV_SCOPES};

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

/// The sign-in page.
pub(super) async fn get_sign_in(
    config: web::Data<UiAuthConfig>,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let next = return_path(query.next.as_deref().unwrap_or(""));
    let chrome = Chrome {
        title: "Sign in",
        user: None,
        current: None,
        sign_out: false,
    };
    html(page(&chrome, &pages::sign_in(config.dev(), &next)))
}

/// Signs in with the development key: `sub`, `scope` (repeated), `next`.
pub(super) async fn post_sign_in(
    req: HttpRequest,
    config: web::Data<UiAuthConfig>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, UiError> {
    let (mut sub, mut scopes, mut next) = (String::new(), Vec::new(), String::new());
    for (name, value) in form.into_inner() {
        match name.as_str() {
            "sub" => sub = value.trim().to_owned(),
            "scope" if DEV_SCOPES.iter().any(|(s, _)| *s == value) => scopes.push(value),
            "scope" => {
                return Err(RequestError::new("scope", "is not a scope of these pages").into())
            }
            "next" => next = value,
            _ => return Err(RequestError::new(name, "unknown field").into()),
        }
    }
    if sub.is_empty() || sub.chars().count() > 100 {
        return Err(RequestError::new("sub", "must be a name of 1 to 100 characters").into());
    }
    let token = config.mint(&sub, &scopes)?;
    Ok(HttpResponse::SeeOther()
        .cookie(dev_cookie(&req, Some(token)))
        .insert_header((LOCATION, return_path(&next)))
        .finish())
}

/// Removes the development sign-in.
pub(super) async fn post_sign_out(req: HttpRequest) -> HttpResponse {
    HttpResponse::SeeOther()
        .cookie(dev_cookie(&req, None))
        .insert_header((LOCATION, "/ui/sign-in"))
        .finish()
}
