//! One export's HTTP state: the client, the allowlist, the token source, the deadline. The
//! client, the FHIR base and the allowlist ([`Endpoint`]) are what the token source needs too,
//! outside an export as well ([`super::FhirAccess`]).

use std::ops::Deref;
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use secrecy::ExposeSecret;
use url::Url;

use super::smart::TokenSource;
use super::{BulkError, BulkSettings, Progress, ProgressFn};
use crate::fhir::FhirClient;

/// The FHIR server as the configuration names it: an HTTP client without redirects, the base
/// URL (checked against the allowlist) and the allowlist every URL is checked against.
pub(super) struct Endpoint {
    pub http: reqwest::Client,
    pub base: Url,
    allowlist: FhirClient,
    pub request_timeout: Duration,
}

impl Endpoint {
    pub fn new(settings: &BulkSettings) -> Result<Endpoint, BulkError> {
        // Downloads of several gigabytes must not hit a whole-request timeout: the shared FHIR
        // client's is for hook calls. Requests other than downloads set their own timeout.
        let http = reqwest::Client::builder()
            .user_agent(concat!("cart-sentinel/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(10)))
            .read_timeout(settings.read_timeout)
            .build()
            .map_err(|_| BulkError::Settings("the HTTP client cannot be built".into()))?;
        // Only the allowlist of the FHIR client is used: its matching is the hook path's.
        let allowlist = FhirClient::new(http.clone(), &settings.allowed_servers, 0)
            .map_err(BulkError::Settings)?;
        let base = allowlist
            .check_server(&settings.fhir_base)
            .map_err(|_| BulkError::NotAllowed("FHIR base URL"))?;
        Ok(Endpoint {
            http,
            base,
            allowlist,
            request_timeout: settings.request_timeout,
        })
    }

    /// True when `url` is under an allowed server (its query is not part of the match).
    pub fn allowed(&self, url: &Url) -> bool {
        let mut bare = url.clone();
        bare.set_query(None);
        bare.set_fragment(None);
        self.allowlist.check_server(bare.as_str()).is_ok()
    }
}

pub(super) struct Session<'a> {
    pub settings: &'a BulkSettings,
    endpoint: Endpoint,
    tokens: Option<TokenSource>,
    pub deadline: Instant,
    progress: Option<ProgressFn>,
}

impl Deref for Session<'_> {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// Classifies a transport error for messages (the error's own text may quote the URL).
pub(super) fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or failed"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading"
    } else {
        "transport error"
    }
}

impl<'a> Session<'a> {
    pub fn new(
        settings: &'a BulkSettings,
        progress: Option<ProgressFn>,
    ) -> Result<Session<'a>, BulkError> {
        let endpoint = Endpoint::new(settings)?;
        let tokens = settings.auth.as_ref().map(TokenSource::new).transpose()?;
        Ok(Session {
            settings,
            endpoint,
            tokens,
            deadline: Instant::now() + settings.deadline,
            progress,
        })
    }

    pub fn report(&self, progress: &Progress) {
        if let Some(f) = &self.progress {
            f(progress);
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends one request to an allowed URL, with the access token when `with_token` and
    /// authorisation is configured. A 401 with a token fetches a new token and tries once more
    /// (the server may have revoked it early). `timeout` bounds the whole request when given.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&'static str, &str)],
        with_token: bool,
        timeout: Option<Duration>,
        what: &'static str,
    ) -> Result<Response, BulkError> {
        if !self.allowed(url) {
            return Err(BulkError::NotAllowed(what));
        }
        let tokens = self.tokens.as_ref().filter(|_| with_token);
        let mut retried = false;
        loop {
            let mut req = self.http.request(method.clone(), url.clone());
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            if let Some(t) = timeout {
                req = req.timeout(t);
            }
            if let Some(tokens) = tokens {
                let token = tokens.token(&self.endpoint).await?;
                req = req.bearer_auth(token.expose_secret());
            }
            let resp = req.send().await.map_err(|e| BulkError::Unreachable {
                what,
                kind: transport_kind(&e),
            })?;
            if resp.status() == StatusCode::UNAUTHORIZED && !retried {
                if let Some(tokens) = tokens {
                    tokens.invalidate().await;
                    retried = true;
                    continue;
                }
            }
            return Ok(resp);
        }
    }
}

/// Reads at most `limit` bytes of a (small, error or manifest) body; the rest is not read.
pub(super) async fn read_small(
    mut resp: Response,
    limit: usize,
    what: &'static str,
) -> Result<Vec<u8>, BulkError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| BulkError::Unreachable {
        what,
        kind: transport_kind(&e),
    })? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() >= room {
            break;
        }
    }
    Ok(body)
}
