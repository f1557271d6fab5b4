//! The `data` commands as library calls: sum prescribing data, rebuild the ICB table and the
//! practice table with it. Each writes its one file atomically and returns what it found.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::data::IcbTable;
use crate::error::Result;
use crate::output;
use crate::practices::PracticeTable;
use crate::prescribing::{
    self, FileRead, Grouping, PrescribingTable, ReadMode, Rebuilt, RebuiltPractices,
};

/// Prescribing data summed by ICB or practice.
pub struct SummedPrescribing {
    pub table: PrescribingTable,
    /// The ICB table the data's ICB codes were checked against.
    pub reference: IcbTable,
    pub seconds: f64,
}

/// `data prescribing`: sums EPD `files` by `grouping` and writes the table to `out`; the
/// data's ICB codes are checked against the ICB table `data` (default: the embedded one).
/// `on_file` is told of each file as it is finished.
pub fn sum_prescribing(
    files: &[PathBuf],
    grouping: Grouping,
    mode: ReadMode,
    data: Option<&Path>,
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
    output::write_file_atomically(out, table.to_csv().as_bytes())?;
    Ok(SummedPrescribing {
        table,
        reference,
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
