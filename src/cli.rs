//! The command line: parse arguments, run the pipeline, print a short summary, choose the exit
//! code. Progress and messages go to stderr; data go to files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::benchmark;
use crate::data::{sha256_hex, IcbTable};
use crate::engine;
use crate::error::{Error, FileProblems, Problem, Result};
use crate::model::Model;
use crate::money::gbp;
use crate::output::{self, RunInfo};
use crate::scenario::{self, CostView, Scenario};
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
    /// Run a scenario and set each published figure (data/benchmarks.csv) against the
    /// simulated quantity on the same scope and period.
    Benchmark(BenchmarkArgs),
}

#[derive(Debug, Args)]
struct BenchmarkArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Table of published figures [default: the embedded data/benchmarks.csv].
    #[arg(long, value_name = "FILE")]
    benchmarks: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InputArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// ICB table (CSV) to use instead of the scenario's `data` or the embedded table.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Cost view (overrides the scenario's `cost_view`): icb_cash or economic.
    #[arg(long, value_name = "VIEW", value_parser = ["icb_cash", "economic"])]
    view: Option<String>,
}

impl InputArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            data: self.data.clone(),
            view: self.view.as_deref().and_then(CostView::parse),
            ..Overrides::default()
        }
    }
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
        Command::Benchmark(args) => benchmark(&args),
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

/// What the command line may change in a scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub view: Option<CostView>,
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
}

