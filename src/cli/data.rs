//! `data`: the commands that rebuild data tables from prescribing data, and what they print.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::emit;
use crate::activity::Kind;
use crate::error::Result;
use crate::money::{gbp, gbp_full, thousands};
use crate::month::{list as list_months, Month};
use crate::observed;
use crate::pipeline;
use crate::prescribing::{FileRead, Grouping, ReadMode};

#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Sum NHSBSA English Prescribing Dataset monthly files (CSV, or Parquet) by ICB, or by
    /// practice, streaming them in bounded memory, and write the real spend as a CSV table.
    Prescribing(PrescribingArgs),
    /// Write a new ICB table with the real prescribing spend of `data prescribing` in place of
    /// the estimated prescribing_cost_gbp, and show which rows changed by how much.
    Build(BuildArgs),
    /// Write a new practice table (for `granularity = "practice"`) with each practice's real
    /// prescribing spend from `data prescribing --by practice`.
    Practices(PracticesArgs),
    /// Measure the realised loss from EPD monthly files: each practice's cost above the
    /// cheapest equivalent (price per unit against the group's national 10th percentile),
    /// summed to ICBs and the nation, and an interrupted time series (trend, seasonality, a
    /// step and a slope at each --change, AR(1) errors) estimating how much it rose.
    Observed(ObservedArgs),
    /// Measure how activity changed around collective action from NHS England's published
    /// series, by the interrupted time series of `data observed` (trend, seasonality, a step
    /// and a slope at each --change, AR(1) errors), nationally and per ICB. `--kind
    /// appointments`: the practice-level Appointments in General Practice files, forming
    /// gp_appointments (HCP_TYPE = GP) and practice_appointments (every professional), each
    /// counting every appointment status as the publication's headline count does.
    /// `--kind advice`: specialist advice requests by ICB, forming
    /// advice_and_guidance_requests. See docs/observed.md.
    Activity(ActivityArgs),
}

#[derive(Debug, Args)]
struct ActivityArgs {
    /// The files, every month from before the first change to the last; each month must come
    /// from one file. Appointments: NHS England's Practice_Level_Crosstab_<Mon>_<YY>.csv
    /// (APPOINTMENT_MONTH_START_DATE, GP_CODE, SUB_ICB_LOCATION_CODE, HCP_TYPE,
    /// COUNT_OF_APPOINTMENTS are read). Advice: CSV with MONTH (YYYY-MM), ICB_CODE, ICB_NAME
    /// and TOTAL_REQUESTS; rows of one ICB and month are summed.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Which published series the files are.
    #[arg(long, value_name = "KIND", value_enum)]
    kind: Kind,
    /// A month (YYYY-MM) from which activity may step and change slope, e.g. 2024-08 when
    /// collective action began; give it again for another (a settlement, say).
    #[arg(long = "change", value_name = "YYYY-MM", required = true)]
    changes: Vec<Month>,
    /// Appointments only: the publication's Mapping.csv (SUB_ICB_LOCATION_CODE, ICB_CODE,
    /// ICB_NAME), placing each practice in the ICB of its sub-ICB location [default: each
    /// practice's ICB in the embedded data/practices.csv]. A practice placed in no ICB counts
    /// in England's series only, and is reported.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// The directory to write (replaced whole).
    #[arg(long, value_name = "DIR", default_value = "output/activity")]
    out: PathBuf,
    /// Also write the estimates as activity observations of the benchmarks table (one row for
    /// England and one per ICB for each activity) for `benchmark --benchmarks FILE`.
    #[arg(long, value_name = "FILE")]
    benchmarks_out: Option<PathBuf>,
    /// Also write each chart as PNG at print resolution (charts/<name>.png) beside its SVG.
    #[arg(long)]
    png: bool,
    /// No messages on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ObservedArgs {
    /// EPD monthly files (EPD_YYYYMM.csv, or .parquet), every month from before the first
    /// change to the last; each month must come from one file.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A month (YYYY-MM) from which the excess may step and change slope, e.g. 2024-08 when
    /// collective action began; give it again for another (a settlement, say).
    #[arg(long = "change", value_name = "YYYY-MM", required = true)]
    changes: Vec<Month>,
    /// One time series per ICB, or per practice (the national one always).
    #[arg(long, value_name = "LEVEL", default_value = "icb", value_enum)]
    by: Grouping,
    /// The directory to write (replaced whole).
    #[arg(long, value_name = "DIR", default_value = "output/observed")]
    out: PathBuf,
    /// Also write the estimates as a benchmarks table (the columns of data/benchmarks.csv)
    /// for `benchmark --benchmarks FILE` and `calibrate --benchmarks FILE`.
    #[arg(long, value_name = "FILE")]
    benchmarks_out: Option<PathBuf>,
    /// Also write each chart as PNG at print resolution (charts/<name>.png) beside its SVG.
    #[arg(long)]
    png: bool,
    /// No messages on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Read each file whole into memory instead of streaming it (to measure the difference).
    #[arg(long, hide = true)]
    eager: bool,
}

