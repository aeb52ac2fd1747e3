//! `ApiError`: the single place where failures become HTTP statuses.
//!
//! 400 malformed request (OperationOutcome naming the field), 401 bad or missing credentials
//! (bare, with `WWW-Authenticate: Bearer`), 403 authenticated without the right scope, 404
//! unknown service, 409 a duplicate or work in progress, 412 FHIR data unobtainable
//! (OperationOutcome, as the standard says), 413 body too large, 503 overloaded or not ready, 500 opaque: a 5xx body never carries the text
//! of a database or HTTP-client error. Every body but the bare 401 is an OperationOutcome, also
//! for the errors actix-web produces itself ([`outcome_for_bare_errors`]).

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

use crate::cds::error::RequestError;
use crate::cds::outcome::operation_outcome;

/// Every failure an HTTP handler can return.
#[derive(thiserror::Error)]
pub enum ApiError {
    /// Malformed request.
    #[error("{0}")]
    BadRequest(RequestError),
    /// Missing or invalid credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Valid credentials without the needed scope.
    #[error("forbidden")]
    Forbidden,
    /// Unknown resource.
    #[error("{0}")]
    NotFound(String),
    /// The resource already exists.
    #[error("{0}")]
    Conflict(String),
    /// The request conflicts with work in progress (a population run that has not ended).
    #[error("{0}")]
    Busy(String),
    /// Optimistic concurrency failure or unobtainable FHIR data.
    #[error("{0}")]
    Precondition(String),
    /// Request content rejected as a whole (e.g. an invalid rule), with a JSON body.
    #[error("unprocessable")]
    Unprocessable(serde_json::Value),
    /// The body is larger than `server.max_body_bytes` (the limit, in bytes).
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body did not arrive within `limits.body_read_timeout_ms` (the limit, in ms).
    #[error("the body did not arrive within {0} ms")]
    BodyTimeout(u128),
    /// Overloaded or not ready.
    #[error("service unavailable")]
    Unavailable,
    /// Anything else: logged with its cause chain, answered opaquely.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            writeln!(f, "caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<crate::storage::StoreError> for ApiError {
    /// A database that is away or locked is a 503 the caller may retry (`Retry-After`); any
    /// other store failure is an opaque 500. Both are logged without the request's content.
    fn from(e: crate::storage::StoreError) -> Self {
        match e {
            crate::storage::StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable; answered 503");
                ApiError::Unavailable
            }
            other => ApiError::Unexpected(other.into()),
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::BadRequest(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::Busy(_) => StatusCode::CONFLICT,
            ApiError::Precondition(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        match self {
            ApiError::BadRequest(e) => resp.json(e.to_operation_outcome()),
            ApiError::Unauthorized => resp.insert_header(("WWW-Authenticate", "Bearer")).finish(),
            ApiError::Forbidden => resp.finish(),
            ApiError::NotFound(m) => resp.json(operation_outcome("not-found", m, None)),
            ApiError::Conflict(m) => resp.json(operation_outcome("duplicate", m, None)),
            ApiError::Busy(m) => resp.json(operation_outcome("conflict", m, None)),
            ApiError::Precondition(m) => resp.json(operation_outcome("not-found", m, None)),
            ApiError::Unprocessable(body) => resp.json(body),
            ApiError::TooLarge(_) => {
                resp.json(operation_outcome("too-costly", &self.to_string(), None))
            }
            ApiError::BodyTimeout(_) => {
                resp.json(operation_outcome("timeout", &self.to_string(), None))
            }
            ApiError::Unavailable => {
                resp.insert_header(("Retry-After", "1"))
                    .json(operation_outcome(
                        "transient",
                        "service unavailable, retry",
                        None,
                    ))
            }
            ApiError::Unexpected(_) => resp.json(operation_outcome(
                "exception",
                "internal error; the failure is logged",
                None,
            )),
        }
    }
}

/// Turns an error answer that actix-web or an extractor produced without a JSON body (404 for an
/// unknown path, 405 for a method a path does not take, 413 from a payload limit, 415…) into an
/// OperationOutcome, as CDS Hooks 3.0 asks of every non-2xx answer. Error bodies that are JSON
/// already (every `ApiError`) and bare 401s (the CDS client JWT answer) pass unchanged. For
/// `ErrorHandlers::default_handler`.
pub fn outcome_for_bare_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    // JSON is an `ApiError` already; HTML is a page's error (`api::ui::UiError`).
    let own_body = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json") || t.starts_with("text/html"));
    if own_body
        || status == StatusCode::UNAUTHORIZED
        || !status.is_client_error() && !status.is_server_error()
    {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not-found", "no endpoint at this path"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("not-supported", "this endpoint does not take this method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too-costly",
            "the body is larger than this service accepts (server.max_body_bytes)",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("not-supported", "unsupported Content-Type"),
        StatusCode::FORBIDDEN => (
            "forbidden",
            "the token does not grant the scope this endpoint needs",
        ),
        s if s.is_server_error() => ("exception", "the service failed; retry later"),
        _ => ("invalid", "the request was refused"),
    };
    let body = operation_outcome(code, message, None).to_string();
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let res = res.set_body(body).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}
