//! `[bulk]`: where a population run's Bulk Data export comes from, as an operator configures it
//! (the file or `SENTINEL__BULK__…`), turned into the client's [`BulkSettings`].

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BackendAuth, BulkSettings, ExportLevel, SigningAlgorithm};

/// `[bulk]`. Without `client_id` the export is requested without authorisation (a server
/// open to this host only); with it, `private_key_pem` and `key_id` are required.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BulkConfig {
    /// The FHIR server's base URL; it must also be on `fhir.allowed_servers`.
    pub fhir_base: String,
    /// Export this Group (`Group/{id}/$export`, e.g. the CAR-T cohort's group); default: all
    /// patients (`Patient/$export`).
    pub group_id: Option<String>,
    /// SMART Backend Services client id.
    pub client_id: Option<String>,
    /// PEM private key of the client (PKCS#8; PKCS#1 for RSA too).
    pub private_key_pem: Option<PathBuf>,
    /// The `kid` of the public key registered for the client.
    pub key_id: Option<String>,
    /// `ES384` (default) or `RS384`.
    pub algorithm: Option<String>,
    /// The token endpoint; default: from `[fhir_base]/.well-known/smart-configuration`.
    pub token_url: Option<String>,
    /// The scope asked for; default `system/*.read`.
    pub scope: Option<String>,
    /// Longest the whole export may take, in minutes (default 360).
    pub deadline_minutes: Option<u64>,
}

impl BulkConfig {
    /// The client's settings; `allowed_servers` is `fhir.allowed_servers`. An error names the
    /// setting at fault.
    pub fn settings(&self, allowed_servers: Vec<String>) -> Result<BulkSettings, String> {
        let mut s = BulkSettings::new(&self.fhir_base, allowed_servers);
        if let Some(minutes) = self.deadline_minutes {
            s.deadline = Duration::from_secs(minutes * 60);
        }
        if let Some(client_id) = &self.client_id {
            let missing = |name: &str| format!("bulk.{name} is required with bulk.client_id");
            let algorithm = match self.algorithm.as_deref().unwrap_or("ES384") {
                "ES384" => SigningAlgorithm::Es384,
                "RS384" => SigningAlgorithm::Rs384,
                other => return Err(format!("bulk.algorithm: {other} (ES384 or RS384)")),
            };
            s.auth = Some(BackendAuth {
                client_id: client_id.clone(),
                private_key_pem: self
                    .private_key_pem
                    .clone()
                    .ok_or_else(|| missing("private_key_pem"))?,
                key_id: self.key_id.clone().ok_or_else(|| missing("key_id"))?,
                algorithm,
                token_url: self.token_url.clone(),
                scope: self.scope.clone(),
            });
        }
        Ok(s)
    }

    /// Group or whole-population export.
    pub fn level(&self) -> ExportLevel {
        self.group_id
            .clone()
            .map_or(ExportLevel::Patient, ExportLevel::Group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BulkConfig {
        BulkConfig {
            fhir_base: "https://ehr.example/fhir".into(),
            group_id: None,
            client_id: Some("cs".into()),
            private_key_pem: Some("/etc/key.pem".into()),
            key_id: Some("k1".into()),
            algorithm: None,
            token_url: None,
            scope: None,
            deadline_minutes: Some(5),
        }
    }

    #[test]
    fn a_client_needs_its_key_and_a_known_algorithm() {
        let s = config().settings(vec![]).unwrap();
        assert_eq!(s.deadline, Duration::from_secs(300));
        assert_eq!(s.auth.unwrap().algorithm, SigningAlgorithm::Es384);
        let no_key = BulkConfig {
            key_id: None,
            ..config()
        };
        assert!(no_key.settings(vec![]).unwrap_err().contains("bulk.key_id"));
        let hs256 = BulkConfig {
            algorithm: Some("HS256".into()),
            ..config()
        };
        assert!(hs256
            .settings(vec![])
            .unwrap_err()
            .contains("bulk.algorithm"));
        let open = BulkConfig {
            client_id: None,
            ..config()
        };
        assert!(open.settings(vec![]).unwrap().auth.is_none());
    }
}
