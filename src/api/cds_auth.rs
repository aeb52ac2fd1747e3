//! CDS client authentication (the standard's JWT) for every `/cds-services` call: discovery,
//! hook calls and feedback. When `auth_required()` holds, [`verify_cds_client`] verifies the
//! bearer token with [`crate::auth::Verifier`] against the audience `public base URL + request
//! path`, and on success places the [`CdsClient`] in the request extensions, where handlers read
//! it back with the `CdsClient` extractor (`Option<CdsClient>` when authentication may be off).
//! Every failure is the same 401 (`WWW-Authenticate: Bearer`, one OperationOutcome whatever the
//! cause); the reason is logged at debug
//! level by the verifier, never with the token.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::ApiError;
use crate::auth::{audience_for, AuthError, CdsClient, Verifier};

/// The state of the middleware: the verifier (`None` when authentication is off) and the
/// externally visible base URL that audiences are built from.
pub struct CdsAuth {
    verifier: Option<Verifier>,
    base_url: String,
}

impl CdsAuth {
    /// `verifier` is `None` when CDS client authentication is not required.
    pub fn new(verifier: Option<Verifier>, base_url: String) -> CdsAuth {
        CdsAuth { verifier, base_url }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then_some(token)
}

/// Verifies the client JWT of a hook, discovery or feedback call.
pub async fn verify_cds_client(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(auth) = req.app_data::<web::Data<CdsAuth>>().cloned() else {
        return Err(ApiError::Unexpected(anyhow::anyhow!(
            "CDS client authentication state is not registered"
        ))
        .into());
    };
    let Some(verifier) = &auth.verifier else {
        return next.call(req).await;
    };
    let Some(token) = bearer(req.headers()) else {
        tracing::debug!(reason = %AuthError::Missing, "CDS client rejected");
        return Err(ApiError::Unauthorized.into());
    };
    let audience = audience_for(&auth.base_url, req.path());
    match verifier.verify(token, &audience, chrono::Utc::now()).await {
        Ok(client) => {
            req.extensions_mut().insert(client);
            next.call(req).await
        }
        Err(AuthError::Store(_)) => Err(ApiError::Unavailable.into()),
        Err(_) => Err(ApiError::Unauthorized.into()),
    }
}

/// The authenticated client of this request; 401 when there is none. Use `Option<CdsClient>`
/// in handlers that also serve unauthenticated calls (authentication off).
impl FromRequest for CdsClient {
    type Error = ApiError;
    type Future = Ready<Result<CdsClient, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<CdsClient>()
                .cloned()
                .ok_or(ApiError::Unauthorized),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn only_a_non_empty_bearer_token_is_taken() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        for (value, expected) in [
            ("Bearer abc.def.ghi", Some("abc.def.ghi")),
            ("bearer  abc ", Some("abc")),
            ("Basic dXNlcjpwYXNz", None),
            ("Bearer ", None),
            ("Bearer", None),
        ] {
            h.insert(AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer(&h), expected, "{value}");
        }
    }
}
