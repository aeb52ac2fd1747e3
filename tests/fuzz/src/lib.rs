//! The fuzz targets' bodies, shared by the libFuzzer binaries (`fuzz_targets/`, nightly flags,
//! run by `.ci/fuzz.sh`) and by the corpus replay test (`tests/replay.rs`, any toolchain).
//! A target "fails" only by panicking or hanging; rejecting the input is the expected outcome.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cart_sentinel::cds::hook_limits::check_hook_limits;
use cart_sentinel::cds::limits::RequestLimits;
use cart_sentinel::cds::request::{ParsedBody, KNOWN_HOOKS};
use cart_sentinel::engine::rule::Rule;
use cart_sentinel::engine::{self, load, CompiledPack, EvalInput, Pack};
use cart_sentinel::record::{PatientRecord, RecordBuilder};
use chrono::{DateTime, Utc};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The default pack from `cds-hooks/`, read once.
fn default_pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| {
        load::load_dir(&repo_root().join("cds-hooks")).expect("the default pack loads")
    })
}

fn compiled_default() -> &'static CompiledPack {
    static COMPILED: OnceLock<CompiledPack> = OnceLock::new();
    COMPILED
        .get_or_init(|| engine::compile(default_pack().clone()).expect("the default pack compiles"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("a fixed instant")
}

fn utc() -> chrono_tz::Tz {
    chrono_tz::Tz::UTC
}

fn evaluate(pack: &CompiledPack, record: &PatientRecord, hook: &str) {
    let _ = pack.evaluate(&EvalInput {
        record,
        hook,
        now: now(),
        tz: utc(),
    });
}

/// A hook request body: the service's hook is the first known hook name found in the body
/// (`patient-view` otherwise), so plain request files are valid seeds.
pub fn hook_request(data: &[u8]) {
    let limits = RequestLimits {
        max_json_depth: 64,
        max_prefetch_resources: 50_000,
        max_draft_orders: 200,
    };
    let hook = KNOWN_HOOKS
        .iter()
        .copied()
        .find(|h| data.windows(h.len()).any(|w| w == h.as_bytes()))
        .unwrap_or("patient-view");
    // As the service reads a body: the depth scan, then the ordinary parse.
    let Ok(req) = ParsedBody::within(data, &limits).and_then(|p| p.into_request(hook)) else {
        return;
    };
    let _ = check_hook_limits(&req, &limits);
    let mut builder = RecordBuilder::new(req.context.patient_id().unwrap_or_default());
    if let Some(orders) = req.context.draft_orders() {
        builder.add_draft_orders(orders);
    }
    for page in req.prefetch.into_iter().flat_map(|p| p.into_values()) {
        builder.add(page);
    }
    let record = builder.finish();
    evaluate(compiled_default(), &record, hook);
}

/// A rule file (YAML or JSON): parsed, added to the default pack and the pack compiled; a pack
/// that compiles is evaluated on an empty record.
pub fn rule_file(data: &[u8]) {
    let Ok(rule) = load::parse::<Rule>("rules/fuzz.yaml", data) else {
        return;
    };
    let hooks = rule.hooks.clone();
    let mut pack = default_pack().clone();
    pack.rules.insert(rule.id.clone(), rule);
    let Ok(compiled) = engine::compile(pack) else {
        return;
    };
    let record = PatientRecord::new("fuzz");
    for hook in hooks.iter().take(8) {
        evaluate(&compiled, &record, hook);
    }
}
