//! Shared set-up of the benches: the real service descriptors and rule pack from `cds-hooks/`,
//! the generated patients from `benches/data/` (the large one is generated on first use, see
//! `benches/gen_patient.py`), and the fixed evaluation instant the generator dates them from.
//!
//! Every bench reports the **CPU time of the benchmarking thread** ([`cpu`]), not wall time: the
//! targets are CPU-cost ratios, and CPU time stays meaningful on a machine that other builds
//! share (wall time there counts the time the thread waited for a core).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cart_sentinel::cds::limits::RequestLimits;
use cart_sentinel::cds::{load_services, ServiceDescriptor};
use cart_sentinel::config::Settings;
use chrono::{DateTime, Utc};

/// The service's allocator (`src/main.rs`), so the benches measure what the service runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The generator's `NOW` (`benches/gen_patient.py`).
pub const NOW: &str = "2026-11-15T12:00:00Z";

pub fn now() -> DateTime<Utc> {
    NOW.parse().expect("NOW is RFC 3339")
}

pub fn utc() -> chrono_tz::Tz {
    chrono_tz::Tz::UTC
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The request limits of the default settings, as the handler applies them.
pub fn request_limits() -> RequestLimits {
    let l = Settings::default().limits;
    RequestLimits {
        max_json_depth: l.max_json_depth,
        max_prefetch_resources: l.max_prefetch_resources,
        max_draft_orders: l.max_draft_orders,
    }
}

/// The `cart-monitoring` descriptor (patient-view).
pub fn monitoring() -> ServiceDescriptor {
    let dir = root().join("cds-hooks");
    let pack = cart_sentinel::engine::load::compile_dir(&dir).expect("the shipped pack compiles");
    let service = load_services(&dir.join("services"))
        .expect("service descriptors load")
        .into_iter()
        .find(|s| s.id == "cart-monitoring")
        .expect("cart-monitoring exists");
    // The prefetch discovery gives: the descriptor's keys and those the pack needs.
    service.with_prefetch(pack.prefetch(&service.hook))
}

/// The request body of a generated patient (`small`, `typical` or `large`).
pub fn body(size: &str) -> Vec<u8> {
    let path = root().join(format!("benches/data/{size}.json"));
    if !path.exists() {
        generate(size, &path);
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn generate(size: &str, path: &Path) {
    let status = Command::new("python3")
        .arg(root().join("benches/gen_patient.py"))
        .arg(size)
        .status()
        .expect("python3 runs benches/gen_patient.py");
    assert!(status.success(), "gen_patient.py {size} failed");
    assert!(
        path.exists(),
        "gen_patient.py did not write {}",
        path.display()
    );
}

/// A single-threaded runtime for the async pipeline functions (nothing is fetched).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// Runs `f` `iters` times and returns the CPU time this thread used (for `iter_custom`).
pub fn cpu<O>(iters: u64, mut f: impl FnMut() -> O) -> Duration {
    let start = cpu_time::ThreadTime::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed()
}

/// As [`cpu`], with an input per iteration made beforehand by `setup` (not timed).
pub fn cpu_with<I, O>(iters: u64, setup: impl Fn() -> I, mut f: impl FnMut(I) -> O) -> Duration {
    let inputs: Vec<I> = (0..iters).map(|_| setup()).collect();
    let start = cpu_time::ThreadTime::now();
    for input in inputs {
        black_box(f(input));
    }
    start.elapsed()
}
