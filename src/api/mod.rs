//! The HTTP layer (actix-web only): extract, make one call into the hook pipeline, the engine
//! or the store, map the result. Routes are declared only in [`configure`]. Must not import
//! sqlx or reqwest.

pub mod admin;
mod call;
pub mod cds_auth;
mod discovery;
pub mod error;
mod feedback;
mod health;
pub mod log_span;
pub mod metrics;
pub mod slots;
pub mod snooze;
pub mod ui;
mod worklist;

use std::sync::Arc;

use actix_web::web;
use chrono_tz::Tz;

use crate::cds::ServiceDescriptor;
use crate::engine::CompiledPack;
use crate::fhir::FhirClient;
use crate::hook::FetchLimits;

pub use error::ApiError;

/// Shared state of the hook endpoints.
pub struct AppState {
    /// Discovery entries, from `cds-hooks/services/`.
    pub services: Vec<ServiceDescriptor>,
    /// The active rule pack; hook calls read it from memory, never from the database.
    pub active: Arc<crate::admin::ActivePack>,
    /// Outbound FHIR client.
    pub fhir: FhirClient,
    /// Fetch-path limits.
    pub limits: FetchLimits,
    /// Offset for calendar dates.
    pub tz: Tz,
    /// Issued cards go to a background writer; hook calls never wait on the database.
    pub issued: crate::issued::IssuedQueue,
    /// The clock ("now" of a hook call); injectable for tests.
    pub clock: Clock,
    /// The keyed patient hash of snoozes and issued cards.
    pub patient_keys: crate::privacy::PatientKeys,
    /// Whether hook calls read snoozes (paused for a moment after a failed read).
    pub snooze_reads: snooze::SnoozeReads,
    /// `server.public_url`, when configured: each card links to its patient's timeline under
    /// it. Without it there is no link (the default `http://<host>:<port>` is rarely what an
    /// EHR's users can reach).
    pub timeline_base: Option<url::Url>,
}

/// A source of the current time.
pub type Clock = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

impl AppState {
    /// The active pack and its version.
    pub fn active_pack(&self) -> (Arc<CompiledPack>, i64) {
        self.active.get()
    }
}

/// Declares every route. The hook endpoints sit behind CDS client authentication, and come
/// first: routes are tried in order, and each admin route with a `{parameter}` is a regular
/// expression that every hook call would otherwise be matched against (twice: routing, and
/// the route name of the request's log span).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/cds-services")
            .wrap(actix_web::middleware::from_fn(cds_auth::verify_cds_client))
            .configure(discovery::configure)
            .configure(call::configure)
            .configure(feedback::configure),
    );
    health::configure(cfg);
    metrics::configure(cfg);
    let mut routes = admin::routes();
    worklist::register(&mut routes);
    admin::configure(cfg, routes);
    ui::configure(cfg);
}
