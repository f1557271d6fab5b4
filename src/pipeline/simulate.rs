//! Simulating a prepared scenario: a worker pool, a memory check before any work, a fixed run
//! or batches until a target standard error, and the check that every cost is finite.

use crate::engine::{self, Draws, Keep};
use std::path::Path;
use std::time::Instant;

use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::provenance::RunInfo;

use super::{in_scenario, prepare, Config, Observer, Prepared};

/// How a command simulates.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Worker threads (`None`: RAYON_NUM_THREADS or one per core). Results do not depend on it.
    pub threads: Option<usize>,
    /// Run in batches until the relative standard error of the national mean is at most this.
    pub target_rse: Option<f64>,
    /// Upper bound on iterations with `target_rse`.
    pub max_iterations: u64,
    /// What to keep of each iteration.
    pub keep: Keep,
    /// Stops this work alone (its worker threads and the calling thread, which must have
    /// entered it); `None`: only a signal stops it.
    pub cancel: Option<crate::cancel::Token>,
    /// Also write each chart as PNG at print resolution, beside its SVG.
    pub png: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            threads: None,
            target_rse: None,
            max_iterations: 1_000_000,
            keep: Keep::Tallies,
            cancel: None,
            png: false,
        }
    }
}

/// A finished simulation.
pub struct Simulation {
    pub prepared: Prepared,
    pub draws: Draws,
    pub threads: usize,
    /// The worker pool the run used, for the work that follows (summaries, outputs).
    pub pool: rayon::ThreadPool,
    /// With a target standard error: the iteration count after each batch.
    pub checkpoints: Option<Vec<usize>>,
    pub target_rse: Option<f64>,
}

/// A prepared scenario and the worker pool to run it, checked to fit in memory: where every
/// simulation starts.
pub(super) struct Ready {
    pub prepared: Prepared,
    pub pool: rayon::ThreadPool,
    pub threads: usize,
    pub iterations: usize,
}

impl SimConfig {
    /// Refuses `--target-rse` for work that runs one fixed iteration count: a problem of the
    /// `iterations` field of `file` (the option that asked for it), saying `why`.
    pub(super) fn fixed_count(&self, file: &str, why: &str) -> Result<()> {
        match self.target_rse {
            None => Ok(()),
            Some(_) => Err(Error::input(file, Problem::new(None, "iterations", why))),
        }
    }
}

/// The worker threads `sim` asks for (one per core by default), each seeing its
/// cancellation token.
pub(super) fn pool(sim: &SimConfig) -> Result<rayon::ThreadPool> {
    let token = sim.cancel.clone();
    rayon::ThreadPoolBuilder::new()
        .num_threads(sim.threads.unwrap_or(0))
        .start_handler(move |_| {
            if let Some(token) = &token {
                token.adopt();
            }
        })
        .build()
        .map_err(|e| Error::Output(format!("cannot start worker threads: {e}")))
}

/// Prepares the scenario of `config` (saying its warnings), starts the worker pool and checks
/// that a run as `sim` asks fits in this machine's memory.
pub(super) fn ready(config: &Config, sim: &SimConfig, obs: &dyn Observer) -> Result<Ready> {
    let p = prepare(config)?;
    for w in &p.model.warnings {
        obs.warn(w);
    }
    if sim.target_rse.is_some() && engine::needs_whole_run(&p.model) {
        return Err(Error::input(
            "--target-rse",
            Problem::new(
                None,
                "sampling",
                "a Latin hypercube or correlated inputs need a fixed iteration count: use --iterations instead of --target-rse",
            ),
        ));
    }
    let iterations =
        usize::try_from(p.scenario.iterations).map_err(|_| too_many(p.scenario.iterations))?;
    let pool = pool(sim)?;
    let threads = pool.current_num_threads();
    obs.note(&format!(
        "Simulating {} ({} ICBs, {} months from {}, {}) with {} iterations, seed {}, {} threads",
        p.scenario.name,
        p.table.len(),
        p.scenario.months,
        p.scenario.start,
        p.scenario.cost_view.describe(),
        iterations,
        p.scenario.seed,
        threads
    ));
    let most = sim
        .target_rse
        .map_or(iterations as u64, |_| sim.max_iterations);
    check_memory(&p.model, most, sim.keep, threads, 0)?;
    Ok(Ready {
        prepared: p,
        pool,
        threads,
        iterations,
    })
}

