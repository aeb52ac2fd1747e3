//! Building the application: the only place that sees every layer and the only place with
//! `HttpServer::new`. `main` and the integration tests call the same [`Application::build`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::admin::keys::AdminAuth;
use crate::admin::{ActivePack, Admin};
use crate::api::cds_auth::CdsAuth;
use crate::api::slots::{BodySlots, HookSlots};
use crate::api::{self, AppState};
use crate::auth::jwks::{self, JwksCache};
use crate::auth::Verifier;
use crate::cds::limits::RequestLimits;
use crate::cds::load_services;
use crate::config::Settings;
use crate::engine::{self, load, CompiledPack};
use crate::fhir::{http_client, FhirClient};
use crate::hook::FetchLimits;
use crate::issued;
use crate::metrics::Metrics;
use crate::storage::{self, NewAudit, NewPackVersion, Store};
use crate::worklist::BulkSource;

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    base_url: String,
    server: Server,
    issued_writer: issued::WriterHandle,
    store_timeout: Duration,
}

fn problems_text(problems: &[engine::Problem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

/// The active pack from the store; an empty store is seeded from the pack directory.
pub async fn active_pack(
    store: &dyn Store,
    dir: &std::path::Path,
) -> anyhow::Result<(CompiledPack, i64)> {
    if let Some(stored) = store
        .active_pack()
        .await
        .context("reading the active rule pack")?
    {
        let pack = load::pack_from_json(&stored.document)
            .map_err(|p| anyhow::anyhow!("stored pack v{} is unreadable: {p}", stored.version))?;
        let compiled = engine::compile(pack).map_err(|p| {
            anyhow::anyhow!(
                "stored pack v{} is invalid:{}",
                stored.version,
                problems_text(&p)
            )
        })?;
        return Ok((compiled, stored.version));
    }
    let pack = load::load_dir(dir).map_err(|p| {
        anyhow::anyhow!(
            "rule pack in {} is invalid:{}",
            dir.display(),
            problems_text(&p)
        )
    })?;
    let document = load::pack_to_json(&pack);
    let compiled = engine::compile(pack).map_err(|p| {
        anyhow::anyhow!(
            "rule pack in {} is invalid:{}",
            dir.display(),
            problems_text(&p)
        )
    })?;
    let now = chrono::Utc::now();
    let seeded = store
        .commit_pack(NewPackVersion {
            expected_active: None,
            document,
            author: "system".into(),
            reason: Some(format!("seeded from {}", dir.display())),
            created_at: now,
            audit: NewAudit {
                actor: "system".into(),
                action: "pack.seed".into(),
                rule_id: None,
                before: None,
                after: None,
                reason: Some("first start".into()),
            },
        })
        .await;
    match seeded {
        Ok(stored) => Ok((compiled, stored.version)),
        // Another replica seeded the same empty database first: use what it stored.
        Err(storage::StoreError::Conflict { .. }) => Box::pin(active_pack(store, dir)).await,
        Err(e) => Err(anyhow::Error::new(e).context("seeding the rule pack")),
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            "Authorization",
            "Content-Type",
            "Accept",
            "If-Match",
            "X-Change-Reason",
        ])
        .expose_headers(["ETag", "Location"])
        .max_age(3600);
    for o in origins {
        cors = if o == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(o)
        };
    }
    cors
}

