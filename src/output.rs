//! Output files: CSV tables (polars), JSON summary and manifest, charts; all written into a
//! temporary directory beside the target and renamed into place, so a failed or interrupted
//! run never leaves half a result and never loses the previous one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::benchmark::Comparison;
use crate::chart;
use crate::compare::PairedDiff;
use crate::data::IcbTable;
use crate::engine::Draws;
use crate::error::{Error, Problem, Result};
use crate::model::Model;
use crate::money::pence;
use crate::scenario::{Granularity, Scenario};
use crate::sensitivity::{FactorName, RankRow, SobolRow, TornadoRow};
use crate::stats::Summary;
use crate::summary::RunSummary;

/// The file that marks a directory as ours, so that `--out` never replaces anything else.
pub const MANIFEST: &str = "manifest.json";

/// The versions that decide the sampled numbers (kept equal to the exact pins in Cargo.toml;
/// a test checks).
pub const GENERATOR: &str = "Xoshiro256PlusPlus (rand_xoshiro 0.8.1) seeded per (seed, iteration, ICB, factor) by SplitMix64; rand 0.10.3; rand_distr 0.6.0";

/// How a run came about, for the manifest.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub scenario_path: PathBuf,
    pub scenario_sha256: String,
    /// The scenario file's bytes, recorded in `inputs/scenario.toml`.
    pub scenario_bytes: Vec<u8>,
    /// The practice table and ICB map, when the run read them, recorded in `inputs/`.
    pub other_inputs: Vec<InputFile>,
    pub threads: usize,
    pub wall_seconds: f64,
}

/// An input file a run read besides the scenario and the ICB table.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Its name in `inputs/`.
    pub name: &'static str,
    /// The file as the user named it (or `embedded:…`).
    pub source: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Where a run directory records the exact inputs it was made from.
pub const INPUTS: &str = "inputs";

/// Optional outputs of a run.
#[derive(Default)]
pub struct Extra {
    /// `samples.parquet` (`run --samples`).
    pub samples: Option<DataFrame>,
    /// `correlations.csv`: target and achieved rank correlations.
    pub correlations: Option<DataFrame>,
    /// `report.html` and `report.xlsx`.
    pub report: bool,
}