#[derive(Debug, Args)]
struct PracticesArgs {
    /// A by-practice table written by `data prescribing --by practice`.
    #[arg(long, value_name = "FILE")]
    prescribing: PathBuf,
    /// The practice table to start from [default: the embedded data/practices.csv].
    #[arg(long, value_name = "FILE")]
    practices: Option<PathBuf>,
    /// The new practice table (CSV), for a scenario's `practices`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct PrescribingArgs {
    /// EPD monthly files (EPD_YYYYMM.csv, or .parquet); each month must come from one file.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The table to write (CSV), e.g. data/prescribing.csv.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// One row per ICB, or per ICB and practice.
    #[arg(long, value_name = "LEVEL", default_value = "icb", value_enum)]
    by: Grouping,
    /// ICB table to check the data's ICB codes against [default: the embedded table].
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// No messages on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Read each file whole into memory instead of streaming it (to measure the difference).
    #[arg(long, hide = true)]
    eager: bool,
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// A by-ICB table written by `data prescribing`.
    #[arg(long, value_name = "FILE")]
    prescribing: PathBuf,
    /// The ICB table to start from [default: the embedded table].
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// The new ICB table (CSV), for `run --data`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn data(args: &DataArgs) -> Result<()> {
    match &args.command {
        DataCommand::Prescribing(a) => data_prescribing(a),
        DataCommand::Build(a) => data_build(a),
        DataCommand::Practices(a) => data_practices(a),
        DataCommand::Observed(a) => data_observed(a),
        DataCommand::Activity(a) => data_activity(a),
    }
}

/// A count or a change in one, rounded, with thousands separators and its sign: `−1,234`.
fn count(x: f64) -> String {
    let n = x.abs().round();
    let sign = if x < 0.0 && n > 0.0 { "−" } else { "" };
    format!("{sign}{}", thousands(n as u64))
}

