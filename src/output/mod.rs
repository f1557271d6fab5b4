//! Every file the tool writes: CSV tables and Parquet (polars), `summary.json`, the manifest,
//! charts as SVG and PNG, the briefing, and the inputs a run read. Each command's files go into
//! a temporary directory that replaces the output directory whole ([`replace_dir`]); single
//! files are replaced atomically ([`write_file_atomically`]). Nothing else in the crate writes
//! to disk.

mod activity;
mod atomic;
mod calibration;
mod decision;
mod json;
mod memory;
mod observed;
mod tables;

use std::path::Path;

use polars::prelude::DataFrame;
use rayon::prelude::*;

pub use activity::{activity_observed_csv, activity_observed_monthly_csv, write_activity};
pub use atomic::{replace_dir, write_file_atomically};
pub use calibration::{calibration_document, write_calibration, CalibrationFiles};
pub use decision::{decide_document, write_decide};
pub use memory::{compare_document, nowcast_document, run_document, settlement_document};
pub use observed::{observed_csv, observed_monthly_csv, write_observed};
pub use tables::{samples_frame, write_parquet};

use crate::benchmark::Comparison;
use crate::chart::{self, Chart};
use crate::compare::Compared;
use crate::data::IcbTable;
use crate::error::{Error, Result};
use crate::price;
use crate::provenance::{InputFile, Manifest, Prices, RunInfo, INPUTS, MANIFEST};
use crate::report::{self, Report};
use crate::scenario::Scenario;
use crate::sensitivity::Sensitivity;
use crate::settlement::Settlement;
use crate::summary::RunSummary;
use tables::{with_view, write_csv, write_json};

/// A run's tables and charts, as `run` writes them and the explorer sends them.
struct RunOutputs {
    /// File name and frame (with its cost view column).
    frames: Vec<(&'static str, DataFrame)>,
    charts: Vec<Chart>,
}

/// The tables of [`tables::run_tables`] and the charts of [`chart::run_charts`], and the cost
/// of delay's when the run has it.
fn run_outputs(scenario: &Scenario, summary: &RunSummary) -> Result<RunOutputs> {
    let mut frames = tables::run_tables(scenario, summary)?;
    let mut charts = chart::run_charts(scenario, summary)?;
    if let Some(s) = &summary.settlement {
        frames.push(("settlement.csv", tables::settlement_table(s)?));
        charts.extend(chart::settlement_charts(scenario, s, summary.iterations)?);
    }
    if let Some(d) = &summary.decision {
        frames.push(("decision.csv", decision::decision_table(d)?));
        frames.push(("evppi.csv", decision::evppi_table(d)?));
        charts.extend(chart::decision_charts(scenario, d, 0)?);
    }
    let view = scenario.cost_view.as_str();
    let mut frames: Vec<_> = frames
        .into_iter()
        .map(|(name, frame)| Ok((name, with_view(frame, view)?)))
        .collect::<Result<_>>()?;
    // Activity is the same in every cost view: its tables have no view column.
    frames.push(("activity.csv", tables::activity_table(summary)?));
    frames.push((
        "activity_monthly.csv",
        tables::activity_monthly_table(summary)?,
    ));
    Ok(RunOutputs { frames, charts })
}

/// Writes every output of a run to `out`, replacing a previous run's directory as a whole:
/// with `samples`, `samples.parquet` (`run --samples`); with `report`, `report.html` and
/// `report.xlsx`.
pub fn write_run(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    summary: &RunSummary,
    info: &RunInfo,
    (samples, report): (Option<DataFrame>, bool),
) -> Result<()> {
    let RunOutputs { frames, charts } = run_outputs(scenario, summary)?;
    replace_dir(out, |dir| {
        if let Some(frame) = samples {
            write_parquet(&dir.join("samples.parquet"), frame)?;
        }
        for (name, frame) in frames {
            write_csv(&dir.join(name), frame)?;
        }
        write_json(
            &dir.join("summary.json"),
            &json::summary_json(scenario, table, summary),
        )?;
        write_charts(dir, &charts, info.png)?;
        write_inputs(dir, table, info)?;
        if report {
            let report = Report {
                scenario,
                table,
                summary,
                info,
                charts: &charts,
            };
            write_file(&dir.join("report.html"), report::html(&report).as_bytes())?;
            write_file(&dir.join("report.xlsx"), &report::xlsx::workbook(&report)?)?;
        }
        let mut m = manifest(scenario, table, summary.iterations, info);
        m.settlement = summary.settlement.is_some();
        m.decide = summary.decision.is_some();
        write_json(&dir.join(MANIFEST), &m)
    })
}

/// Writes a benchmark comparison to `out`: `benchmarks.csv`, its chart and a manifest.
pub fn write_benchmark(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    comparisons: &[Comparison],
    info: &RunInfo,
    iterations: usize,
) -> Result<()> {
    let charts = chart::benchmark_charts(scenario, comparisons, iterations)?;
    replace_dir(out, |dir| {
        write_csv(
            &dir.join("benchmarks.csv"),
            with_view(
                tables::benchmark_table(comparisons)?,
                scenario.cost_view.as_str(),
            )?,
        )?;
        write_charts(dir, &charts, info.png)?;
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, iterations, info),
        )
    })
}