/// Loads and checks a scenario and its ICB table, with the command line's overrides applied.
pub fn prepare(scenario_path: &Path, overrides: &Overrides) -> Result<Prepared> {
    let mut scenario = scenario::load(scenario_path)?;
    scenario.cost_view = overrides.view.unwrap_or(scenario.cost_view);
    scenario.iterations = overrides.iterations.unwrap_or(scenario.iterations);
    scenario.seed = overrides.seed.unwrap_or(scenario.seed);
    let scenario_sha256 = sha256_hex(
        &std::fs::read(scenario_path).map_err(|e| Error::io("cannot read", scenario_path, e))?,
    );
    let data = overrides.data.clone().or_else(|| scenario.data.clone());
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
        let t = &action.timing;
        if t.effect_start() > last || t.end.is_some_and(|e| e < first) {
            warnings.push(format!(
                "action '{}' has effect {} to {}, outside the horizon {first} to {last}: it adds nothing",
                action.id,
                t.effect_start(),
                t.end.map_or("the end".to_string(), |e| e.to_string())
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

/// A finished simulation.
struct Simulation {
    prepared: Prepared,
    draws: engine::Draws,
    threads: usize,
    pool: rayon::ThreadPool,
}

/// Prepares the scenario and runs the engine with a progress bar.
fn simulate(args: &RunArgs) -> Result<Simulation> {
    let overrides = Overrides {
        iterations: args.iterations,
        seed: args.seed,
        ..args.input.overrides()
    };
    let p = prepare(&args.input.scenario, &overrides)?;
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
    if !args.quiet {
        eprintln!(
            "Simulating {} ({} ICBs, {} months from {}, {}) with {} iterations, seed {}, {} threads",
            p.scenario.name,
            p.table.len(),
            p.scenario.months,
            p.scenario.start,
            p.scenario.cost_view.describe(),
            iterations,
            p.scenario.seed,
            threads
        );
    }
    let bar = progress_bar(iterations as u64, args.quiet);
    let draws = pool.install(|| engine::run(&p.model, iterations, &|n| bar.inc(n)));
    bar.finish_and_clear();
    Ok(Simulation {
        prepared: p,
        draws,
        threads,
        pool,
    })
}

impl Simulation {
    fn info(&self, args: &RunArgs, started: Instant) -> RunInfo {
        RunInfo {
            scenario_path: args.input.scenario.clone(),
            scenario_sha256: self.prepared.scenario_sha256.clone(),
            threads: self.threads,
            wall_seconds: started.elapsed().as_secs_f64(),
        }
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let sim = simulate(args)?;
    let p = &sim.prepared;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario, ""));
    let summary = sim
        .pool
        .install(|| RunSummary::new(&p.scenario, &p.table, &sim.draws));
    let info = sim.info(args, started);
    sim.pool
        .install(|| output::write_run(&out, &p.scenario, &p.table, &summary, &info))?;
    print_summary(&p.scenario, &summary, &out);
    Ok(())
}

fn benchmark(args: &BenchmarkArgs) -> Result<()> {
    let started = Instant::now();
    let (_, benchmarks) = benchmark::load(args.benchmarks.as_deref())?;
    let run = &args.run;
    let sim = simulate(run)?;
    let p = &sim.prepared;
    let rows = benchmark::compare(&benchmarks, &p.scenario, &p.table, &sim.draws);
    let out = run
        .out
        .clone()
        .unwrap_or_else(|| default_out(&run.input.scenario, "-benchmark"));
    let info = sim.info(run, started);
    output::write_benchmark(
        &out,
        &p.scenario,
        &p.table,
        &rows,
        &info,
        sim.draws.iterations,
    )?;
    print_benchmarks(&p.scenario, &rows, &out);
    Ok(())
}

fn print_benchmarks(scenario: &Scenario, rows: &[benchmark::Comparison], out: &Path) {
    println!(
        "{}: {} to {} ({} months), {}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe()
    );
    println!(
        "{:<62} {:>10} {:>32}  {}",
        "Published figure", "Published", "Simulated mean (90% interval)", "Published figure falls"
    );
    for c in rows {
        let label: String = c.benchmark.label.chars().take(62).collect();
        let published = c.benchmark.published_gbp.map_or("-".to_string(), gbp);
        match (&c.simulated, c.published_percentile) {
            (Some(s), Some(pct)) => println!(
                "{label:<62} {published:>10} {:>32}  {}{}",
                format!("{} ({} to {})", gbp(s.mean), gbp(s.p05), gbp(s.p95)),
                crate::chart::reference_position(pct),
                if c.note.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", c.note)
                }
            ),
            _ => println!("{label:<62} {published:>10} {:>32}  {}", "-", c.note),
        }
    }
    println!("Results in {}", out.display());
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

fn default_out(scenario: &Path, suffix: &str) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    Path::new("output").join(format!("{stem}{suffix}"))
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
        "{}: {} to {} ({} months), {}, {} iterations, seed {}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe(),
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
    let p = prepare(&args.scenario, &args.overrides())?;
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
    println!(
        "Cost view:  {} ({})",
        s.cost_view.as_str(),
        s.cost_view.describe()
    );
    if let Some(e) = &s.engagement {
        let curve: Vec<String> = e.curve.iter().map(|(m, v)| format!("{m} {v}")).collect();
        println!(
            "Engagement: national share {} (linear between, flat outside)",
            curve.join(", ")
        );
        print_factor(&e.icb, "  ");
    }
    for action in &s.actions {
        println!();
        println!(
            "Action {} ({}): {}{}",
            action.id,
            action.label,
            describe_timing(&action.timing),
            if action.engaged { "; engaged" } else { "" }
        );
        for f in &action.factors {
            print_factor(f, "  ");
        }
        for line in &action.costs {
            let views: Vec<&str> = line.views.iter().map(|v| v.as_str()).collect();
            println!(
                "  Cost line: {} = {}{} × factors × w(m) / 12{}",
                line.label,
                if line.negative { "−" } else { "" },
                line.driver.as_deref().unwrap_or("1"),
                if line.views.contains(&s.cost_view) {
                    String::new()
                } else {
                    format!(" (not counted: views {})", views.join(", "))
                }
            );
            if line.timing != action.timing {
                println!("    timing: {}", describe_timing(&line.timing));
            }
            for f in &line.factors {
                print_factor(f, "    ");
            }
        }
    }
    Ok(())
}

fn describe_timing(t: &scenario::Timing) -> String {
    let ramp = match t.ramp {
        scenario::Ramp::Linear { months: 1 } => "full effect at once".to_string(),
        scenario::Ramp::Linear { months } => format!("linear ramp over {months} months"),
        scenario::Ramp::Exponential { tau_months } => {
            format!("exponential build-up, tau {tau_months} months")
        }
    };
    let notice = match t.notice_months {
        0 => String::new(),
        n => format!(" after {n} months' notice"),
    };
    format!(
        "{} to {}{notice}, {ramp}",
        t.start,
        t.end.map_or("the end".to_string(), |e| e.to_string())
    )
}

fn print_factor(f: &scenario::Factor, indent: &str) {
    println!(
        "{indent}{} ({}{}): {}; mean {:.6}{}{}",
        f.name,
        f.vary.as_str(),
        f.view
            .map_or(String::new(), |v| format!(", {} view only", v.as_str())),
        f.dist.spec().describe(),
        f.dist.mean(),
        f.baseline.as_ref().map_or(String::new(), |b| format!(
            "; net of a baseline {}",
            b.dist.spec().describe()
        )),
        if f.assumption { "; ASSUMPTION" } else { "" }
    );
    if let Some(source) = &f.source {
        println!("{indent}  source: {source}");
    }
}