/// `report.html` (charts inlined from `dir/charts`) and `report.xlsx`.
fn write_report(
    dir: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    summary: &RunSummary,
    info: &RunInfo,
) -> Result<()> {
    let mut charts = Vec::new();
    for name in crate::report::REPORT_CHARTS {
        let path = dir.join("charts").join(format!("{name}.svg"));
        if path.is_file() {
            let svg =
                std::fs::read_to_string(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            charts.push((name.to_string(), svg));
        }
    }
    let report = crate::report::Report {
        scenario,
        table,
        summary,
        info,
        charts,
    };
    let html = dir.join("report.html");
    std::fs::write(&html, crate::report::html(&report))
        .map_err(|e| Error::io("cannot write", &html, e))?;
    crate::report::xlsx::write(&dir.join("report.xlsx"), &report)
}

/// Target, applied (after any repair) and achieved rank correlations of the correlated
/// national factors.
pub fn correlation_frame(
    scenario: &Scenario,
    model: &Model,
    draws: &Draws,
) -> Result<Option<DataFrame>> {
    let Some(applied) = &model.correlation else {
        return Ok(None);
    };
    // A correlated run draws its national factors as whole columns: drawn again, the same.
    let columns = crate::engine::national_columns(model, draws.iterations);
    let achieved = crate::correlation::rank_correlation_matrix(&columns);
    let index = |path: &str| model.national.iter().position(|s| s.path == path);
    let rows: Vec<(&str, &str, f64, f64, f64)> = scenario
        .correlations
        .iter()
        .filter_map(|c| {
            let (i, j) = (index(&c.a)?, index(&c.b)?);
            Some((
                c.a.as_str(),
                c.b.as_str(),
                c.rank_correlation,
                applied[(i, j)],
                achieved[(i, j)],
            ))
        })
        .collect();
    Ok(Some(df!(
        "factor_a" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "factor_b" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "target" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "applied" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "achieved" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
    )?))
}

/// Writes every output of a run to `out`, replacing a previous run's directory as a whole.
pub fn write_run(
    out: &Path,
    scenario: &Scenario,
    table: &IcbTable,
    summary: &RunSummary,
    info: &RunInfo,
    extra: Extra,
) -> Result<()> {
    replace_dir(out, |dir| {
        if let Some(frame) = extra.samples {
            write_parquet(&dir.join("samples.parquet"), frame)?;
        }
        let view = scenario.cost_view.as_str();
        if let Some(frame) = extra.correlations {
            write_csv(&dir.join("correlations.csv"), with_view(frame, view)?)?;
        }
        let tables = [
            ("icb_summary.csv", icb_table(summary)?),
            ("action_summary.csv", action_table(scenario, summary)?),
            ("monthly.csv", monthly_table(summary)?),
            ("convergence.csv", convergence_table(summary)?),
            ("region_summary.csv", region_table(summary)?),
        ];
        for (name, frame) in tables {
            write_csv(&dir.join(name), with_view(frame, view)?)?;
        }
        if !summary.bodies.is_empty() {
            write_csv(
                &dir.join("body_summary.csv"),
                with_view(body_table(summary)?, view)?,
            )?;
        }
        write_json(
            &dir.join("summary.json"),
            &summary_json(scenario, table, summary),
        )?;
        chart::write_all(&dir.join("charts"), scenario, summary)?;
        let inputs = dir.join(INPUTS);
        std::fs::create_dir_all(&inputs).map_err(|e| Error::io("cannot create", &inputs, e))?;
        let others = info.other_inputs.iter().map(|f| (f.name, &f.bytes));
        for (name, bytes) in [
            ("scenario.toml", &info.scenario_bytes),
            ("icbs.csv", &table.bytes),
        ]
        .into_iter()
        .chain(others)
        {
            let path = inputs.join(name);
            std::fs::write(&path, bytes).map_err(|e| Error::io("cannot write", &path, e))?;
        }
        if extra.report {
            write_report(dir, scenario, table, summary, info)?;
        }
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, summary.iterations, info),
        )
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
    replace_dir(out, |dir| {
        write_csv(
            &dir.join("benchmarks.csv"),
            with_view(benchmark_table(comparisons)?, scenario.cost_view.as_str())?,
        )?;
        chart::write_benchmarks(&dir.join("charts"), scenario, comparisons, iterations)?;
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, iterations, info),
        )
    })
}

fn benchmark_table(rows: &[Comparison]) -> Result<DataFrame> {
    let sim = |f: fn(&Summary) -> f64| {
        rows.iter()
            .map(|c| c.simulated.as_ref().map(|s| pence(f(s))))
            .collect::<Vec<_>>()
    };
    Ok(df!(
        "id" => rows.iter().map(|c| c.benchmark.id.as_str()).collect::<Vec<_>>(),
        "label" => rows.iter().map(|c| c.benchmark.label.as_str()).collect::<Vec<_>>(),
        "quantity" => rows.iter().map(|c| c.benchmark.quantity.as_str()).collect::<Vec<_>>(),
        "published_gbp" => rows.iter().map(|c| c.benchmark.published_gbp).collect::<Vec<_>>(),
        "simulated_mean_gbp" => sim(|s| s.mean),
        "simulated_p05_gbp" => sim(|s| s.p05),
        "simulated_p50_gbp" => sim(|s| s.p50),
        "simulated_p95_gbp" => sim(|s| s.p95),
        "published_percentile" => rows.iter().map(|c| c.published_percentile).collect::<Vec<_>>(),
        "note" => rows.iter().map(|c| c.note.as_str()).collect::<Vec<_>>(),
        "source" => rows.iter().map(|c| c.benchmark.source.as_str()).collect::<Vec<_>>(),
    )?)
}

