//! A population run over a Bulk Data export, end to end without the store: resources per
//! second, wall time, peak resident memory and the share of each stage.
//!
//! The export is `POPULATION_EXPORT` (a directory of `*.ndjson`), made by
//! `benches/gen_population.py` (the issue's centre: 2,000 recipients among 50,000 patients);
//! without it a small export (500 patients, 20 recipients) is generated into a temporary
//! directory. The pack is the shipped one, evaluated at the generator's `NOW`.
//!
//! ```sh
//! python3 benches/gen_population.py --out /data/export
//! POPULATION_EXPORT=/data/export cargo bench --bench population
//! ```
//!
//! Peak memory is the process's high-water mark (`VmHWM` in `/proc/self/status`, Linux), so
//! it includes the pack and the allocator's own.

// Each bench uses part of the shared helpers.
#[allow(dead_code)]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use cart_sentinel::engine::load;
use cart_sentinel::population::{self, Progress, RunInput};

fn export_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Some(dir) = std::env::var_os("POPULATION_EXPORT") {
        return (PathBuf::from(dir), None);
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let status = Command::new("python3")
        .arg(common::root().join("benches/gen_population.py"))
        .args(["--patients", "500", "--recipients", "20", "--out"])
        .arg(tmp.path())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success(), "the generator failed");
    (tmp.path().to_path_buf(), Some(tmp))
}

/// `VmHWM` of this process in KiB, when the system says.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn share(part: Duration, whole: Duration) -> f64 {
    100.0 * part.as_secs_f64() / whole.as_secs_f64().max(f64::EPSILON)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument (a filter) is ignored.
    let (dir, _keep) = export_dir();
    let pack = load::compile_dir(&common::root().join("cds-hooks")).expect("default pack compiles");
    let files = population::ndjson_files(&dir).expect("the export's files");
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let spool = tempfile::tempdir().expect("a spool directory");
    let progress = Progress::default();
    let input = RunInput {
        pack: &pack,
        now: common::now(),
        tz: common::utc(),
        spool_dir: spool.path(),
        progress: &progress,
    };
    let started = Instant::now();
    let (counts, timings) =
        population::run(&files, &input, &mut |_| Ok(())).expect("the run finishes");
    let wall = started.elapsed();
    let lines = counts.lines as f64;
    println!(
        "population run over {} ({} files, {bytes} bytes)",
        dir.display(),
        counts.files
    );
    println!(
        "  {} resources read, {} skipped, {} patients, cohort {}, {} findings",
        counts.resources_read,
        counts.skipped.total(),
        counts.patients_read,
        counts.cohort_size,
        counts.findings
    );
    println!(
        "  wall {:.2} s, {:.0} resources/s, {:.1} MiB/s",
        wall.as_secs_f64(),
        lines / wall.as_secs_f64(),
        bytes as f64 / 1_048_576.0 / wall.as_secs_f64()
    );
    match peak_rss_kib() {
        Some(kib) => println!("  peak RSS {:.0} MiB", kib as f64 / 1024.0),
        None => println!("  peak RSS unknown (no /proc/self/status)"),
    }
    println!(
        "  stages: spool {:.0} %, group {:.0} %, record {:.0} %, evaluate {:.0} %",
        share(timings.spool, wall),
        share(timings.group, wall),
        share(timings.record, wall),
        share(timings.evaluate, wall)
    );
}
