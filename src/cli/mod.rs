//! The command line: parse arguments, run the pipeline, print a short summary, choose the exit
//! code. Progress and messages go to stderr; data go to files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::month::Month;
use crate::pipeline::{self, default_out, Config, Observer, SimConfig};
use crate::scenario::{Assignment, CostView, Granularity};
use crate::settlement;
use console::Console;

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
    /// Calibrate the scenario's national factors to the published figures (data/benchmarks.csv):
    /// history matching and importance weighting of prior draws, with leave-one-out checks.
    Calibrate(CalibrateArgs),
    /// The cost of delay: the scenario settled in each month of a range (every action ends
    /// then, fading as its recovery says), on the same draws; what one more month costs.
    Settlement(SettlementArgs),
    /// Decide between the scenario's [[options]] (what an ICB can do about it): every option
    /// and `none` (the scenario as it stands) on the same draws; expected cost, the
    /// probability each is the cheapest, the saving against none, and the value of
    /// information (EVPI; EVPPI of each national factor and factor group), nationally and in
    /// every ICB. Writes decision.csv, evppi.csv, summary.json and charts.
    Decide(DecideArgs),
    /// Run two or more scenarios with common random numbers and report, per ICB and
    /// nationally, the paired difference of each from the first (B − A).
    Compare(CompareArgs),
    /// Which assumptions drive the result: tornado, rank correlations (Spearman, PRCC) and
    /// Sobol indices of the national factors.
    Sensitivity(SensitivityArgs),
    /// Write the briefing of a run directory: report.html and report.xlsx, or with --icb a
    /// one-page briefing for one ICB (icb-<CODE>.html). The run is reproduced from the inputs
    /// it recorded.
    Report(ReportArgs),
    /// The scenario explorer in the browser: pick or load a scenario, edit its actions and
    /// factors, run it, compare with the scenario as loaded, see the cost of delay and
    /// download the edited TOML, the briefing and the tables. Also a JSON API for scripts.
    Serve(ServeArgs),
    /// Rebuild data tables from the data you hold: `data prescribing` sums NHSBSA English
    /// Prescribing Dataset files; `data build` writes an ICB table with that real spend.
    Data(data::DataArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on. Anything but loopback (127.0.0.1, ::1) lets other machines use
    /// the explorer, which has no login: a warning is printed.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (0: any free port; the address printed says which).
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    port: u16,
    /// Open the explorer in the default browser.
    #[arg(long)]
    open: bool,
    /// The most iterations a request may ask for (a scenario asking for more is refused).
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_MAX_ITERATIONS, value_parser = clap::value_parser!(u64).range(1..))]
    max_iterations: u64,
    /// Simulations at once; further requests wait (see --queue-wait).
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_MAX_RUNS as u64, value_parser = clap::value_parser!(u64).range(1..=64))]
    max_runs: u64,
    /// Seconds a request waits for a free simulation before it is answered 503 (busy) with
    /// Retry-After.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::serve::DEFAULT_QUEUE_WAIT.as_secs_f64(), value_parser = non_negative_seconds)]
    queue_wait: f64,
    /// The most simulation one request may ask for, in iteration-months: iterations ×
    /// simulated months, summed over the runs the request makes (a comparison two, the cost of
    /// delay one per settlement month, a decision one per option, a calibration one per
    /// figure and wave). A request asking for more is refused at once with 400.
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_MAX_WORK, value_parser = clap::value_parser!(u64).range(1..))]
    max_work: u64,
    /// Seconds a request may take, waiting included; a simulation still running then is
    /// stopped and answered 503 (or, sent as it goes, ends with an error line).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::serve::DEFAULT_TIMEOUT.as_secs_f64(), value_parser = positive_seconds)]
    timeout: f64,
    /// Worker threads of each simulation [default: RAYON_NUM_THREADS or one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// Serve the page's HTML, CSS and JavaScript from this folder (read at each request)
    /// instead of the copies built in: for working on the page.
    #[arg(long, value_name = "DIR", hide = true)]
    page_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A directory written by `run`.
    dir: PathBuf,
    /// An ICB code (e.g. QE1): write that ICB's one-pager instead.
    #[arg(long, value_name = "CODE")]
    icb: Option<String>,
    /// No progress bar or messages on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct SensitivityArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Base sample size of the Saltelli design for Sobol indices (model evaluations:
    /// (2 + factors) × N, and again per action).
    #[arg(long, value_name = "N", default_value_t = 16384, value_parser = clap::value_parser!(u64).range(64..))]
    sobol_samples: u64,
    /// Bootstrap resamples for the Sobol intervals.
    #[arg(long, value_name = "B", default_value_t = 500)]
    bootstrap: usize,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The baseline scenario A, then the scenarios B, C, … compared with it.
    #[arg(required = true, num_args = 2..)]
    scenarios: Vec<PathBuf>,
    #[command(flatten)]
    table: TableArgs,
    #[command(flatten)]
    sim: SimArgs,
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
struct SettlementArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    sim: SimArgs,
    /// Settlement months, first..last inclusive, e.g. 2024-09..2025-01 [default: every month
    /// of the scenario's horizon].
    #[arg(long, value_name = "M1..M2", value_parser = settlement::parse_range)]
    months: Option<(Month, Month)>,
    /// Draw the national factors from a calibration's posterior (see `run --posterior`).
    #[arg(long, value_name = "DIR")]
    posterior: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DecideArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    sim: SimArgs,
}