/// The results of `sensitivity`.
pub struct Sensitivity<'a> {
    pub names: &'a [FactorName],
    pub base_national: f64,
    pub tornado: &'a [TornadoRow],
    pub ranks: &'a [RankRow],
    pub sobol: &'a [SobolRow],
    pub sobol_by_action: &'a [SobolRow],
    pub n_icb: usize,
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
    replace_dir(out, |dir| {
        let view = scenario.cost_view.as_str();
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
        write_csv(&dir.join("tornado.csv"), with_view(tornado, view)?)?;
        let r = s.ranks;
        let ranks = df!(
            "factor" => r.iter().map(|x| s.names[x.factor].path.as_str()).collect::<Vec<_>>(),
            "target" => r.iter().map(|x| x.target.as_str()).collect::<Vec<_>>(),
            "spearman" => r.iter().map(|x| x.spearman).collect::<Vec<_>>(),
            "prcc" => r.iter().map(|x| x.prcc).collect::<Vec<_>>(),
        )?;
        write_csv(&dir.join("rank_sensitivity.csv"), with_view(ranks, view)?)?;
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
        write_csv(&dir.join("sobol.csv"), with_view(sobol, view)?)?;
        chart::write_sensitivity(&dir.join("charts"), scenario, s, iterations)?;
        write_json(
            &dir.join(MANIFEST),
            &manifest(scenario, table, iterations, info),
        )
    })
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

/// One scenario compared with the baseline.
#[derive(Debug, Clone)]
pub struct Compared {
    pub path: PathBuf,
    pub sha256: String,
    pub scenario: Scenario,
    /// Per ICB, then national.
    pub rows: Vec<PairedDiff>,
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
    replace_dir(out, |dir| {
        write_csv(
            &dir.join("compare.csv"),
            with_view(compare_table(info, compared)?, baseline.cost_view.as_str())?,
        )?;
        for c in compared {
            chart::write_compare(&dir.join("charts"), baseline, c, iterations)?;
        }
        let mut m = manifest(baseline, table, iterations, info);
        m.compared_with = compared
            .iter()
            .map(|c| FileJson {
                path: c.path.display().to_string(),
                sha256: c.sha256.clone(),
            })
            .collect();
        write_json(&dir.join(MANIFEST), &m)
    })
}

