//! Operational metrics, rendered in the Prometheus text exposition format (version 0.0.4) by
//! `GET /metrics`.
//!
//! A small hand-written registry: every series is a set of atomics, found by its label values
//! under a read lock (a write lock only the first time a label set is seen). One [`Metrics`] is
//! built per application in `startup` and shared as `web::Data<Metrics>`; nothing is global, so
//! two applications in one process (the tests) count separately. Labels never carry patient data:
//! service ids, hook names, rule ids, card indicators, HTTP statuses and fixed outcome words.
//! Must not import actix_web, sqlx or reqwest.
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
//! | `cart_sentinel_jwks_fetches_total` | counter | `outcome` |
//! | `cart_sentinel_pack_version` | gauge | (none) |

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histograms: from well under the 5 ms target to past the
/// 500 ms the CDS Hooks standard asks for.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: one counter per bucket (not cumulative; summed when rendered), the count
/// and the sum in nanoseconds.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let seconds = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// A family of series of one kind, keyed by label values.
struct Family<K, V> {
    series: RwLock<HashMap<K, Arc<V>>>,
}

impl<K: Eq + Hash + Clone + Ord, V: Default> Family<K, V> {
    fn new() -> Self {
        Family {
            series: RwLock::new(HashMap::new()),
        }
    }