#[derive(Debug, Args)]
struct CalibrateArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    sim: SimArgs,
    /// Table of published figures [default: the embedded data/benchmarks.csv]. Needs id,
    /// label, published (or published_gbp), published_sd and quantity; see docs/calibration.md.
    #[arg(long, value_name = "FILE")]
    benchmarks: Option<PathBuf>,
    /// Prior draws [default: the scenario's iterations]; each figure is evaluated on as many.
    #[arg(long, value_name = "N", conflicts_with = "iterations", value_parser = clap::value_parser!(u64).range(1..))]
    draws: Option<u64>,
}

#[derive(Debug, Args)]
struct InputArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    table: TableArgs,
}

/// What every scenario of a command is run on: the table, the cost view, the granularity.
#[derive(Debug, Clone, Args)]
struct TableArgs {
    /// ICB table (CSV) to use instead of the scenario's `data` or the embedded table.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Cost view (overrides the scenario's `cost_view`): icb_cash or economic.
    #[arg(long, value_name = "VIEW", value_enum)]
    view: Option<CostView>,
    /// Whether participation is a share of each ICB (icb) or drawn practice by practice
    /// (practice); overrides the scenario's `granularity`.
    #[arg(long, value_name = "LEVEL", value_enum)]
    granularity: Option<Granularity>,
    /// An ICB's own fixed value of a factor, as an [[overrides]] entry would give it (replaces
    /// one for the same ICB and factor); repeatable. E.g. QU9:actions.cap.factors.uptake=0.65
    #[arg(long = "set", value_name = "ICB:PATH=VALUE")]
    set: Vec<Assignment>,
}

impl TableArgs {
    /// The pipeline's configuration for `scenario` with these tables and settings.
    fn config(&self, scenario: &std::path::Path) -> Config {
        Config {
            data: self.data.clone(),
            view: self.view,
            granularity: self.granularity,
            set: self.set.clone(),
            ..Config::new(scenario)
        }
    }
}

