//! Evaluation time against the size of the pack (issue #6): the typical patient against packs
//! of 17, 200 and 2,000 active rules.
//!
//! The 17 are the default pack with its one draft rule switched to active. Larger packs add
//! variants of those rules: the same rule under a new id (`<id>--v<n>`) with every parameter
//! nudged (durations by 1-2 days, other values by 1-2 %, within the parameter's min/max), and
//! the same hooks, so rules for other hooks count towards the total as they do in a real pack.
//! Two measures, CPU time of the thread, the record built once: `conditions`
//! (`CompiledPack::firing`: which rules fire) and `evaluate` (`CompiledPack::evaluate`: the
//! same, plus rendering a finding for every rule that fires). The variants fire as often as
//! their originals, so the findings to render grow with the pack.
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

/// The default pack with `n` active rules (n ≥ 17).
fn pack_of(n: usize) -> Pack {
    let mut pack = load::load_dir(&common::root().join("cds-hooks")).expect("default pack loads");
    for rule in pack.rules.values_mut() {
        rule.status = RuleStatus::Active;
    }
    let originals: Vec<_> = pack.rules.values().cloned().collect();
    assert!(n >= originals.len(), "at least the default pack");
    for k in 0..n - originals.len() {
        let mut rule = originals[k % originals.len()].clone();
        let step = (k / originals.len()) % 2 + 1;
        rule.id = format!("{}--v{k}", rule.id);
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
    assert_eq!(pack.rules.len(), n);
    pack
}

fn rule_scale(c: &mut Criterion) {
    let service = common::monitoring();
    let body = common::body("typical");
    let req = parse_hook_request(&body, &service.hook).expect("valid request");
    let rt = common::runtime();
    let (record, _, _) = rt
        .block_on(hook::build_record(
            &service,
            &req,
            hook::Source::Offline,
            common::utc(),
        ))
        .expect("prefetch is complete");
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
    for n in [17, 200, 2000] {
        let pack = engine::compile(pack_of(n)).expect("generated pack compiles");
        let on_hook = pack.rules_for(&req.hook).count();
        let fired = pack.evaluate(&input).len();
        eprintln!(
            "rule_scale: {n} active rules, {on_hook} on {}, {fired} fire",
            req.hook
        );
        g.bench_with_input(BenchmarkId::new("conditions", n), &pack, |b, pack| {
            b.iter_custom(|n| common::cpu(n, || pack.firing(black_box(&input))))
        });
        g.bench_with_input(BenchmarkId::new("evaluate", n), &pack, |b, pack| {
            b.iter_custom(|n| common::cpu(n, || pack.evaluate(black_box(&input))))
        });
    }
    g.finish();
}

criterion_group!(benches, rule_scale);
criterion_main!(benches);