    /// The series for `key`, created on first use.
    fn get(&self, key: &K) -> Arc<V> {
        if let Some(v) = self
            .series
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return v.clone();
        }
        self.series
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone()
    }

    /// Every series, sorted by labels so that the output is stable.
    fn snapshot(&self) -> Vec<(K, Arc<V>)> {
        let mut all: Vec<_> = self
            .series
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// The registry of one application.
pub struct Metrics {
    hook_latency: Family<(String, String), Histogram>,
    hook_calls: Family<(String, String, u16), AtomicU64>,
    cards: Family<(String, String), AtomicU64>,
    fhir_latency: Family<&'static str, Histogram>,
    fhir_fetches: Family<&'static str, AtomicU64>,
    jwks_fetches: Family<&'static str, AtomicU64>,
    fhir_reads: Family<&'static str, AtomicU64>,
    fhirpath_failures: AtomicU64,
    pack_version: AtomicI64,
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
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics {
            hook_latency: Family::new(),
            hook_calls: Family::new(),
            cards: Family::new(),
            fhir_latency: Family::new(),
            fhir_fetches: Family::new(),
            jwks_fetches: Family::new(),
            fhir_reads: Family::new(),
            fhirpath_failures: AtomicU64::new(0),
            pack_version: AtomicI64::new(0),
        }
    }

    /// One hook call answered with HTTP `status` after `elapsed` (any outcome: 200, 400, 401,
    /// 404, 412, 503…). `service` must be a known service id or `unknown`, never raw input.
    pub fn hook_call(&self, service: &str, hook: &str, status: u16, elapsed: Duration) {
        let (service, hook) = (service.to_owned(), hook.to_owned());
        self.hook_calls
            .get(&(service.clone(), hook.clone(), status))
            .fetch_add(1, Ordering::Relaxed);
        self.hook_latency.get(&(service, hook)).observe(elapsed);
    }

    /// A card issued by `rule` with `indicator` (`info`, `warning`, `critical`).
    pub fn card_issued(&self, rule: &str, indicator: &str) {
        self.cards
            .get(&(rule.to_owned(), indicator.to_owned()))
            .fetch_add(1, Ordering::Relaxed);
    }

    /// One FHIR request ended with `outcome` (`ok`, `timeout`, `connect`, `transport`,
    /// `status`, `too_large`, `not_json`, `foreign_link`, `cancelled`) after `elapsed`.
    pub fn fhir_fetch(&self, outcome: &'static str, elapsed: Duration) {
        self.fhir_fetches
            .get(&outcome)
            .fetch_add(1, Ordering::Relaxed);
        self.fhir_latency.get(&outcome).observe(elapsed);
    }

    /// FHIR JSON read: a hook request's prefetch (`source` = `prefetch`) or a fetched page
    /// (`fetch`).
    pub fn fhir_read(&self, source: &'static str) {
        self.fhir_reads.get(&source).fetch_add(1, Ordering::Relaxed);
    }

    /// A hook call's FHIRPath failed on `n` resources (each skipped for that rule or source).
    pub fn fhirpath_failures(&self, n: usize) {
        self.fhirpath_failures
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// One JWKS download ended with `outcome` (for example `ok`, `error`, `invalid`); for the
    /// key cache of CDS client authentication.
    pub fn jwks_fetch(&self, outcome: &'static str) {
        self.jwks_fetches
            .get(&outcome)
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the version number of the active rule pack.
    pub fn set_pack_version(&self, version: i64) {
        self.pack_version.store(version, Ordering::Relaxed);
    }

    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "cart_sentinel_hook_call_duration_seconds",
            "histogram",
            "Time to answer a hook call (POST /cds-services/{id}), every outcome.",
        );
        for ((service, hook), h) in self.hook_latency.snapshot() {
            let labels = format!("service=\"{}\",hook=\"{}\"", esc(&service), esc(&hook));
            h.render(
                &mut out,
                "cart_sentinel_hook_call_duration_seconds",
                &labels,
            );
        }
        header(
            &mut out,
            "cart_sentinel_hook_calls_total",
            "counter",
            "Hook calls by HTTP status of the answer.",
        );
        for ((service, hook, status), n) in self.hook_calls.snapshot() {
            let _ = writeln!(
                out,
                "cart_sentinel_hook_calls_total{{service=\"{}\",hook=\"{}\",status=\"{status}\"}} {}",
                esc(&service),
                esc(&hook),
                n.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "cart_sentinel_cards_issued_total",
            "counter",
            "Cards returned, by rule and indicator.",
        );
        for ((rule, indicator), n) in self.cards.snapshot() {
            let _ = writeln!(
                out,
                "cart_sentinel_cards_issued_total{{rule=\"{}\",indicator=\"{}\"}} {}",
                esc(&rule),
                esc(&indicator),
                n.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "cart_sentinel_fhir_fetch_duration_seconds",
            "histogram",
            "Time of one FHIR request to the EHR's fhirServer (one page), by outcome.",
        );
        for (outcome, h) in self.fhir_latency.snapshot() {
            let labels = format!("outcome=\"{outcome}\"");
            h.render(
                &mut out,
                "cart_sentinel_fhir_fetch_duration_seconds",
                &labels,
            );
        }
        counters(
            &mut out,
            ("cart_sentinel_fhir_fetches_total", "outcome"),
            "FHIR requests by outcome (ok, or why they failed).",
            &self.fhir_fetches,
        );
        counters(
            &mut out,
            ("cart_sentinel_fhir_reads_total", "source"),
            "FHIR JSON read: a hook request's prefetch, or a fetched page.",
            &self.fhir_reads,
        );
        single(
            &mut out,
            ("cart_sentinel_fhirpath_failures_total", "counter"),
            "Resources a FHIRPath of the rule pack failed on (a type mismatch); each was skipped for that rule or source.",
            self.fhirpath_failures.load(Ordering::Relaxed),
        );
        counters(
            &mut out,
            ("cart_sentinel_jwks_fetches_total", "outcome"),
            "JWKS downloads for CDS client authentication, by outcome.",
            &self.jwks_fetches,
        );
        single(
            &mut out,
            ("cart_sentinel_pack_version", "gauge"),
            "Version number of the active rule pack.",
            self.pack_version.load(Ordering::Relaxed),
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A counter family with one label: `(name, label)`.
fn counters(
    out: &mut String,
    (name, label): (&str, &str),
    help: &str,
    family: &Family<&'static str, AtomicU64>,
) {
    header(out, name, "counter", help);
    for (value, n) in family.snapshot() {
        let _ = writeln!(
            out,
            "{name}{{{label}=\"{}\"}} {}",
            esc(value),
            n.load(Ordering::Relaxed)
        );
    }
}

/// One series without labels: `(name, kind)`.
fn single(out: &mut String, (name, kind): (&str, &str), help: &str, value: impl std::fmt::Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Escapes a label value (backslash, double quote, newline).
fn esc(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