/// Prepares the scenario of `config` and simulates it.
pub fn simulate(config: &Config, sim: &SimConfig, obs: &dyn Observer) -> Result<Simulation> {
    let Ready {
        prepared: p,
        pool,
        threads,
        iterations,
    } = ready(config, sim, obs)?;
    let (draws, checkpoints) = match sim.target_rse {
        None => {
            obs.start(iterations as u64);
            let draws = pool.install(|| {
                engine::run_from(&p.model, 0, iterations, sim.keep, &|n| obs.advance(n))
            });
            obs.finish();
            (draws, None)
        }
        Some(target) => {
            let max =
                usize::try_from(sim.max_iterations).map_err(|_| too_many(sim.max_iterations))?;
            let (draws, ends) =
                pool.install(|| until_converged(&p.model, iterations, max, target, sim.keep, obs));
            (draws, Some(ends))
        }
    };
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    if let Some(problem) = engine::non_finite(&p.model, &p.table.codes, &draws) {
        return Err(in_scenario(&config.scenario, vec![problem]));
    }
    Ok(Simulation {
        prepared: p,
        draws,
        threads,
        pool,
        checkpoints,
        target_rse: sim.target_rse,
    })
}

/// Runs batches of `batch` iterations until the relative standard error of the national mean
/// is at most `target` or `max` iterations are done. Deterministic: the result is the run of
/// that many iterations. Returns the draws and the iteration count after each batch.
fn until_converged(
    model: &Model,
    batch: usize,
    max: usize,
    target: f64,
    keep: Keep,
    obs: &dyn Observer,
) -> (Draws, Vec<usize>) {
    // Batches end on block boundaries, so that the batches appended equal one run.
    let batch = batch.next_multiple_of(engine::BLOCK);
    obs.start(max as u64);
    let mut draws = engine::run_from(model, 0, batch.min(max), keep, &|n| obs.advance(n));
    let mut ends = vec![draws.iterations];
    loop {
        let trace = crate::stats::convergence_trace(&draws.national, &[draws.iterations]);
        let rse = trace.first().map_or(f64::INFINITY, |t| t.rse);
        if rse <= target || draws.iterations >= max {
            break;
        }
        let more = batch.min(max - draws.iterations);
        draws.append(engine::run_from(
            model,
            draws.iterations as u64,
            more,
            keep,
            &|n| obs.advance(n),
        ));
        ends.push(draws.iterations);
    }
    obs.finish();
    (draws, ends)
}

/// Refuses, before any work, a run whose results could not fit in this machine's memory,
/// beside `held_per_iteration` bytes per iteration that the command's earlier runs still hold
/// (a comparison's baseline, the cost of delay's national totals of each month settled).
pub(super) fn check_memory(
    m: &Model,
    iterations: u64,
    keep: Keep,
    threads: usize,
    held_per_iteration: u64,
) -> Result<()> {
    let quantities =
        (m.n_icb() * (1 + m.n_actions) + m.n_actions + m.months + m.groups.len() + 1) as u64;
    // The national total (kept, then copied twice by the summary) and each block's moments.
    let mut per_iteration = 3 * 8 + quantities * 24 / engine::BLOCK as u64 + 1 + held_per_iteration;
    if keep == Keep::PerIteration {
        per_iteration += kept_per_iteration(m);
    }
    // A sketch per quantity and thread, rarely above 64 KiB each.
    let fixed = quantities * (threads as u64 + 1) * (64 << 10);
    let needed = iterations
        .saturating_mul(per_iteration)
        .saturating_add(fixed);
    let available = available_memory().unwrap_or(u64::MAX);
    if needed > available {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(iterations_problem(format!(
            "{iterations} iterations need about {:.1} GiB of memory and this machine has {:.1} GiB available; use fewer iterations",
            gib(needed),
            gib(available)
        )));
    }
    if iterations > u64::from(u32::MAX) {
        return Err(iterations_problem(format!(
            "{iterations} is more than a run can count (at most {})",
            u32::MAX
        )));
    }
    Ok(())
}

/// The bytes a run of `m` kept per iteration holds for each iteration (its ICB and action
/// costs and national factors, and a copy): what a comparison holds of each earlier run.
pub(super) fn kept_per_iteration(m: &Model) -> u64 {
    (m.n_icb() * (1 + m.n_actions) + m.national.len()) as u64 * 8 * 2
}

/// `MemAvailable` from /proc/meminfo, in bytes (None where there is no such file).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn too_many(n: u64) -> Error {
    iterations_problem(format!("{n} is more than this machine can address"))
}

fn iterations_problem(message: String) -> Error {
    Error::input("--iterations", Problem::new(None, "iterations", message))
}

/// How a run of `prepared` on `threads` came about, for its manifest.
pub(super) fn run_info(
    prepared: &Prepared,
    threads: usize,
    scenario_path: &Path,
    started: Instant,
    sim: &SimConfig,
) -> RunInfo {
    RunInfo {
        scenario_path: scenario_path.to_path_buf(),
        scenario: prepared.scenario_file.clone(),
        other_inputs: prepared.other_inputs(),
        threads,
        wall_seconds: started.elapsed().as_secs_f64(),
        png: sim.png,
    }
}

/// `sim` keeping every iteration's values.
pub(super) fn per_iteration(sim: &SimConfig) -> SimConfig {
    SimConfig {
        keep: Keep::PerIteration,
        ..sim.clone()
    }
}
