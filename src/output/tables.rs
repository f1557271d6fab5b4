//! The tables a command writes, as polars frames (money rounded to pence), and the CSV,
//! Parquet and JSON writers.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::benchmark::Comparison;
use crate::compare::{Compared, PairedDiff};
use crate::data::IcbTable;
use crate::engine::Draws;
use crate::error::{Error, Result};
use crate::money::pence;
use crate::scenario::{Scenario, Scope};
use crate::sensitivity::{FactorName, Sensitivity, SobolRow};
use crate::settlement::{SettledIn, Settlement};
use crate::stats::Summary;
use crate::summary::{BodyResult, CorrelationResult, RunSummary};

/// `correlations.csv`: target, applied (after any repair) and achieved rank correlations of
/// the correlated national factors.
fn correlation_table(rows: &[CorrelationResult]) -> Result<DataFrame> {
    Ok(df!(
        "factor_a" => rows.iter().map(|r| r.a.as_str()).collect::<Vec<_>>(),
        "factor_b" => rows.iter().map(|r| r.b.as_str()).collect::<Vec<_>>(),
        "target" => rows.iter().map(|r| r.target).collect::<Vec<_>>(),
        "applied" => rows.iter().map(|r| r.applied).collect::<Vec<_>>(),
        "achieved" => rows.iter().map(|r| r.achieved).collect::<Vec<_>>(),
    )?)
}

/// Known factor values as a figure states them: `path=value;CODE:path=value`.
fn conditions(scope: &Scope) -> String {
    let national = scope.conditions.iter().map(|(p, v)| format!("{p}={v}"));
    let own = scope
        .icb_conditions
        .iter()
        .map(|(icb, p, v)| format!("{icb}:{p}={v}"));
    national.chain(own).collect::<Vec<_>>().join(";")
}

/// `benchmarks.csv`: each figure, whether it was compared (or why not), the scope its derived
/// run used, and where the published figure falls.
pub(super) fn benchmark_table(rows: &[Comparison]) -> Result<DataFrame> {
    let sim = |f: fn(&Summary) -> f64| {
        rows.iter()
            .map(|c| c.simulated.as_ref().map(|s| pence(f(s))))
            .collect::<Vec<_>>()
    };
    Ok(df!(
        "id" => rows.iter().map(|c| c.benchmark.id.as_str()).collect::<Vec<_>>(),
        "label" => rows.iter().map(|c| c.benchmark.label.as_str()).collect::<Vec<_>>(),
        "status" => rows.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
        "reason" => rows.iter().map(|c| c.reason.as_str()).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|c| c.benchmark.quantity.as_str()).collect::<Vec<_>>(),
        "icb_code" => rows.iter().map(|c| c.benchmark.icb_code.clone()).collect::<Vec<_>>(),
        "actions" => rows.iter().map(|c| c.actions.join(";")).collect::<Vec<_>>(),
        "start" => rows.iter().map(|c| c.period.map(|p| p.0.to_string())).collect::<Vec<_>>(),
        "end" => rows.iter().map(|c| c.period.map(|p| p.1.to_string())).collect::<Vec<_>>(),
        "figure_cost_view" => rows.iter().map(|c| c.cost_view.map(|v| v.as_str())).collect::<Vec<_>>(),
        "conditions" => rows.iter().map(|c| conditions(&c.benchmark.scope)).collect::<Vec<_>>(),
        "published" => rows.iter().map(|c| c.benchmark.published).collect::<Vec<_>>(),
        "published_sd" => rows.iter().map(|c| c.benchmark.published_sd).collect::<Vec<_>>(),
        "simulated_mean" => sim(|s| s.mean),
        "simulated_p05" => sim(|s| s.p05),
        "simulated_p50" => sim(|s| s.p50),
        "simulated_p95" => sim(|s| s.p95),
        "published_percentile" => rows.iter().map(|c| c.published_percentile).collect::<Vec<_>>(),
        "unit" => rows.iter().map(|c| c.benchmark.unit.as_str()).collect::<Vec<_>>(),
        "activity" => rows.iter().map(|c| c.benchmark.activity.clone()).collect::<Vec<_>>(),
        "source" => rows.iter().map(|c| c.benchmark.source.as_str()).collect::<Vec<_>>(),
    )?)
}

