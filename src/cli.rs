//! The command line: parse arguments, run the pipeline, print a short summary, choose the exit
//! code. Progress and messages go to stderr; data go to files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::benchmark;
use crate::data::{sha256_hex, IcbTable};
use crate::engine::{self, Keep};
use crate::error::{Error, FileProblems, Problem, Result};
use crate::icb_map::IcbMap;
use crate::model::Model;
use crate::money::gbp;
use crate::output::{self, RunInfo};
use crate::practices::PracticeTable;
use crate::scenario::{self, CostView, Granularity, Scenario};
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
    /// Rebuild data tables from the data you hold: `data prescribing` sums NHSBSA English
    /// Prescribing Dataset files; `data build` writes an ICB table with that real spend.
    Data(DataArgs),
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
    #[arg(long, value_name = "VIEW", value_parser = ["icb_cash", "economic"])]
    view: Option<String>,
    /// Whether participation is a share of each ICB (icb) or drawn practice by practice
    /// (practice); overrides the scenario's `granularity`.
    #[arg(long, value_name = "LEVEL", value_parser = ["icb", "practice"])]
    granularity: Option<String>,
}

impl TableArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            data: self.data.clone(),
            granularity: self.granularity.as_deref().map(|g| match g {
                "practice" => Granularity::Practice,
                _ => Granularity::Icb,
            }),
            view: self.view.as_deref().and_then(CostView::parse),
            ..Overrides::default()
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
    /// Output directory [default: output/<scenario file stem>, with -benchmark,
    /// -sensitivity or compare- for those commands]. Replaced as a whole.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads [default: RAYON_NUM_THREADS or one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// No progress bar or messages on stderr (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
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
    crate::cancel::install_handler();
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
        Command::Compare(args) => compare(&args),
        Command::Sensitivity(args) => sensitivity(&args),
        Command::Report(args) => report(&args),
        Command::Data(args) => data(&args),
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
    pub scenario_bytes: Vec<u8>,
    pub table: IcbTable,
    /// With `granularity = "practice"`.
    pub practices: Option<PracticeTable>,
    pub icb_map: Option<IcbMap>,
    pub model: Model,
    /// Things worth saying that do not stop the run.
    pub warnings: Vec<String>,
}

impl Prepared {
    /// The input files besides the scenario and the ICB table, as a run records them.
    pub fn other_inputs(&self) -> Vec<output::InputFile> {
        let practices = self.practices.as_ref().map(|p| output::InputFile {
            name: "practices.csv",
            source: p.source.clone(),
            sha256: p.sha256.clone(),
            bytes: p.bytes.clone(),
        });
        let map = self.icb_map.as_ref().map(|m| output::InputFile {
            name: "icb_map.csv",
            source: m.source.clone(),
            sha256: m.sha256.clone(),
            bytes: m.bytes.clone(),
        });
        practices.into_iter().chain(map).collect()
    }
}

/// Columns of the ICB table that reports show for each ICB, when present.
const REPORTED_COLUMNS: [&str; 3] = [
    "registered_patients",
    "gp_practices",
    "prescribing_cost_gbp",
];

/// What the command line may change in a scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    /// Practice table and ICB map instead of the scenario's (a report's recorded inputs).
    pub practices: Option<PathBuf>,
    pub icb_map: Option<PathBuf>,
    pub granularity: Option<Granularity>,
    pub view: Option<CostView>,
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
}

