//! Activity around collective action, measured from NHS England's published series: GP
//! appointments from the practice-level "Appointments in General Practice" files, and
//! specialist advice (Advice & Guidance) requests by ICB, each summed to ICBs and the nation
//! month by month and fitted by the same interrupted time series as `data observed`
//! ([`crate::observed::fit_rows`]).
//!
//! One file a job: `read` says what each cell must hold and finds the bad cells of a file that
//! will not read; `appointments` and `advice` read their files (lazily, streamed, only the
//! columns used); `mapping` places practices in ICBs; this file reads the files of a kind,
//! maps them and fits each activity; `benchmarks` writes the estimates as activity
//! observations of the benchmarks table.

mod advice;
mod appointments;
mod benchmarks;
mod mapping;
mod read;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;

pub use advice::column as advice_column;
pub use appointments::{column as appointments_column, GP};
pub use benchmarks::{benchmarks_csv, BENCHMARKS_HEADER};
pub use mapping::Mapping;

use crate::error::{Error, Problem};
use crate::month::Month;
use crate::observed::{fit_rows, Observed, Row};
use crate::prescribing::{check_files, read_each_file, FileRead, Grouping, Source};

/// The command, as problems name it.
const COMMAND: &str = "data activity";

/// Which published series the files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// NHS England's "Appointments in General Practice" practice-level files
    /// (`Practice_Level_Crosstab_<Mon>_<YY>.csv`).
    Appointments,
    /// Specialist advice (Advice & Guidance) requests by ICB and month.
    Advice,
}

/// GP appointments: `HCP_TYPE` = `GP`, every appointment status.
pub const GP_APPOINTMENTS: &str = "gp_appointments";
/// Appointments with every professional of the practice, every status.
pub const PRACTICE_APPOINTMENTS: &str = "practice_appointments";
/// Specialist advice requests raised (NHS England's "total requests").
pub const ADVICE_REQUESTS: &str = "advice_and_guidance_requests";

impl Kind {
    /// The word of the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Appointments => "appointments",
            Kind::Advice => "advice",
        }
    }

    /// The activities formed from the files, in the order of their values in each row.
    pub fn activities(self) -> &'static [&'static str] {
        match self {
            Kind::Appointments => &[GP_APPOINTMENTS, PRACTICE_APPOINTMENTS],
            Kind::Advice => &[ADVICE_REQUESTS],
        }
    }

    /// What the files are, in a sentence for a benchmark's source.
    pub fn described(self) -> &'static str {
        match self {
            Kind::Appointments => {
                "NHS England, Appointments in General Practice, practice-level files"
            }
            Kind::Advice => "NHS England, specialist advice activity by ICB (System EROC)",
        }
    }

    fn source(self) -> Source {
        match self {
            Kind::Appointments => appointments::SOURCE,
            Kind::Advice => advice::SOURCE,
        }
    }

    fn used_columns(self) -> Vec<(&'static str, read::Cell)> {
        match self {
            Kind::Appointments => appointments::used_columns(),
            Kind::Advice => advice::used_columns(),
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Kind::Appointments => {
                "name the monthly files (Practice_Level_Crosstab_<Mon>_<YY>.csv) before and after the change"
            }
            Kind::Advice => "name the file (or monthly files) of requests by ICB",
        }
    }

    fn read_file(self, path: &Path) -> Result<(Vec<ActivityRow>, u64), Option<PolarsError>> {
        match self {
            Kind::Appointments => appointments::read_file(path),
            Kind::Advice => advice::read_file(path),
        }
    }
}

/// One month of one practice (appointments) or one ICB (advice), its value for each of its
/// kind's [`Kind::activities`].
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub month: Month,
    /// The practice, for appointments.
    pub practice_code: Option<String>,
    /// The practice's sub-ICB location (appointments; empty for advice).
    pub sub_icb_code: String,
    /// The ICB's code and name: the file's (advice) or the mapping's (appointments); `None`
    /// for a practice the mapping does not place.
    pub icb: Option<(String, String)>,
    pub values: Vec<i64>,
}

/// The rows of every file read, placed in ICBs.
#[derive(Debug, Clone)]
pub struct ActivityTable {
    pub kind: Kind,
    /// Sorted by month, ICB, practice.
    pub rows: Vec<ActivityRow>,
    pub files: Vec<FileRead>,
    /// Months with data, sorted.
    pub months: Vec<Month>,
    /// The mapping's source, for appointments.
    pub mapping: Option<String>,
    /// Practices the mapping places in no ICB, sorted: in the national series only.
    pub unmapped: Vec<String>,
}

impl ActivityTable {
    /// Input rows read, over every file.
    pub fn input_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}

