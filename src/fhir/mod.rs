//! Outbound FHIR access: GET a rendered prefetch query from the EHR's `fhirServer`.
//!
//! The EHR's access token is sent only to a `fhirServer` that matches the configured allowlist,
//! only to URLs under that server's base (a `next` link elsewhere is refused), and redirects
//! are never followed. Responses are read up to a size limit. Nothing here logs a URL (it holds
//! the patient id), a token or a body. Must not import `actix_web` or sqlx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::cds::limits::json_depth_exceeds;
use crate::metrics::Metrics;

mod error;
pub use error::FhirError;

/// Nesting refused when no limit is set: as deep as a hook body may be by default.
const DEFAULT_MAX_DEPTH: usize = 64;

/// A FHIR client for one service (shared by all calls).
#[derive(Clone)]
pub struct FhirClient {
    http: reqwest::Client,
    allowed: Vec<Url>,
    max_bytes: usize,
    max_depth: usize,
    metrics: Option<Arc<Metrics>>,
}

/// Times one request; a request dropped before it ends (the call's deadline passed, or another
/// key of the call failed first) counts as `cancelled`.
struct FetchTimer<'a> {
    metrics: &'a Metrics,
    started: Instant,
    outcome: &'static str,
}

impl Drop for FetchTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .fhir_fetch(self.outcome, self.started.elapsed());
    }
}

/// Builds the one shared HTTP client: rustls, no redirects, timeouts, user agent.
pub fn http_client(request_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    http_client_builder(request_timeout).build()
}