/// Loads and checks a scenario and its ICB table, with the command line's overrides applied.
pub fn prepare(scenario_path: &Path, overrides: &Overrides) -> Result<Prepared> {
    let (mut scenario, scenario_bytes) = scenario::load(scenario_path)?;
    scenario.cost_view = overrides.view.unwrap_or(scenario.cost_view);
    scenario.granularity = overrides.granularity.unwrap_or(scenario.granularity);
    scenario.iterations = overrides.iterations.unwrap_or(scenario.iterations);
    scenario.seed = overrides.seed.unwrap_or(scenario.seed);
    let scenario_sha256 = sha256_hex(&scenario_bytes);
    let data = overrides.data.clone().or_else(|| scenario.data.clone());
    // Drivers, and the columns a report shows for each ICB when the table has them.
    let mut columns = scenario.driver_columns();
    for c in REPORTED_COLUMNS {
        if !columns.iter().any(|d| d == c) {
            columns.push(c.to_string());
        }
    }
    let table = IcbTable::load(data.as_deref(), &columns)?;
    let practices = match scenario.granularity {
        Granularity::Practice => Some(PracticeTable::load(
            overrides
                .practices
                .as_deref()
                .or(scenario.practices.as_deref()),
        )?),
        Granularity::Icb => None,
    };
    let icb_map = match overrides.icb_map.as_ref().or(scenario.icb_map.as_ref()) {
        Some(path) => Some(IcbMap::load(path, &table)?),
        None => None,
    };
    let compiled = match &practices {
        Some(practices) => Model::at_practices(&scenario, &table, practices),
        None => Model::new(&scenario, &table),
    };
    let mut model = compiled.map_err(|problems| {
        Error::Input(vec![FileProblems {
            file: scenario_path.display().to_string(),
            problems,
        }])
    })?;
    if let Some(map) = &icb_map {
        model.groups.extend(map.groups());
    }
    let mut warnings = model.warnings.clone();
    if let Some(left_out) = model
        .practices
        .as_ref()
        .map(|p| p.left_out)
        .filter(|&n| n > 0)
    {
        warnings.push(format!(
            "{left_out} practices of the practice table belong to ICBs that are not in the ICB table and are left out"
        ));
    }
    let national = model.national.len() as u64;
    if model.correlation.is_some() && scenario.iterations <= national + 1 {
        return Err(Error::input(
            scenario_path.display().to_string(),
            Problem::new(
                None,
                "correlations",
                format!("inducing correlations needs more iterations than factors: {} iterations for {national} national factors", scenario.iterations),
            ),
        ));
    }
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
        scenario_bytes,
        table,
        practices,
        icb_map,
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
    /// The batch ends of a run to a target standard error.
    checkpoints: Option<Vec<usize>>,
    target_rse: Option<f64>,
}

/// Runs batches of `batch` iterations until the relative standard error of the national mean
/// is at most `target` or `max` iterations are done. Deterministic: the result is the run of
/// that many iterations. Returns the draws and the iteration count after each batch.
fn until_converged(
    model: &Model,
    batch: usize,
    max: usize,
    target: f64,
    keep: Keep,
    quiet: bool,
) -> (engine::Draws, Vec<usize>) {
    // Batches end on block boundaries, so that the batches appended equal one run.
    let batch = batch.next_multiple_of(engine::BLOCK);
    let bar = progress_bar(max as u64, quiet);
    let mut draws = engine::run_from(model, 0, batch.min(max), keep, &|n| bar.inc(n));
    let mut ends = vec![draws.iterations];
    loop {
        let trace = crate::stats::convergence_trace(&draws.national, &[draws.iterations]);
        let rse = trace.first().map_or(f64::INFINITY, |t| t.rse);
        if rse <= target || draws.iterations >= max {
            break;
        }
        let more = batch.min(max - draws.iterations);
        draws.append(engine::run_from(
            model,
            draws.iterations as u64,
            more,
            keep,
            &|n| bar.inc(n),
        ));
        ends.push(draws.iterations);
    }
    bar.finish_and_clear();
    (draws, ends)
}

/// Prepares the scenario and runs the engine with a progress bar, keeping per-iteration values
/// or only the tallies.
fn simulate(args: &RunArgs, keep: Keep) -> Result<Simulation> {
    simulate_with(args, &Overrides::default(), keep)
}