/// Reads activity files of `kind`: every file checked (present, named once, the columns it
/// needs) before any is read; a bad value reported with its file, line and column; a month
/// may come from one file only. Appointments' practices are placed in ICBs by `mapping`
/// (required for them; refused for advice, whose files name their ICBs). `on_file` is told
/// of each file as it is finished.
pub fn read(
    files: &[PathBuf],
    kind: Kind,
    mapping: Option<&Mapping>,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<ActivityTable, Error> {
    let (source, used) = (kind.source(), kind.used_columns());
    let kinds: Vec<_> = used.iter().map(|(n, c)| (*n, c.kind())).collect();
    check_files(COMMAND, source, files, kind.hint(), &kinds)?;
    let mapping = match (kind, mapping) {
        (Kind::Advice, Some(m)) => {
            return Err(Error::input(
                COMMAND,
                Problem::new(
                    None,
                    "--mapping",
                    format!(
                        "{} is for --kind appointments: advice files name their ICBs",
                        m.source
                    ),
                ),
            ))
        }
        (Kind::Appointments, None) => Some(Mapping::practices()?),
        (_, m) => m.cloned(),
    };
    let mut rows = Vec::new();
    let (read, months) = read_each_file(
        files,
        used[0].0,
        |path, failure| read::diagnose(path, source, &used, failure),
        |path| kind.read_file(path),
        |r| r.month,
        |file_rows| rows.extend(file_rows),
        on_file,
    )?;
    let mut unmapped = BTreeSet::new();
    if let Some(m) = &mapping {
        for r in &mut rows {
            let practice = r.practice_code.as_deref().unwrap_or("");
            r.icb = m
                .icb(practice, &r.sub_icb_code)
                .map(|(c, n)| (c.to_string(), n.to_string()));
            if r.icb.is_none() {
                unmapped.insert(practice.to_string());
            }
        }
    }
    rows.sort_by(|a, b| {
        (a.month, &a.icb, &a.practice_code).cmp(&(b.month, &b.icb, &b.practice_code))
    });
    Ok(ActivityTable {
        kind,
        rows,
        files: read,
        months,
        mapping: mapping.map(|m| m.source),
        unmapped: unmapped.into_iter().collect(),
    })
}

/// One activity's series and fits.
#[derive(Debug, Clone)]
pub struct Measure {
    /// One of [`Kind::activities`].
    pub activity: &'static str,
    pub observed: Observed,
}

/// Every activity of the files measured: its national and ICB series fitted.
#[derive(Debug, Clone)]
pub struct ActivityObserved {
    pub kind: Kind,
    pub changes: Vec<Month>,
    /// Every month of the data, consecutive.
    pub months: Vec<Month>,
    /// In [`Kind::activities`] order.
    pub measures: Vec<Measure>,
    pub mapping: Option<String>,
    pub unmapped: Vec<String>,
}

impl ActivityObserved {
    /// Every ICB fitted for at least one activity, in code order.
    pub fn icb_codes(&self) -> Vec<&str> {
        let codes: BTreeSet<&str> = self
            .measures
            .iter()
            .flat_map(|m| m.observed.icbs.iter().map(|s| s.icb_code.as_str()))
            .collect();
        codes.into_iter().collect()
    }
}

/// Fits each activity of `table` nationally and per ICB with steps and slopes at `changes`,
/// by the interrupted time series `data observed` uses. A practice in no ICB counts in the
/// national series only. Refused as [`fit_rows`] refuses: months missing inside the span, a
/// national series that cannot be fitted.
pub fn analyse(table: &ActivityTable, changes: &[Month]) -> Result<ActivityObserved, Error> {
    let mut measures = Vec::new();
    for (j, &activity) in table.kind.activities().iter().enumerate() {
        let rows = table.rows.iter().map(|r| Row {
            month: r.month,
            icb: r.icb.as_ref().map(|(c, n)| (c.as_str(), n.as_str())),
            practice_code: r.practice_code.as_deref(),
            value: r.values[j] as f64,
        });
        let observed = fit_rows(COMMAND, &table.months, rows, changes, &[], Grouping::Icb)?;
        measures.push(Measure { activity, observed });
    }
    let first = &measures[0].observed;
    Ok(ActivityObserved {
        kind: table.kind,
        changes: first.changes.clone(),
        months: first.months.clone(),
        measures,
        mapping: table.mapping.clone(),
        unmapped: table.unmapped.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activity_formed_is_one_a_cost_line_may_count() {
        for kind in [Kind::Appointments, Kind::Advice] {
            for name in kind.activities() {
                assert!(crate::activities::find(name).is_some(), "{name}");
            }
        }
    }
}
