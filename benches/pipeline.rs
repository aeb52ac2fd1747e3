//! The hook pipeline, stage by stage, for the three generated patients.
//!
//! For each of `small`, `typical` and `large` (`benches/gen_patient.py`):
//!
//! * `a_json_value`: `serde_json::from_slice::<Value>` of the request body, the floor;
//! * `b_parse_record`: what the handler does before the engine: the request, its nesting
//!   checked by a byte scan before the parse (`ParsedBody::within`, `into_request`, `check_hook_limits` with the
//!   default limits) and the patient record (`hook::build_record`, every prefetch key present,
//!   nothing fetched);
//! * `c_evaluate`: `CompiledPack::evaluate` of the whole default pack on that record;
//! * `d_respond`: findings to cards (`engine::cards::to_cards`, real uuids) and the serialised
//!   `CdsResponse`;
//! * `e_whole`: the handler's path without HTTP: parse (nesting checked), `hook::answer`,
//!   serialise.
//!
//! `cargo bench --bench pipeline` (about 2 minutes on 2 cores, after the build). Times are CPU
//! time of the benchmarking thread (`common::cpu`); throughput is in bytes of request body, so
//! the stages compare directly with the floor.

mod common;

use std::hint::black_box;
use std::time::Duration;

use cart_sentinel::cds::hook_limits::check_hook_limits;
use cart_sentinel::cds::request::ParsedBody;
use cart_sentinel::cds::response::CdsResponse;
use cart_sentinel::engine::{cards, load, EvalInput};
use cart_sentinel::hook;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;

fn respond(findings: Vec<cart_sentinel::engine::Finding>) -> Vec<u8> {
    let cards = cards::to_cards(findings, &mut || uuid::Uuid::new_v4().to_string());
    serde_json::to_vec(&CdsResponse {
        cards,
        system_actions: Vec::new(),
    })
    .expect("a response serialises")
}

fn pipeline(c: &mut Criterion) {
    let service = monitoring_service();
    let pack = load::compile_dir(&common::root().join("cds-hooks")).expect("default pack compiles");
    let rt = common::runtime();
    let (now, tz) = (common::now(), common::utc());
    let request_limits = common::request_limits();
    for (size, samples, seconds) in [("small", 50, 3), ("typical", 30, 4), ("large", 10, 8)] {
        let body = common::body(size);
        let mut g = c.benchmark_group(format!("pipeline/{size}"));
        g.sample_size(samples)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(seconds))
            .throughput(Throughput::Bytes(body.len() as u64));

        g.bench_function("a_json_value", |b| {
            b.iter_custom(|n| {
                common::cpu(n, || {
                    serde_json::from_slice::<Value>(black_box(&body)).expect("valid JSON")
                })
            })
        });

        // As the handler: the request (its nesting checked before the parse), its limits.
        let parse = |body: &[u8]| {
            let req = ParsedBody::within(body, &request_limits)
                .and_then(|parsed| parsed.into_request(&service.hook))
                .expect("valid request");
            check_hook_limits(&req, &request_limits).expect("within limits");
            req
        };
        let build = |body: &[u8]| {
            let mut req = parse(body);
            let built = rt
                .block_on(hook::build_record(
                    &service,
                    &mut req,
                    hook::Source::Offline,
                ))
                .expect("prefetch is complete");
            assert!(built.warnings.is_empty(), "{:?}", built.warnings);
            (req, built.record)
        };
        g.bench_function("b_parse_record", |b| {
            b.iter_custom(|n| common::cpu(n, || build(black_box(&body))))
        });

        let (req, record) = build(&body);
        let input = EvalInput {
            record: &record,
            hook: &req.hook,
            now,
            tz,
        };
        let findings = pack.evaluate(&input);
        assert!(!findings.is_empty(), "{size}: the patient should get cards");
        g.bench_function("c_evaluate", |b| {
            b.iter_custom(|n| common::cpu(n, || pack.evaluate(black_box(&input))))
        });

        g.bench_function("d_respond", |b| {
            b.iter_custom(|n| common::cpu_with(n, || findings.clone(), respond))
        });

        let whole = || {
            let mut req = parse(black_box(&body));
            let answer = rt
                .block_on(hook::answer(
                    &pack,
                    &service,
                    &mut req,
                    hook::Source::Offline,
                    tz,
                    now,
                ))
                .expect("answered");
            serde_json::to_vec(&CdsResponse {
                cards: answer.cards,
                system_actions: Vec::new(),
            })
            .expect("serialises")
        };
        g.bench_function("e_whole", |b| b.iter_custom(|n| common::cpu(n, whole)));
        g.finish();
    }
}

fn monitoring_service() -> cart_sentinel::cds::ServiceDescriptor {
    common::monitoring()
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