impl Application {
    /// Connects the store, loads services and the pack, binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(chrono::Utc::now)).await
    }

    /// As [`Application::build`], with the clock that gives each hook call its "now".
    pub async fn build_with_clock(
        settings: Settings,
        clock: api::Clock,
    ) -> anyhow::Result<Application> {
        let tz = settings.time_zone().map_err(anyhow::Error::msg)?;
        let services =
            load_services(&settings.rules.dir.join("services")).map_err(anyhow::Error::msg)?;
        if settings.storage.database_url.is_none() {
            std::fs::create_dir_all(&settings.storage.data_dir).with_context(|| {
                format!(
                    "creating data directory {}",
                    settings.storage.data_dir.display()
                )
            })?;
        }
        let metrics = web::Data::new(Metrics::new());
        let counted = metrics.clone();
        let store = storage::connect_observed(
            &settings.database_url(),
            settings.storage.max_connections,
            Duration::from_millis(settings.storage.timeout_ms.max(1)),
            Some(Arc::new(move |operation, kind| {
                counted.store_error(operation, kind);
            })),
        )
        .await
        .context("connecting the store")?;
        let (pack, version) = active_pack(store.as_ref(), &settings.rules.dir).await?;
        let gauge = metrics.clone();
        let active =
            Arc::new(ActivePack::new(pack, version).observed(move |v| gauge.set_pack_version(v)));
        let admin = web::Data::new(Admin {
            store: store.clone(),
            active: active.clone(),
        });
        crate::admin::follow_changes(admin.clone().into_inner())
            .await
            .context("subscribing to rule pack changes")?;
        let http = http_client(Duration::from_millis(settings.fhir.request_timeout_ms))
            .context("building the HTTP client")?;
        // One JWKS cache for CDS client and admin tokens; nothing is fetched before a token
        // needs a key, so an identity provider outage does not stop the start.
        let jwks = Arc::new(
            JwksCache::new(
                http.clone(),
                jwks::configured_urls(&settings),
                Duration::from_secs(settings.auth.jwks_refresh_seconds),
            )
            .with_metrics(metrics.clone().into_inner()),
        );
        let verifier = if settings.auth_required() {
            Some(
                Verifier::new(&settings.auth, jwks.clone(), store.clone())
                    .context("configuring CDS client authentication")?,
            )
        } else {
            None
        };
        let admin_auth = web::Data::new(
            AdminAuth::load(&settings, jwks).context("configuring admin authentication")?,
        );
        let fhir = FhirClient::new(
            http,
            &settings.allowed_fhir_servers(),
            settings.fhir.max_response_bytes,
        )
        .map_err(anyhow::Error::msg)?
        .with_max_depth(settings.limits.max_json_depth)
        .with_metrics(metrics.clone().into_inner());
        let (issued, issued_writer) = issued::spawn(
            store.clone(),
            metrics.clone().into_inner(),
            settings.storage.issued_queue_cards,
        );
        let timeline_base = settings
            .server
            .public_url
            .as_deref()
            .map(url::Url::parse)
            .transpose()
            .context("server.public_url is not a URL")?;
        if timeline_base
            .as_ref()
            .is_some_and(|u| !matches!(u.scheme(), "http" | "https"))
        {
            anyhow::bail!("server.public_url must be an http or https URL");
        }
        let state = web::Data::new(AppState {
            services,
            active,
            fhir,
            limits: FetchLimits {
                deadline: Duration::from_millis(settings.fhir.deadline_ms),
                max_pages: settings.fhir.max_pages.max(1),
            },
            tz,
            issued,
            clock,
            patient_keys: crate::privacy::PatientKeys::load(&settings)?,
            snooze_reads: crate::api::snooze::SnoozeReads::default(),
            timeline_base,
        });
        let bulk = settings
            .bulk
            .as_ref()
            .map(|c| BulkSource::from_config(c, settings.allowed_fhir_servers()))
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("configuring [bulk]")?;
        let record_access = web::Data::new(crate::timeline::fetch::RecordAccess(
            settings
                .bulk
                .as_ref()
                .map(|c| {
                    let s = c.settings(settings.allowed_fhir_servers())?;
                    crate::bulk::FhirAccess::new(&s).map_err(|e| e.to_string())
                })
                .transpose()
                .map_err(anyhow::Error::msg)
                .context("configuring [bulk] for the patient timeline")?,
        ));
        let runs = web::Data::new(
            crate::worklist::Runs::new(
                store.clone(),
                settings.population.ndjson_dir.clone(),
                settings.storage.data_dir.clone(),
                tz,
                settings.population.retention_days,
            )
            .with_bulk(bulk),
        );
        let store_data: web::Data<dyn Store> = web::Data::from(store);
        let listener = TcpListener::bind((settings.server.host, settings.server.port))
            .context("binding the listener")?;
        let port = listener.local_addr()?.port();
        let base_url = settings
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", settings.server.host));
        let cds_auth = web::Data::new(CdsAuth::new(verifier, base_url.clone()));
        let ui_auth = web::Data::new(api::ui::UiAuthConfig::new(&settings));
        let hook_slots = web::Data::new(HookSlots::new(settings.limits.max_concurrent_hooks));
        let body_slots = web::Data::new(BodySlots::new(
            settings.limits.max_bodies_in_memory,
            settings.server.max_body_bytes,
            Duration::from_millis(settings.limits.body_read_timeout_ms),
        ));
        let request_limits = web::Data::new(RequestLimits {
            max_json_depth: settings.limits.max_json_depth,
            max_prefetch_resources: settings.limits.max_prefetch_resources,
            max_draft_orders: settings.limits.max_draft_orders,
        });
        let origins = settings.cors_origins();
        let max_body = settings.server.max_body_bytes;
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(
                    actix_web::middleware::ErrorHandlers::new()
                        .default_handler(api::error::outcome_for_bare_errors),
                )
                .wrap(actix_web::middleware::from_fn(
                    api::metrics::record_hook_calls,
                ))
                .wrap(cors(&origins))
                .wrap(TracingLogger::<api::log_span::RootSpan>::new())
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(store_data.clone())
                .app_data(admin.clone())
                .app_data(admin_auth.clone())
                .app_data(ui_auth.clone())
                .app_data(runs.clone())
                .app_data(record_access.clone())
                .app_data(cds_auth.clone())
                .app_data(hook_slots.clone())
                .app_data(body_slots.clone())
                .app_data(request_limits.clone())
                .configure(api::configure)
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.drain_seconds);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(port, pack.version = version, "cart-sentinel ready");
        Ok(Application {
            port,
            base_url,
            server: server.run(),
            issued_writer,
            store_timeout: Duration::from_millis(settings.storage.timeout_ms),
        })
    }

    /// A handle to stop the server (tests stop it to prove durability across restarts).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The externally visible base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until a signal: SIGTERM drains (in-flight requests finish within
    /// `server.drain_seconds`); SIGINT and SIGQUIT stop at once (actix-server's handling).
    /// Then the issued-cards queue is written, waiting at most the store's timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // One more timeout's worth: the writer may be waiting on a write when asked to stop.
        if !self.issued_writer.finish(self.store_timeout * 2).await {
            tracing::warn!("stopped before every issued card was recorded");
        }
        served
    }
}