/// `tornado.csv`, `rank_sensitivity.csv` and `sobol.csv`.
pub(super) fn sensitivity_tables(s: &Sensitivity) -> Result<[(&'static str, DataFrame); 3]> {
    let n_icb = s.n_icb as f64;
    let t = s.tornado;
    let tornado = df!(
        "factor" => t.iter().map(|r| s.names[r.factor].path.as_str()).collect::<Vec<_>>(),
        "action" => t.iter().map(|r| s.names[r.factor].action.as_str()).collect::<Vec<_>>(),
        "low_value" => t.iter().map(|r| r.low_value).collect::<Vec<_>>(),
        "high_value" => t.iter().map(|r| r.high_value).collect::<Vec<_>>(),
        "national_at_medians_gbp" => vec![pence(s.base_national); t.len()],
        "national_low_gbp" => money(t.iter().map(|r| r.national_low)),
        "national_high_gbp" => money(t.iter().map(|r| r.national_high)),
        "swing_gbp" => money(t.iter().map(|r| r.swing())),
        "per_icb_low_gbp" => money(t.iter().map(|r| r.national_low / n_icb)),
        "per_icb_high_gbp" => money(t.iter().map(|r| r.national_high / n_icb)),
        "per_icb_swing_gbp" => money(t.iter().map(|r| r.swing() / n_icb)),
    )?;
    let r = s.ranks;
    let ranks = df!(
        "factor" => r.iter().map(|x| s.names[x.factor].path.as_str()).collect::<Vec<_>>(),
        "target" => r.iter().map(|x| x.target.as_str()).collect::<Vec<_>>(),
        "spearman" => r.iter().map(|x| x.spearman).collect::<Vec<_>>(),
        "prcc" => r.iter().map(|x| x.prcc).collect::<Vec<_>>(),
    )?;
    let rows: Vec<(&str, &SobolRow)> = s
        .sobol
        .iter()
        .map(|r| ("factor", r))
        .chain(s.sobol_by_action.iter().map(|r| ("action", r)))
        .collect();
    let col = |f: fn(&SobolRow) -> f64| rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
    let sobol = df!(
        "level" => rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        "name" => rows.iter().map(|(_, r)| r.name.as_str()).collect::<Vec<_>>(),
        "first_order" => col(|r| r.index.first),
        "first_order_lo95" => col(|r| r.index.first_lo),
        "first_order_hi95" => col(|r| r.index.first_hi),
        "total_order" => col(|r| r.index.total),
        "total_order_lo95" => col(|r| r.index.total_lo),
        "total_order_hi95" => col(|r| r.index.total_hi),
    )?;
    Ok([
        ("tornado.csv", tornado),
        ("rank_sensitivity.csv", ranks),
        ("sobol.csv", sobol),
    ])
}

/// The tables of a run: ICBs, ICB × action, months, convergence, regions and, with an ICB
/// map, the new bodies.
pub(super) fn run_tables(
    scenario: &Scenario,
    summary: &RunSummary,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let mut tables = Vec::new();
    if let Some(rows) = &summary.correlations {
        tables.push(("correlations.csv", correlation_table(rows)?));
    }
    tables.extend([
        ("icb_summary.csv", icb_table(summary)?),
        ("action_summary.csv", action_table(scenario, summary)?),
        ("monthly.csv", monthly_table(summary)?),
        ("convergence.csv", convergence_table(summary)?),
        ("region_summary.csv", region_table(summary)?),
    ]);
    if !summary.bodies.is_empty() {
        tables.push(("body_summary.csv", body_table(summary)?));
    }
    if !summary.former.is_empty() {
        tables.push(("former_icb_summary.csv", former_table(summary)?));
    }
    Ok(tables)
}

/// One row per iteration and ICB: the ICB's total and per-action costs, and the national
/// factors' values in that iteration.
pub fn samples_frame(
    scenario: &Scenario,
    table: &IcbTable,
    names: &[FactorName],
    draws: &Draws,
) -> Result<DataFrame> {
    let (n, n_icb) = (draws.iterations, draws.n_icb);
    let rows = n * n_icb;
    let mut columns = vec![
        Column::new(
            "iteration".into(),
            (0..rows).map(|r| (r / n_icb) as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "icb_code".into(),
            (0..rows)
                .map(|r| table.codes[r % n_icb].as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("total_gbp".into(), draws.per_iteration().icb_total.clone()),
    ];
    for (a, action) in scenario.actions.iter().enumerate() {
        let values: Vec<f64> = draws
            .per_iteration()
            .action_total
            .iter()
            .skip(a)
            .step_by(draws.n_actions)
            .copied()
            .collect();
        columns.push(Column::new(format!("{}_gbp", action.id).into(), values));
    }
    for (j, name) in names.iter().enumerate() {
        let by_iteration = draws.national_factor(j);
        let values: Vec<f64> = (0..rows).map(|r| by_iteration[r / n_icb]).collect();
        columns.push(Column::new(name.path.as_str().into(), values));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Writes a frame as Parquet.
pub fn write_parquet(path: &Path, mut frame: DataFrame) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    ParquetWriter::new(&mut file).finish(&mut frame)?;
    file.sync_all()
        .map_err(|e| Error::io("cannot write", path, e))
}

/// `settlement.csv`: for each settlement month, the national and per-ICB cost (mean and 90%
/// interval) and the paired cost of that month over settling a month earlier.
pub(super) fn settlement_table(s: &Settlement) -> Result<DataFrame> {
    let r = &s.rows;
    let col = |f: fn(&SettledIn) -> f64| r.iter().map(|x| pence(f(x))).collect::<Vec<_>>();
    let marginal = |f: fn(&Summary) -> f64| {
        r.iter()
            .map(|x| x.marginal.as_ref().map(|m| pence(f(m))))
            .collect::<Vec<_>>()
    };
    Ok(df!(
        "settlement_month" => r.iter().map(|x| x.month.to_string()).collect::<Vec<_>>(),
        "national_mean_gbp" => col(|x| x.national.mean),
        "national_p05_gbp" => col(|x| x.national.p05),
        "national_p95_gbp" => col(|x| x.national.p95),
        "national_mcse_mean_gbp" => col(|x| x.national.mcse_mean),
        "mean_per_icb_gbp" => col(|x| x.per_icb.mean),
        "per_icb_p05_gbp" => col(|x| x.per_icb.p05),
        "per_icb_p95_gbp" => col(|x| x.per_icb.p95),
        "marginal_mean_gbp" => marginal(|m| m.mean),
        "marginal_p05_gbp" => marginal(|m| m.p05),
        "marginal_p95_gbp" => marginal(|m| m.p95),
        "marginal_mcse_mean_gbp" => marginal(|m| m.mcse_mean),
        "marginal_negative_share" => r.iter().map(|x| x.marginal_negative_share).collect::<Vec<_>>(),
    )?)
}

pub(super) fn compare_table(baseline: &Path, compared: &[Compared]) -> Result<DataFrame> {
    let rows: Vec<(&Compared, &PairedDiff)> = compared
        .iter()
        .flat_map(|c| c.rows.iter().map(move |r| (c, r)))
        .collect();
    let stem = |p: &Path| {
        p.file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned())
    };
    let col = |f: fn(&PairedDiff) -> f64| rows.iter().map(|(_, r)| pence(f(r))).collect::<Vec<_>>();
    Ok(df!(
        "scenario_a" => vec![stem(baseline); rows.len()],
        "scenario_b" => rows.iter().map(|(c, _)| stem(&c.path)).collect::<Vec<_>>(),
        "icb_code" => rows.iter().map(|(_, r)| r.code.as_str()).collect::<Vec<_>>(),
        "icb_name" => rows.iter().map(|(_, r)| r.name.as_str()).collect::<Vec<_>>(),
        "mean_a_gbp" => col(|r| r.mean_a),
        "mean_b_gbp" => col(|r| r.mean_b),
        "mean_diff_gbp" => col(|r| r.diff.mean),
        "p05_diff_gbp" => col(|r| r.diff.p05),
        "p50_diff_gbp" => col(|r| r.diff.p50),
        "p95_diff_gbp" => col(|r| r.diff.p95),
        "prob_b_greater" => rows.iter().map(|(_, r)| r.prob_b_greater).collect::<Vec<_>>(),
    )?)
}

pub(super) fn write_csv(path: &Path, mut frame: DataFrame) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    CsvWriter::new(&mut file)
        .include_header(true)
        .finish(&mut frame)?;
    file.sync_all()
        .map_err(|e| Error::io("cannot write", path, e))
}

pub(super) fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Output(format!("json: {e}")))?;
    text.push('\n');
    let mut file = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io("cannot write", path, e))?;
    file.sync_all()
        .map_err(|e| Error::io("cannot write", path, e))
}

