//! Engine throughput in ICB-iterations per second on the shipped scenario, at 10k and 100k
//! iterations, beside the stages around it (sampling one distribution, summarising).
//!
//! Run: `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use icb_impact::cli::prepare;
use icb_impact::dist::{Dist, Spec};
use icb_impact::engine;
use icb_impact::rng::{key, stream};
use icb_impact::summary::RunSummary;

fn scenario() -> icb_impact::cli::Prepared {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/medicines-optimisation-2024.toml");
    prepare(&path, &Default::default()).expect("shipped scenario is valid")
}

fn engine_run(c: &mut Criterion) {
    let p = scenario();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for iterations in [10_000usize, 100_000] {
        group.throughput(Throughput::Elements((iterations * p.table.len()) as u64));
        group.bench_with_input(BenchmarkId::new("run", iterations), &iterations, |b, &n| {
            b.iter(|| black_box(engine::run(&p.model, n, &|_| {})))
        });
    }
    group.finish();
}

fn summarise(c: &mut Criterion) {
    let p = scenario();
    let draws = engine::run(&p.model, 10_000, &|_| {});
    let mut group = c.benchmark_group("summary");
    group.sample_size(10);
    group.throughput(Throughput::Elements((10_000 * p.table.len()) as u64));
    group.bench_function("10000", |b| {
        b.iter(|| black_box(RunSummary::new(&p.scenario, &p.table, &draws)))
    });
    group.finish();
}

fn sampling(c: &mut Criterion) {
    // One keyed stream and one PERT draw: the unit of work the engine repeats.
    let pert = Dist::new(Spec::Pert {
        min: 0.2,
        mode: 0.35,
        max: 0.65,
    })
    .unwrap();
    let factor = key("actions.x.factors.participation");
    let mut group = c.benchmark_group("sampling");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("keyed_pert_x1000", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for it in 0..1000u64 {
                sum += pert.sample(&mut stream(1, it, 7, factor));
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group!(benches, engine_run, summarise, sampling);
criterion_main!(benches);
