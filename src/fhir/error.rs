//! Why FHIR data could not be obtained, and the fixed word each cause is counted under in the
//! fetch metrics (`cart_sentinel_fhir_fetches_total{outcome}`), so that an operator sees which
//! way the EHR's FHIR server is failing.

/// Why FHIR data could not be obtained; every variant ends the hook call with 412.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// `fhirServer` is not on the allowlist.
    #[error("fhirServer is not an allowed FHIR server")]
    NotAllowed,
    /// A URL (a next link) is outside `fhirServer`.
    #[error("a paging link points outside fhirServer")]
    ForeignLink,
    /// A `next` link leads back to a page this key already read.
    #[error("the FHIR server's next links loop back to a page already read")]
    Loop,
    /// Transport failure or timeout: `timeout`, `connect`, `tls` or `transport`.
    #[error("the FHIR server could not be reached ({0})")]
    Unreachable(&'static str),
    /// Non-2xx status.
    #[error("the FHIR server answered HTTP {}{}", .0, status_note(*.0))]
    Status(u16),
    /// Larger than the configured limit.
    #[error("the FHIR response exceeds {0} bytes")]
    TooLarge(usize),
    /// A response head the HTTP client cannot read: headers over its limit (hyper's: about
    /// 400 KiB, or more than 100 headers) or malformed.
    #[error("the FHIR response headers are too large or malformed")]
    BadHeaders,
    /// A prefetch template could not be rendered from the hook context.
    #[error("the prefetch template cannot be rendered from the hook context")]
    Template,
    /// Not JSON: a `Content-Type` that is not JSON (an HTML error page), or a body that does
    /// not parse.
    #[error("the FHIR server did not answer JSON")]
    NotJson,
    /// JSON nested deeper than the limit (the parser recurses: a deep page could exhaust a
    /// worker's stack).
    #[error("the FHIR response is nested deeper than {0} levels")]
    TooDeep(usize),
    /// The hook call's deadline passed before this key's pages arrived.
    #[error("the FHIR server did not answer within {0} ms")]
    Deadline(u128),
}

fn status_note(status: u16) -> &'static str {
    match status {
        300..=399 => " (a redirect, which is never followed)",
        429 => " (rate limited)",
        _ => "",
    }
}

impl FhirError {
    /// The `outcome` label of the fetch metrics.
    pub(super) fn outcome(&self) -> &'static str {
        match self {
            FhirError::NotAllowed => "not_allowed",
            FhirError::ForeignLink => "foreign_link",
            FhirError::Loop => "loop",
            FhirError::Unreachable(kind) => kind,
            FhirError::Status(300..=399) => "redirect",
            FhirError::Status(429) => "rate_limited",
            FhirError::Status(400..=499) => "status_4xx",
            FhirError::Status(_) => "status_5xx",
            FhirError::TooLarge(_) => "too_large",
            FhirError::BadHeaders => "bad_headers",
            FhirError::Template => "template",
            FhirError::NotJson => "not_json",
            FhirError::TooDeep(_) => "too_deep",
            FhirError::Deadline(_) => "cancelled",
        }
    }

    /// A failure of the HTTP client, by the first cause in its chain that names one: a TLS
    /// error (certificate, name, handshake), an unreadable response head, a timeout, a refused
    /// connection; anything else is `transport` (a connection reset mid-body, a malformed
    /// response).
    pub(super) fn from_http(e: &reqwest::Error) -> FhirError {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(c) = cause {
            if c.is::<rustls::Error>() {
                return FhirError::Unreachable("tls");
            }
            if c.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
            {
                return FhirError::BadHeaders;
            }
            // An io::Error's `source` skips the error it wraps (tokio-rustls wraps the rustls
            // error in one, hyper-util that in another), so the walk steps into it.
            cause = match c
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
            {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => c.source(),
            };
        }
        FhirError::Unreachable(if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else {
            "transport"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::FhirError;

    #[test]
    fn statuses_are_counted_by_class_with_redirects_and_rate_limits_apart() {
        let kind = |s| FhirError::Status(s).outcome();
        assert_eq!(kind(302), "redirect");
        assert_eq!(kind(307), "redirect");
        assert_eq!(kind(429), "rate_limited");
        assert_eq!(kind(401), "status_4xx");
        assert_eq!(kind(404), "status_4xx");
        assert_eq!(kind(500), "status_5xx");
        assert_eq!(kind(503), "status_5xx");
        assert!(FhirError::Status(302)
            .to_string()
            .contains("never followed"));
    }
}
