//! A calibration's directory: `posterior.csv`, `calibration.csv`, `posterior_draws.parquet`,
//! `summary.json`, its inputs and a manifest.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::calibrate::{
    Calibration, Conflict, FactorDraws, Interval, Target, Unused, CUTOFF, MIN_ESS,
};
use crate::data::IcbTable;
use crate::error::Result;
use crate::money::pence;
use crate::provenance::{RunInfo, MANIFEST};
use crate::scenario::Scenario;

use super::tables::{write_csv, write_json, write_parquet};
use super::{manifest, replace_dir, write_charts, write_inputs};

/// What a calibration hands the writer.
pub struct CalibrationFiles<'a> {
    pub calibration: &'a Calibration,
    /// The prior draws of the national factors.
    pub factors: &'a [FactorDraws],
    /// The figures used, with their quantity in each draw.
    pub targets: &'a [Target],
    pub unused: &'a [Unused],
    /// The benchmark table's name.
    pub benchmarks: &'a str,
}

/// Writes a calibration to `out`, replacing a previous one's directory as a whole.
pub fn write_calibration(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    files: &CalibrationFiles,
    info: &RunInfo,
    draws: usize,
) -> Result<()> {
    let c = files.calibration;
    let charts = crate::chart::calibration_charts(scenario, c)?;
    replace_dir(out, |dir| {
        write_csv(&dir.join("posterior.csv"), posterior_table(c)?)?;
        write_csv(&dir.join("calibration.csv"), figure_table(c)?)?;
        write_parquet(&dir.join("posterior_draws.parquet"), draws_frame(files)?)?;
        write_json(&dir.join("summary.json"), &summary(scenario, files))?;
        write_charts(dir, &charts, info.png)?;
        write_inputs(dir, table, info)?;
        write_json(&dir.join(MANIFEST), &manifest(scenario, table, draws, info))
    })
}

/// A calibration in memory, as the explorer's nowcast sends it: `posterior` and `figures`
/// (`posterior.csv` and `calibration.csv`, a row an object), and the summary's figures
/// (`summary.json`'s draws, waves, ESS, non-implausible share, whether a posterior is
/// reported, the figures not used and why, and any conflicts).
pub fn calibration_document(
    scenario: &Scenario,
    c: &Calibration,
    unused: &[Unused],
    benchmarks: &str,
) -> Result<serde_json::Value> {
    let rows = |frame: DataFrame| super::memory::rows(&frame);
    let document = serde_json::json!({
        "benchmarks": benchmarks,
        "scenario": scenario.name,
        "draws": c.draws,
        "waves": c.waves,
        "ess": c.ess,
        "min_ess": MIN_ESS,
        "non_implausible_share": c.non_implausible_share,
        "posterior_reported": c.posterior_reported,
        "figures_not_used": unused,
        "conflicts": c.conflicts,
        "posterior": rows(posterior_table(c)?)?,
        "figures": rows(figure_table(c)?)?,
    });
    Ok(document)
}

fn interval_columns(prefix: &str, rows: &[Option<Interval>], money: bool) -> Vec<Column> {
    let round = |x: f64| if money { pence(x) } else { x };
    let col = |name: &str, f: fn(&Interval) -> f64| {
        Column::new(
            format!("{prefix}_{name}").into(),
            rows.iter()
                .map(|r| r.as_ref().map(|i| round(f(i))))
                .collect::<Vec<_>>(),
        )
    };
    vec![
        col("mean", |i| i.mean),
        col("p05", |i| i.p05),
        col("p95", |i| i.p95),
    ]
}

/// `posterior.csv`: each national factor's prior and posterior mean and 90% interval (the
/// posterior empty when none is reported).
fn posterior_table(c: &Calibration) -> Result<DataFrame> {
    let mut columns = vec![Column::new(
        "factor".into(),
        c.factors
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
    )];
    let prior: Vec<_> = c.factors.iter().map(|f| Some(f.prior)).collect();
    let posterior: Vec<_> = c.factors.iter().map(|f| f.posterior).collect();
    columns.extend(interval_columns("prior", &prior, false));
    columns.extend(interval_columns("posterior", &posterior, false));
    Ok(DataFrame::new_infer_height(columns)?)
}