/// Writes a sensitivity analysis to `out`: `tornado.csv`, `rank_sensitivity.csv`,
/// `sobol.csv`, their charts and a manifest.
pub fn write_sensitivity(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    s: &Sensitivity,
    info: &RunInfo,
    iterations: usize,
) -> Result<()> {
    let charts = chart::sensitivity_charts(scenario, s, iterations)?;
    replace_dir(out, |dir| {
        for (name, frame) in tables::sensitivity_tables(s)? {
            write_csv(
                &dir.join(name),
                with_view(frame, scenario.cost_view.as_str())?,
            )?;
        }
        write_charts(dir, &charts, info.png)?;
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, iterations, info),
        )
    })
}

/// Writes the cost of delay to `out`: `settlement.csv`, `charts/settlement` and a manifest.
pub fn write_settlement(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    settlement: &Settlement,
    info: &RunInfo,
    iterations: usize,
) -> Result<()> {
    let charts = chart::settlement_charts(scenario, settlement, iterations)?;
    replace_dir(out, |dir| {
        write_csv(
            &dir.join("settlement.csv"),
            with_view(
                tables::settlement_table(settlement)?,
                scenario.cost_view.as_str(),
            )?,
        )?;
        write_charts(dir, &charts, info.png)?;
        write_inputs(dir, table, info)?;
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, iterations, info),
        )
    })
}

/// Writes a paired comparison to `out`: `compare.csv`, a chart per compared scenario and a
/// manifest naming every scenario.
pub fn write_compare(
    out: &Path,
    baseline: &Scenario,
    table: &IcbTable,
    compared: &[Compared],
    info: &RunInfo,
    iterations: usize,
) -> Result<()> {
    let charts = compared
        .iter()
        .map(|c| chart::compare_chart(baseline, c, iterations))
        .collect::<Result<Vec<Chart>>>()?;
    replace_dir(out, |dir| {
        write_csv(
            &dir.join("compare.csv"),
            with_view(
                tables::compare_table(&info.scenario_path, compared)?,
                baseline.cost_view.as_str(),
            )?,
        )?;
        write_charts(dir, &charts, info.png)?;
        let mut m = manifest(baseline, table, iterations, info);
        m.compared_with = compared
            .iter()
            .map(|c| crate::provenance::FileRecord {
                path: c.path.display().to_string(),
                sha256: c.sha256.clone(),
            })
            .collect();
        write_json(&dir.join(MANIFEST), &m)
    })
}

/// The manifest of a command's output directory, with the `--set` values the scenario was
/// read with.
fn manifest(scenario: &Scenario, table: &IcbTable, iterations: usize, info: &RunInfo) -> Manifest {
    Manifest {
        prices: scenario.price_year.map(|year| Prices {
            price_year: year.to_string(),
            deflators: InputFile::new(price::EMBEDDED_NAME, price::EMBEDDED_CSV.as_bytes())
                .record(),
        }),
        set: scenario
            .overrides
            .iter()
            .filter_map(|o| o.assignment())
            .collect(),
        ..Manifest::new(
            info,
            &table.file,
            scenario.cost_view,
            scenario.granularity,
            scenario.seed,
            iterations,
        )
    }
}

/// Writes each chart into `dir/charts` as `<name>.svg` and, when `png`, `<name>.png`, the
/// PNGs rasterised in parallel (each on its own, so the bytes do not depend on the thread
/// count).
fn write_charts(dir: &Path, charts: &[Chart], png: bool) -> Result<()> {
    let dir = dir.join("charts");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    for c in charts {
        write_file(&dir.join(format!("{}.svg", c.name)), c.svg.as_bytes())?;
    }
    if png {
        // Rasterising and compressing the PNGs takes longer than a short run's simulation:
        // drawn in parallel (in the caller's pool), written in order.
        let pngs: Vec<Result<Vec<u8>>> = charts.par_iter().map(Chart::png).collect();
        for (c, png) in charts.iter().zip(pngs) {
            write_file(&dir.join(format!("{}.png", c.name)), &png?)?;
        }
    }
    Ok(())
}

/// Records the exact bytes of every input a run read in `dir/inputs`, so `report DIR` can
/// reproduce it.
fn write_inputs(dir: &Path, table: &IcbTable, info: &RunInfo) -> Result<()> {
    let inputs = dir.join(INPUTS);
    std::fs::create_dir_all(&inputs).map_err(|e| Error::io("cannot create", &inputs, e))?;
    let others = info.other_inputs.iter().map(|(name, f)| (*name, &f.bytes));
    for (name, bytes) in [
        ("scenario.toml", &info.scenario.bytes),
        ("icbs.csv", &table.file.bytes),
    ]
    .into_iter()
    .chain(others)
    {
        write_file(&inputs.join(name), bytes)?;
    }
    Ok(())
}

/// Writes a file inside a temporary output directory (which makes it atomic as a whole).
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io("cannot write", path, e))
}
