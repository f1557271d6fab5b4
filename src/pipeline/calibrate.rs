//! `calibrate`: prior draws of the scenario's national factors, each published figure's
//! like-for-like quantity in every draw (the run derived for its scope, sharing the draws
//! through keyed streams), and the calibration of the one to the other.

use std::path::Path;
use std::time::Instant;

use crate::benchmark::{self, Benchmark, Quantity};
use crate::calibrate::{
    self, wave_seed, Calibration, FactorDraws, Target, Unused, DEFAULT_DISCREPANCY, MAX_WAVES,
};
use crate::engine;
use crate::error::{Error, FileProblems, Problem, Result};
use crate::output;
use crate::scenario::Scenario;

use super::simulate::{per_iteration, run_info};
use super::{simulate, Config, Observer, Prepared, SimConfig};

/// The results of `calibrate`.
pub struct Calibrated {
    pub prepared: Prepared,
    pub calibration: Calibration,
    pub unused: Vec<Unused>,
    /// The benchmark table's name.
    pub benchmarks: String,
}

/// `calibrate`: calibrates the scenario's national factors to the published figures of
/// `benchmarks` (default: the embedded table) on `config`'s iterations as prior draws, and
/// writes the results to `out`.
pub fn calibrate(
    config: &Config,
    sim: &SimConfig,
    benchmarks: Option<&Path>,
    out: &Path,
    obs: &dyn Observer,
) -> Result<Calibrated> {
    let (name, figures) = benchmark::load(benchmarks)?;
    calibrate_figures(config, sim, (&name, &figures), out, obs)
}

/// [`calibrate`] on `figures`, read from the table called `name`.
pub(super) fn calibrate_figures(
    config: &Config,
    sim: &SimConfig,
    (name, figures): (&str, &[Benchmark]),
    out: &Path,
    obs: &dyn Observer,
) -> Result<Calibrated> {
    let started = Instant::now();
    check_figures(name, figures)?;
    sim.fixed_count(
        "--target-rse",
        "calibration draws a fixed number of prior draws: use --draws",
    )?;
    let ready = simulate::ready(config, &per_iteration(sim), obs)?;
    let p = &ready.prepared;
    p.prior_only("calibrate")?;
    if engine::needs_whole_run(&p.model) {
        return Err(Error::input(
            p.scenario_file.source.clone(),
            Problem::new(
                None,
                "scenario.sampling",
                format!(
                    "calibration pairs each prior draw with the figures' derived runs through keyed streams, so the national factors must be drawn one iteration at a time: {}",
                    crate::scenario::Sampling::one_at_a_time_hint()
                ),
            ),
        ));
    }
    let n = ready.iterations;
    obs.note(&format!(
        "Calibrating {} on {n} prior draws against {} figures of {name}",
        p.scenario.name,
        figures.len()
    ));
    let mut waves = 1;
    let (mut factors, mut targets, unused) =
        wave(p, &ready.pool, (name, figures), n, 1, None, obs)?;
    let mut calibration = calibrate::calibrate(&factors, &targets);
    let first = calibration.clone();
    let mut shares = vec![calibration.non_implausible_share];
    // Refocus while too few draws carry the weight but some are non-implausible.
    while !calibration.posterior_reported
        && calibration.non_implausible_share > 0.0
        && waves < MAX_WAVES
    {
        waves += 1;
        let next = calibrate::refocus(
            &p.model.national,
            &factors,
            &calibration.implausibility,
            wave_seed(p.scenario.seed, waves),
            n,
        );
        obs.note(&format!(
            "Wave {waves}: {} of the draws were non-implausible; drawing again within their range",
            crate::money::percent(calibration.non_implausible_share)
        ));
        (factors, targets, _) = wave(p, &ready.pool, (name, figures), n, waves, Some(next), obs)?;
        calibration = calibrate::calibrate(&factors, &targets);
        shares.push(calibration.non_implausible_share);
    }
    calibration.with_prior_of(&first, shares);
    let info = run_info(p, ready.threads, &config.scenario, started, sim);
    output::write_calibration(
        out,
        &p.scenario,
        &p.table,
        &output::CalibrationFiles {
            calibration: &calibration,
            factors: &factors,
            targets: &targets,
            unused: &unused,
            benchmarks: name,
        },
        &info,
        n,
    )?;
    Ok(Calibrated {
        prepared: ready.prepared,
        calibration,
        unused,
        benchmarks: name.to_string(),
    })
}

