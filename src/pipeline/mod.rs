//! The library pipeline that every face of the tool drives: load a scenario with the settings
//! that replace its own → validate → load the tables → compile → simulate → summarise → write. It takes
//! plain configuration structs (no command-line types) and reports progress through an
//! [`Observer`], so the command line, tests, benches and examples all run the same code.
//!
//! ```no_run
//! use icb_impact::pipeline::{self, Config, Optional, SimConfig, Silent};
//!
//! let config = Config {
//!     iterations: Some(20_000),
//!     ..Config::new("scenarios/collective-action-2024.toml")
//! };
//! let files = Optional::default(); // no samples.parquet, no briefing
//! let out = pipeline::run(&config, &SimConfig::default(), "output/mine".as_ref(), files, &Silent)?;
//! println!("national mean £{:.0}", out.summary.national.mean);
//! # Ok::<(), icb_impact::error::Error>(())
//! ```

mod calibrate;
mod commands;
mod data;
mod decide;
mod nowcast;
mod settlement;
mod simulate;

use std::path::{Path, PathBuf};

pub use calibrate::{calibrate, Calibrated};
pub use commands::{
    benchmark, compare, pair, report, run, sensitivity, summarise, Also, Benchmarked, ComparedRuns,
    Optional, ReportOutput, RunOutput, SensitivityRun,
};
pub use data::{
    build_icb_table, build_practice_table, observe, observe_activity, sum_prescribing, ActivityRun,
    BuiltIcbTable, BuiltPracticeTable, ObservedOut, ObservedRun, SummedPrescribing,
};
pub use decide::{decide, decision, Decided};
pub use nowcast::{nowcast, Nowcast};
pub use settlement::{cost_of_delay, settlement, Settled};
pub use simulate::{simulate, SimConfig, Simulation};

use crate::data::IcbTable;
use crate::engine;
use crate::error::{Error, FileProblems, Problem, Result};
use crate::footprint::Footprint;
use crate::icb_map::IcbMap;
use crate::model::{Model, Resample};
use crate::posterior::Posterior;
use crate::practices::PracticeTable;
use crate::provenance::InputFile;
use crate::scenario::{self, Assignment, CostView, Granularity, Scenario, Settings};

/// Where a scenario and its tables come from, and what replaces the scenario's own settings.
/// Every `None` keeps what the scenario file says.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The scenario file (TOML); with `text`, only the name the scenario goes by.
    pub scenario: PathBuf,
    /// The scenario's bytes, sent rather than read from a file (a server's request): such a
    /// scenario may name only the tables built into the tool (see [`prepare_text`]).
    pub text: Option<Vec<u8>>,
    /// An ICB table instead of the scenario's `data` or the embedded one.
    pub data: Option<PathBuf>,
    /// A practice table instead of the scenario's `practices` (a report's recorded inputs).
    pub practices: Option<PathBuf>,
    /// A footprint instead of the scenario's `footprint`.
    pub footprint: Option<PathBuf>,
    /// An ICB map instead of the scenario's `icb_map`.
    pub icb_map: Option<PathBuf>,
    pub view: Option<CostView>,
    pub granularity: Option<Granularity>,
    pub iterations: Option<u64>,
    pub seed: Option<u64>,
    /// ICBs' own fixed values (`--set`), put in place after the file's `[[overrides]]`.
    pub set: Vec<Assignment>,
    /// A calibration (its directory or draws file) instead of the scenario's `posterior`: the
    /// national factors are drawn from its posterior.
    pub posterior: Option<PathBuf>,
}

impl Config {
    /// The scenario at `path` as its file states it.
    pub fn new(path: impl Into<PathBuf>) -> Config {
        Config {
            scenario: path.into(),
            ..Config::default()
        }
    }

    /// The settings of the scenario file that this configuration replaces.
    fn settings(&self) -> Settings {
        Settings {
            cost_view: self.view,
            granularity: self.granularity,
            iterations: self.iterations,
            seed: self.seed,
            set: self.set.clone(),
        }
    }
}

