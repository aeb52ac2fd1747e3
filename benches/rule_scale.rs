//! Evaluation time against the size of the pack: the typical patient against the default pack
//! (every rule active) and packs of 200 and 2,000 active rules.
//!
//! The smallest is the default pack with its draft rules switched to active. Larger packs add
//! variants of those rules: the same rule under a new id (`<id>--v<n>`) with every parameter
//! nudged (durations by 1-2 days, other values by 1-2 %, within the parameter's min/max). Two
//! shapes of pack:
//!
//! * `same-hooks` (the worst case): every variant keeps its original's hooks, so 82 % of the
//!   pack runs on patient-view and the variants fire as often as their originals: the findings
//!   to render grow with the pack;
//! * `spread`: variant n runs on one hook, the four hooks in turn, as in a pack whose rules
//!   cover every hook; the hook index leaves the others out.
//!
//! Two measures, CPU time of the thread, the record built once: `conditions`
//! (`CompiledPack::firing`: which rules fire) and `evaluate` (`CompiledPack::evaluate`: the
//! same, plus rendering a finding for every rule that fires).
//!
//! `cargo bench --bench rule_scale` (about a minute on 2 cores).

#[expect(dead_code, reason = "helpers for the pipeline bench")]
mod common;

use std::hint::black_box;
use std::time::Duration;

use cart_sentinel::cds::request::parse_hook_request;
use cart_sentinel::engine::{self, load, EvalInput, Pack, RuleStatus};
use cart_sentinel::hook;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// The four hooks of the service descriptors.
const HOOKS: [&str; 4] = [
    "patient-view",
    "order-select",
    "order-sign",
    "encounter-discharge",
];

/// The default pack with `n` active rules (0: the default pack alone); variants keep their original's hooks, or
/// with `spread` each runs on one of the four hooks in turn.
fn pack_of(n: usize, spread: bool) -> Pack {
    let mut pack = load::load_dir(&common::root().join("cds-hooks")).expect("default pack loads");
    for rule in pack.rules.values_mut() {
        rule.status = RuleStatus::Active;
    }
    let originals: Vec<_> = pack.rules.values().cloned().collect();
    for k in 0..n.saturating_sub(originals.len()) {
        let mut rule = originals[k % originals.len()].clone();
        let step = (k / originals.len()) % 2 + 1;
        rule.id = format!("{}--v{k}", rule.id);
        if spread {
            rule.hooks = vec![HOOKS[k % HOOKS.len()].to_owned()];
        }
        for p in rule.parameters.values_mut() {
            let nudged = if p.unit == "d" || p.unit == "h" {
                p.value + step as f64
            } else {
                p.value * (1.0 + step as f64 / 100.0)
            };
            let nudged = p.max.map_or(nudged, |m| nudged.min(m));
            p.value = p.min.map_or(nudged, |m| nudged.max(m));
        }
        pack.rules.insert(rule.id.clone(), rule);
    }
    assert_eq!(pack.rules.len(), n.max(originals.len()));
    pack
}

fn rule_scale(c: &mut Criterion) {
    let service = common::monitoring();
    let body = common::body("typical");
    let mut req = parse_hook_request(&body, &service.hook).expect("valid request");
    let rt = common::runtime();
    let record = rt
        .block_on(hook::build_record(
            &service,
            &mut req,
            hook::Source::Offline,
        ))
        .expect("prefetch is complete")
        .record;
    let input = EvalInput {
        record: &record,
        hook: &req.hook,
        now: common::now(),
        tz: common::utc(),
    };
    let mut g = c.benchmark_group("rule_scale/typical");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let shapes = [
        (0, false, "default"),
        (200, false, "same-hooks"),
        (2000, false, "same-hooks"),
    ];
    let spread = [(200, true, "spread"), (2000, true, "spread")];
    for (n, spread, shape) in shapes.into_iter().chain(spread) {
        let pack = pack_of(n, spread);
        let n = pack.rules.len();
        let pack = engine::compile(pack).expect("generated pack compiles");
        let on_hook = pack.rules_for(&req.hook).count();
        let fired = pack.evaluate(&input).len();
        eprintln!(
            "rule_scale: {n} active rules ({shape}), {on_hook} on {}, {fired} fire",
            req.hook
        );
        let id = |measure: &str| BenchmarkId::new(format!("{measure}/{shape}"), n);
        g.bench_with_input(id("conditions"), &pack, |b, pack| {
            b.iter_custom(|n| common::cpu(n, || pack.firing(black_box(&input))))
        });
        g.bench_with_input(id("evaluate"), &pack, |b, pack| {
            b.iter_custom(|n| common::cpu(n, || pack.evaluate(black_box(&input))))
        });
    }
    g.finish();
}

criterion_group!(benches, rule_scale);
criterion_main!(benches);
