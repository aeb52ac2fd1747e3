//! Settings: defaults set in code, then an optional TOML file named by `SENTINEL_CONFIG`, then
//! environment variables `SENTINEL__<SECTION>__<KEY>` (environment wins). No global statics:
//! `Settings` is loaded once in `main` and passed by value into `startup`.
//!
//! Two modes. `development` (the embedded default) allows any CORS origin, FHIR servers on
//! loopback only, and CDS client authentication off so a newcomer can curl the service.
//! `production` allows no CORS origin and no FHIR server unless configured, and requires
//! CDS client authentication. Admin writes always require a token, in every mode.

use std::net::IpAddr;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

mod sections;

pub use sections::{PopulationSettings, PrivacySettings, UiSettings};

/// All settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Persistence.
    pub storage: StorageSettings,
    /// Outbound FHIR access.
    pub fhir: FhirSettings,
    /// Rule pack.
    pub rules: RuleSettings,
    /// Logging.
    pub log: LogSettings,
    /// CDS client authentication (the standard's JWT).
    pub auth: AuthSettings,
    /// Admin API authentication.
    pub admin: AdminSettings,
    /// Load limits.
    pub limits: LimitSettings,
    /// Population runs.
    #[serde(default)]
    pub population: PopulationSettings,
    /// Where `population run --bulk` exports from; none: no Bulk export.
    #[serde(default)]
    pub bulk: Option<crate::bulk::BulkConfig>,
    /// The secret of the keyed patient hash (`crate::privacy`).
    #[serde(default)]
    pub privacy: PrivacySettings,
    /// The `/ui/` pages.
    #[serde(default)]
    pub ui: UiSettings,
}

/// `[auth]`: which EHRs (CDS clients) may call the hook endpoints.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthSettings {
    /// Require a valid client JWT on discovery, hook and feedback calls. Default: off in
    /// development, on in production.
    pub required: Option<bool>,
    /// Accepted signature algorithms (never `none`, never HMAC).
    pub algorithms: Vec<String>,
    /// Clock leeway on `exp` and `iat`, in seconds.
    pub leeway_seconds: u64,
    /// Least seconds between two JWKS refreshes of one client (unknown `kid` floods).
    pub jwks_refresh_seconds: u64,
    /// Trusted clients (configure in the TOML file: `[[auth.clients]]`).
    pub clients: Vec<ClientSettings>,
}

/// One trusted CDS client.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClientSettings {
    /// Its `iss`.
    pub iss: String,
    /// Where its JWK Set is published (fetched, cached).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// `jku` URLs it may name in a token header; any other `jku` is never fetched.
    #[serde(default)]
    pub jku_allowlist: Vec<String>,
    /// An inline JWK Set (JSON text), for keys exchanged out of band.
    #[serde(default)]
    pub jwks: Option<String>,
    /// FHIR base URLs this client may send as `fhirServer`.
    #[serde(default)]
    pub fhir_servers: Vec<String>,
    /// Required `tenant` claim, if any.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The `aud` this client's tokens carry when the EHR sets it by hand (some configure one
    /// value per site) instead of the exact URL called; it replaces that URL for this client.
    #[serde(default)]
    pub audience: Option<String>,
    /// Hosts this client shows links to (some EHRs strip links to hosts they were not told
    /// about). When set, card links and source URLs to other hosts are left out of its answers
    /// rather than sent as dead links.
    #[serde(default)]
    pub link_hosts: Option<Vec<String>>,
}

/// `[admin]`: who may read and change the rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdminSettings {
    /// PEM file with the identity provider's public key (RSA or EC).
    pub public_key_pem: Option<PathBuf>,
    /// JWKS URL of the identity provider.
    pub jwks_url: Option<String>,
    /// Required `iss` of admin tokens.
    pub issuer: Option<String>,
    /// Required `aud` of admin tokens.
    pub audience: String,
    /// Accepted algorithms (asymmetric only).
    pub algorithms: Vec<String>,
}

/// `[limits]`: bounded work, so overload becomes fast 503s rather than memory growth.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LimitSettings {
    /// Hook evaluations in flight at once; more are answered 503.
    pub max_concurrent_hooks: usize,
    /// Hook-call bodies read and parsed at once; more calls wait their turn (bounds memory).
    pub max_bodies_in_memory: usize,
    /// Longest time a hook-call body may take to arrive once its reading starts, in
    /// milliseconds (408 beyond): a slow sender cannot hold one of the places above for long.
    pub body_read_timeout_ms: u64,
    /// Deepest JSON nesting accepted in a request body.
    pub max_json_depth: usize,
    /// Most prefetch entries (resources) in one request.
    pub max_prefetch_resources: usize,
    /// Most entries in `draftOrders`.
    pub max_draft_orders: usize,
}

/// Operating mode; it selects secure or convenient defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The embedded default for a developer's machine.
    Development,
    /// A deployment that handles real patient data.
    Production,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    /// `development` or `production`.
    pub mode: Mode,
    /// Interface to bind.
    pub host: IpAddr,
    /// Port to bind (0: any free port).
    pub port: u16,
    /// Externally visible base URL (used for JWT `aud`); default `http://<host>:<port>`.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Allowed CORS origins; `["*"]` for any. Default: any in development, none in production.
    pub cors_origins: Option<Vec<String>>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// How long SIGTERM waits for in-flight requests before stopping, in seconds.
    pub drain_seconds: u64,
}

