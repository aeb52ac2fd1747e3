//! Operational metrics, served by `GET /metrics` in the `OpenMetrics` text format through the
//! Prometheus project's own client library, `prometheus-client`.
//!
//! One [`Metrics`] is built per application in `startup` and shared as `web::Data<Metrics>`;
//! nothing is global, so two applications in one process (the tests) count separately. Labels
//! never carry patient data: service ids, hook names, rule ids, card indicators, HTTP statuses
//! and fixed outcome words. Must not import `actix_web`, sqlx or reqwest.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `cart_sentinel_hook_call_duration_seconds` | histogram | `service`, `hook` |
//! | `cart_sentinel_hook_calls_total` | counter | `service`, `hook`, `status` |
//! | `cart_sentinel_cards_issued_total` | counter | `rule`, `indicator` |
//! | `cart_sentinel_fhir_fetch_duration_seconds` | histogram | `outcome` |
//! | `cart_sentinel_fhir_fetches_total` | counter | `outcome` |
//! | `cart_sentinel_fhir_reads_total` | counter | `source` |
//! | `cart_sentinel_fhirpath_failures_total` | counter | (none) |
//! | `cart_sentinel_issued_cards_dropped_total` | counter | `reason` |
//! | `cart_sentinel_issued_cards_pending` | gauge | (none) |
//! | `cart_sentinel_jwks_fetches_total` | counter | `outcome` |
//! | `cart_sentinel_pack_version` | gauge | (none) |
//! | `cart_sentinel_prefetch_calls_total` | counter | `service`, `hook`, `client`, `prefetch` |
//! | `cart_sentinel_prefetch_keys_missing_total` | counter | `service`, `client`, `key` |
//! | `cart_sentinel_prefetch_fetch_duration_seconds` | histogram | `service`, `client` |
//! | `cart_sentinel_store_errors_total` | counter | `operation`, `kind` |
//!
//! Counters are registered without their `_total` suffix: the library adds it to the series,
//! as `OpenMetrics` requires, so the series names above are what a query uses.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the latency histograms: from well under the 5 ms target to past the
/// 500 ms the CDS Hooks standard asks for.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    service: String,
    hook: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookStatusLabels {
    service: String,
    hook: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PrefetchLabels {
    service: String,
    hook: String,
    client: String,
    prefetch: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MissingKeyLabels {
    service: String,
    client: String,
    key: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientLabels {
    service: String,
    client: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CardLabels {
    rule: String,
    indicator: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreErrorLabels {
    operation: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

/// The registry of one application and handles to its metrics.
pub struct Metrics {
    registry: Registry,
    hook_latency: Latencies<HookLabels>,
    hook_calls: Family<HookStatusLabels, Counter>,
    cards: Family<CardLabels, Counter>,
    fhir_latency: Latencies<OutcomeLabels>,
    fhir_fetches: Family<OutcomeLabels, Counter>,
    fhir_reads: Family<SourceLabels, Counter>,
    fhirpath_failures: Counter,
    issued_dropped: Family<ReasonLabels, Counter>,
    issued_pending: Gauge,
    jwks_fetches: Family<OutcomeLabels, Counter>,
    pack_version: Gauge,
    prefetch_calls: Family<PrefetchLabels, Counter>,
    prefetch_missing: Family<MissingKeyLabels, Counter>,
    prefetch_fetch: Latencies<ClientLabels>,
    store_errors: Family<StoreErrorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with every metric registered and no series yet.
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            hook_latency: Family::new_with_constructor(latency_histogram),
            hook_calls: Family::default(),
            cards: Family::default(),
            fhir_latency: Family::new_with_constructor(latency_histogram),
            fhir_fetches: Family::default(),
            fhir_reads: Family::default(),
            fhirpath_failures: Counter::default(),
            issued_dropped: Family::default(),
            issued_pending: Gauge::default(),
            jwks_fetches: Family::default(),
            pack_version: Gauge::default(),
            prefetch_calls: Family::default(),
            prefetch_missing: Family::default(),
            prefetch_fetch: Family::new_with_constructor(latency_histogram),
            store_errors: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "cart_sentinel_hook_call_duration_seconds",
            "Time to answer a hook call (POST /cds-services/{id}), every outcome",
            m.hook_latency.clone(),
        );
        r.register(
            "cart_sentinel_hook_calls",
            "Hook calls by HTTP status of the answer",
            m.hook_calls.clone(),
        );
        r.register(
            "cart_sentinel_cards_issued",
            "Cards returned, by rule and indicator",
            m.cards.clone(),
        );
        r.register(
            "cart_sentinel_fhir_fetch_duration_seconds",
            "Time of one FHIR request to the EHR's fhirServer (one page), by outcome",
            m.fhir_latency.clone(),
        );
        r.register(
            "cart_sentinel_fhir_fetches",
            "FHIR requests by outcome (ok, or why they failed)",
            m.fhir_fetches.clone(),
        );
        r.register(
            "cart_sentinel_fhir_reads",
            "FHIR JSON read: a hook request's prefetch, or a fetched page",
            m.fhir_reads.clone(),
        );
        r.register(
            "cart_sentinel_fhirpath_failures",
            "Resources a FHIRPath of the rule pack failed on (a type mismatch); each was skipped for that rule or source",
            m.fhirpath_failures.clone(),
        );
        r.register(
            "cart_sentinel_issued_cards_dropped",
            "Issued cards the quality report will miss: the queue was full (channel_full) or over its bound while the store failed (store_unavailable)",
            m.issued_dropped.clone(),
        );
        r.register(
            "cart_sentinel_issued_cards_pending",
            "Issued cards waiting in memory for the store",
            m.issued_pending.clone(),
        );
        r.register(
            "cart_sentinel_jwks_fetches",
            "JWKS downloads for client and admin token keys, by outcome",
            m.jwks_fetches.clone(),
        );
        r.register(
            "cart_sentinel_pack_version",
            "Version number of the active rule pack",
            m.pack_version.clone(),
        );
        r.register(
            "cart_sentinel_prefetch_calls",
            "Hook calls whose prefetch was complete or not, by client",
            m.prefetch_calls.clone(),
        );
        r.register(
            "cart_sentinel_prefetch_keys_missing",
            "Prefetch keys a call lacked or sent incomplete (then fetched, or answered 412)",
            m.prefetch_missing.clone(),
        );
        r.register(
            "cart_sentinel_prefetch_fetch_duration_seconds",
            "Time to fetch what a call's prefetch lacked, all keys together",
            m.prefetch_fetch.clone(),
        );
        r.register(
            "cart_sentinel_store_errors",
            "Failed store calls by operation and kind (unavailable: the database is away, locked or too slow)",
            m.store_errors.clone(),
        );
        m
    }

    /// One hook call answered with HTTP `status` after `elapsed` (any outcome: 200, 400, 401,
    /// 404, 412, 503…). `service` must be a known service id or `unknown`, never raw input.
    pub fn hook_call(&self, service: &str, hook: &str, status: u16, elapsed: Duration) {
        let labels = HookLabels {
            service: service.to_owned(),
            hook: hook.to_owned(),
        };
        self.hook_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.hook_calls
            .get_or_create(&HookStatusLabels {
                service: labels.service,
                hook: labels.hook,
                status,
            })
            .inc();
    }

    /// A card issued by `rule` with `indicator` (`info`, `warning`, `critical`).
    pub fn card_issued(&self, rule: &str, indicator: &str) {
        self.cards
            .get_or_create(&CardLabels {
                rule: rule.to_owned(),
                indicator: indicator.to_owned(),
            })
            .inc();
    }

    /// One FHIR request ended with `outcome` after `elapsed`: `ok`, or the kind of failure
    /// (`timeout`, `connect`, `tls`, `transport`, `redirect`, `rate_limited`, `status_4xx`,
    /// `status_5xx`, `bad_headers`, `too_large`, `not_json`, `too_deep`, `foreign_link`,
    /// `loop`, `cancelled`); `src/fhir/error.rs` says which cause is which.
    pub fn fhir_fetch(&self, outcome: &'static str, elapsed: Duration) {
        let labels = OutcomeLabels { outcome };
        self.fhir_fetches.get_or_create(&labels).inc();
        self.fhir_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// FHIR JSON read: a hook request's prefetch (`source` = `prefetch`) or a fetched page
    /// (`fetch`).
    pub fn fhir_read(&self, source: &'static str) {
        self.fhir_reads
            .get_or_create(&SourceLabels { source })
            .inc();
    }

    /// A hook call's FHIRPath failed on `n` resources (each skipped for that rule or source).
    pub fn fhirpath_failures(&self, n: usize) {
        self.fhirpath_failures.inc_by(n as u64);
    }

    /// `n` issued cards were dropped before reaching the store, for `reason`.
    pub fn issued_cards_dropped(&self, reason: &'static str, n: usize) {
        self.issued_dropped
            .get_or_create(&ReasonLabels { reason })
            .inc_by(n as u64);
    }

    /// Issued cards now waiting for the store.
    pub fn issued_cards_pending(&self, n: usize) {
        self.issued_pending
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// One JWKS download ended with `outcome` (`ok`, `error`, `invalid`).
    pub fn jwks_fetch(&self, outcome: &'static str) {
        self.jwks_fetches
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// One hook call of `client` (its `iss`, or `anonymous` without client authentication):
    /// the prefetch keys it lacked (`missing`, empty when the prefetch was complete) and how
    /// long fetching them took, when they were fetched.
    pub fn prefetch(
        &self,
        (service, hook, client): (&str, &str, &str),
        missing: &[String],
        fetch_time: Option<Duration>,
    ) {
        self.prefetch_calls
            .get_or_create(&PrefetchLabels {
                service: service.to_owned(),
                hook: hook.to_owned(),
                client: client.to_owned(),
                prefetch: if missing.is_empty() {
                    "complete"
                } else {
                    "incomplete"
                },
            })
            .inc();
        for key in missing {
            self.prefetch_missing
                .get_or_create(&MissingKeyLabels {
                    service: service.to_owned(),
                    client: client.to_owned(),
                    key: key.clone(),
                })
                .inc();
        }
        if let Some(t) = fetch_time {
            self.prefetch_fetch
                .get_or_create(&ClientLabels {
                    service: service.to_owned(),
                    client: client.to_owned(),
                })
                .observe(t.as_secs_f64());
        }
    }

    /// A store call `operation` (`record_feedback`, `commit_pack`…) failed; `kind` is
    /// `unavailable` or `other`.
    pub fn store_error(&self, operation: &'static str, kind: &'static str) {
        self.store_errors
            .get_or_create(&StoreErrorLabels { operation, kind })
            .inc();
    }

    /// Sets the version number of the active rule pack.
    pub fn set_pack_version(&self, version: i64) {
        self.pack_version.set(version);
    }

    /// Every metric in the `OpenMetrics` text format ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail; an encoder error would leave a partial page, which
        // a scraper reports as a failed scrape.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