/// One wave: the national factors' draws (the prior's, or `given` for a refocused wave) and
/// each usable figure's quantity in every draw; the figures not used, with the reason.
fn wave(
    p: &Prepared,
    pool: &rayon::ThreadPool,
    (name, figures): (&str, &[Benchmark]),
    n: usize,
    wave: usize,
    given: Option<Vec<FactorDraws>>,
    obs: &dyn Observer,
) -> Result<(Vec<FactorDraws>, Vec<Target>, Vec<Unused>)> {
    let seed = wave_seed(p.scenario.seed, wave);
    let scenario = Scenario {
        seed,
        ..p.scenario.clone()
    };
    let factors = given.unwrap_or_else(|| calibrate::prior_draws(&p.model.national, seed, n));
    obs.start((n * figures.len()) as u64);
    let evaluated: Vec<_> = pool.install(|| {
        figures
            .iter()
            .map(|b| {
                let e = match &b.same_as {
                    Some(_) => Err(String::new()),
                    None => benchmark::evaluate(
                        b,
                        &scenario,
                        &p.table,
                        p.practices.as_ref(),
                        (wave > 1).then_some(factors.as_slice()),
                    ),
                };
                obs.advance(n as u64);
                e
            })
            .collect()
    });
    obs.finish();
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    let mut targets = Vec::new();
    let mut unused = Vec::new();
    for (b, e) in figures.iter().zip(evaluated) {
        if let Some(id) = &b.same_as {
            unused.push(Unused {
                id: b.id.clone(),
                reason: format!("restates {id}: one observation is counted once"),
            });
            continue;
        }
        match (e, b.published, b.published_sd) {
            (Ok(e), Some(published), Some(sd)) => targets.push(Target {
                id: b.id.clone(),
                label: b.label.clone(),
                published,
                unit: b.unit.clone(),
                observation_sd: sd,
                discrepancy_sd: b.discrepancy_sd.unwrap_or(
                    p.scenario
                        .calibration_discrepancy
                        .unwrap_or(DEFAULT_DISCREPANCY)
                        * published.abs(),
                ),
                observation: b.observation,
                values: e.values,
            }),
            (Err(reason), _, _) => unused.push(Unused {
                id: b.id.clone(),
                reason,
            }),
            _ => unreachable!("costs with an sd, checked by check_figures"),
        }
    }
    if targets.is_empty() {
        return Err(Error::input(
            name,
            Problem::new(
                None,
                "id",
                format!(
                    "no figure can be set against {}: {}",
                    p.scenario.name,
                    unused
                        .iter()
                        .map(|u| format!("{} ({})", u.id, u.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
        ));
    }
    Ok((factors, targets, unused))
}

/// Every cost figure needs its observation sd; counts are shown for context and skipped.
fn check_figures(file: &str, figures: &[Benchmark]) -> Result<()> {
    let problems: Vec<Problem> = figures
        .iter()
        .filter(|b| b.quantity != Quantity::Count && b.published_sd.is_none())
        .map(|b| {
            Problem::new(
                Some(b.line),
                "published_sd",
                format!(
                    "'{}': calibration needs the figure's observation sd (in its unit, {}): how far the published figure may be from the quantity it measures",
                    b.id, b.unit
                ),
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(vec![FileProblems {
            file: file.to_string(),
            problems,
        }]))
    }
}
