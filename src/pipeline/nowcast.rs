//! The nowcast in memory: a scenario calibrated to the figures the prescribing data give so
//! far (`data observed --benchmarks-out`), the calibrated run with the prior's headline beside
//! it, and what the model expects the observed figure's quantity to be month by month, on
//! the priors and calibrated. The command line's sequence is `calibrate` then
//! `run --posterior`; this runs the same two (the calibration written to a temporary
//! directory and read back as `run --posterior` reads it), for the explorer.

use crate::benchmark::{Benchmark, Quantity};
use crate::engine::{self, Keep};
use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::scenario::Scope;
use crate::stats::Summary;
use crate::summary::Expected;

use super::calibrate::{calibrate_figures, Calibrated};
use super::commands::{summarise, Also, RunOutput};
use super::{Config, Observer, Prepared, SimConfig};

/// The results of [`nowcast`].
pub struct Nowcast {
    /// The calibration, as `calibrate` gives it (the scenario on its priors among it).
    pub calibrated: Calibrated,
    /// The run calibrated (its summary holds the priors' headline beside its own) when the
    /// calibration reported a posterior, else on the priors.
    pub run: RunOutput,
    /// The national figure's quantity month by month, when the figures have one.
    pub expected: Option<Expected>,
}

/// Calibrates the scenario of `config` to `figures` (named `name`), runs it calibrated when the
/// calibration reports a posterior, and derives the national figure's months.
pub fn nowcast(
    config: &Config,
    sim: &SimConfig,
    (name, figures): (String, Vec<Benchmark>),
    obs: &dyn Observer,
) -> Result<Nowcast> {
    let dir =
        tempfile::tempdir().map_err(|e| Error::io("cannot create", "a temporary directory", e))?;
    let calibration_dir = dir.path().join("calibration");
    let national = figures
        .iter()
        .find(|b| b.quantity == Quantity::NationalTotal && b.published.is_some())
        .cloned();
    let calibrated = calibrate_figures(config, sim, (&name, &figures), &calibration_dir, obs)?;
    let reported = calibrated.calibration.posterior_reported;
    let config = Config {
        posterior: reported.then(|| calibration_dir.clone()),
        ..config.clone()
    };
    let run = summarise(&config, sim, Also::default(), obs)?;
    let expected = match national {
        Some(figure) => Some(expected(
            &calibrated.prepared,
            reported.then_some(&run),
            figure,
            sim,
            obs,
        )?),
        None => None,
    };
    Ok(Nowcast {
        calibrated,
        run,
        expected,
    })
}

/// `figure`'s quantity month by month, from its first month to the scenario's end: on `p`'s
/// priors, and on the posterior of `run` when there is one (its draws of the factors the
/// derived run keeps).
fn expected(
    p: &Prepared,
    run: Option<&RunOutput>,
    figure: Benchmark,
    sim: &SimConfig,
    obs: &dyn Observer,
) -> Result<Expected> {
    let (first, last) = figure
        .scope
        .period
        .unwrap_or((p.scenario.start, p.scenario.end()));
    let scope = Scope {
        period: Some((first, p.scenario.end().max(first))),
        ..figure.scope.clone()
    };
    let derived = p.scenario.within(&scope).map_err(|why| {
        Error::input(
            p.scenario_file.source.clone(),
            Problem::new(None, "benchmarks", format!("{}: {why}", figure.id)),
        )
    })?;
    let compile = || {
        match &p.practices {
            Some(practices) => Model::at_practices(&derived, &p.table, practices),
            None => Model::new(&derived, &p.table),
        }
        .expect("a scope the scenario expresses compiles")
    };
    let prior = compile();
    let n = p.scenario.iterations as usize;
    let pool = super::simulate::pool(sim)?;
    let cumulated = |model: &Model| -> Vec<Summary> {
        obs.start(n as u64);
        let draws =
            pool.install(|| engine::run_from(model, 0, n, Keep::Tallies, &|k| obs.advance(k)));
        obs.finish();
        (0..draws.months)
            .map(|m| draws.tally(draws.layout.cumulative(m)).summary())
            .collect()
    };
    let prior_months = cumulated(&prior);
    let calibrated = match run {
        Some(run) => {
            let full = &run.simulation.prepared.model;
            let resample = full
                .posterior
                .as_ref()
                .expect("a calibrated run has a posterior");
            let mut model = compile();
            model.posterior = Some(resample.for_slots(&full.national, &model.national));
            Some(cumulated(&model))
        }
        None => None,
    };
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    Ok(Expected {
        id: figure.id,
        label: figure.label,
        published: figure.published.unwrap_or(0.0),
        published_sd: figure.published_sd.unwrap_or(0.0),
        observed: (first, last),
        months: (0..prior_months.len())
            .map(|m| first.plus(m as i32))
            .collect(),
        prior: prior_months,
        calibrated,
    })
}
