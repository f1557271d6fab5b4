//! The commands as library calls: each simulates, analyses and writes its output directory,
//! and returns what a caller may want to show.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::benchmark::{self, Comparison};
use crate::compare::Compared;
use crate::engine::{self, Keep};
use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::output;
use crate::provenance::{Manifest, RunInfo, INPUTS};
use crate::report::{self, Report};
use crate::sensitivity::{self as sa, FactorName, SobolRow, TornadoRow};
use crate::summary::{ActivityResult, CalibratedHeadline, RunSummary};

use super::simulate::{per_iteration, run_info};
use super::{simulate, Config, Observer, Prepared, SimConfig, Simulation};

impl Simulation {
    /// The cost of delay over this run's horizon, on its draws.
    fn settlement(&self, obs: &dyn Observer) -> Result<crate::settlement::Settlement> {
        let p = &self.prepared;
        super::settlement::settle(
            p,
            &self.pool,
            (p.scenario.start, p.scenario.end()),
            self.draws.iterations,
            obs,
        )
    }

    /// The decision between the scenario's options, on this run's draws (its seed and
    /// iterations).
    fn decision(&self, obs: &dyn Observer) -> Result<crate::decide::Decision> {
        super::decide::decide_on(&self.prepared, &self.pool, self.draws.iterations, obs)
    }

    /// How this run came about, for its manifest.
    fn info(&self, scenario_path: &Path, started: Instant, sim: &SimConfig) -> RunInfo {
        run_info(&self.prepared, self.threads, scenario_path, started, sim)
    }

    /// The summary every output shows, with the convergence trace of a batched run and the
    /// activity the scenario counts.
    fn summary(&self) -> Result<RunSummary> {
        let p = &self.prepared;
        let mut summary = self
            .pool
            .install(|| RunSummary::new(&p.scenario, &p.table, &p.model, &self.draws));
        if let Some(ends) = &self.checkpoints {
            summary.trace = crate::stats::convergence_trace(&self.draws.national, ends);
            summary.target_rse = self.target_rse;
        }
        if p.model.posterior.is_some() {
            // The same run on the priors, for the headline beside the calibrated one.
            let prior = Model {
                posterior: None,
                ..p.model.clone()
            };
            let draws = self.pool.install(|| {
                engine::run_from(&prior, 0, self.draws.iterations, Keep::Tallies, &|_| {})
            });
            summary.calibrated = CalibratedHeadline::new(&p.model, &draws);
        }
        summary.activity = self.activities()?;
        Ok(summary)
    }

    /// Each activity the scenario's cost lines count, from its model run on this run's draws
    /// (the same seed and iterations, so the same factor values in every iteration).
    fn activities(&self) -> Result<Vec<ActivityResult>> {
        let p = &self.prepared;
        let scenario_error = |message: String| {
            Error::input(
                p.scenario_file.source.clone(),
                Problem::new(None, "activity", message),
            )
        };
        p.scenario
            .activities()
            .into_iter()
            .map(|name| {
                let model = p
                    .model
                    .of_activity(&p.scenario, &p.table, p.practices.as_ref(), name)
                    .map_err(scenario_error)?;
                let draws = self.pool.install(|| {
                    engine::run_from(&model, 0, self.draws.iterations, Keep::Tallies, &|_| {})
                });
                if crate::cancel::requested() {
                    return Err(Error::Interrupted);
                }
                if let Some(problem) = engine::non_finite(&model, &p.table.codes, &draws) {
                    return Err(scenario_error(format!("{name}: {}", problem.message)));
                }
                Ok(self
                    .pool
                    .install(|| ActivityResult::new(name, &p.scenario, &draws)))
            })
            .collect()
    }
}

/// A finished run and its summary.
pub struct RunOutput {
    pub simulation: Simulation,
    pub summary: RunSummary,
}

/// The files `run` writes only when asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Optional {
    /// `samples.parquet`: every iteration's cost per ICB and action, and the national factors.
    pub samples: bool,
    /// The briefing: `report.html` and `report.xlsx`.
    pub report: bool,
    /// The cost of delay over the horizon: `settlement.csv`, its chart and briefing section.
    pub settlement: bool,
    /// The decision between the scenario's options: `decision.csv`, `evppi.csv`, their
    /// charts and the briefing's section.
    pub decide: bool,
}

