//! The fuzz targets on a stable toolchain: every seed (hostile fixtures, patient fixtures, the
//! default rules) and every input libFuzzer saved (`corpus/`, `artifacts/`) is replayed through
//! its target under a watchdog, then a small deterministic mutation loop runs on the seeds
//! (`FUZZ_MUTATIONS` per target, default 300): a crude fuzzer where libFuzzer cannot run.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cart_sentinel_fuzz::{hook_request, repo_root, rule_file};

/// Longest time one input may take (debug build).
const WATCHDOG: Duration = Duration::from_secs(30);

fn files(dir: &Path, accept: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, accept, out);
        } else if accept(&path) {
            out.push(path);
        }
    }
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = repo_root();
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let any = |_: &Path| true;
    files(&fuzz.join("corpus").join(target), &any, &mut out);
    files(&fuzz.join("artifacts").join(target), &any, &mut out);
    let named = |suffix: &'static str| move |p: &Path| p.to_string_lossy().ends_with(suffix);
    if target == "hook_request" {
        let hostile =
            |p: &Path| p.extension().is_some_and(|e| e == "json") && !p.ends_with("manifest.json");
        files(&root.join("fixtures/hostile"), &hostile, &mut out);
        files(
            &root.join("fixtures/patients"),
            &named(".request.json"),
            &mut out,
        );
    } else {
        files(&root.join("cds-hooks/rules"), &named(".yaml"), &mut out);
        files(
            &root.join("fixtures/hostile/rules"),
            &named(".yaml"),
            &mut out,
        );
    }
    out.sort();
    out
}

/// Runs `target` on `data` in a thread; an error for a panic or a hang.
fn guarded(target: fn(&[u8]), data: Vec<u8>) -> Result<(), &'static str> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| target(&data));
        let _ = tx.send(outcome.is_ok());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(true) => Ok(()),
        Ok(false) => Err("panicked"),
        Err(_) => Err("hung"),
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b"[]{}\",:-0123456789.eE \\nul tfa\xff\x00:#&*!|>-";
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, BYTES[rng.below(BYTES.len())]),
            2 => data.truncate(at),
            3 => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(256)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            _ => {
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(512)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    data
}

fn replay_and_mutate(name: &str, target: fn(&[u8])) {
    let seeds: Vec<(PathBuf, Vec<u8>)> = inputs(name)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable input");
            (p, bytes)
        })
        .collect();
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let mut failures = Vec::new();
    for (path, bytes) in &seeds {
        if let Err(e) = guarded(target, bytes.clone()) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    let rounds: usize = std::env::var("FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    for round in 0..rounds {
        let (seed_path, seed) = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())].1;
        let data = mutate(&mut rng, seed, other);
        if let Err(e) = guarded(target, data.clone()) {
            let saved = std::env::temp_dir().join(format!("{name}-mutation-{round}"));
            let _ = std::fs::write(&saved, &data);
            failures.push(format!(
                "mutation {round} of {}: {e} (input saved to {})",
                seed_path.display(),
                saved.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{name}: {failures:#?}");
}

#[test]
fn hook_request_seeds_corpus_and_mutations_neither_panic_nor_hang() {
    replay_and_mutate("hook_request", hook_request);
}

#[test]
fn rule_file_seeds_corpus_and_mutations_neither_panic_nor_hang() {
    replay_and_mutate("rule_file", rule_file);
}