/// Adds a last column naming the cost view, so every table says which it is.
pub(super) fn with_view(mut frame: DataFrame, view: &str) -> Result<DataFrame> {
    let column = Column::new("cost_view".into(), vec![view; frame.height()]);
    frame.with_column(column)?;
    Ok(frame)
}

fn money(values: impl Iterator<Item = f64>) -> Vec<f64> {
    values.map(pence).collect()
}

fn icb_table(s: &RunSummary) -> Result<DataFrame> {
    let col = |f: fn(&Summary) -> f64| money(s.icbs.iter().map(|r| f(&r.cost)));
    Ok(df!(
        "icb_code" => s.icbs.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        "icb_name" => s.icbs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        "region" => s.icbs.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(),
        "mean_gbp" => col(|c| c.mean),
        "sd_gbp" => col(|c| c.sd),
        "p05_gbp" => col(|c| c.p05),
        "p50_gbp" => col(|c| c.p50),
        "p95_gbp" => col(|c| c.p95),
        "prob_above_reference" => s.icbs.iter().map(|r| r.prob_above_reference).collect::<Vec<_>>(),
        "mcse_mean_gbp" => col(|c| c.mcse_mean),
        "mcse_p05_gbp" => col(|c| c.mcse_p05),
        "mcse_p95_gbp" => col(|c| c.mcse_p95),
    )?)
}

