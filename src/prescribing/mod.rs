//! Real prescribing spend from NHSBSA's English Prescribing Dataset (EPD): monthly files (CSV,
//! or Parquet) scanned lazily and summed in polars' streaming engine by ICB (or practice) and
//! month, so a year of several-GB files is read in bounded memory; and the ICB table (or the
//! practice table) rebuilt with that spend in place of the estimate.
//!
//! Money is summed exactly: each cost is rounded to a millionth of a pound (EPD gives at most a
//! few decimals, so this loses nothing) and the millionths are summed as integers, so a total
//! does not depend on the order in which parallel workers add it up. Files show totals rounded
//! to the penny, half away from zero.
//!
//! One file a job: `epd` checks, reads and sums the files into a [`PrescribingTable`]
//! (`tables`: the sums, their coverage of the ICB table, and the CSV they are written as);
//! `spend` reads that CSV back as [`Spend`] rows; `rebuild` puts them into the ICB table or the
//! practice table.

mod epd;
mod rebuild;
mod spend;
mod tables;

pub use epd::{aggregate, column, read_local_files_in_chunks, ReadMode};
pub(crate) use epd::{
    check_files, failure_problems, read_each_file, read_failure, scan_typed, too_large, Key, Keys,
    Kind, Source, EPD,
};
pub use rebuild::{
    rebuild, rebuild_practices, Change, Rebuilt, RebuiltPractices, PRESCRIBING_COLUMN,
};
pub use spend::{read_icb_spend, read_practice_spend, Spend};
pub use tables::{csv_field, header, Coverage, FileRead, Grouping, PrescribingTable, SpendRow};

/// Millionths of a pound: the unit money is summed in.
const MICROS_PER_POUND: f64 = 1e6;
const MICROS_PER_PENNY: i128 = 10_000;
