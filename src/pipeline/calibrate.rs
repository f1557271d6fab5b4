//! `calibrate`: prior draws of the scenario's national factors, each published figure's
//! like-for-like quantity in every draw (the run derived for its scope, sharing the draws
//! through keyed streams), and the calibration of the one to the other.

use std::path::Path;
use std::time::Instant;

use crate::benchmark::{self, Benchmark, Quantity};
use crate::calibrate::{self, Calibration, FactorDraws, Target, Unused, DEFAULT_DISCREPANCY};
use crate::engine::{self, Keep};
use crate::error::{Error, FileProblems, Problem, Result};
use crate::output;

use super::commands::{per_iteration, run_info};
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
    let started = Instant::now();
    let (name, figures) = benchmark::load(benchmarks)?;
    check_figures(&name, &figures)?;
    if sim.target_rse.is_some() {
        return Err(Error::input(
            "--target-rse",
            Problem::new(
                None,
                "iterations",
                "calibration draws a fixed number of prior draws: use --draws",
            ),
        ));
    }
    let ready = simulate::ready(config, &per_iteration(sim), obs)?;
    let p = &ready.prepared;
    if engine::needs_whole_run(&p.model) {
        return Err(Error::input(
            p.scenario_file.source.clone(),
            Problem::new(
                None,
                "scenario.sampling",
                "calibration pairs each prior draw with the figures' derived runs through keyed streams, so the national factors must be drawn one iteration at a time: use sampling = \"monte_carlo\" and no [[correlations]]",
            ),
        ));
    }
    let n = ready.iterations;
    obs.note(&format!(
        "Calibrating {} on {n} prior draws against {} figures of {name}",
        p.scenario.name,
        figures.len()
    ));
    obs.start((n * (1 + figures.len())) as u64);
    let (prior, evaluated) = ready.pool.install(|| {
        let prior = engine::run_from(&p.model, 0, n, Keep::PerIteration, &|k| obs.advance(k));
        let evaluated: Vec<_> = figures
            .iter()
            .map(|b| {
                let e = match &b.same_as {
                    Some(_) => Err(String::new()),
                    None => benchmark::evaluate(b, &p.scenario, &p.table, p.practices.as_ref()),
                };
                obs.advance(n as u64);
                e
            })
            .collect();
        (prior, evaluated)
    });
    obs.finish();
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    let factors: Vec<FactorDraws> = p
        .model
        .national
        .iter()
        .enumerate()
        .map(|(j, slot)| FactorDraws {
            path: slot.path.clone(),
            values: prior.national_factor(j),
        })
        .collect();
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
        match (e, b.published_gbp, b.published_sd_gbp) {
            (Ok(e), Some(published), Some(sd)) => targets.push(Target {
                id: b.id.clone(),
                label: b.label.clone(),
                published,
                observation_sd: sd,
                discrepancy_sd: b
                    .discrepancy_sd_gbp
                    .unwrap_or(DEFAULT_DISCREPANCY * published),
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
    let calibration = calibrate::calibrate(&factors, &targets);
    let info = run_info(p, ready.threads, &config.scenario, started);
    output::write_calibration(
        out,
        &p.scenario,
        &p.table,
        &output::CalibrationFiles {
            calibration: &calibration,
            factors: &factors,
            targets: &targets,
            unused: &unused,
            benchmarks: &name,
        },
        &info,
        n,
    )?;
    Ok(Calibrated {
        prepared: ready.prepared,
        calibration,
        unused,
        benchmarks: name,
    })
}

/// Every cost figure needs its observation sd; counts are shown for context and skipped.
fn check_figures(file: &str, figures: &[Benchmark]) -> Result<()> {
    let problems: Vec<Problem> = figures
        .iter()
        .filter(|b| b.quantity != Quantity::Count && b.published_sd_gbp.is_none())
        .map(|b| {
            Problem::new(
                Some(b.line),
                "published_sd_gbp",
                format!(
                    "'{}': calibration needs the figure's observation sd (£): how far the published figure may be from the quantity it measures",
                    b.id
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
