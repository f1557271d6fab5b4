//! The `data` commands as library calls: sum prescribing data, rebuild the ICB table and the
//! practice table with it, measure the realised loss and the change in activity. Each writes
//! its file (or directory) atomically and returns what it found.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::activity::{self, ActivityObserved, Kind, Mapping};
use crate::data::IcbTable;
use crate::error::{Error, Result};
use crate::month::Month;
use crate::observed::{self, Cost, Observed};
use crate::output;
use crate::practices::PracticeTable;
use crate::prescribing::{
    self, FileRead, Grouping, PrescribingTable, PublishedMonths, ReadMode, Rebuilt,
    RebuiltPractices,
};

/// Prescribing data summed by ICB or practice.
pub struct SummedPrescribing {
    pub table: PrescribingTable,
    /// The ICB table the data's ICB codes were checked against.
    pub reference: IcbTable,
    /// The months read against those NHSBSA should have published by the run's month.
    pub published: PublishedMonths,
    pub seconds: f64,
}

/// The months `months` read by `command` against those published by `as_of`; a problem of
/// `--as-of` when it is not after the last month read.
fn published(command: &str, months: &[Month], as_of: Month) -> Result<PublishedMonths> {
    PublishedMonths::of(months, as_of)
        .map_err(|why| Error::input(command, crate::error::Problem::new(None, "--as-of", why)))
}

