//! CSRF defence of every `/ui/` POST: the request must come from a page of this origin.
//! Browsers say so in `Sec-Fetch-Site` (Chromium, Firefox, Safari); one that does not send it
//! sends `Origin` on every POST, which must then be this service's own. A request with neither
//! is refused. The development cookie is also `SameSite=Strict`, and a proxy's token is not sent
//! by a browser at all, so a forged form from elsewhere carries no credentials in any case.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, ResponseError};

use super::UiError;

/// Whether `req` came from a page of this origin.
pub fn same_origin(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|h| h.to_str().ok());
    if let Some(site) = header("Sec-Fetch-Site") {
        return site == "same-origin";
    }
    let Some(origin) = header("Origin") else {
        return false;
    };
    let info = req.connection_info();
    origin == format!("{}://{}", info.scheme(), info.host())
}

/// Middleware of the `/ui` scope: GET and HEAD pass; any other method must be same-origin.
pub async fn refuse_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && !same_origin(req.request()) {
        let resp = UiError::CrossSite.error_response();
        return Ok(req.into_response(resp).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::same_origin;

    #[test]
    fn fetch_metadata_decides_when_present_else_the_origin() {
        let req = |headers: &[(&str, &str)]| {
            let mut r = TestRequest::post()
                .uri("/ui/sign-out")
                .insert_header(("Host", "cart.example:8080"));
            for h in headers {
                r = r.insert_header(*h);
            }
            r.to_http_request()
        };
        assert!(same_origin(&req(&[("Sec-Fetch-Site", "same-origin")])));
        assert!(!same_origin(&req(&[("Sec-Fetch-Site", "same-site")])));
        assert!(!same_origin(&req(&[
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "http://cart.example:8080")
        ])));
        assert!(same_origin(&req(&[("Origin", "http://cart.example:8080")])));
        assert!(!same_origin(&req(&[("Origin", "http://evil.example")])));
        assert!(!same_origin(&req(&[("Origin", "null")])));
        assert!(!same_origin(&req(&[])));
    }
}
