//! `settlement`: the cost of delay, the scenario settled in each month of a range and run on
//! the same draws.

use std::path::Path;
use std::time::Instant;

use crate::engine::{self, Keep};
use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::month::Month;
use crate::output;
use crate::settlement::Settlement;

use super::simulate::run_info;
use super::{simulate, Config, Observer, Prepared, SimConfig};

/// The scenario of `p` settled in each month of `range`, `n` iterations each on the same
/// draws (and the same posterior, if calibrated), in `pool`.
pub(super) fn settle(
    p: &Prepared,
    pool: &rayon::ThreadPool,
    (first, last): (Month, Month),
    n: usize,
    obs: &dyn Observer,
) -> Result<Settlement> {
    let months: Vec<Month> = (0..=last.since(first)).map(|k| first.plus(k)).collect();
    obs.note(&format!(
        "Settling {} in each of {} months, {first} to {last}, {n} iterations each",
        p.scenario.name,
        months.len()
    ));
    obs.start((n * months.len()) as u64);
    let runs = pool.install(|| {
        months
            .iter()
            .map(|&m| {
                let settled = p.scenario.settled_in(m);
                let mut model = match &p.practices {
                    Some(practices) => Model::at_practices(&settled, &p.table, practices),
                    None => Model::new(&settled, &p.table),
                }
                .expect(
                    "settling changes only end months, which compile wherever the scenario did",
                );
                model.posterior = p.model.posterior.clone();
                let draws = engine::run_from(&model, 0, n, Keep::Tallies, &|k| obs.advance(k));
                (m, draws.national)
            })
            .collect::<Vec<_>>()
    });
    obs.finish();
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    Ok(Settlement::new(runs, p.table.len()))
}

/// The results of `settlement`.
pub struct Settled {
    pub prepared: Prepared,
    pub settlement: Settlement,
    /// Iterations of each settlement month's run.
    pub iterations: usize,
    /// Worker threads.
    pub threads: usize,
}

/// `settlement`: the scenario of `config` settled in each month of `range` (default: every
/// month of its horizon), each run with the scenario's seed and iterations, so that every
/// settlement month shares the draws; written to `out`.
pub fn settlement(
    config: &Config,
    sim: &SimConfig,
    range: Option<(Month, Month)>,
    out: &Path,
    obs: &dyn Observer,
) -> Result<Settled> {
    let started = Instant::now();
    let settled = cost_of_delay(config, sim, range, obs)?;
    let p = &settled.prepared;
    let info = run_info(p, settled.threads, &config.scenario, started, sim);
    output::write_settlement(
        out,
        &p.scenario,
        &p.table,
        &settled.settlement,
        &info,
        settled.iterations,
    )?;
    Ok(settled)
}

/// `settlement` in memory: each month of `range` settled and run on the same draws, nothing
/// written.
pub fn cost_of_delay(
    config: &Config,
    sim: &SimConfig,
    range: Option<(Month, Month)>,
    obs: &dyn Observer,
) -> Result<Settled> {
    sim.fixed_count(
        "--target-rse",
        "settlement runs every month for one fixed iteration count: use --iterations",
    )?;
    let ready = simulate::ready(config, sim, obs)?;
    let p = &ready.prepared;
    let (first, last) = range.unwrap_or((p.scenario.start, p.scenario.end()));
    if first < p.scenario.start || last > p.scenario.end() {
        return Err(Error::input(
            "--months",
            Problem::new(
                None,
                "months",
                format!(
                    "{first}..{last} is not within the scenario's horizon, {}",
                    p.scenario.period()
                ),
            ),
        ));
    }
    // Each month settled keeps its national total of every iteration until the last is run.
    let settled_in = (last.since(first) + 1).max(1) as u64;
    simulate::check_memory(
        &p.model,
        ready.iterations as u64,
        Keep::Tallies,
        ready.threads,
        settled_in * 8,
    )?;
    let settlement = settle(p, &ready.pool, (first, last), ready.iterations, obs)?;
    Ok(Settled {
        prepared: ready.prepared,
        settlement,
        iterations: ready.iterations,
        threads: ready.threads,
    })
}