/// Receives what a long piece of work has to say. Every method does nothing by default.
pub trait Observer: Sync {
    /// A line about what is being done ("Simulating …").
    fn note(&self, _text: &str) {}
    /// Something worth saying that does not stop the work.
    fn warn(&self, _text: &str) {}
    /// Work of `total` units starts.
    fn start(&self, _total: u64) {}
    /// `n` more units are done (called from worker threads).
    fn advance(&self, _n: u64) {}
    /// The work started last is over.
    fn finish(&self) {}
}

/// An observer that says nothing.
pub struct Silent;

impl Observer for Silent {}

/// A scenario with its tables and compiled model, every input problem reported together.
pub struct Prepared {
    /// The scenario with the configuration's settings in place, validated once.
    pub scenario: Scenario,
    /// The scenario file's name, hash and bytes.
    pub scenario_file: InputFile,
    /// The ICB table the run is on: with a footprint, its ICBs (the file read is still
    /// `table.file`).
    pub table: IcbTable,
    /// With `granularity = "practice"`: with a footprint, its practices in its ICBs.
    pub practices: Option<PracticeTable>,
    /// The footprint the tables were rebuilt on, and the tables as read (the 42 ICBs of 2022,
    /// say), for the view of the old footprint.
    pub footprint: Option<Rebuilt>,
    pub icb_map: Option<IcbMap>,
    /// A calibrated run's posterior draws file (the model resamples them).
    pub posterior: Option<InputFile>,
    /// The compiled model; its `warnings` are the things worth saying that do not stop a run.
    pub model: Model,
}

impl Prepared {
    /// Refuses a calibrated scenario for `command`, which works on the priors.
    pub(crate) fn prior_only(&self, command: &str) -> Result<()> {
        match &self.posterior {
            None => Ok(()),
            Some(file) => Err(Error::input(
                self.scenario_file.source.clone(),
                Problem::new(
                    None,
                    "posterior",
                    format!(
                        "{command} works on the priors, but the scenario is calibrated ({}); run it without a posterior",
                        file.source
                    ),
                ),
            )),
        }
    }

    /// The input files besides the scenario and the ICB table, with the names a run records
    /// them under in `inputs/`.
    pub fn other_inputs(&self) -> Vec<(&'static str, InputFile)> {
        // A footprint reads the practice table at ICB level too.
        let practices = self
            .practices
            .as_ref()
            .map(|p| p.file.clone())
            .or_else(|| {
                self.footprint
                    .as_ref()
                    .map(|f| f.footprint.practices.clone())
            })
            .map(|file| ("practices.csv", file));
        let footprint = self
            .footprint
            .as_ref()
            .map(|f| ("footprint.csv", f.footprint.file.clone()));
        let map = self
            .icb_map
            .as_ref()
            .map(|m| ("icb_map.csv", m.file.clone()));
        let posterior = self
            .posterior
            .as_ref()
            .map(|p| (crate::posterior::DRAWS_FILE, p.clone()));
        practices
            .into_iter()
            .chain(footprint)
            .chain(map)
            .chain(posterior)
            .collect()
    }
}

/// A footprint and the tables it rebuilt, as they were read.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub footprint: Footprint,
    /// The ICB table as read (its rows are the old ICBs).
    pub old_table: IcbTable,
    /// The practice table as read, with the old ICBs' codes.
    pub old_practices: PracticeTable,
}

/// Columns of the ICB table that reports show for each ICB, when present.
const REPORTED_COLUMNS: [&str; 3] = [
    crate::data::PATIENTS,
    "gp_practices",
    "prescribing_cost_gbp",
];

/// Loads a scenario with the configuration's settings applied before it is validated, then
/// its ICB table, practice table and ICB map, and compiles the model; every problem of the
/// scenario is reported together.
pub fn prepare(config: &Config) -> Result<Prepared> {
    if let Some(text) = &config.text {
        return prepare_text(&config.scenario.display().to_string(), text, config);
    }
    let scenario_file = InputFile::read(&config.scenario, "the scenario")?;
    let base = config.scenario.parent().unwrap_or(Path::new(""));
    let scenario = scenario::from_bytes(
        &scenario_file.bytes,
        &scenario_file.source,
        base,
        &config.settings(),
    )?;
    prepare_scenario(config, scenario_file, scenario, Files::Disk)
}