fn compare_table(info: &RunInfo, compared: &[Compared]) -> Result<DataFrame> {
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
        "scenario_a" => vec![stem(&info.scenario_path); rows.len()],
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

/// Prefixes of the temporary directories beside an output directory, followed by the pid of
/// the process that made them.
const NEW: &str = ".icb-impact-new-";
const OLD: &str = ".icb-impact-old-";

/// Removes temporary directories left in `parent` by a process that no longer runs (one that
/// was killed outright, so it could not clean up).
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(NEW).or_else(|| name.strip_prefix(OLD)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if pid.is_some() && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `write` on a fresh temporary directory beside `out`, then moves it to `out`. A
/// directory already at `out` is replaced only if it holds a previous run (a manifest) or
/// nothing at all.
pub fn replace_dir(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.exists() {
        let ours = out.join(MANIFEST).is_file();
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !(ours || empty) {
            return Err(Error::input(
                out.display().to_string(),
                Problem::new(
                    None,
                    "--out",
                    "exists and does not hold a previous run (no manifest.json); choose another directory or remove it",
                ),
            ));
        }
    }
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
    remove_abandoned(&parent);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{NEW}{}-", std::process::id()))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("cannot create a temporary directory in", &parent, e))?;
    write(tmp.path())?;
    pause_before_rename();
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    if out.exists() {
        // Move the previous run aside first: if the next rename fails it is still there.
        let old = tempfile::Builder::new()
            .prefix(&format!("{OLD}{}-", std::process::id()))
            .tempdir_in(&parent)
            .map_err(|e| Error::io("cannot create a temporary directory in", &parent, e))?;
        let aside = old.path().join("previous");
        std::fs::rename(out, &aside).map_err(|e| Error::io("cannot move aside", out, e))?;
        if let Err(e) = std::fs::rename(tmp.path(), out) {
            let _ = std::fs::rename(&aside, out);
            return Err(Error::io("cannot move the new results to", out, e));
        }
        // `old` is removed with the previous run when it drops.
    } else {
        std::fs::rename(tmp.path(), out)
            .map_err(|e| Error::io("cannot move the new results to", out, e))?;
    }
    // The temporary directory has been renamed away; forget it without deleting `out`.
    let _ = tmp.keep();
    Ok(())
}

/// A pause for the interruption tests (tests/it/robustness.rs), which need to signal a run
/// while it is writing: when `ICB_IMPACT_PAUSE_BEFORE_RENAME` names a file, [`replace_dir`]
/// creates that file once the new directory is fully written, then waits (at most a minute)
/// until cancellation is requested, before the new directory is moved into place.
fn pause_before_rename() {
    let Some(flag) = std::env::var_os("ICB_IMPACT_PAUSE_BEFORE_RENAME") else {
        return;
    };
    let _ = std::fs::write(flag, b"");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !crate::cancel::requested() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Writes one file through a temporary file beside it and a rename, so a reader never sees
/// half of it.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("cannot write", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot write", path, e.error))?;
    Ok(())
}

fn write_csv(path: &Path, mut frame: DataFrame) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    CsvWriter::new(&mut file)
        .include_header(true)
        .finish(&mut frame)?;
    file.sync_all()
        .map_err(|e| Error::io("cannot write", path, e))
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
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
fn with_view(mut frame: DataFrame, view: &str) -> Result<DataFrame> {
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
    let col = |f: fn(&Summary) -> f64| money(s.bodies.iter().map(|r| f(&r.cost)));
    let members = |b: &crate::summary::BodyResult| {
        b.members
            .iter()
            .map(|(code, share)| match *share == 1.0 {
                true => code.clone(),
                false => format!("{code} ×{share}"),
            })
            .collect::<Vec<_>>()
            .join(" + ")
    };
    Ok(df!(
        "body_code" => s.bodies.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(),
        "body_name" => s.bodies.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        "former_icbs" => s.bodies.iter().map(members).collect::<Vec<_>>(),
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

#[derive(Serialize)]
struct MoneySummary {
    mean: f64,
    sd: f64,
    p05: f64,
    p50: f64,
    p95: f64,
    /// Monte Carlo standard errors beside each figure.
    mcse_mean: f64,
    mcse_p05: f64,
    mcse_p50: f64,
    mcse_p95: f64,
}

impl From<&Summary> for MoneySummary {
    fn from(s: &Summary) -> Self {
        MoneySummary {
            mean: pence(s.mean),
            sd: pence(s.sd),
            p05: pence(s.p05),
            p50: pence(s.p50),
            p95: pence(s.p95),
            mcse_mean: pence(s.mcse_mean),
            mcse_p05: pence(s.mcse_p05),
            mcse_p50: pence(s.mcse_p50),
            mcse_p95: pence(s.mcse_p95),
        }
    }
}

#[derive(Serialize)]
struct ActionJson<'a> {
    id: &'a str,
    label: &'a str,
    national_gbp: MoneySummary,
}

#[derive(Serialize)]
struct ReferenceJson<'a> {
    per_icb_gbp: f64,
    label: &'a str,
    source: &'a str,
    /// Percentile of the simulated mean cost per ICB at which the reference falls.
    percentile_of_mean_per_icb: f64,
    /// Probability that the mean cost per ICB exceeds the reference.
    prob_mean_per_icb_above: f64,
    icbs_with_mean_above: usize,
    share_of_icbs_with_mean_above: f64,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    scenario: &'a str,
    cost_view: &'static str,
    cost_view_label: &'static str,
    period_start: String,
    period_end: String,
    months: u32,
    icbs: usize,
    iterations: usize,
    seed: u64,
    /// Things a reader should know about these numbers (too few iterations, say).
    warnings: Vec<String>,
    /// Relative standard error of the national mean asked for (`--target-rse`), if any.
    target_rse: Option<f64>,
    national_total_gbp: MoneySummary,
    mean_per_icb_gbp: MoneySummary,
    reference: ReferenceJson<'a>,
    actions: Vec<ActionJson<'a>>,
}

fn summary_json<'a>(
    scenario: &'a Scenario,
    table: &IcbTable,
    s: &'a RunSummary,
) -> SummaryJson<'a> {
    SummaryJson {
        scenario: &scenario.name,
        cost_view: scenario.cost_view.as_str(),
        cost_view_label: scenario.cost_view.describe(),
        period_start: scenario.start.to_string(),
        period_end: scenario.end().to_string(),
        months: scenario.months,
        icbs: table.len(),
        iterations: s.iterations,
        seed: scenario.seed,
        warnings: s.warnings(),
        target_rse: s.target_rse,
        national_total_gbp: (&s.national).into(),
        mean_per_icb_gbp: (&s.per_icb_average).into(),
        reference: ReferenceJson {
            per_icb_gbp: scenario.reference.per_icb_gbp,
            label: &scenario.reference.label,
            source: &scenario.reference.source,
            percentile_of_mean_per_icb: s.reference_percentile,
            prob_mean_per_icb_above: s.prob_average_above_reference,
            icbs_with_mean_above: s.icbs_mean_above_reference,
            share_of_icbs_with_mean_above: s.icbs_mean_above_reference as f64 / table.len() as f64,
        },
        actions: s
            .actions
            .iter()
            .map(|a| ActionJson {
                id: &a.id,
                label: &a.label,
                national_gbp: (&a.cost).into(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    sha256: String,
}

#[derive(Serialize)]
struct ManifestJson {
    tool: &'static str,
    version: &'static str,
    generator: &'static str,
    scenario: FileJson,
    data: FileJson,
    /// The practice table and the ICB map, when the run read them.
    #[serde(skip_serializing_if = "Option::is_none")]
    practices: Option<FileJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icb_map: Option<FileJson>,
    /// Scenarios compared with `scenario` (`compare` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    compared_with: Vec<FileJson>,
    cost_view: &'static str,
    granularity: &'static str,
    seed: u64,
    iterations: usize,
    threads: usize,
    wall_time_seconds: f64,
}

fn other_input(info: &RunInfo, name: &str) -> Option<FileJson> {
    info.other_inputs
        .iter()
        .find(|f| f.name == name)
        .map(|f| FileJson {
            path: f.source.clone(),
            sha256: f.sha256.clone(),
        })
}

fn manifest(
    scenario: &Scenario,
    table: &IcbTable,
    iterations: usize,
    info: &RunInfo,
) -> ManifestJson {
    ManifestJson {
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        generator: GENERATOR,
        scenario: FileJson {
            path: info.scenario_path.display().to_string(),
            sha256: info.scenario_sha256.clone(),
        },
        data: FileJson {
            path: table.source.clone(),
            sha256: table.sha256.clone(),
        },
        practices: other_input(info, "practices.csv"),
        icb_map: other_input(info, "icb_map.csv"),
        compared_with: Vec::new(),
        cost_view: scenario.cost_view.as_str(),
        granularity: match scenario.granularity {
            Granularity::Icb => "icb",
            Granularity::Practice => "practice",
        },
        seed: scenario.seed,
        iterations,
        threads: info.threads,
        wall_time_seconds: (info.wall_seconds * 1000.0).round() / 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_names_the_exact_pins_of_cargo_toml() {
        let manifest = include_str!("../Cargo.toml");
        for (krate, version) in [
            ("rand", "0.10.3"),
            ("rand_distr", "0.6.0"),
            ("rand_xoshiro", "0.8.1"),
        ] {
            assert!(
                manifest.lines().any(|l| l.starts_with(&format!("{krate} "))
                    && l.contains(&format!("\"={version}\""))),
                "Cargo.toml does not pin {krate} = \"={version}\""
            );
            assert!(GENERATOR.contains(&format!("{krate} {version}")));
        }
    }

    #[test]
    fn replace_dir_refuses_a_directory_that_is_not_a_run() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("mine");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.docx"), b"precious").unwrap();
        let e = replace_dir(&out, |_| Ok(())).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(std::fs::read(out.join("thesis.docx")).unwrap(), b"precious");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_run_and_leaves_no_temporary_directory() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("run");
        replace_dir(&out, |d| {
            std::fs::write(d.join(MANIFEST), b"first").map_err(|e| Error::io("w", d, e))
        })
        .unwrap();
        let e = replace_dir(&out, |d| {
            std::fs::write(d.join("half.csv"), b"half").unwrap();
            Err(Error::Output("disk full".into()))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(out.join(MANIFEST)).unwrap(), b"first");
        assert!(!out.join("half.csv").exists());
        let leftovers: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("run")]);
    }

    #[test]
    fn a_successful_write_replaces_the_previous_run_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("run");
        let write = |files: &'static [&'static str]| {
            replace_dir(&out, move |d| {
                for f in files {
                    std::fs::write(d.join(f), f.as_bytes()).map_err(|e| Error::io("w", d, e))?;
                }
                Ok(())
            })
        };
        write(&[MANIFEST, "old.csv"]).unwrap();
        write(&[MANIFEST, "new.csv"]).unwrap();
        assert!(out.join("new.csv").exists());
        assert!(!out.join("old.csv").exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
