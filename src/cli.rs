//! The command line: parse arguments, run the pipeline, print a short summary, choose the exit
//! code. Progress and messages go to stderr; data go to files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::data::{sha256_hex, IcbTable};
use crate::engine;
use crate::error::{Error, FileProblems, Problem, Result};
use crate::model::Model;
use crate::money::gbp;
use crate::output::{self, RunInfo};
use crate::scenario::{self, Scenario};
use crate::summary::RunSummary;

#[derive(Debug, Parser)]
#[command(
    name = "icb-impact",
    version,
    about = "Monte Carlo simulator of what GP collective action costs England's Integrated Care Boards",
    long_about = "Monte Carlo simulator of what GP collective action costs England's 42 Integrated Care Boards.\n\n\
                  A scenario file (TOML) says which actions practices take, from when, and how uncertain each \
                  input is; `run` simulates many futures for every ICB and writes tables and charts set against \
                  the ~£2m per-ICB figure of the Pulse FOI (Feb 2025).\n\n\
                  Exit codes: 0 success, 2 bad input (scenario, data or arguments), 1 any other failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write tables, a summary and charts to an output directory.
    Run(RunArgs),
    /// Check a scenario and its ICB table without running, and print what would be simulated.
    Validate(InputArgs),
}

#[derive(Debug, Args)]
struct InputArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// ICB table (CSV) to use instead of the scenario's `data` or the embedded table.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Iterations (overrides the scenario's `iterations`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// Random seed (overrides the scenario's `seed`).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Output directory [default: output/<scenario file stem>]. Replaced as a whole.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads [default: RAYON_NUM_THREADS or one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// No progress bar or messages on stderr (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A scenario with its table and compiled model, every input problem reported together.
pub struct Prepared {
    pub scenario: Scenario,
    pub scenario_sha256: String,
    pub table: IcbTable,
    pub model: Model,
    /// Things worth saying that do not stop the run.
    pub warnings: Vec<String>,
}

/// Loads and checks a scenario and its ICB table (`data` overrides the scenario's).
pub fn prepare(scenario_path: &Path, data: Option<&Path>) -> Result<Prepared> {
    let scenario = scenario::load(scenario_path)?;
    let scenario_sha256 = sha256_hex(
        &std::fs::read(scenario_path).map_err(|e| Error::io("cannot read", scenario_path, e))?,
    );
    let data = data
        .map(Path::to_path_buf)
        .or_else(|| scenario.data.clone());
    let table = IcbTable::load(data.as_deref(), &scenario.driver_columns())?;
    let model = Model::new(&scenario, &table).map_err(|problems| {
        Error::Input(vec![FileProblems {
            file: scenario_path.display().to_string(),
            problems,
        }])
    })?;
    let mut warnings = Vec::new();
    for action in &scenario.actions {
        let (first, last) = (scenario.start, scenario.end());
        if action.start > last || action.end.is_some_and(|e| e < first) {
            warnings.push(format!(
                "action '{}' is active {} to {}, outside the horizon {first} to {last}: it adds nothing",
                action.id,
                action.start,
                action.end.map_or("the end".to_string(), |e| e.to_string())
            ));
        }
    }
    Ok(Prepared {
        scenario,
        scenario_sha256,
        table,
        model,
        warnings,
    })
}

fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let mut p = prepare(&args.input.scenario, args.input.data.as_deref())?;
    if let Some(n) = args.iterations {
        p.scenario.iterations = n;
    }
    if let Some(seed) = args.seed {
        p.scenario.seed = seed;
        p.model.seed = seed;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario));
    let say = |text: &str| {
        if !args.quiet {
            eprintln!("{text}");
        }
    };
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    let iterations =
        usize::try_from(p.scenario.iterations).map_err(|_| too_many(p.scenario.iterations))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.map_or(0, |n| n as usize))
        .build()
        .map_err(|e| Error::Output(format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    say(&format!(
        "Simulating {} ({} ICBs, {} months from {}) with {} iterations, seed {}, {} threads",
        p.scenario.name,
        p.table.len(),
        p.scenario.months,
        p.scenario.start,
        iterations,
        p.scenario.seed,
        threads
    ));
    let bar = progress_bar(iterations as u64, args.quiet);
    let (draws, summary) = pool.install(|| {
        let draws = engine::run(&p.model, iterations, &|n| bar.inc(n));
        let summary = RunSummary::new(&p.scenario, &p.table, &draws);
        (draws, summary)
    });
    bar.finish_and_clear();
    drop(draws);
    let info = RunInfo {
        scenario_path: args.input.scenario.clone(),
        scenario_sha256: p.scenario_sha256.clone(),
        threads,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    pool.install(|| output::write_run(&out, &p.scenario, &p.table, &summary, &info))?;
    print_summary(&p.scenario, &summary, &out);
    Ok(())
}

fn too_many(n: u64) -> Error {
    Error::input(
        "--iterations",
        Problem::new(
            None,
            "iterations",
            format!("{n} is more than this machine can address"),
        ),
    )
}

fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    Path::new("output").join(stem)
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} iterations ({per_sec}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar
}

fn print_summary(scenario: &Scenario, s: &RunSummary, out: &Path) {
    let n = &s.national;
    let a = &s.per_icb_average;
    println!(
        "{}: {} to {} ({} months), {} iterations, seed {}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        s.iterations,
        scenario.seed
    );
    println!(
        "National cost:  mean {} (90% interval {} to {}; Monte Carlo standard error {})",
        gbp(n.mean),
        gbp(n.p05),
        gbp(n.p95),
        gbp(n.mcse_mean)
    );
    println!(
        "Mean per ICB:   {} (90% interval {} to {})",
        gbp(a.mean),
        gbp(a.p05),
        gbp(a.p95)
    );
    println!(
        "Reference:      {} ({}) is {} of the mean per ICB; {} of {} ICBs have a mean cost above it",
        gbp(s.reference_gbp),
        scenario.reference.label,
        crate::chart::reference_position(s.reference_percentile),
        s.icbs_mean_above_reference,
        s.icbs.len()
    );
    println!("Results in {}", out.display());
}

fn validate(args: &InputArgs) -> Result<()> {
    let p = prepare(&args.scenario, args.data.as_deref())?;
    let s = &p.scenario;
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    println!("{} is valid.", args.scenario.display());
    println!("Scenario:   {}", s.name);
    if !s.description.is_empty() {
        println!("            {}", s.description);
    }
    println!(
        "Period:     {} to {} ({} months)",
        s.start,
        s.end(),
        s.months
    );
    println!("Iterations: {}, seed {}", s.iterations, s.seed);
    println!(
        "ICB table:  {} ({} ICBs, sha256 {})",
        p.table.source,
        p.table.len(),
        &p.table.sha256[..12]
    );
    println!(
        "Reference:  {} per ICB: {}",
        gbp(s.reference.per_icb_gbp),
        s.reference.label
    );
    println!(
        "Draws:      {} national factors per iteration, {} per ICB",
        p.model.national.len(),
        p.model.per_icb.len()
    );
    for action in &s.actions {
        println!();
        println!(
            "Action {} ({}): {} to {}, ramp {} month{}",
            action.id,
            action.label,
            action.start,
            action.end.map_or("the end".to_string(), |e| e.to_string()),
            action.ramp_months,
            if action.ramp_months == 1 { "" } else { "s" }
        );
        for f in &action.factors {
            print_factor(f, "  ");
        }
        for line in &action.costs {
            println!(
                "  Cost line: {} = {} × factors × w(m) / 12",
                line.label,
                line.driver.as_deref().unwrap_or("1")
            );
            for f in &line.factors {
                print_factor(f, "    ");
            }
        }
    }
    Ok(())
}

fn print_factor(f: &scenario::Factor, indent: &str) {
    println!(
        "{indent}{} ({}): {}; mean {:.6}{}",
        f.name,
        f.vary.as_str(),
        f.dist.spec().describe(),
        f.dist.mean(),
        if f.assumption { "; ASSUMPTION" } else { "" }
    );
    if let Some(source) = &f.source {
        println!("{indent}  source: {source}");
    }
}