/// How a command simulates: iterations, seed, where the results go, threads, messages.
#[derive(Debug, Args)]
struct SimArgs {
    /// Iterations (overrides the scenario's `iterations`; `compare` runs every scenario with
    /// the first one's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// Random seed (overrides the scenario's `seed`; `compare` runs every scenario with the
    /// first one's, so that they share their random numbers).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Output directory [default: output/<scenario file stem>, with -benchmark, -calibration,
    /// -settlement, -decide, -sensitivity or compare- for those commands]. Replaced as a whole.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads [default: RAYON_NUM_THREADS or one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// No progress bar or messages on stderr (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Also write each chart as PNG at print resolution (charts/<name>.png, about 9 inches
    /// wide at 300 dpi) beside its SVG.
    #[arg(long)]
    png: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    sim: SimArgs,
    /// Run in batches (of --iterations, or the scenario's iterations, rounded up to a multiple
    /// of 512) until the relative
    /// standard error of the national mean is below this, e.g. 0.005.
    #[arg(long, value_name = "RSE", value_parser = positive_fraction)]
    target_rse: Option<f64>,
    /// Also write samples.parquet: every iteration's cost per ICB and action, and the national
    /// factors' values.
    #[arg(long)]
    samples: bool,
    /// Also write report.html (a self-contained briefing) and report.xlsx.
    #[arg(long)]
    report: bool,
    /// Also compute the cost of delay: the scenario settled in each month of its horizon
    /// (settlement.csv, charts/settlement, a section of the briefing); `settlement` takes
    /// another range.
    #[arg(long)]
    settlement: bool,
    /// Also decide between the scenario's [[options]] on the same draws (decision.csv,
    /// evppi.csv, charts/decision_*, a section of the briefing and the one-pagers); `decide`
    /// writes the decision alone.
    #[arg(long)]
    decide: bool,
    /// Draw the national factors from the posterior of a calibration (its output directory,
    /// or its posterior_draws.parquet) instead of their priors; overrides the scenario's
    /// `posterior`.
    #[arg(long, value_name = "DIR")]
    posterior: Option<PathBuf>,
    /// Upper bound on iterations with --target-rse.
    #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_iterations: u64,
}

fn positive_fraction(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!("'{text}' is not a number between 0 and 1")),
    }
}

fn non_negative_seconds(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "'{text}' is not a number of seconds from 0 to 3600"
        )),
    }
}

/// A number of seconds above 0, at most a day (`serve --timeout`).
fn positive_seconds(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "'{text}' is not a number of seconds above 0 and at most 86400"
        )),
    }
}

/// `writeln!` into the `String` that a command prints at the end (writing to a `String`
/// cannot fail).
macro_rules! outln {
    ($text:expr) => {{
        $text.push('\n');
    }};
    ($text:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($text, $($arg)*);
    }};
}

mod console;
mod data;
mod print;

/// Prints a command's report on stdout; a reader that has gone away (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to", "standard output", e))
        }
        _ => Ok(()),
    }
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
    // The server stops on Ctrl-C by itself; every other command finishes cleanly.
    if !matches!(cli.command, Command::Serve(_)) {
        crate::cancel::install_handler();
    }
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
        Command::Benchmark(args) => benchmark(&args),
        Command::Calibrate(args) => calibrate(&args),
        Command::Settlement(args) => settlement(&args),
        Command::Decide(args) => decide(&args),
        Command::Compare(args) => compare(&args),
        Command::Sensitivity(args) => sensitivity(&args),
        Command::Report(args) => report(&args),
        Command::Data(args) => data::data(&args),
        Command::Serve(args) => serve(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn serve(args: &ServeArgs) -> Result<()> {
    let options = crate::serve::Options {
        host: args.host,
        port: args.port,
        open: args.open,
        max_iterations: args.max_iterations,
        max_runs: args.max_runs as usize,
        queue_wait: std::time::Duration::from_secs_f64(args.queue_wait),
        max_work: args.max_work,
        timeout: std::time::Duration::from_secs_f64(args.timeout),
        threads: args.threads.map(|n| n as usize),
        page_dir: args.page_dir.clone(),
    };
    // The address is the command's output: on stdout, at once.
    crate::serve::serve(
        options,
        &|line| {
            let _ = emit(&format!("{line}\n"));
        },
        &|warning| eprintln!("warning: {warning}"),
    )
}

impl SimArgs {
    /// The configuration of `scenario` with the table options and these settings.
    fn config(&self, table: &TableArgs, scenario: &std::path::Path) -> Config {
        Config {
            iterations: self.iterations,
            seed: self.seed,
            ..table.config(scenario)
        }
    }

    fn sim(&self) -> SimConfig {
        SimConfig {
            threads: self.threads.map(|n| n as usize),
            png: self.png,
            ..SimConfig::default()
        }
    }
}

impl RunArgs {
    fn config(&self) -> Config {
        Config {
            posterior: self.posterior.clone(),
            ..self.sim.config(&self.input.table, &self.input.scenario)
        }
    }

    fn sim(&self) -> SimConfig {
        SimConfig {
            target_rse: self.target_rse,
            max_iterations: self.max_iterations,
            ..self.sim.sim()
        }
    }

    /// `--out`, or `output/<scenario stem><suffix>`.
    fn out(&self, suffix: &str) -> PathBuf {
        self.sim
            .out
            .clone()
            .unwrap_or_else(|| default_out(&self.input.scenario, suffix))
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let out = args.out("");
    let console = Console::new(args.sim.quiet);
    let r = pipeline::run(
        &args.config(),
        &args.sim(),
        &out,
        pipeline::Optional {
            samples: args.samples,
            report: args.report,
            settlement: args.settlement,
            decide: args.decide,
        },
        &console,
    )?;
    emit(&print::run_summary(
        &r.simulation.prepared.scenario,
        &r.summary,
        &out,
    ))
}

fn validate(args: &InputArgs) -> Result<()> {
    let p = pipeline::prepare(&args.table.config(&args.scenario))?;
    let console = Console::new(false);
    for w in &p.model.warnings {
        console.warn(w);
    }
    emit(&print::validation(&args.scenario, &p))
}

fn benchmark(args: &BenchmarkArgs) -> Result<()> {
    let run = &args.run;
    let out = run.out("-benchmark");
    let console = Console::new(run.sim.quiet);
    let b = pipeline::benchmark(
        &run.config(),
        &run.sim(),
        args.benchmarks.as_deref(),
        &out,
        &console,
    )?;
    emit(&print::benchmarks(&b.prepared.scenario, &b.rows, &out))
}

fn settlement(args: &SettlementArgs) -> Result<()> {
    let out = args
        .sim
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario, "-settlement"));
    let console = Console::new(args.sim.quiet);
    let config = Config {
        posterior: args.posterior.clone(),
        ..args.sim.config(&args.input.table, &args.input.scenario)
    };
    let s = pipeline::settlement(&config, &args.sim.sim(), args.months, &out, &console)?;
    emit(&print::settlement(&s, &out))
}

