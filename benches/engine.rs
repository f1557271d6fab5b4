//! Engine throughput in ICB-iterations per second, against the sampling floor (the same
//! draws and nothing else), on one and two threads, beside the stages around it.
//!
//! Run: `cargo bench --bench engine`; `benches/measure.sh` prints the ratios, the fitted
//! exponent of time against iterations and peak memory.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use icb_impact::dist::{Dist, Spec};
use icb_impact::engine::{self, Keep};
use icb_impact::pipeline::{prepare, Config, Prepared};
use icb_impact::rng::{key, stream};
use icb_impact::scenario::Granularity;
use icb_impact::summary::RunSummary;

/// The whole-menu scenario over twelve months.
fn scenario() -> Prepared {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/collective-action-2024.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("months = 6", "months = 12", 1);
    let dir = std::env::temp_dir().join("icb-impact-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let twelve = dir.join("collective-action-12-months.toml");
    std::fs::write(&twelve, text).unwrap();
    prepare(&Config::new(&twelve)).expect("shipped scenario is valid")
}

fn engine_against_floor(c: &mut Criterion) {
    let p = scenario();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for iterations in [10_000usize, 100_000, 1_000_000] {
        group.throughput(Throughput::Elements((iterations * p.table.len()) as u64));
        // As `icb-impact run` does: streaming tallies, the national total per iteration.
        group.bench_with_input(BenchmarkId::new("run", iterations), &iterations, |b, &n| {
            b.iter(|| black_box(engine::run_from(&p.model, 0, n, Keep::Tallies, &|_| {})))
        });
        group.bench_with_input(
            BenchmarkId::new("sampling_floor", iterations),
            &iterations,
            |b, &n| b.iter(|| black_box(engine::sampling_floor(&p.model, n))),
        );
    }
    group.finish();
}

fn threads(c: &mut Criterion) {
    let p = scenario();
    let mut group = c.benchmark_group("threads");
    group.sample_size(10);
    let n = 100_000usize;
    group.throughput(Throughput::Elements((n * p.table.len()) as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_with_input(BenchmarkId::new("run", threads), &threads, |b, _| {
            b.iter(|| {
                pool.install(|| black_box(engine::run_from(&p.model, 0, n, Keep::Tallies, &|_| {})))
            })
        });
        group.bench_with_input(BenchmarkId::new("floor", threads), &threads, |b, _| {
            b.iter(|| pool.install(|| black_box(engine::sampling_floor(&p.model, n))))
        });
    }
    group.finish();
}

/// The shipped six-month scenario at 10,000 iterations, ICB level against practice level, and
/// practice level against its own sampling floor (which draws a uniform per practice and
/// action).
fn practice_level(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/collective-action-2024.toml");
    let icb = prepare(&Config::new(&path)).expect("shipped scenario is valid");
    let practice = prepare(&Config {
        granularity: Some(Granularity::Practice),
        ..Config::new(&path)
    })
    .expect("shipped scenario is valid at practice level");
    let n = 10_000usize;
    let mut group = c.benchmark_group("practice");
    group.sample_size(10);
    group.bench_function("icb_run", |b| {
        b.iter(|| black_box(engine::run_from(&icb.model, 0, n, Keep::Tallies, &|_| {})))
    });
    group.bench_function("practice_run", |b| {
        b.iter(|| {
            black_box(engine::run_from(
                &practice.model,
                0,
                n,
                Keep::Tallies,
                &|_| {},
            ))
        })
    });
    group.bench_function("practice_floor", |b| {
        b.iter(|| black_box(engine::sampling_floor(&practice.model, n)))
    });
    group.finish();
}

fn summarise(c: &mut Criterion) {
    let p = scenario();
    let draws = engine::run_from(&p.model, 0, 10_000, Keep::Tallies, &|_| {});
    let mut group = c.benchmark_group("summary");
    group.sample_size(10);
    group.throughput(Throughput::Elements((10_000 * p.table.len()) as u64));
    group.bench_function("10000", |b| {
        b.iter(|| black_box(RunSummary::new(&p.scenario, &p.table, &p.model, &draws)))
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
    // Every uncertain factor of the shipped scenarios (and its baseline), each drawn from its
    // keyed stream once an iteration: the average cost of a draw over the distributions the
    // scenarios use (`benches/measure.sh` prints it in nanoseconds).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut dists: Vec<(u64, Dist)> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let p = prepare(&Config::new(&path)).expect("shipped scenario is valid");
        for slot in p.model.national.iter().chain(&p.model.per_icb) {
            dists.push((slot.stream, slot.dist.clone()));
            if let Some((stream, dist)) = &slot.baseline {
                dists.push((*stream, dist.clone()));
            }
        }
    }
    let rounds = 1000u64;
    group.throughput(Throughput::Elements(rounds * dists.len() as u64));
    group.bench_function(BenchmarkId::new("shipped_draws", dists.len()), |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for it in 0..rounds {
                for (factor, dist) in &dists {
                    sum += dist.sample(&mut stream(1, it, 7, *factor));
                }
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    engine_against_floor,
    threads,
    practice_level,
    summarise,
    sampling
);
criterion_main!(benches);