/// The configuration of [`http_client`], for a test that must add a root certificate to it
/// (to show that a trusted certificate naming another host is still refused).
pub fn http_client_builder(request_timeout: Duration) -> reqwest::ClientBuilder {
    // No redirects: the access token goes to fhirServer's own URLs only, and a redirect to
    // the same host is not followed either (one rule, nothing to get wrong). The total timeout
    // covers the body, so a body dripped slowly is cut off.
    reqwest::Client::builder()
        .user_agent(concat!("cart-sentinel/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(request_timeout.min(Duration::from_millis(200)))
        .timeout(request_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
}

/// `application/fhir+json`, `application/json`, and the `application/json+fhir` of older FHIR
/// servers, with any parameters.
fn is_json_media_type(value: &[u8]) -> bool {
    let essence = value.split(|b| *b == b';').next().unwrap_or_default();
    let essence = String::from_utf8_lossy(essence).trim().to_ascii_lowercase();
    essence == "application/json"
        || essence == "application/json+fhir"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// True when `candidate` is `base` or below it (same scheme, host, port; path prefix on a
/// segment boundary).
pub fn is_under(base: &Url, candidate: &Url) -> bool {
    if base.scheme() != candidate.scheme()
        || base.host_str() != candidate.host_str()
        || base.port_or_known_default() != candidate.port_or_known_default()
    {
        return false;
    }
    let bp = base.path().trim_end_matches('/');
    let cp = candidate.path();
    cp == bp || cp.starts_with(&format!("{bp}/")) || bp.is_empty()
}

/// An allowlist entry matches URLs under it; a loopback entry written without a port
/// (`http://127.0.0.1`) matches any port on that loopback host (the development default).
fn allows(entry: &Url, candidate: &Url) -> bool {
    let loopback = matches!(entry.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if loopback && entry.port().is_none() {
        let mut c = candidate.clone();
        return c.set_port(None).is_ok() && is_under(entry, &c);
    }
    is_under(entry, candidate)
}

impl FhirClient {
    /// A client that may call the `allowed` base URLs (invalid entries are an error).
    pub fn new(
        http: reqwest::Client,
        allowed: &[String],
        max_bytes: usize,
    ) -> Result<FhirClient, String> {
        let allowed = allowed
            .iter()
            .map(|a| Url::parse(a).map_err(|e| format!("fhir.allowed_servers entry `{a}`: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(FhirClient {
            http,
            allowed,
            max_bytes,
            max_depth: DEFAULT_MAX_DEPTH,
            metrics: None,
        })
    }

    /// Refuses responses nested deeper than `levels` (the hook body's own limit,
    /// `limits.max_json_depth`, is the natural choice).
    pub fn with_max_depth(mut self, levels: usize) -> FhirClient {
        self.max_depth = levels;
        self
    }

    /// Records the latency and outcome of every request in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> FhirClient {
        self.metrics = Some(metrics);
        self
    }

    /// The parsed base URL of `fhir_server` when it is allowed.
    pub fn check_server(&self, fhir_server: &str) -> Result<Url, FhirError> {
        let url = Url::parse(fhir_server).map_err(|_| FhirError::NotAllowed)?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(FhirError::NotAllowed);
        }
        if self.allowed.iter().any(|a| allows(a, &url)) {
            Ok(url)
        } else {
            Err(FhirError::NotAllowed)
        }
    }

    /// The absolute URL of a rendered query (relative to the server base).
    pub fn query_url(base: &Url, relative: &str) -> Result<Url, FhirError> {
        let joined = format!(
            "{}/{}",
            base.as_str().trim_end_matches('/'),
            relative.trim_start_matches('/')
        );
        let url = Url::parse(&joined).map_err(|_| FhirError::ForeignLink)?;
        if is_under(base, &url) {
            Ok(url)
        } else {
            Err(FhirError::ForeignLink)
        }
    }

    /// GETs one URL under `base` as FHIR JSON.
    pub async fn get(
        &self,
        base: &Url,
        url: &Url,
        token: Option<&SecretString>,
    ) -> Result<sonic_rs::Value, FhirError> {
        let mut timer = self.metrics.as_deref().map(|metrics| FetchTimer {
            metrics,
            started: Instant::now(),
            outcome: "cancelled",
        });
        let result = self.fetch(base, url, token).await;
        if let Some(t) = timer.as_mut() {
            t.outcome = match &result {
                Ok(_) => {
                    t.metrics.fhir_read("fetch");
                    "ok"
                }
                Err(e) => e.outcome(),
            };
        }
        result
    }

    /// Counts a page not requested because of `e` (a `next` link that loops) as a fetch
    /// that failed at once, and returns `e`.
    pub fn refuse(&self, e: FhirError) -> FhirError {
        if let Some(m) = &self.metrics {
            m.fhir_fetch(e.outcome(), Duration::ZERO);
        }
        e
    }

    async fn fetch(
        &self,
        base: &Url,
        url: &Url,
        token: Option<&SecretString>,
    ) -> Result<sonic_rs::Value, FhirError> {
        if !is_under(base, url) {
            return Err(FhirError::ForeignLink);
        }
        let mut req = self
            .http
            .get(url.clone())
            .header("Accept", "application/fhir+json");
        if let Some(t) = token {
            req = req.bearer_auth(t.expose_secret());
        }
        let mut resp = req.send().await.map_err(|e| FhirError::from_http(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FhirError::Status(status.as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n as usize > self.max_bytes)
        {
            return Err(FhirError::TooLarge(self.max_bytes));
        }
        // An HTML error page answered with 200 (a proxy's or a login page) is refused before
        // its body is read; a response without a Content-Type is parsed and must be JSON.
        if resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| !is_json_media_type(v.as_bytes()))
        {
            return Err(FhirError::NotJson);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| FhirError::from_http(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FhirError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        // The same byte scan as a hook body's, before the recursive parser sees the page.
        if json_depth_exceeds(&body, self.max_depth) {
            return Err(FhirError::TooDeep(self.max_depth));
        }
        // Parsed as a tree, as a prefetch value is: the rules' FHIRPath reads it as received.
        sonic_rs::from_slice(&body).map_err(|_| FhirError::NotJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn base_matching_respects_host_port_and_segments() {
        let base = u("https://ehr.example/fhir");
        assert!(is_under(
            &base,
            &u("https://ehr.example/fhir/Observation?x=1")
        ));
        assert!(!is_under(
            &base,
            &u("https://ehr.example/fhirevil/Observation")
        ));
        assert!(!is_under(
            &base,
            &u("https://ehr.example.evil/fhir/Observation")
        ));
        assert!(!is_under(&base, &u("http://ehr.example/fhir/Observation")));
        assert!(!is_under(&base, &u("https://ehr.example:8443/fhir")));
        assert!(!is_under(
            &u("http://127.0.0.1"),
            &u("http://127.0.0.1:9999/fhir")
        ));
        assert!(allows(
            &u("http://127.0.0.1"),
            &u("http://127.0.0.1:9999/fhir")
        ));
        assert!(!allows(
            &u("http://127.0.0.1"),
            &u("https://127.0.0.1:9999/fhir")
        ));
        assert!(!allows(
            &u("https://ehr.example"),
            &u("https://ehr.example:8443/fhir")
        ));
    }

    #[test]
    fn loopback_allowlist_accepts_any_port_only_when_configured_without_port() {
        let http = reqwest::Client::new();
        let c = FhirClient::new(http, &["http://127.0.0.1:9999".into()], 10).unwrap();
        assert!(c.check_server("http://127.0.0.1:9999/fhir").is_ok());
        assert!(c.check_server("http://127.0.0.1:9998/fhir").is_err());
        assert!(c.check_server("https://attacker.example/fhir").is_err());
        assert!(c.check_server("file:///etc/passwd").is_err());
    }

    #[test]
    fn only_json_media_types_are_read() {
        for json in [
            "application/fhir+json; charset=utf-8",
            "application/json",
            "Application/JSON+FHIR",
        ] {
            assert!(is_json_media_type(json.as_bytes()), "{json}");
        }
        for other in [
            "text/html; charset=utf-8",
            "text/plain",
            "application/fhir+xml",
        ] {
            assert!(!is_json_media_type(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn a_query_cannot_escape_the_base() {
        let base = u("https://ehr.example/fhir/");
        assert!(FhirClient::query_url(&base, "Observation?patient=1").is_ok());
        assert!(FhirClient::query_url(&base, "../admin").is_err());
    }
}