/// `data prescribing`: sums EPD `files` by `grouping` and writes the table to `out`; the
/// data's ICB codes are checked against the ICB table `data` (default: the embedded one), and
/// the months read against those published by `as_of` (months missing inside the span or
/// late are reported, not refused). `on_file` is told of each file as it is finished.
pub fn sum_prescribing(
    files: &[PathBuf],
    grouping: Grouping,
    mode: ReadMode,
    data: Option<&Path>,
    as_of: Month,
    out: &Path,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<SummedPrescribing> {
    if mode == ReadMode::Streaming {
        // Before anything else touches polars: see the function.
        prescribing::read_local_files_in_chunks();
    }
    let reference = IcbTable::load(data, &[])?;
    let started = Instant::now();
    let table = prescribing::aggregate(files, grouping, mode, on_file)?;
    let published = published("data prescribing", &table.months, as_of)?;
    output::write_file_atomically(out, table.to_csv().as_bytes())?;
    Ok(SummedPrescribing {
        table,
        reference,
        published,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// An ICB table rebuilt with real prescribing spend.
pub struct BuiltIcbTable {
    pub base: IcbTable,
    pub rebuilt: Rebuilt,
}

/// `data build`: the ICB table `data` (default: the embedded one) with the by-ICB spend of
/// `prescribing` in place of its estimate, written to `out`.
pub fn build_icb_table(
    prescribing: &Path,
    data: Option<&Path>,
    out: &Path,
) -> Result<BuiltIcbTable> {
    let spend = prescribing::read_icb_spend(prescribing)?;
    let base = IcbTable::load(data, &[prescribing::PRESCRIBING_COLUMN.to_string()])?;
    let rebuilt = prescribing::rebuild(&base, &spend)?;
    output::write_file_atomically(out, &rebuilt.csv)?;
    Ok(BuiltIcbTable { base, rebuilt })
}

/// A practice table rebuilt with real prescribing spend.
pub struct BuiltPracticeTable {
    pub base: PracticeTable,
    pub rebuilt: RebuiltPractices,
}

/// `data practices`: the practice table `practices` (default: the embedded one) with the
/// by-practice spend of `prescribing`, written to `out`.
pub fn build_practice_table(
    prescribing: &Path,
    practices: Option<&Path>,
    out: &Path,
) -> Result<BuiltPracticeTable> {
    let spend = prescribing::read_practice_spend(prescribing)?;
    let base = PracticeTable::load(practices)?;
    let rebuilt = prescribing::rebuild_practices(&base, &spend)?;
    output::write_file_atomically(out, &rebuilt.csv)?;
    Ok(BuiltPracticeTable { base, rebuilt })
}

/// The realised loss measured from prescribing data.
pub struct ObservedRun {
    pub observed: Observed,
    /// The cost the excess is measured in.
    pub cost: Cost,
    /// The months read against those NHSBSA should have published by the run's month.
    pub published: PublishedMonths,
    /// What the figures rest on ([`observed::notes`]), as the manifest and benchmarks say it.
    pub notes: Vec<String>,
    /// The files read, with their rows and months.
    pub files: Vec<FileRead>,
    pub input_rows: u64,
    pub seconds: f64,
}

/// Where `data observed` (and `data activity`) writes.
pub struct ObservedOut<'a> {
    /// The directory, replaced whole.
    pub dir: &'a Path,
    /// Also the estimates as a benchmarks table.
    pub benchmarks: Option<&'a Path>,
    /// The charts also as PNG.
    pub png: bool,
}

/// `data observed`: each practice's monthly excess over the cheapest equivalent in `cost`
/// from the EPD `files`, an interrupted time series per ICB (or practice) and nationally with
/// a step and a slope at each of `changes`, written to `out`, the months read set against
/// those published by `as_of`. Nothing is written when a file, a month or the series is
/// refused, or when a benchmarks table (ICB cash) is asked for in list prices.
#[allow(clippy::too_many_arguments)]
pub fn observe(
    files: &[PathBuf],
    changes: &[Month],
    grouping: Grouping,
    mode: ReadMode,
    cost: Cost,
    as_of: Month,
    out: &ObservedOut,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<ObservedRun> {
    if cost == Cost::Nic && out.benchmarks.is_some() {
        return Err(Error::input(
            "data observed",
            crate::error::Problem::new(
                None,
                "--cost",
                "nic is the list price before discount, not what the NHS paid: the benchmarks table is in the ICB cash view, so --benchmarks-out needs --cost actual",
            ),
        ));
    }
    if mode == ReadMode::Streaming {
        // Before anything else touches polars: see the function.
        prescribing::read_local_files_in_chunks();
    }
    let started = Instant::now();
    let table = observed::excess(files, mode, cost, on_file)?;
    let published = published("data observed", &table.months, as_of)?;
    let result = observed::analyse(&table, changes, grouping)?;
    output::write_observed(
        out.dir,
        &result,
        &table.files,
        cost,
        &published,
        out.benchmarks,
        out.png,
    )?;
    Ok(ObservedRun {
        notes: observed::notes(&result, cost, &published),
        cost,
        published,
        input_rows: table.input_rows(),
        files: table.files,
        observed: result,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Activity around the changes measured from published series.
pub struct ActivityRun {
    pub activity: ActivityObserved,
    /// The files read, with their rows and months.
    pub files: Vec<FileRead>,
    pub input_rows: u64,
    pub seconds: f64,
}

/// `data activity`: the activities of `kind` from `files` (appointments' practices placed in
/// ICBs by the publication's `Mapping.csv` at `mapping`, or by the embedded practice table),
/// an interrupted time series per ICB and nationally with a step and a slope at each of
/// `changes`, written as `out` says (the directory, the benchmarks table, PNGs). Nothing is
/// written when a file, a month or a series is refused.
pub fn observe_activity(
    files: &[PathBuf],
    kind: Kind,
    changes: &[Month],
    mapping: Option<&Path>,
    out: &ObservedOut,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<ActivityRun> {
    // Before anything else touches polars: see the function.
    prescribing::read_local_files_in_chunks();
    let started = Instant::now();
    let mapping = mapping.map(Mapping::load).transpose()?;
    let table = activity::read(files, kind, mapping.as_ref(), on_file)?;
    let result = activity::analyse(&table, changes)?;
    output::write_activity(out.dir, &result, &table.files, out.benchmarks, out.png)?;
    Ok(ActivityRun {
        input_rows: table.input_rows(),
        files: table.files,
        activity: result,
        seconds: started.elapsed().as_secs_f64(),
    })
}