fn decide(args: &DecideArgs) -> Result<()> {
    let out = args
        .sim
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario, "-decide"));
    let console = Console::new(args.sim.quiet);
    let config = args.sim.config(&args.input.table, &args.input.scenario);
    let d = pipeline::decide(&config, &args.sim.sim(), &out, &console)?;
    emit(&print::decision(&d, &out))
}

fn calibrate(args: &CalibrateArgs) -> Result<()> {
    let out = args
        .sim
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario, "-calibration"));
    let console = Console::new(args.sim.quiet);
    let config = Config {
        iterations: args.draws.or(args.sim.iterations),
        ..args.sim.config(&args.input.table, &args.input.scenario)
    };
    let c = pipeline::calibrate(
        &config,
        &args.sim.sim(),
        args.benchmarks.as_deref(),
        &out,
        &console,
    )?;
    emit(&print::calibration(&c, &out))
}

fn sensitivity(args: &SensitivityArgs) -> Result<()> {
    let run = &args.run;
    let out = run.out("-sensitivity");
    let console = Console::new(run.sim.quiet);
    let s = pipeline::sensitivity(
        &run.config(),
        &run.sim(),
        args.sobol_samples as usize,
        args.bootstrap,
        &out,
        &console,
    )?;
    emit(&print::sensitivity(&s, &out))
}

fn compare(args: &CompareArgs) -> Result<()> {
    let first = &args.scenarios[0];
    let out = args.sim.out.clone().unwrap_or_else(|| {
        std::path::Path::new("output").join(format!("compare-{}", pipeline::stem(first)))
    });
    let console = Console::new(args.sim.quiet);
    let c = pipeline::compare(
        &args.sim.config(&args.table, first),
        first,
        &args.scenarios[1..],
        &args.sim.sim(),
        &out,
        &console,
    )?;
    emit(&print::comparison(&c, &out))
}

fn report(args: &ReportArgs) -> Result<()> {
    let console = Console::new(args.quiet);
    let text = match pipeline::report(&args.dir, args.icb.as_deref(), &console)? {
        pipeline::ReportOutput::OnePager { code, path } => {
            format!("One-pager for {code} in {}\n", path.display())
        }
        pipeline::ReportOutput::Briefing(path) => format!("Report in {}\n", path.display()),
    };
    emit(&text)
}
