//! The settings sections that belong to one feature each: the pages (`[ui]`), population runs
//! (`[population]`) and the keyed patient hash (`[privacy]`, used by `crate::privacy`, which
//! reads them from here so that settings depend on no feature module).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// `[ui]`: the pages under `/ui/`, signed in through a single sign-on proxy that passes the
/// organisation identity provider's access token (verified as an admin token).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UiSettings {
    /// The request header in which the proxy passes the access token, besides
    /// `Authorization: Bearer` (oauth2-proxy's `--pass-access-token` uses this name).
    pub token_header: String,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            token_header: "X-Forwarded-Access-Token".into(),
        }
    }
}

/// `[population]`: population runs and their worklist.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PopulationSettings {
    /// Days a closed finding and a run are kept, counted back from the latest run's "now"
    /// (purged at the end of each run; a run an open finding names is kept).
    pub retention_days: Option<u32>,
    /// The directory of Bulk Data exports that runs started through the admin API read (the
    /// whole directory, or a sub-directory a request names); none: such runs are refused.
    pub ndjson_dir: Option<PathBuf>,
}

impl Default for PopulationSettings {
    fn default() -> Self {
        PopulationSettings {
            retention_days: Some(365),
            ndjson_dir: None,
        }
    }
}

/// `[privacy]`.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct PrivacySettings {
    /// The secret of the keyed patient hash (at least 32 bytes). Required in production; the
    /// same on every replica; changing it forgets every snooze.
    #[serde(default, serialize_with = "redacted")]
    pub patient_key_secret: Option<SecretString>,
}

fn redacted<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(|_| "[redacted]").serialize(s)
}

impl std::fmt::Debug for PrivacySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.patient_key_secret.as_ref().map(|_| "[redacted]");
        f.debug_struct("PrivacySettings")
            .field("patient_key_secret", &shown)
            .finish()
    }
}