/// `[storage]`.
#[derive(Clone, Deserialize, Serialize)]
pub struct StorageSettings {
    /// Directory of the embedded SQLite database (created on first start).
    pub data_dir: PathBuf,
    /// `sqlite:<path>` or `postgres://…`; default: SQLite in `data_dir`. May hold a password.
    #[serde(serialize_with = "ser_secret")]
    pub database_url: Option<SecretString>,
    /// Connection pool size.
    pub max_connections: u32,
    /// How long one store operation may wait for the database (a pooled connection, SQLite's
    /// write lock, a PostgreSQL statement), in milliseconds; then writes answer 503.
    pub timeout_ms: u64,
    /// Most issued cards kept in memory while the store cannot take them; past it the oldest
    /// are dropped (counted in a metric).
    pub issued_queue_cards: usize,
}

/// `[fhir]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FhirSettings {
    /// Base URLs the service may call with an EHR's access token. Default: loopback only in
    /// development, none in production.
    pub allowed_servers: Option<Vec<String>>,
    /// Timeout of one FHIR request, in milliseconds.
    pub request_timeout_ms: u64,
    /// Deadline for all FHIR requests of one hook call, in milliseconds.
    pub deadline_ms: u64,
    /// Most pages followed per prefetch key.
    pub max_pages: usize,
    /// Largest FHIR response accepted, in bytes.
    pub max_response_bytes: usize,
}

/// `[rules]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RuleSettings {
    /// Directory with `services/`, `rules/`, `valuesets/`, `cohort.yaml`.
    pub dir: PathBuf,
    /// IANA time zone in which calendar dates are compared (day N, "in the last X days"),
    /// e.g. `UTC` or `America/Chicago`: daylight saving moves the local midnight.
    pub time_zone: String,
    /// `rules check` warns about a card detail whose text (placeholders left out) is longer:
    /// EHRs show cards in a narrow panel.
    pub max_detail_chars: usize,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    /// `text` (default) or `json`.
    pub format: String,
    /// `tracing` filter, e.g. `info` or `cart_sentinel=debug`.
    pub filter: String,
}

fn ser_secret<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref()
        .map(|x| x.expose_secret().to_owned())
        .serialize(s)
}

impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSettings")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[redacted]"),
            )
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                mode: Mode::Development,
                host: IpAddr::from([127, 0, 0, 1]),
                port: 8080,
                public_url: None,
                max_body_bytes: 8 * 1024 * 1024,
                cors_origins: None,
                workers: 0,
                drain_seconds: 10,
            },
            storage: StorageSettings {
                data_dir: PathBuf::from("data"),
                database_url: None,
                max_connections: 5,
                timeout_ms: 2000,
                issued_queue_cards: 10_000,
            },
            fhir: FhirSettings {
                allowed_servers: None,
                request_timeout_ms: 300,
                deadline_ms: 400,
                max_pages: 5,
                max_response_bytes: 16 * 1024 * 1024,
            },
            rules: RuleSettings {
                dir: PathBuf::from("cds-hooks"),
                time_zone: "UTC".into(),
                max_detail_chars: 500,
            },
            log: LogSettings {
                format: "text".into(),
                filter: "info".into(),
            },
            auth: AuthSettings {
                required: None,
                algorithms: vec!["ES384".into(), "RS384".into()],
                leeway_seconds: 30,
                jwks_refresh_seconds: 60,
                clients: Vec::new(),
            },
            admin: AdminSettings {
                public_key_pem: None,
                jwks_url: None,
                issuer: None,
                audience: "cart-sentinel-admin".into(),
                algorithms: vec![
                    "RS256".into(),
                    "ES256".into(),
                    "ES384".into(),
                    "RS384".into(),
                ],
            },
            limits: LimitSettings {
                max_concurrent_hooks: 256,
                max_bodies_in_memory: 16,
                body_read_timeout_ms: 10_000,
                max_json_depth: 64,
                max_prefetch_resources: 50_000,
                max_draft_orders: 200,
            },
            population: PopulationSettings::default(),
            privacy: PrivacySettings::default(),
            bulk: None,
            ui: UiSettings::default(),
        }
    }
}

impl Settings {
    /// Defaults, then the file named by `SENTINEL_CONFIG` (if any), then the environment.
    #[expect(
        clippy::result_large_err,
        reason = "figment's own error, returned once at start-up"
    )]
    pub fn load() -> Result<Settings, figment::Error> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Ok(path) = std::env::var("SENTINEL_CONFIG") {
            fig = fig.merge(Toml::file_exact(path));
        }
        fig.merge(Env::prefixed("SENTINEL__").split("__")).extract()
    }

    /// The database URL: configured, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.storage.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!(
                "sqlite:{}",
                self.storage.data_dir.join("cart-sentinel.db").display()
            ),
        }
    }

    /// CORS origins in force (`*` = any).
    pub fn cors_origins(&self) -> Vec<String> {
        self.server
            .cors_origins
            .clone()
            .unwrap_or_else(|| match self.server.mode {
                Mode::Development => vec!["*".into()],
                Mode::Production => Vec::new(),
            })
    }

    /// FHIR base URLs allowed to receive an access token.
    pub fn allowed_fhir_servers(&self) -> Vec<String> {
        self.fhir
            .allowed_servers
            .clone()
            .unwrap_or_else(|| match self.server.mode {
                Mode::Development => vec![
                    "http://127.0.0.1".into(),
                    "http://localhost".into(),
                    "http://[::1]".into(),
                ],
                Mode::Production => Vec::new(),
            })
    }

    /// Whether CDS clients must present a valid JWT.
    pub fn auth_required(&self) -> bool {
        self.auth
            .required
            .unwrap_or(self.server.mode == Mode::Production)
    }

    /// The IANA time zone in which calendar dates are compared.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz, String> {
        self.rules.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "rules.time_zone `{}` is not an IANA time zone such as America/Chicago",
                self.rules.time_zone
            )
        })
    }
}

#[cfg(test)]
mod tests;