/// [`simulate`] with the practice table and ICB map of `extra`, if any.
fn simulate_with(args: &RunArgs, extra: &Overrides, keep: Keep) -> Result<Simulation> {
    let overrides = Overrides {
        iterations: args.sim.iterations,
        seed: args.sim.seed,
        practices: extra.practices.clone(),
        icb_map: extra.icb_map.clone(),
        ..args.input.table.overrides()
    };
    let p = prepare(&args.input.scenario, &overrides)?;
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    if args.target_rse.is_some() && engine::needs_whole_run(&p.model) {
        return Err(Error::input(
            "--target-rse",
            Problem::new(
                None,
                "sampling",
                "a Latin hypercube or correlated inputs need a fixed iteration count: use --iterations instead of --target-rse",
            ),
        ));
    }
    let iterations =
        usize::try_from(p.scenario.iterations).map_err(|_| too_many(p.scenario.iterations))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.sim.threads.map_or(0, |n| n as usize))
        .build()
        .map_err(|e| Error::Output(format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    if !args.sim.quiet {
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
    check_memory(
        &p,
        args.target_rse
            .map_or(iterations as u64, |_| args.max_iterations),
        keep,
        threads,
    )?;
    let (draws, checkpoints) = match args.target_rse {
        None => {
            let bar = progress_bar(iterations as u64, args.sim.quiet);
            let draws =
                pool.install(|| engine::run_from(&p.model, 0, iterations, keep, &|n| bar.inc(n)));
            bar.finish_and_clear();
            (draws, None)
        }
        Some(target) => {
            let max =
                usize::try_from(args.max_iterations).map_err(|_| too_many(args.max_iterations))?;
            let (draws, ends) = pool.install(|| {
                until_converged(&p.model, iterations, max, target, keep, args.sim.quiet)
            });
            (draws, Some(ends))
        }
    };
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    if let Some(problem) = crate::engine::non_finite(&p.model, &p.table.codes, &draws) {
        return Err(Error::Input(vec![FileProblems {
            file: args.input.scenario.display().to_string(),
            problems: vec![problem],
        }]));
    }
    Ok(Simulation {
        prepared: p,
        draws,
        threads,
        pool,
        checkpoints,
        target_rse: args.target_rse,
    })
}

impl Simulation {
    fn info(&self, args: &RunArgs, started: Instant) -> RunInfo {
        RunInfo {
            scenario_path: args.input.scenario.clone(),
            scenario_sha256: self.prepared.scenario_sha256.clone(),
            scenario_bytes: self.prepared.scenario_bytes.clone(),
            other_inputs: self.prepared.other_inputs(),
            threads: self.threads,
            wall_seconds: started.elapsed().as_secs_f64(),
        }
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let keep = match args.samples {
        true => Keep::PerIteration,
        false => Keep::Tallies,
    };
    let sim = simulate(args, keep)?;
    let p = &sim.prepared;
    let out = args
        .sim
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.input.scenario, ""));
    let mut summary = sim
        .pool
        .install(|| RunSummary::new(&p.scenario, &p.table, &p.model, &sim.draws));
    if let Some(ends) = &sim.checkpoints {
        summary.trace = crate::stats::convergence_trace(&sim.draws.national, ends);
        summary.target_rse = sim.target_rse;
    }
    for w in summary.warnings() {
        eprintln!("warning: {w}");
    }
    let info = sim.info(args, started);
    sim.pool.install(|| {
        let extra = output::Extra {
            samples: match args.samples {
                true => Some(output::samples_frame(
                    &p.scenario,
                    &p.table,
                    &crate::sensitivity::factor_names(&p.model),
                    &sim.draws,
                )?),
                false => None,
            },
            correlations: output::correlation_frame(&p.scenario, &p.model, &sim.draws)?,
            report: args.report,
        };
        output::write_run(&out, &p.scenario, &p.table, &summary, &info, extra)
    })?;
    let mut text = String::new();
    print_summary(&mut text, &p.scenario, &summary, &out);
    emit(&text)
}

fn benchmark(args: &BenchmarkArgs) -> Result<()> {
    let started = Instant::now();
    let (_, benchmarks) = benchmark::load(args.benchmarks.as_deref())?;
    let run = &args.run;
    let sim = simulate(run, Keep::PerIteration)?;
    let p = &sim.prepared;
    let rows = benchmark::compare(&benchmarks, &p.scenario, &p.table, &sim.draws);
    let out = run
        .sim
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
    let mut text = String::new();
    print_benchmarks(&mut text, &p.scenario, &rows, &out);
    emit(&text)
}

/// The facts of a run directory that reproduce it.
struct Recorded {
    scenario_path: PathBuf,
    data_path: String,
    seed: u64,
    iterations: u64,
    view: CostView,
    granularity: String,
}

fn recorded(dir: &Path) -> Result<Recorded> {
    let path = dir.join(output::MANIFEST);
    let bad = |what: String| {
        Error::input(
            path.display().to_string(),
            Problem::new(None, "manifest", what),
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(format!(
            "not a run directory (cannot read its manifest: {e})"
        ))
    })?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let inputs = dir.join(output::INPUTS);
    if !inputs.join("scenario.toml").is_file() || !inputs.join("icbs.csv").is_file() {
        return Err(bad(format!(
            "the run did not record its inputs in {}",
            inputs.display()
        )));
    }
    Ok(Recorded {
        scenario_path: PathBuf::from(
            m["scenario"]["path"]
                .as_str()
                .ok_or_else(|| bad("no scenario path".into()))?,
        ),
        data_path: m["data"]["path"].as_str().unwrap_or("").to_string(),
        seed: m["seed"].as_u64().ok_or_else(|| bad("no seed".into()))?,
        iterations: m["iterations"]
            .as_u64()
            .ok_or_else(|| bad("no iteration count".into()))?,
        view: m["cost_view"]
            .as_str()
            .and_then(CostView::parse)
            .ok_or_else(|| bad("no cost view".into()))?,
        granularity: m["granularity"].as_str().unwrap_or("icb").to_string(),
    })
}

fn report(args: &ReportArgs) -> Result<()> {
    let started = Instant::now();
    let rec = recorded(&args.dir)?;
    let inputs = args.dir.join(output::INPUTS);
    let run_args = RunArgs {
        input: InputArgs {
            scenario: inputs.join("scenario.toml"),
            table: TableArgs {
                data: Some(inputs.join("icbs.csv")),
                view: Some(rec.view.as_str().to_string()),
                granularity: Some(rec.granularity.clone()),
            },
        },
        sim: SimArgs {
            iterations: Some(rec.iterations),
            seed: Some(rec.seed),
            out: Some(args.dir.clone()),
            threads: None,
            quiet: args.quiet,
        },
        target_rse: None,
        max_iterations: 1,
        samples: false,
        report: true,
    };
    let keep = match args.icb {
        Some(_) => Keep::PerIteration,
        None => Keep::Tallies,
    };
    let recorded = |name: &str| Some(inputs.join(name)).filter(|p| p.is_file());
    let overrides = Overrides {
        practices: recorded("practices.csv"),
        icb_map: recorded("icb_map.csv"),
        ..Overrides::default()
    };
    let mut sim = simulate_with(&run_args, &overrides, keep)?;
    // The reproduced run keeps the provenance of the original.
    sim.prepared.table.source = rec.data_path.clone();
    let p = &sim.prepared;
    let summary = sim
        .pool
        .install(|| RunSummary::new(&p.scenario, &p.table, &p.model, &sim.draws));
    let mut info = sim.info(&run_args, started);
    info.scenario_path = rec.scenario_path.clone();
    let mut text = String::new();
    match &args.icb {
        Some(code) => {
            let Some(i) = p
                .table
                .codes
                .iter()
                .position(|c| c.eq_ignore_ascii_case(code))
            else {
                return Err(Error::input(
                    "--icb",
                    Problem::new(
                        None,
                        "icb",
                        format!(
                            "unknown ICB code '{code}'; the run's ICBs are: {}",
                            p.table.codes.join(", ")
                        ),
                    ),
                ));
            };
            let report = crate::report::Report {
                scenario: &p.scenario,
                table: &p.table,
                summary: &summary,
                info: &info,
                charts: Vec::new(),
            };
            let html = crate::report::one_pager(&report, &p.model, &sim.draws, i)?;
            let path = args.dir.join(format!("icb-{}.html", p.table.codes[i]));
            output::write_file_atomically(&path, html.as_bytes())?;
            outln!(
                text,
                "One-pager for {} in {}",
                p.table.codes[i],
                path.display()
            );
        }
        None => {
            let extra = output::Extra {
                report: true,
                ..Default::default()
            };
            sim.pool.install(|| {
                output::write_run(&args.dir, &p.scenario, &p.table, &summary, &info, extra)
            })?;
            outln!(text, "Report in {}", args.dir.join("report.html").display());
        }
    }
    emit(&text)
}

fn sensitivity(args: &SensitivityArgs) -> Result<()> {
    use crate::sensitivity as sa;
    let started = Instant::now();
    let run = &args.run;
    let sim = simulate(run, Keep::PerIteration)?;
    let p = &sim.prepared;
    let names = sa::factor_names(&p.model);
    let n = args.sobol_samples as usize;
    // The tornado and Sobol indices evaluate expected costs, which practice-level
    // participation leaves as they are (it widens the spread, not the mean): they use the
    // ICB-level model, whose national factors are the same, in the same order.
    let icb_level = match p.model.practices {
        Some(_) => Some(Model::new(&p.scenario, &p.table).expect("compiled at practice level")),
        None => None,
    };
    let expected = icb_level.as_ref().unwrap_or(&p.model);
    let (tornado, ranks, sobol, by_action) = sim.pool.install(|| {
        (
            sa::tornado(expected),
            sa::rank_sensitivity(&sim.draws, &p.table.codes),
            sa::sobol_indices(expected, n, false, args.bootstrap),
            sa::sobol_indices(expected, n, true, args.bootstrap),
        )
    });
    let (base, tornado) = tornado;
    let out = run
        .sim
        .out
        .clone()
        .unwrap_or_else(|| default_out(&run.input.scenario, "-sensitivity"));
    let info = sim.info(run, started);
    let result = output::Sensitivity {
        names: &names,
        base_national: base,
        tornado: &tornado,
        ranks: &ranks,
        sobol: &sobol,
        sobol_by_action: &by_action,
        n_icb: p.table.len(),
    };
    output::write_sensitivity(
        &out,
        &p.scenario,
        &p.table,
        &result,
        &info,
        sim.draws.iterations,
    )?;
    let mut text = String::new();
    outln!(
        text,
        "{}: {}, expected national cost at the medians {}",
        p.scenario.name,
        p.scenario.cost_view.describe(),
        gbp(base)
    );
    outln!(
        text,
        "Tornado (each national factor at its 10th and 90th percentile, others at their medians):"
    );
    for r in tornado.iter().take(10) {
        outln!(
            text,
            "  {:<70} {:>9} to {:>9}  swing {}",
            names[r.factor].path,
            gbp(r.national_low),
            gbp(r.national_high),
            gbp(r.swing())
        );
    }
    outln!(
        text,
        "Sobol indices of the expected national cost (first order, total order, 95% intervals):"
    );
    let mut ranked: Vec<&sa::SobolRow> = sobol.iter().collect();
    ranked.sort_by(|a, b| b.index.total.total_cmp(&a.index.total));
    for r in ranked.iter().take(10) {
        let i = &r.index;
        outln!(
            text,
            "  {:<70} S {:.3} [{:.3}, {:.3}]  ST {:.3} [{:.3}, {:.3}]",
            r.name,
            i.first,
            i.first_lo,
            i.first_hi,
            i.total,
            i.total_lo,
            i.total_hi
        );
    }
    outln!(text, "Results in {}", out.display());
    emit(&text)
}

fn compare(args: &CompareArgs) -> Result<()> {
    let started = Instant::now();
    let run_args = |path: &PathBuf, iterations: Option<u64>, seed: Option<u64>| RunArgs {
        input: InputArgs {
            scenario: path.clone(),
            table: args.table.clone(),
        },
        sim: SimArgs {
            iterations,
            seed,
            out: None,
            threads: args.sim.threads,
            quiet: args.sim.quiet,
        },
        target_rse: None,
        max_iterations: 1,
        samples: false,
        report: false,
    };
    let baseline = simulate(
        &run_args(&args.scenarios[0], args.sim.iterations, args.sim.seed),
        Keep::PerIteration,
    )?;
    let (iterations, seed) = (
        baseline.draws.iterations as u64,
        baseline.prepared.scenario.seed,
    );
    let mut compared = Vec::new();
    for path in &args.scenarios[1..] {
        let other = simulate(
            &run_args(path, Some(iterations), Some(seed)),
            Keep::PerIteration,
        )?;
        let (a, b) = (&baseline.prepared, &other.prepared);
        if let Some(why) =
            crate::compare::unpairable(&a.table, &b.table, &baseline.draws, &other.draws)
        {
            return Err(Error::input(
                path.display().to_string(),
                Problem::new(None, "compare", why),
            ));
        }
        let rows = baseline
            .pool
            .install(|| crate::compare::paired(&a.table, &baseline.draws, &other.draws));
        compared.push(output::Compared {
            path: path.clone(),
            sha256: b.scenario_sha256.clone(),
            scenario: b.scenario.clone(),
            rows,
        });
    }
    let first = &args.scenarios[0];
    let out = args.sim.out.clone().unwrap_or_else(|| {
        let stem = first
            .file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
        Path::new("output").join(format!("compare-{stem}"))
    });
    let info = RunInfo {
        scenario_path: first.clone(),
        scenario_sha256: baseline.prepared.scenario_sha256.clone(),
        scenario_bytes: baseline.prepared.scenario_bytes.clone(),
        other_inputs: baseline.prepared.other_inputs(),
        threads: baseline.threads,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let a = &baseline.prepared;
    output::write_compare(
        &out,
        &a.scenario,
        &a.table,
        &compared,
        &info,
        baseline.draws.iterations,
    )?;
    let mut text = String::new();
    outln!(
        text,
        "Baseline A: {} ({} iterations, seed {}, {})",
        a.scenario.name,
        iterations,
        seed,
        a.scenario.cost_view.describe()
    );
    for c in &compared {
        let n = c.rows.last().expect("a national row");
        outln!(
            text,
            "{} − A: national {} (90% interval {} to {}); P(B > A) = {:.3}",
            c.scenario.name,
            gbp(n.diff.mean),
            gbp(n.diff.p05),
            gbp(n.diff.p95),
            n.prob_b_greater
        );
    }
    outln!(text, "Results in {}", out.display());
    emit(&text)
}

fn print_benchmarks(
    text: &mut String,
    scenario: &Scenario,
    rows: &[benchmark::Comparison],
    out: &Path,
) {
    outln!(
        text,
        "{}: {} to {} ({} months), {}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe()
    );
    outln!(
        text,
        "{:<62} {:>10} {:>32}  {}",
        "Published figure",
        "Published",
        "Simulated mean (90% interval)",
        "Published figure falls"
    );
    for c in rows {
        let label: String = c.benchmark.label.chars().take(62).collect();
        let published = c.benchmark.published_gbp.map_or("-".to_string(), gbp);
        match (&c.simulated, c.published_percentile) {
            (Some(s), Some(pct)) => outln!(
                text,
                "{label:<62} {published:>10} {:>32}  {}{}",
                format!("{} ({} to {})", gbp(s.mean), gbp(s.p05), gbp(s.p95)),
                crate::chart::reference_position(pct),
                if c.note.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", c.note)
                }
            ),
            _ => outln!(text, "{label:<62} {published:>10} {:>32}  {}", "-", c.note),
        }
    }
    outln!(text, "Results in {}", out.display());
}

/// Refuses, before any work, a run whose results could not fit in this machine's memory.
fn check_memory(p: &Prepared, iterations: u64, keep: Keep, threads: usize) -> Result<()> {
    let m = &p.model;
    let quantities =
        (m.n_icb() * (1 + m.n_actions) + m.n_actions + m.months + m.groups.len() + 1) as u64;
    // The national total (kept, then copied twice by the summary) and each block's moments.
    let mut per_iteration = 3 * 8 + quantities * 24 / engine::BLOCK as u64 + 1;
    if keep == Keep::PerIteration {
        per_iteration += (m.n_icb() * (1 + m.n_actions) + m.national.len()) as u64 * 8 * 2;
    }
    // A sketch per quantity and thread, rarely above 64 KiB each.
    let fixed = quantities * (threads as u64 + 1) * (64 << 10);
    let needed = iterations
        .saturating_mul(per_iteration)
        .saturating_add(fixed);
    let available = available_memory().unwrap_or(u64::MAX);
    if needed > available {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(Error::input(
            "--iterations",
            Problem::new(
                None,
                "iterations",
                format!(
                    "{iterations} iterations need about {:.1} GiB of memory and this machine has {:.1} GiB available; use fewer iterations",
                    gib(needed),
                    gib(available)
                ),
            ),
        ));
    }
    if iterations > u64::from(u32::MAX) {
        return Err(Error::input(
            "--iterations",
            Problem::new(
                None,
                "iterations",
                format!(
                    "{iterations} is more than a run can count (at most {})",
                    u32::MAX
                ),
            ),
        ));
    }
    Ok(())
}

/// `MemAvailable` from /proc/meminfo, in bytes (None where there is no such file).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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

fn print_summary(text: &mut String, scenario: &Scenario, s: &RunSummary, out: &Path) {
    let n = &s.national;
    let a = &s.per_icb_average;
    outln!(
        text,
        "{}: {} to {} ({} months), {}, {} iterations, seed {}{}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe(),
        s.iterations,
        scenario.seed,
        match scenario.granularity {
            Granularity::Practice => ", practice by practice",
            Granularity::Icb => "",
        }
    );
    outln!(
        text,
        "National cost:  mean {} ± {} (90% interval {} ± {} to {} ± {})",
        gbp(n.mean),
        gbp(n.mcse_mean),
        gbp(n.p05),
        gbp(n.mcse_p05),
        gbp(n.p95),
        gbp(n.mcse_p95)
    );
    outln!(
        text,
        "Mean per ICB:   {} ± {} (90% interval {} to {})",
        gbp(a.mean),
        gbp(a.mcse_mean),
        gbp(a.p05),
        gbp(a.p95)
    );
    outln!(text,
        "Reference:      {} ({}) is {} of the mean per ICB; {} of {} ICBs have a mean cost above it",
        gbp(s.reference_gbp),
        scenario.reference.label,
        crate::chart::reference_position(s.reference_percentile),
        s.icbs_mean_above_reference,
        s.icbs.len()
    );
    outln!(
        text,
        "(± is the Monte Carlo standard error of the figure beside it.)"
    );
    outln!(text, "Results in {}", out.display());
}

fn validate(args: &InputArgs) -> Result<()> {
    let p = prepare(&args.scenario, &args.table.overrides())?;
    let s = &p.scenario;
    let mut text = String::new();
    for w in &p.warnings {
        eprintln!("warning: {w}");
    }
    outln!(text, "{} is valid.", args.scenario.display());
    outln!(text, "Scenario:   {}", s.name);
    if !s.description.is_empty() {
        outln!(text, "            {}", s.description);
    }
    outln!(
        text,
        "Period:     {} to {} ({} months)",
        s.start,
        s.end(),
        s.months
    );
    outln!(text, "Iterations: {}, seed {}", s.iterations, s.seed);
    outln!(
        text,
        "ICB table:  {} ({} ICBs, sha256 {})",
        p.table.source,
        p.table.len(),
        &p.table.sha256[..12]
    );
    outln!(
        text,
        "Reference:  {} per ICB: {}",
        gbp(s.reference.per_icb_gbp),
        s.reference.label
    );
    outln!(
        text,
        "Draws:      {} national factors per iteration, {} per ICB",
        p.model.national.len(),
        p.model.per_icb.len()
    );
    if let (Some(practices), Some(table)) = (&p.model.practices, &p.practices) {
        outln!(
            text,
            "Practices:  {} in {} ICBs ({}), each drawn taking part or not in each action, every iteration",
            thousands(practices.keys.len() as u64),
            practices.ranges.len(),
            table.source
        );
    }
    if let Some(map) = &p.icb_map {
        outln!(
            text,
            "ICB map:    {} ICBs into {} bodies ({})",
            p.table.len(),
            map.bodies.len(),
            map.source
        );
    }
    outln!(
        text,
        "Cost view:  {} ({})",
        s.cost_view.as_str(),
        s.cost_view.describe()
    );
    if let Some(e) = &s.engagement {
        let curve: Vec<String> = e.curve.iter().map(|(m, v)| format!("{m} {v}")).collect();
        outln!(
            text,
            "Engagement: national share {} (linear between, flat outside)",
            curve.join(", ")
        );
        print_factor(&mut text, &e.icb, "  ");
    }
    for action in &s.actions {
        outln!(text);
        outln!(
            text,
            "Action {} ({}): {}{}",
            action.id,
            action.label,
            describe_timing(&action.timing),
            if action.engaged { "; engaged" } else { "" }
        );
        for f in &action.factors {
            print_factor(&mut text, f, "  ");
        }
        for line in &action.costs {
            let views: Vec<&str> = line.views.iter().map(|v| v.as_str()).collect();
            outln!(
                text,
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
                outln!(text, "    timing: {}", describe_timing(&line.timing));
            }
            for f in &line.factors {
                print_factor(&mut text, f, "    ");
            }
        }
    }
    emit(&text)
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

fn print_factor(text: &mut String, f: &scenario::Factor, indent: &str) {
    outln!(
        text,
        "{indent}{} ({}{}{}): {}; mean {:.6}{}{}",
        f.name,
        f.vary.as_str(),
        f.view
            .map_or(String::new(), |v| format!(", {} view only", v.as_str())),
        if f.participation {
            ", participation"
        } else {
            ""
        },
        f.dist.spec().describe(),
        f.dist.mean(),
        f.baseline.as_ref().map_or(String::new(), |b| format!(
            "; net of a baseline {}",
            b.dist.spec().describe()
        )),
        if f.assumption { "; ASSUMPTION" } else { "" }
    );
    if let Some(source) = &f.source {
        outln!(text, "{indent}  source: {source}");
    }
}

#[derive(Debug, Args)]
struct DataArgs {
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
    #[arg(long, value_name = "LEVEL", default_value = "icb", value_parser = ["icb", "practice"])]
    by: String,
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

fn data(args: &DataArgs) -> Result<()> {
    match &args.command {
        DataCommand::Prescribing(a) => data_prescribing(a),
        DataCommand::Build(a) => data_build(a),
        DataCommand::Practices(a) => data_practices(a),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes a whole file atomically, creating its directory.
fn write_table(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    }
    output::write_file_atomically(path, bytes)
}

fn list_months(months: &[crate::month::Month]) -> String {
    months
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn data_prescribing(args: &PrescribingArgs) -> Result<()> {
    use crate::prescribing::{self, Grouping, ReadMode};
    if !args.eager {
        // Before anything else touches polars: see the function.
        prescribing::read_local_files_in_chunks();
    }
    let reference = IcbTable::load(args.data.as_deref(), &[])?;
    let grouping = match args.by.as_str() {
        "practice" => Grouping::Practice,
        _ => Grouping::Icb,
    };
    let mode = if args.eager {
        ReadMode::Eager
    } else {
        ReadMode::Streaming
    };
    let started = Instant::now();
    let quiet = args.quiet;
    let table = prescribing::aggregate(&args.files, grouping, mode, &mut |f| {
        if !quiet {
            let seconds = f.elapsed.as_secs_f64();
            eprintln!(
                "{}: {} rows ({}) in {seconds:.1} s, {} rows/s",
                f.path.display(),
                thousands(f.rows),
                list_months(&f.months),
                thousands((f.rows as f64 / seconds.max(1e-9)) as u64)
            );
        }
    })?;
    write_table(&args.out, table.to_csv().as_bytes())?;
    let seconds = started.elapsed().as_secs_f64();
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
    let coverage = table.coverage(&reference);
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
            reference.source
        );
    } else {
        outln!(
            text,
            "ICB codes not in the reference table ({}):",
            reference.source
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
    use crate::prescribing;
    let spend = prescribing::read_practice_spend(&args.prescribing)?;
    let base = PracticeTable::load(args.practices.as_deref())?;
    let rebuilt = prescribing::rebuild_practices(&base, &spend)?;
    write_table(&args.out, &rebuilt.csv)?;
    let mut text = String::new();
    outln!(
        text,
        "Real prescribing spend from {} replaces the figure in {} for {} of {} practices.",
        args.prescribing.display(),
        base.source,
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
    use crate::prescribing;
    let spend = prescribing::read_icb_spend(&args.prescribing)?;
    let base = IcbTable::load(
        args.data.as_deref(),
        &[prescribing::PRESCRIBING_COLUMN.to_string()],
    )?;
    let rebuilt = prescribing::rebuild(&base, &spend)?;
    write_table(&args.out, &rebuilt.csv)?;
    let mut text = String::new();
    outln!(
        text,
        "Real prescribing spend from {} replaces the estimate in {} for {} of {} ICBs:",
        args.prescribing.display(),
        base.source,
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
                crate::money::gbp_full(c.old_gbp),
                crate::money::gbp_full(c.new_gbp),
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