/// `run`: simulates and writes every table and chart to `out`, and the `optional` files.
pub fn run(
    config: &Config,
    sim: &SimConfig,
    out: &Path,
    optional: Optional,
    obs: &dyn Observer,
) -> Result<RunOutput> {
    let Optional {
        samples,
        report,
        settlement,
        decide,
    } = optional;
    let started = Instant::now();
    let keep = match samples {
        true => Keep::PerIteration,
        false => sim.keep,
    };
    let sim = SimConfig {
        keep,
        ..sim.clone()
    };
    let RunOutput {
        simulation,
        summary,
    } = summarise(config, &sim, Also { settlement, decide }, obs)?;
    let info = simulation.info(&config.scenario, started, &sim);
    let (p, draws) = (&simulation.prepared, &simulation.draws);
    simulation.pool.install(|| {
        let samples = match samples {
            true => Some(output::samples_frame(
                &p.scenario,
                &p.table,
                &sa::factor_names(&p.model),
                draws,
            )?),
            false => None,
        };
        output::write_run(
            out,
            &p.scenario,
            &p.table,
            &summary,
            &info,
            (samples, report),
        )
    })?;
    Ok(RunOutput {
        simulation,
        summary,
    })
}

/// What a run computes besides its summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Also {
    /// The cost of delay over the horizon.
    pub settlement: bool,
    /// The decision between the scenario's options.
    pub decide: bool,
}

/// A run simulated and summarised, with the cost of delay over its horizon and the decision
/// between its options when `also` asks for them, and nothing written: what `run` shows, in
/// memory.
pub fn summarise(
    config: &Config,
    sim: &SimConfig,
    also: Also,
    obs: &dyn Observer,
) -> Result<RunOutput> {
    let Also { settlement, decide } = also;
    if settlement {
        sim.fixed_count(
            "--settlement",
            "the cost of delay runs every settlement month for one fixed iteration count: use --iterations, not --target-rse",
        )?;
    }
    if decide {
        sim.fixed_count(
            "--decide",
            "a decision runs every option for one fixed iteration count: use --iterations, not --target-rse",
        )?;
    }
    let simulation = simulate(config, sim, obs)?;
    let mut summary = simulation.summary()?;
    for w in summary.warnings() {
        obs.warn(&w);
    }
    if settlement {
        summary.settlement = Some(simulation.settlement(obs)?);
    }
    if decide {
        summary.decision = Some(simulation.decision(obs)?);
    }
    Ok(RunOutput {
        simulation,
        summary,
    })
}

/// Published figures, each set against a run derived for its scope.
pub struct Benchmarked {
    /// The scenario the runs were derived from.
    pub prepared: Prepared,
    pub rows: Vec<Comparison>,
}

/// `benchmark`: sets each published figure of `benchmarks` (default: the embedded table)
/// against the simulated quantity on the same scope and writes them to `out`.
pub fn benchmark(
    config: &Config,
    sim: &SimConfig,
    benchmarks: Option<&Path>,
    out: &Path,
    obs: &dyn Observer,
) -> Result<Benchmarked> {
    let started = Instant::now();
    let (_, figures) = benchmark::load(benchmarks)?;
    sim.fixed_count(
        "--target-rse",
        "benchmark runs each figure for a fixed iteration count: use --iterations instead of --target-rse",
    )?;
    // The scenario as it is is not run: each figure is, on a run derived for its scope (none
    // larger than the scenario's, each keeping its iterations).
    let ready = super::simulate::ready(config, &per_iteration(sim), obs)?;
    let p = &ready.prepared;
    p.prior_only("benchmark")?;
    let rows = ready
        .pool
        .install(|| benchmark::compare(&figures, &p.scenario, &p.table, p.practices.as_ref()));
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    let info = run_info(p, ready.threads, &config.scenario, started, sim);
    output::write_benchmark(out, &p.scenario, &p.table, &rows, &info, ready.iterations)?;
    Ok(Benchmarked {
        prepared: ready.prepared,
        rows,
    })
}

/// The results of `sensitivity`.
pub struct SensitivityRun {
    pub simulation: Simulation,
    pub names: Vec<FactorName>,
    /// The expected national cost with every national factor at its median.
    pub base_national: f64,
    pub tornado: Vec<TornadoRow>,
    pub sobol: Vec<SobolRow>,
}