/// `calibration.csv`: each figure used, with its prior and posterior predictive, its
/// implausibility and its leave-one-out percentile.
fn figure_table(c: &Calibration) -> Result<DataFrame> {
    let f = &c.figures;
    let mut columns = vec![
        Column::new(
            "id".into(),
            f.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "label".into(),
            f.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "published".into(),
            f.iter().map(|r| r.published).collect::<Vec<_>>(),
        ),
        Column::new(
            "unit".into(),
            f.iter().map(|r| r.unit.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "sd".into(),
            f.iter().map(|r| pence(r.sd)).collect::<Vec<_>>(),
        ),
        Column::new(
            "observation".into(),
            f.iter().map(|r| r.observation.as_str()).collect::<Vec<_>>(),
        ),
    ];
    let prior: Vec<_> = f.iter().map(|r| Some(r.prior)).collect();
    let posterior: Vec<_> = f.iter().map(|r| r.posterior).collect();
    columns.extend(interval_columns("prior", &prior, true));
    columns.extend(interval_columns("posterior", &posterior, true));
    columns.extend([
        Column::new(
            "non_implausible_share".into(),
            f.iter()
                .map(|r| r.non_implausible_share)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "best_implausibility".into(),
            f.iter().map(|r| r.best_implausibility).collect::<Vec<_>>(),
        ),
        Column::new(
            "loo_percentile".into(),
            f.iter().map(|r| r.loo_percentile).collect::<Vec<_>>(),
        ),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// `posterior_draws.parquet`: every draw (of the last wave) with its weight, its largest
/// implausibility, whether the posterior was reported, its national factors (by path) and each
/// figure's quantity (by id, `figure:<id>`). `run --posterior` reads it back.
fn draws_frame(files: &CalibrationFiles) -> Result<DataFrame> {
    let c = files.calibration;
    let mut columns = vec![
        Column::new("draw".into(), (0..c.draws as u64).collect::<Vec<_>>()),
        Column::new("weight".into(), c.weights.clone()),
        Column::new("max_implausibility".into(), c.implausibility.clone()),
        Column::new(
            "posterior_reported".into(),
            vec![c.posterior_reported; c.draws],
        ),
    ];
    for f in files.factors {
        columns.push(Column::new(f.path.as_str().into(), f.values.clone()));
    }
    for t in files.targets {
        columns.push(Column::new(
            format!("figure:{}", t.id).into(),
            t.values.clone(),
        ));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

#[derive(Serialize)]
struct Summary<'a> {
    scenario: &'a str,
    cost_view: &'static str,
    seed: u64,
    benchmarks: &'a str,
    draws: usize,
    waves: usize,
    /// The non-implausible share of each wave's draws, the prior's first.
    wave_shares: &'a [f64],
    ess: f64,
    min_ess: f64,
    implausibility_cutoff: f64,
    non_implausible_share: f64,
    posterior_reported: bool,
    figures_used: Vec<&'a str>,
    figures_not_used: &'a [Unused],
    conflicts: &'a [Conflict],
    /// Factors drawn per ICB are not calibrated: each keeps its prior.
    icb_level_factors: &'static str,
}

fn summary<'a>(scenario: &'a Scenario, files: &CalibrationFiles<'a>) -> Summary<'a> {
    let c = files.calibration;
    Summary {
        scenario: &scenario.name,
        cost_view: scenario.cost_view.as_str(),
        seed: scenario.seed,
        benchmarks: files.benchmarks,
        draws: c.draws,
        waves: c.waves,
        wave_shares: &c.wave_shares,
        ess: c.ess,
        min_ess: MIN_ESS,
        implausibility_cutoff: CUTOFF,
        non_implausible_share: c.non_implausible_share,
        posterior_reported: c.posterior_reported,
        figures_used: files.targets.iter().map(|t| t.id.as_str()).collect(),
        figures_not_used: files.unused,
        conflicts: &c.conflicts,
        icb_level_factors: "not calibrated: drawn per ICB from their priors in every draw",
    }
}