fn data_activity(args: &ActivityArgs) -> Result<()> {
    let quiet = args.quiet;
    let run = pipeline::observe_activity(
        &args.files,
        args.kind,
        &args.changes,
        args.mapping.as_deref(),
        &pipeline::ObservedOut {
            dir: &args.out,
            benchmarks: args.benchmarks_out.as_deref(),
            png: args.png,
        },
        &mut |f| {
            if !quiet {
                print_file(f);
            }
        },
    )?;
    let a = &run.activity;
    let mut text = String::new();
    let (first, last) = (a.months[0], a.months[a.months.len() - 1]);
    outln!(
        text,
        "Read {} file{}, {} rows in {:.1} s ({} rows/s): {first} to {last}, {} months",
        run.files.len(),
        if run.files.len() == 1 { "" } else { "s" },
        thousands(run.input_rows),
        run.seconds,
        thousands((run.input_rows as f64 / run.seconds.max(1e-9)) as u64),
        a.months.len()
    );
    if let Some(mapping) = &a.mapping {
        outln!(text, "Practices placed in ICBs by {mapping}");
    }
    if !a.unmapped.is_empty() {
        let shown: Vec<&str> = a.unmapped.iter().take(10).map(String::as_str).collect();
        outln!(
            text,
            "{} practice{} in no ICB (counted in England's series only, in no ICB's): {}{}",
            a.unmapped.len(),
            if a.unmapped.len() == 1 { "" } else { "s" },
            shown.join(", "),
            match a.unmapped.len() > shown.len() {
                true => format!(
                    " and {} more (see manifest.json)",
                    a.unmapped.len() - shown.len()
                ),
                false => String::new(),
            }
        );
    }
    for m in &a.measures {
        let o = &m.observed;
        let n = &o.national.fit;
        outln!(
            text,
            "{}: England {} a month against the counterfactual from {} ({} a month expected; 95% interval {} to {}); {} in all to {last} ({} to {})",
            m.activity,
            count(n.effect_per_month),
            a.changes[0],
            count(n.baseline_per_month),
            count(n.effect_low),
            count(n.effect_high),
            count(n.cumulative),
            count(n.cumulative_low),
            count(n.cumulative_high)
        );
        outln!(
            text,
            "  {} months before, {} after; {}; AR(1) errors, coefficient {:.2}",
            n.months_before,
            n.months_after,
            if n.seasonal {
                "trend and seasonality".to_string()
            } else {
                format!(
                    "trend only: fewer than {} months before the change, so no seasonality",
                    observed::SEASONAL_PRE_MONTHS
                )
            },
            n.rho.unwrap_or(0.0)
        );
        let below = o.icbs.iter().filter(|s| s.fit.effect_high < 0.0).count();
        let above = o.icbs.iter().filter(|s| s.fit.effect_low > 0.0).count();
        outln!(
            text,
            "  {} ICBs fitted; {below} with a 95% interval below zero, {above} above",
            o.icbs.len()
        );
        not_fitted(&mut text, &o.skipped, "  ");
    }
    outln!(text, "Wrote {}", args.out.display());
    if let Some(b) = &args.benchmarks_out {
        outln!(
            text,
            "Wrote {}: activity observations ({}) for `icb-impact benchmark SCENARIO --benchmarks {}`",
            b.display(),
            args.kind
                .activities()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            b.display()
        );
    }
    emit(&text)
}

/// How the EPD files are read: streamed, unless `--eager` asks for each file whole.
fn read_mode(eager: bool) -> ReadMode {
    if eager {
        ReadMode::Eager
    } else {
        ReadMode::Streaming
    }
}

fn data_observed(args: &ObservedArgs) -> Result<()> {
    let mode = read_mode(args.eager);
    let quiet = args.quiet;
    let run = pipeline::observe(
        &args.files,
        &args.changes,
        args.by,
        mode,
        &pipeline::ObservedOut {
            dir: &args.out,
            benchmarks: args.benchmarks_out.as_deref(),
            png: args.png,
        },
        &mut |f| {
            if !quiet {
                print_file(f);
            }
        },
    )?;
    let o = &run.observed;
    let n = &o.national.fit;
    let mut text = String::new();
    let (first, last) = (o.months[0], o.months[o.months.len() - 1]);
    outln!(
        text,
        "Read {} file{}, {} rows in {:.1} s ({} rows/s): {first} to {last}, {} months",
        run.files.len(),
        if run.files.len() == 1 { "" } else { "s" },
        thousands(run.input_rows),
        run.seconds,
        thousands((run.input_rows as f64 / run.seconds.max(1e-9)) as u64),
        o.months.len()
    );
    outln!(
        text,
        "England: excess over the cheapest equivalent {} a month above the counterfactual from {} ({} a month expected; 95% interval {} to {}); {} in all to {last} ({} to {})",
        gbp(n.effect_per_month),
        o.changes[0],
        gbp(n.baseline_per_month),
        gbp(n.effect_low),
        gbp(n.effect_high),
        gbp(n.cumulative),
        gbp(n.cumulative_low),
        gbp(n.cumulative_high)
    );
    outln!(
        text,
        "{} months before, {} after; {}; AR(1) errors, coefficient {:.2}",
        n.months_before,
        n.months_after,
        if n.seasonal {
            "trend and seasonality".to_string()
        } else {
            format!(
                "trend only: fewer than {} months before the change, so no seasonality",
                observed::SEASONAL_PRE_MONTHS
            )
        },
        n.rho.unwrap_or(0.0)
    );
    let what = match args.by {
        Grouping::Icb => "ICBs",
        Grouping::Practice => "practices",
    };
    let units = o.units();
    let above = units.iter().filter(|s| s.fit.effect_low > 0.0).count();
    outln!(
        text,
        "{} {what} fitted; {above} with a 95% interval above zero",
        units.len()
    );
    not_fitted(&mut text, &o.skipped, "");
    outln!(text, "Wrote {}", args.out.display());
    if let Some(b) = &args.benchmarks_out {
        outln!(
            text,
            "Wrote {}: use it with `icb-impact benchmark SCENARIO --benchmarks {}`",
            b.display(),
            b.display()
        );
    }
    emit(&text)
}