fn action_table(scenario: &Scenario, s: &RunSummary) -> Result<DataFrame> {
    let col = |f: fn(&Summary) -> f64| money(s.icb_actions.iter().map(|r| f(&r.cost)));
    Ok(df!(
        "icb_code" => s.icb_actions.iter().map(|r| s.icbs[r.icb].code.as_str()).collect::<Vec<_>>(),
        "action" => s.icb_actions.iter().map(|r| scenario.actions[r.action].id.as_str()).collect::<Vec<_>>(),
        "mean_gbp" => col(|c| c.mean),
        "p05_gbp" => col(|c| c.p05),
        "p50_gbp" => col(|c| c.p50),
        "p95_gbp" => col(|c| c.p95),
    )?)
}

fn monthly_table(s: &RunSummary) -> Result<DataFrame> {
    let col = |f: fn(&Summary) -> f64| money(s.monthly.iter().map(|r| f(&r.cumulative)));
    Ok(df!(
        "month" => s.monthly.iter().map(|r| r.month.to_string()).collect::<Vec<_>>(),
        "mean_gbp" => col(|c| c.mean),
        "p05_gbp" => col(|c| c.p05),
        "p50_gbp" => col(|c| c.p50),
        "p95_gbp" => col(|c| c.p95),
    )?)
}