/// `sensitivity`: tornado, rank correlations and Sobol indices (base sample `sobol_samples`,
/// `bootstrap` resamples), written to `out`.
pub fn sensitivity(
    config: &Config,
    sim: &SimConfig,
    sobol_samples: usize,
    bootstrap: usize,
    out: &Path,
    obs: &dyn Observer,
) -> Result<SensitivityRun> {
    let started = Instant::now();
    let simulation = simulate(config, &per_iteration(sim), obs)?;
    let p = &simulation.prepared;
    p.prior_only("sensitivity")?;
    let names = sa::factor_names(&p.model);
    // The tornado and Sobol indices evaluate expected costs, which practice-level
    // participation leaves as they are (it widens the spread, not the mean): they use the
    // ICB-level model, whose national factors are the same, in the same order.
    let icb_level = p
        .model
        .practices
        .as_ref()
        .map(|_| Model::new(&p.scenario, &p.table).expect("compiled at practice level"));
    let expected = icb_level.as_ref().unwrap_or(&p.model);
    let ((base_national, tornado), ranks, sobol, by_action) = simulation.pool.install(|| {
        (
            sa::tornado(expected),
            sa::rank_sensitivity(&simulation.draws, &p.table.codes),
            sa::sobol_indices(expected, sobol_samples, false, bootstrap),
            sa::sobol_indices(expected, sobol_samples, true, bootstrap),
        )
    });
    let info = simulation.info(&config.scenario, started, sim);
    let result = sa::Sensitivity {
        names: &names,
        base_national,
        tornado: &tornado,
        ranks: &ranks,
        sobol: &sobol,
        sobol_by_action: &by_action,
        n_icb: p.table.len(),
    };
    output::write_sensitivity(
        out,
        &p.scenario,
        &p.table,
        &result,
        &info,
        simulation.draws.iterations,
    )?;
    Ok(SensitivityRun {
        simulation,
        names,
        base_national,
        tornado,
        sobol,
    })
}

/// A baseline and the scenarios compared with it.
pub struct ComparedRuns {
    pub baseline: Simulation,
    pub compared: Vec<Compared>,
}

/// `compare`: runs `baseline` and then each of `others` with the baseline's iterations and
/// seed (common random numbers), and writes the paired differences B − A to `out`.
/// `config.scenario` is ignored; its other settings apply to every scenario.
pub fn compare(
    config: &Config,
    baseline: &Path,
    others: &[PathBuf],
    sim: &SimConfig,
    out: &Path,
    obs: &dyn Observer,
) -> Result<ComparedRuns> {
    let started = Instant::now();
    let with = |path: &Path| Config {
        scenario: path.to_path_buf(),
        ..config.clone()
    };
    let others: Vec<Config> = others.iter().map(|p| with(p)).collect();
    let runs = pair(&with(baseline), &others, sim, obs)?;
    let info = runs.baseline.info(baseline, started, sim);
    let a = &runs.baseline.prepared;
    output::write_compare(
        out,
        &a.scenario,
        &a.table,
        &runs.compared,
        &info,
        runs.baseline.draws.iterations,
    )?;
    Ok(runs)
}

/// Runs `baseline` and then each of `others` with the baseline's iterations and seed (common
/// random numbers), and pairs each with it, iteration by iteration: `compare` in memory.
pub fn pair(
    baseline: &Config,
    others: &[Config],
    sim: &SimConfig,
    obs: &dyn Observer,
) -> Result<ComparedRuns> {
    let sim = per_iteration(sim);
    let base = simulate(baseline, &sim, obs)?;
    let (iterations, seed) = (base.draws.iterations as u64, base.prepared.scenario.seed);
    // Each other run is made while the baseline's draws are held (each the baseline's size,
    // the same ICBs and, as a rule, about as many actions).
    if !others.is_empty() {
        let m = &base.prepared.model;
        super::simulate::check_memory(
            m,
            iterations,
            Keep::PerIteration,
            base.threads,
            super::simulate::kept_per_iteration(m),
        )?;
    }
    let mut compared = Vec::new();
    for config in others {
        let config = Config {
            iterations: Some(iterations),
            seed: Some(seed),
            ..config.clone()
        };
        let other = simulate(&config, &sim, obs)?;
        let (a, b) = (&base.prepared, &other.prepared);
        if let Some(why) = crate::compare::unpairable(&a.table, &b.table, &base.draws, &other.draws)
        {
            return Err(Error::input(
                config.scenario.display().to_string(),
                Problem::new(None, "compare", why),
            ));
        }
        let rows = base
            .pool
            .install(|| crate::compare::paired(&a.table, &base.draws, &other.draws));
        compared.push(Compared {
            path: config.scenario.clone(),
            sha256: b.scenario_file.sha256.clone(),
            scenario: b.scenario.clone(),
            rows,
        });
    }
    Ok(ComparedRuns {
        baseline: base,
        compared,
    })
}