/// The line on stderr for each EPD file read: its rows, months and speed.
fn print_file(f: &FileRead) {
    let seconds = f.elapsed.as_secs_f64();
    eprintln!(
        "{}: {} rows ({}) in {seconds:.1} s, {} rows/s",
        f.path.display(),
        thousands(f.rows),
        list_months(&f.months),
        thousands((f.rows as f64 / seconds.max(1e-9)) as u64)
    );
}

fn data_prescribing(args: &PrescribingArgs) -> Result<()> {
    let mode = read_mode(args.eager);
    let quiet = args.quiet;
    let summed = pipeline::sum_prescribing(
        &args.files,
        args.by,
        mode,
        args.data.as_deref(),
        &args.out,
        &mut |f| {
            if !quiet {
                print_file(f);
            }
        },
    )?;
    let (table, reference, seconds) = (&summed.table, &summed.reference, summed.seconds);
    let grouping = args.by;
    let rows = table.input_rows();
    let mut text = String::new();
    let (first, last) = (table.months[0], table.months[table.months.len() - 1]);
    let missing = table.missing_months();
    outln!(
        text,
        "Read {} file{}, {} rows in {seconds:.1} s ({} rows/s): {first} to {last}, {} month{} present{}",
        table.files.len(),
        if table.files.len() == 1 { "" } else { "s" },
        thousands(rows),
        thousands((rows as f64 / seconds.max(1e-9)) as u64),
        table.months.len(),
        if table.months.len() == 1 { "" } else { "s" },
        if missing.is_empty() {
            String::new()
        } else {
            format!("; MISSING within the span: {}", list_months(&missing))
        }
    );
    let (items, nic, actual) = table.totals();
    let coverage = table.coverage(reference);
    let icbs = table.icb_months.len();
    let what = match grouping {
        Grouping::Icb => format!("{icbs} ICBs"),
        Grouping::Practice => format!(
            "{} practices in {icbs} ICBs",
            thousands(table.rows.len() as u64)
        ),
    };
    outln!(
        text,
        "{what}: actual cost {}, NIC {}, {} items",
        gbp(actual as f64 / 1e6),
        gbp(nic as f64 / 1e6),
        thousands(items.max(0) as u64)
    );
    if coverage.unknown.is_empty() {
        outln!(
            text,
            "Every ICB code is in the reference table ({})",
            reference.file.source
        );
    } else {
        outln!(
            text,
            "ICB codes not in the reference table ({}):",
            reference.file.source
        );
        for (code, name, rows, cost) in &coverage.unknown {
            outln!(
                text,
                "  {code} {name}: {} rows, actual cost {}",
                thousands(*rows),
                gbp(*cost as f64 / 1e6)
            );
        }
    }
    if !coverage.absent.is_empty() {
        outln!(
            text,
            "Reference ICBs absent from the data ({}):",
            coverage.absent.len()
        );
        for (code, name) in &coverage.absent {
            outln!(text, "  {code} {name}");
        }
    }
    if !coverage.short.is_empty() {
        let short: Vec<String> = coverage
            .short
            .iter()
            .map(|(code, m)| format!("{code} ({m} of {})", table.months.len()))
            .collect();
        outln!(
            text,
            "ICBs annualised from fewer months than the data holds: {}",
            short.join(", ")
        );
    }
    outln!(
        text,
        "Wrote {} ({} rows)",
        args.out.display(),
        table.rows.len()
    );
    emit(&text)
}

