//! The `[bulk]` FHIR server outside an export: its base URL and, with SMART Backend Services
//! configured, the service's own access token, kept and refreshed as an export keeps it. The
//! patient timeline reads one patient's resources with them (through the hook fetch path, which
//! applies `fhir.allowed_servers`, its deadline and its page cap).

use secrecy::SecretString;
use url::Url;

use super::session::Endpoint;
use super::smart::TokenSource;
use super::{BulkError, BulkSettings};

/// The configured FHIR server and the service's credentials for it. One per process: the
/// access token is kept until shortly before it expires.
pub struct FhirAccess {
    endpoint: Endpoint,
    tokens: Option<TokenSource>,
}

impl FhirAccess {
    /// From the export settings; the same checks as an export's start (the base must be under an
    /// allowed server; the key must sign).
    pub fn new(settings: &BulkSettings) -> Result<FhirAccess, BulkError> {
        Ok(FhirAccess {
            endpoint: Endpoint::new(settings)?,
            tokens: settings.auth.as_ref().map(TokenSource::new).transpose()?,
        })
    }

    /// The FHIR server's base URL.
    pub fn base(&self) -> &Url {
        &self.endpoint.base
    }

    /// An access token (the kept one while it is valid); `None` for a server configured without
    /// authorisation.
    pub async fn token(&self) -> Result<Option<SecretString>, BulkError> {
        match &self.tokens {
            Some(tokens) => tokens.token(&self.endpoint).await.map(Some),
            None => Ok(None),
        }
    }

    /// Forgets the kept token (a read with it failed; the server may have revoked it).
    pub async fn forget_token(&self) {
        if let Some(tokens) = &self.tokens {
            tokens.invalidate().await;
        }
    }
}
