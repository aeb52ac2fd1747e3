//! Who is looking at a page. The organisation's identity provider signs people in: in
//! production a single sign-on proxy in front of the service passes its access token, in
//! `Authorization: Bearer` or the header `ui.token_header` names, and it is verified exactly as
//! an admin token (`AdminAuth`: signature, issuer, audience, expiry; scopes). In development
//! mode `/ui/sign-in` mints a one-hour token with the development key and keeps it in an
//! HttpOnly, `SameSite=Strict` cookie limited to `/ui`; that cookie is not read in production.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

use super::UiError;
use crate::admin::keys::{AdminAuth, Principal, TokenError};
use crate::config::{Mode, Settings};
use crate::ui::layout::{Chrome, Nav};

/// The development sign-in's cookie.
pub const COOKIE: &str = "cart_sentinel_ui";
/// Lifetime of a development sign-in, in seconds (as `admin token`'s default).
pub const DEV_TTL_SECONDS: i64 = 3600;

/// How the pages find and verify a token.
pub struct UiAuthConfig {
    token_header: String,
    /// The settings the development key is read with; `None` in production.
    dev: Option<Arc<Settings>>,
}

impl UiAuthConfig {
    /// From the settings: the proxy's header, and development sign-in in development mode.
    pub fn new(settings: &Settings) -> UiAuthConfig {
        UiAuthConfig {
            token_header: settings.ui.token_header.clone(),
            dev: (settings.server.mode == Mode::Development).then(|| Arc::new(settings.clone())),
        }
    }

    /// Whether the development sign-in is offered.
    pub fn dev(&self) -> bool {
        self.dev.is_some()
    }

    /// A development token for `subject` with `scopes` (development mode only).
    pub fn mint(&self, subject: &str, scopes: &[String]) -> Result<String, UiError> {
        let settings = self
            .dev
            .as_ref()
            .ok_or_else(|| UiError::NotFound("development sign-in is off in production".into()))?;
        crate::admin::keys::mint_dev_token(settings, subject, scopes, DEV_TTL_SECONDS)
            .map_err(UiError::Unexpected)
    }

    /// The request's token, and whether it came from the development cookie.
    fn token(&self, req: &HttpRequest) -> Option<(String, bool)> {
        let header = |name: &str| req.headers().get(name).and_then(|h| h.to_str().ok());
        let bearer = header("Authorization").and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        });
        bearer
            .or_else(|| header(&self.token_header))
            .map(|t| (t.trim().to_owned(), false))
            .or_else(|| {
                self.dev
                    .as_ref()
                    .and_then(|_| req.cookie(COOKIE))
                    .map(|c| (c.value().to_owned(), true))
            })
            .filter(|(t, _)| !t.is_empty())
    }
}

/// The development sign-in cookie holding `token` (`None`: the cookie that removes it).
pub fn dev_cookie(req: &HttpRequest, token: Option<String>) -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, token.clone().unwrap_or_default())
        .path("/ui")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    match token {
        Some(_) => cookie.set_max_age(actix_web::cookie::time::Duration::seconds(DEV_TTL_SECONDS)),
        None => cookie.make_removal(),
    }
    cookie
}

/// Where a sign-in returns to: `given` when it is a page of this service, else the worklist.
pub fn return_path(given: &str) -> String {
    let local = given.starts_with("/ui/")
        && !given.contains(['\\', '\r', '\n'])
        && !given.starts_with("/ui/sign-");
    if local {
        given.to_owned()
    } else {
        "/ui/worklist".to_owned()
    }
}

/// The signed-in user of a page.
pub struct UiUser {
    /// Who (the token's `sub`) and what they may do.
    pub principal: Principal,
    /// Signed in through the development cookie (the frame offers signing out).
    pub dev: bool,
}

impl UiUser {
    /// The user's `sub` when the token grants `scope`, else a 403 page naming it.
    pub fn require(&self, scope: &'static str) -> Result<&str, UiError> {
        if self.principal.scopes.contains(scope) {
            Ok(&self.principal.subject)
        } else {
            Err(UiError::Forbidden(scope))
        }
    }

    /// The frame of a page titled `title` for this user.
    pub fn chrome<'a>(&'a self, title: &'a str, current: Option<Nav>) -> Chrome<'a> {
        Chrome {
            title,
            user: Some(&self.principal.subject),
            current,
            sign_out: self.dev,
        }
    }
}

impl FromRequest for UiUser {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let config = req.app_data::<web::Data<UiAuthConfig>>().cloned();
        let auth = req.app_data::<web::Data<AdminAuth>>().cloned();
        let token = config.as_ref().and_then(|c| c.token(req));
        let dev = config.as_ref().is_some_and(|c| c.dev());
        let next = if req.method() == Method::GET {
            return_path(req.uri().path_and_query().map_or("", |p| p.as_str()))
        } else {
            return_path(
                req.headers()
                    .get("Referer")
                    .and_then(|h| h.to_str().ok())
                    .and_then(|r| url::Url::parse(r).ok())
                    .map(|u| u[url::Position::BeforePath..].to_owned())
                    .as_deref()
                    .unwrap_or(""),
            )
        };
        Box::pin(async move {
            let sign_in = || UiError::SignIn { dev, next };
            let (Some((token, from_cookie)), Some(auth)) = (token, auth) else {
                return Err(sign_in());
            };
            match auth.verify(&token).await {
                Ok(principal) => Ok(UiUser {
                    principal,
                    dev: from_cookie,
                }),
                Err(TokenError::KeysUnavailable) => Err(UiError::Unavailable),
                Err(e) => {
                    tracing::debug!(reason = %e, "page token refused");
                    Err(sign_in())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::return_path;

    #[test]
    fn a_sign_in_returns_only_to_a_page_of_this_service() {
        assert_eq!(return_path("/ui/quality?x=1"), "/ui/quality?x=1");
        for elsewhere in [
            "https://evil.example/ui/",
            "//evil.example",
            "/admin/rules",
            "/ui/sign-in",
            "/ui/\\evil",
            "",
        ] {
            assert_eq!(return_path(elsewhere), "/ui/worklist", "{elsewhere}");
        }
    }
}