/// What `report` wrote.
pub enum ReportOutput {
    /// The briefing of the run: `report.html` and `report.xlsx` in the run directory.
    Briefing(PathBuf),
    /// One ICB's one-pager, `icb-<CODE>.html`.
    OnePager { code: String, path: PathBuf },
}

/// `report`: reproduces the run in `dir` from the inputs and settings it recorded, then
/// writes its briefing or, with `icb`, that ICB's one-pager.
pub fn report(dir: &Path, icb: Option<&str>, obs: &dyn Observer) -> Result<ReportOutput> {
    let started = Instant::now();
    let manifest = Manifest::read(dir)?;
    let inputs = dir.join(INPUTS);
    let recorded = |name: &str| Some(inputs.join(name)).filter(|p| p.is_file());
    let (Some(scenario), Some(data)) = (recorded("scenario.toml"), recorded("icbs.csv")) else {
        return Err(Error::input(
            dir.join(crate::provenance::MANIFEST).display().to_string(),
            Problem::new(
                None,
                "manifest",
                format!("the run did not record its inputs in {}", inputs.display()),
            ),
        ));
    };
    let config = Config {
        scenario,
        data: Some(data),
        practices: recorded("practices.csv"),
        footprint: recorded("footprint.csv"),
        icb_map: recorded("icb_map.csv"),
        posterior: recorded(crate::posterior::DRAWS_FILE),
        view: Some(manifest.cost_view),
        granularity: Some(manifest.granularity),
        iterations: Some(manifest.iterations as u64),
        seed: Some(manifest.seed),
        set: manifest.set.clone(),
        text: None,
    };
    // An ICB the run does not have is refused before anything is simulated.
    if let Some(code) = icb {
        let prepared = super::prepare(&config)?;
        if let Err(why) = prepared.table.row_of(code) {
            return Err(Error::input("--icb", Problem::new(None, "icb", why)));
        }
    }
    let keep = match icb {
        Some(_) => Keep::PerIteration,
        None => Keep::Tallies,
    };
    let sim = SimConfig {
        keep,
        png: manifest.png,
        ..SimConfig::default()
    };
    let mut simulation = simulate(&config, &sim, obs)?;
    // The reproduced run keeps the provenance of the original.
    simulation.prepared.table.file.source = manifest.data.path.clone();
    if let (Some(record), Some(posterior)) = (
        &manifest.posterior,
        simulation.prepared.model.posterior.as_mut(),
    ) {
        posterior.source = record.path.clone();
    }
    if let (Some(record), Some(file)) =
        (&manifest.posterior, simulation.prepared.posterior.as_mut())
    {
        file.source = record.path.clone();
    }
    let mut summary = simulation.summary()?;
    if manifest.settlement {
        summary.settlement = Some(simulation.settlement(obs)?);
    }
    if manifest.decide {
        summary.decision = Some(simulation.decision(obs)?);
    }
    let info = simulation.info(Path::new(&manifest.scenario.path), started, &sim);
    let p = &simulation.prepared;
    match icb {
        Some(code) => {
            let i = p
                .table
                .row_of(code)
                .map_err(|why| Error::input("--icb", Problem::new(None, "icb", why)))?;
            let briefing = Report {
                scenario: &p.scenario,
                table: &p.table,
                summary: &summary,
                info: &info,
                charts: &[],
            };
            let html = report::one_pager(&briefing, &p.model, &simulation.draws, i)?;
            let code = p.table.codes[i].clone();
            let path = dir.join(format!("icb-{code}.html"));
            output::write_file_atomically(&path, html.as_bytes())?;
            Ok(ReportOutput::OnePager { code, path })
        }
        None => {
            simulation.pool.install(|| {
                output::write_run(dir, &p.scenario, &p.table, &summary, &info, (None, true))
            })?;
            Ok(ReportOutput::Briefing(dir.join("report.html")))
        }
    }
}