/// A count of activity as tables show it: to a tenth of a unit (a mean need not be whole).
fn count(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `activity.csv`: each activity the scenario counts, nationally and then for each ICB in
/// table order, over the horizon (units of the activity; negative for activity removed).
pub(super) fn activity_table(s: &RunSummary) -> Result<DataFrame> {
    let rows: Vec<(&str, &str, &Summary)> = s
        .activity
        .iter()
        .flat_map(|a| {
            std::iter::once((crate::observed::NATIONAL, a.name.as_str(), &a.national)).chain(
                s.icbs
                    .iter()
                    .zip(&a.icbs)
                    .map(|(icb, summary)| (icb.code.as_str(), a.name.as_str(), summary)),
            )
        })
        .collect();
    let col = |f: fn(&Summary) -> f64| rows.iter().map(|r| count(f(r.2))).collect::<Vec<_>>();
    Ok(df!(
        "scope" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "activity" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "mean" => col(|c| c.mean),
        "sd" => col(|c| c.sd),
        "p05" => col(|c| c.p05),
        "p50" => col(|c| c.p50),
        "p95" => col(|c| c.p95),
        "mcse_mean" => col(|c| c.mcse_mean),
    )?)
}

/// `activity_monthly.csv`: each activity nationally by month: the mean change in the month
/// and the change cumulated to its end with its 90% interval.
pub(super) fn activity_monthly_table(s: &RunSummary) -> Result<DataFrame> {
    let rows: Vec<_> = s
        .activity
        .iter()
        .flat_map(|a| a.monthly.iter().map(move |m| (a.name.as_str(), m)))
        .collect();
    Ok(df!(
        "month" => rows.iter().map(|r| r.1.month.to_string()).collect::<Vec<_>>(),
        "activity" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "mean_in_month" => rows.iter().map(|r| count(r.1.mean_in_month)).collect::<Vec<_>>(),
        "cumulative_mean" => rows.iter().map(|r| count(r.1.cumulative.mean)).collect::<Vec<_>>(),
        "cumulative_p05" => rows.iter().map(|r| count(r.1.cumulative.p05)).collect::<Vec<_>>(),
        "cumulative_p95" => rows.iter().map(|r| count(r.1.cumulative.p95)).collect::<Vec<_>>(),
    )?)
}

fn region_table(s: &RunSummary) -> Result<DataFrame> {
    let col = |f: fn(&Summary) -> f64| money(s.regions.iter().map(|r| f(&r.cost)));
    Ok(df!(
        "region" => s.regions.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        "icbs" => s.regions.iter().map(|r| r.icbs as u64).collect::<Vec<_>>(),
        "mean_gbp" => col(|c| c.mean),
        "p05_gbp" => col(|c| c.p05),
        "p50_gbp" => col(|c| c.p50),
        "p95_gbp" => col(|c| c.p95),
    )?)
}

/// The bodies of the ICB map: code, name, the old ICBs (with their shares where not whole) and
/// the cost.
fn body_table(s: &RunSummary) -> Result<DataFrame> {
    group_table(&s.bodies, ["body_code", "body_name", "former_icbs"])
}

/// With a footprint, the ICBs of the table it rebuilt: code, name, the bodies their cost is
/// taken from (with the share of each body's patients that were theirs, where not whole) and
/// the cost.
fn former_table(s: &RunSummary) -> Result<DataFrame> {
    group_table(&s.former, ["icb_code", "icb_name", "share_of"])
}

/// Sums of the run's ICBs: code, name, members (with their weights where not whole) and the
/// cost, under the three `names` given for the first three.
fn group_table(rows: &[BodyResult], names: [&str; 3]) -> Result<DataFrame> {
    let col = |f: fn(&Summary) -> f64| money(rows.iter().map(|r| f(&r.cost)));
    let [code, name, of] = names;
    Ok(df!(
        code => rows.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(),
        name => rows.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        of => rows.iter().map(BodyResult::members_text).collect::<Vec<_>>(),
        "mean_gbp" => col(|c| c.mean),
        "sd_gbp" => col(|c| c.sd),
        "p05_gbp" => col(|c| c.p05),
        "p50_gbp" => col(|c| c.p50),
        "p95_gbp" => col(|c| c.p95),
    )?)
}

fn convergence_table(s: &RunSummary) -> Result<DataFrame> {
    Ok(df!(
        "iterations" => s.trace.iter().map(|t| t.iterations as u64).collect::<Vec<_>>(),
        "mean_gbp" => money(s.trace.iter().map(|t| t.mean)),
        "mcse_mean_gbp" => money(s.trace.iter().map(|t| t.mcse_mean)),
        "rse" => s.trace.iter().map(|t| t.rse).collect::<Vec<_>>(),
    )?)
}