/// The tables built into the tool, by file name, with the names outputs give them: all that
/// a scenario sent as text may name (as `data/<name>` or `../data/<name>`, as the shipped
/// scenarios do).
const BUILT_IN: [(&str, &str, &[u8]); 4] = [
    (
        "icbs.csv",
        crate::data::EMBEDDED_NAME,
        crate::data::EMBEDDED_CSV,
    ),
    (
        "practices.csv",
        crate::practices::EMBEDDED_NAME,
        crate::practices::EMBEDDED_CSV,
    ),
    (
        "footprint-2026.csv",
        crate::footprint::EMBEDDED_2026_NAME,
        crate::footprint::EMBEDDED_2026_CSV,
    ),
    (
        "icb-map-2026.csv",
        crate::icb_map::EMBEDDED_2026_NAME,
        crate::icb_map::EMBEDDED_2026_CSV,
    ),
];

/// The built-in table a path names: a file of [`BUILT_IN`] in a folder called `data`.
fn built_in(path: &Path) -> Option<InputFile> {
    let folder = path.parent()?.file_name()?;
    let name = path.file_name()?;
    BUILT_IN
        .iter()
        .find(|(file, _, _)| folder == "data" && name == *file)
        .map(|(_, source, bytes)| InputFile::new(source, bytes))
}

/// Where the files a scenario names are read from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Files {
    /// The disk, relative to the scenario's folder.
    Disk,
    /// Only the tables built into the tool ([`BUILT_IN`]).
    BuiltIn,
}

impl Files {
    /// The file at `path` (`what` names it in problems).
    fn read(self, path: &Path, what: &str) -> Result<InputFile> {
        match self {
            Files::Disk => InputFile::read(path, what),
            Files::BuiltIn => Ok(built_in(path).expect("checked by prepare_text")),
        }
    }
}

/// Prepares a scenario given as text (`name` names it in messages), as a server receives
/// one: it may use only the tables built into the tool, so a scenario naming any other file
/// (`data`, `practices`, `footprint`, `icb_map`; a `posterior` always) is refused before anything is read,
/// and the configuration's own tables must be `None`. Its `posterior` may be given: a
/// calibration the caller made (the explorer's nowcast calibrates, then runs on it). The
/// configuration's `scenario` path is not read.
pub fn prepare_text(name: &str, text: &[u8], config: &Config) -> Result<Prepared> {
    let scenario_file = InputFile::new(name, text);
    let scenario = scenario::from_bytes(text, name, Path::new(""), &config.settings())?;
    let other = |named: &Option<PathBuf>| named.as_deref().is_some_and(|p| built_in(p).is_none());
    let files = [
        (
            "scenario.data",
            other(&scenario.data) || config.data.is_some(),
        ),
        (
            "scenario.practices",
            other(&scenario.practices) || config.practices.is_some(),
        ),
        (
            "scenario.footprint",
            other(&scenario.footprint) || config.footprint.is_some(),
        ),
        (
            "scenario.icb_map",
            other(&scenario.icb_map) || config.icb_map.is_some(),
        ),
        ("scenario.posterior", scenario.posterior.is_some()),
    ];
    let built: Vec<String> = BUILT_IN
        .iter()
        .map(|(f, _, _)| format!("data/{f}"))
        .collect();
    let problems: Vec<Problem> = files
        .iter()
        .filter(|(_, named)| *named)
        .map(|(field, _)| {
            Problem::new(
                None,
                *field,
                format!(
                    "a scenario sent as text may use only the tables built into the tool ({}), not a file: remove this key",
                    built.join(", ")
                ),
            )
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Input(vec![FileProblems {
            file: name.to_string(),
            problems,
        }]));
    }
    prepare_scenario(config, scenario_file, scenario, Files::BuiltIn)
}