fn data_practices(args: &PracticesArgs) -> Result<()> {
    let built =
        pipeline::build_practice_table(&args.prescribing, args.practices.as_deref(), &args.out)?;
    let (base, rebuilt) = (&built.base, &built.rebuilt);
    let mut text = String::new();
    outln!(
        text,
        "Real prescribing spend from {} replaces the figure in {} for {} of {} practices.",
        args.prescribing.display(),
        base.file.source,
        rebuilt.updated,
        base.len()
    );
    let list = |codes: &[String]| {
        let shown: Vec<&str> = codes.iter().take(20).map(String::as_str).collect();
        match codes.len() > shown.len() {
            true => format!(
                "{} and {} more",
                shown.join(", "),
                codes.len() - shown.len()
            ),
            false => shown.join(", "),
        }
    };
    for (what, codes) in [
        (
            "Kept the table's figure (no prescribing data)",
            &rebuilt.kept,
        ),
        (
            "In the prescribing data but not the practice table (ignored: no patients)",
            &rebuilt.not_in_table,
        ),
        (
            "Placed in another ICB by the data (the table's ICB is kept)",
            &rebuilt.other_icb,
        ),
    ] {
        if !codes.is_empty() {
            outln!(text, "{what}: {}: {}", codes.len(), list(codes));
        }
    }
    outln!(
        text,
        "Wrote {}: use it with `practices = \"{}\"` and `granularity = \"practice\"` in a scenario",
        args.out.display(),
        args.out.display()
    );
    emit(&text)
}

fn data_build(args: &BuildArgs) -> Result<()> {
    let built = pipeline::build_icb_table(&args.prescribing, args.data.as_deref(), &args.out)?;
    let (base, rebuilt) = (&built.base, &built.rebuilt);
    let mut text = String::new();
    outln!(
        text,
        "Real prescribing spend from {} replaces the estimate in {} for {} of {} ICBs:",
        args.prescribing.display(),
        base.file.source,
        rebuilt.changed.len() + rebuilt.unchanged.len(),
        base.len()
    );
    if !rebuilt.changed.is_empty() {
        outln!(
            text,
            "  {:<5} {:<60} {:>6} {:>16} {:>16} {:>8}",
            "icb",
            "name",
            "months",
            "estimate",
            "actual a year",
            "change"
        );
        for c in &rebuilt.changed {
            outln!(
                text,
                "  {:<5} {:<60} {:>6} {:>16} {:>16} {:>8}",
                c.icb_code,
                c.icb_name,
                c.months,
                gbp_full(c.old_gbp),
                gbp_full(c.new_gbp),
                c.relative()
                    .map_or("new".to_string(), |r| format!("{:+.1}%", 100.0 * r))
            );
        }
    }
    if !rebuilt.unchanged.is_empty() {
        outln!(
            text,
            "Same value as before: {}",
            rebuilt.unchanged.join(", ")
        );
    }
    if rebuilt.kept.is_empty() {
        outln!(text, "No ICB kept the estimate.");
    } else {
        outln!(
            text,
            "Kept the estimate (no prescribing data): {}",
            rebuilt.kept.len()
        );
        for (code, name) in &rebuilt.kept {
            outln!(text, "  {code} {name}");
        }
    }
    if !rebuilt.not_in_table.is_empty() {
        outln!(
            text,
            "In the prescribing data but not the ICB table (ignored): {}",
            rebuilt.not_in_table.join(", ")
        );
    }
    outln!(
        text,
        "Wrote {}: use it with `icb-impact run SCENARIO --data {}`",
        args.out.display(),
        args.out.display()
    );
    emit(&text)
}

/// The series that were not fitted, the first 30 with their reasons, at `indent`.
fn not_fitted(text: &mut String, skipped: &[observed::Skipped], indent: &str) {
    if skipped.is_empty() {
        return;
    }
    outln!(text, "{indent}Not fitted ({}):", skipped.len());
    for s in skipped.iter().take(30) {
        outln!(
            text,
            "{indent}  {}{}: {}",
            s.icb_code,
            s.practice_code
                .as_ref()
                .map_or(String::new(), |p| format!(" {p}")),
            s.reason
        );
    }
    if skipped.len() > 30 {
        outln!(
            text,
            "{indent}  and {} more (see manifest.json)",
            skipped.len() - 30
        );
    }
}