/// The rest of [`prepare`]: the tables, the ICB map, the compiled model and the posterior,
/// the files the scenario names read from `files`.
fn prepare_scenario(
    config: &Config,
    scenario_file: InputFile,
    scenario: Scenario,
    files: Files,
) -> Result<Prepared> {
    // Problems found against the tables are the scenario file's.
    let source = scenario_file.source.clone();
    let data = config.data.clone().or_else(|| scenario.data.clone());
    // Drivers, and the columns a report shows for each ICB when the table has them.
    let mut columns = scenario.driver_columns();
    for c in REPORTED_COLUMNS {
        if !columns.iter().any(|d| d == c) {
            columns.push(c.to_string());
        }
    }
    let mut table = match &data {
        None => IcbTable::load(None, &columns)?,
        Some(path) => {
            let file = files.read(path, "the ICB table")?;
            IcbTable::from_csv(&file.bytes, &file.source, &columns)?
        }
    };
    let footprint_path = config.footprint.as_ref().or(scenario.footprint.as_ref());
    // The practice table: at practice level, and for a footprint, which places practices.
    let mut practices = match (scenario.granularity, footprint_path) {
        (Granularity::Icb, None) => None,
        _ => Some(
            match config.practices.as_ref().or(scenario.practices.as_ref()) {
                None => PracticeTable::load(None)?,
                Some(path) => {
                    let file = files.read(path, "the practice table")?;
                    PracticeTable::from_csv(&file.bytes, &file.source)?
                }
            },
        ),
    };
    let footprint = match (footprint_path, &practices) {
        (Some(path), Some(read)) => {
            let file = files.read(path, "the footprint")?;
            let footprint = Footprint::from_csv(&file.bytes, &file.source, &table, read)?;
            let (built, moved) = footprint.apply(&table, read);
            let rebuilt = Rebuilt {
                footprint,
                old_table: std::mem::replace(&mut table, built),
                old_practices: read.clone(),
            };
            practices = Some(moved);
            Some(rebuilt)
        }
        _ => None,
    };
    if scenario.granularity == Granularity::Icb {
        practices = None;
    }
    let icb_map = match config.icb_map.as_ref().or(scenario.icb_map.as_ref()) {
        Some(path) => {
            let file = files.read(path, "the ICB map")?;
            Some(IcbMap::from_csv(&file.bytes, &file.source, &table)?)
        }
        None => None,
    };
    let compiled = match &practices {
        Some(practices) => Model::at_practices(&scenario, &table, practices),
        None => Model::new(&scenario, &table),
    };
    let mut model = compiled.map_err(|problems| in_scenario(Path::new(&source), problems))?;
    decide::option_models(&scenario, &table, practices.as_ref())
        .map_err(|problems| in_scenario(Path::new(&source), problems))?;
    if let Some(map) = &icb_map {
        model.groups.extend(map.groups());
    }
    model.groups.extend(crate::model::former_groups(&table));
    let posterior = match config.posterior.as_ref().or(scenario.posterior.as_ref()) {
        Some(path) => {
            let posterior = Posterior::read(path)?;
            if engine::needs_whole_run(&model) {
                return Err(in_scenario(
                    Path::new(&source),
                    vec![Problem::new(
                        None,
                        "scenario.posterior",
                        format!(
                            "a calibrated run draws the national factors from the posterior, one iteration at a time: {}",
                            crate::scenario::Sampling::one_at_a_time_hint()
                        ),
                    )],
                ));
            }
            model.posterior = Some(
                Resample::new(&posterior, &model.national)
                    .map_err(|problem| in_scenario(Path::new(&source), vec![problem]))?,
            );
            Some(posterior.file)
        }
        None => None,
    };
    Ok(Prepared {
        scenario,
        scenario_file,
        table,
        practices,
        footprint,
        icb_map,
        posterior,
        model,
    })
}

/// Problems of the scenario file at `path`.
fn in_scenario(path: &Path, problems: Vec<crate::error::Problem>) -> Error {
    Error::Input(vec![FileProblems {
        file: path.display().to_string(),
        problems,
    }])
}

/// `output/<scenario file stem><suffix>`: where a command writes when not told.
pub fn default_out(scenario: &Path, suffix: &str) -> PathBuf {
    Path::new("output").join(format!("{}{suffix}", stem(scenario)))
}

/// A file's name without its extension (`scenario` when it has none).
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
}
