//! Excess over the cheapest equivalent: each EPD month scanned lazily (only the columns used)
//! and reduced in polars to one row per practice and month, the cost paid above each
//! equivalence group's national low price per unit.
//!
//! Two streamed passes over each file:
//!
//! 1. each row's equivalence group is the chemical part of its BNF code (characters 1–9) and
//!    its generic-equivalent part (characters 14–15), see [`group_key`]; its price per unit is
//!    `ACTUAL_COST ÷ TOTAL_QUANTITY`; the group's low price that month is the
//!    [`LOW_PERCENTILE`] of those prices over every row of the group, nationally (an EPD row
//!    is one practice, presentation and quantity per item: [`low_prices`], a table of one row
//!    per group);
//! 2. each row's excess = (price per unit − low price) × quantity where positive, summed by
//!    month and practice ([`excess_plan`]).
//!
//! Neither pass holds a table of practices × presentations: the first keeps the prices of each
//! group (eight bytes a row), the second a row per practice.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::Error;
use crate::month::Month;
use crate::prescribing::column::{
    ACTUAL_COST, BNF_CODE, ICB_CODE, ICB_NAME, PRACTICE_CODE, TOTAL_QUANTITY, YEAR_MONTH,
};
use crate::prescribing::{
    check_files, read_each_file, read_failure, scan_typed, too_large, FileRead, Key, Keys, Kind,
    ReadMode, EPD,
};

/// The national low price per unit of a group in a month: this percentile (linear
/// interpolation between order statistics) of the prices per unit paid by every practice for
/// every presentation of the group. OpenPrescribing's price-per-unit measure uses the 10th
/// percentile ("lowest decile") for the same purpose: a price most practices could have paid,
/// less exposed to one odd low price than the minimum.
pub const LOW_PERCENTILE: f64 = 0.10;

/// The characters of a BNF presentation code that name its chemical substance (chapter,
/// section, paragraph, sub-paragraph, substance).
pub const CHEMICAL_CHARS: std::ops::Range<usize> = 0..9;
/// The characters that name the strength and formulation of the generic equivalent.
pub const EQUIVALENT_CHARS: std::ops::Range<usize> = 13..15;
/// BNF chapters from this one on (20 dressings, 21 appliances, 22 incontinence, 23 stoma) are
/// devices, whose codes have no generic-equivalent part; they are left out of the measure.
pub const FIRST_DEVICE_CHAPTER: i64 = 20;

/// The columns read.
pub(crate) fn used_columns() -> Vec<(&'static str, Kind)> {
    vec![
        (YEAR_MONTH, Kind::Integer),
        (ICB_CODE, Kind::Text),
        (ICB_NAME, Kind::Text),
        (PRACTICE_CODE, Kind::Text),
        (BNF_CODE, Kind::Text),
        (TOTAL_QUANTITY, Kind::Number),
        (ACTUAL_COST, Kind::Number),
    ]
}

/// The equivalence group of a BNF presentation code: its chemical part and its
/// generic-equivalent part, as OpenPrescribing groups a brand with its generic. `None` for a
/// code that is not 15 characters or is a device (chapter 20 on).
///
/// A code is chemical (9) + product (2) + strength and formulation (2) + the strength and
/// formulation of the generic equivalent (2). Atorvastatin 20mg tablets, generic,
/// `0212000B0AAABAB`, and Lipitor 20mg tablets, `0212000B0BBABAB`, are both
/// `("0212000B0", "AB")`; atorvastatin 40mg tablets, `0212000B0AAACAC`, is
/// `("0212000B0", "AC")`, another group.
pub fn group_key(bnf_code: &str) -> Option<(&str, &str)> {
    let code = bnf_code.as_bytes();
    if code.len() != 15 || !bnf_code.is_ascii() {
        return None;
    }
    let chapter: i64 = bnf_code[0..2].parse().ok()?;
    if chapter >= FIRST_DEVICE_CHAPTER {
        return None;
    }
    Some((&bnf_code[CHEMICAL_CHARS], &bnf_code[EQUIVALENT_CHARS]))
}

/// One practice's excess in one month.
#[derive(Debug, Clone, PartialEq)]
pub struct PracticeExcess {
    pub month: Month,
    pub icb_code: String,
    pub icb_name: String,
    pub practice_code: String,
    /// Pounds paid above the groups' low prices.
    pub excess_gbp: f64,
    /// Actual cost of every row of the practice that month, £ (for scale).
    pub actual_cost_gbp: f64,
}

/// The excess of every practice and month of the files read.
#[derive(Debug, Clone)]
pub struct ExcessTable {
    /// Sorted by month, ICB code, practice code.
    pub rows: Vec<PracticeExcess>,
    pub files: Vec<FileRead>,
    /// Months with data, sorted.
    pub months: Vec<Month>,
}

impl ExcessTable {
    /// EPD rows read, over every file.
    pub fn input_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Months between the first and last present that have no data.
    pub fn missing_months(&self) -> Vec<Month> {
        crate::month::missing(&self.months)
    }
}

/// Each row's month, equivalence group (chemical and equivalent parts of the BNF code, as
/// binary slices), whether it takes part in the measure, and its price per unit.
fn priced(frame: LazyFrame) -> LazyFrame {
    let code = || col(BNF_CODE).cast(DataType::Binary).binary();
    let part = |range: std::ops::Range<usize>| {
        code().slice(lit(range.start as i64), lit(range.len() as i64))
    };
    let chapter = part(0..2).cast(DataType::String).cast(DataType::Int64);
    let quantity = col(TOTAL_QUANTITY).cast(DataType::Float64);
    let valid = code()
        .size_bytes()
        .cast(DataType::Int64)
        .eq(lit(15i64))
        .and(chapter.lt(lit(FIRST_DEVICE_CHAPTER)))
        .and(quantity.clone().gt(lit(0.0)))
        .and(col(ACTUAL_COST).is_not_null())
        .fill_null(lit(false));
    frame.with_columns([
        col(YEAR_MONTH).cast(DataType::Int64).alias(YEAR_MONTH),
        part(CHEMICAL_CHARS).alias("chemical"),
        part(EQUIVALENT_CHARS).alias("equivalent"),
        valid.alias("valid"),
        (col(ACTUAL_COST).cast(DataType::Float64) / quantity).alias("price"),
    ])
}

/// The low price per unit of every equivalence group and month of one file: the
/// [`LOW_PERCENTILE`] of its rows' prices per unit, nationally. Small: one row per group.
pub fn low_prices(frame: LazyFrame) -> LazyFrame {
    priced(frame)
        .filter(col("valid"))
        .group_by([col(YEAR_MONTH), col("chemical"), col("equivalent")])
        .agg([col("price")
            .quantile(lit(LOW_PERCENTILE), QuantileMethod::Linear)
            .alias("low")])
}

/// The excess of every practice and month of one file, given its groups' `lows` (from
/// [`low_prices`]): each row's (price per unit − low) × quantity where positive, summed.
pub fn excess_plan(frame: LazyFrame, lows: LazyFrame) -> LazyFrame {
    let empty = |name: &str| col(name).null_count().cast(DataType::Int64);
    let excess = when(col("valid").and(col("price").gt(col("low"))))
        .then((col("price") - col("low")) * col(TOTAL_QUANTITY).cast(DataType::Float64))
        .otherwise(lit(0.0));
    let keys = [col(YEAR_MONTH), col("chemical"), col("equivalent")];
    priced(frame)
        .join(lows, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_column(excess.alias("excess"))
        // A practice is in one ICB: its code is carried (and checked), not grouped by.
        .group_by([col(YEAR_MONTH), col(PRACTICE_CODE)])
        .agg([
            col(ICB_CODE).min().alias(ICB_CODE),
            col(ICB_CODE).max().alias("icb_max"),
            col(ICB_NAME).min().alias(ICB_NAME),
            col("excess").sum().alias("excess"),
            col(ACTUAL_COST).cast(DataType::Float64).sum().alias("cost"),
            len().cast(DataType::Int64).alias("rows"),
            (empty(ACTUAL_COST)
                + empty(TOTAL_QUANTITY)
                + empty(ICB_CODE)
                + empty(BNF_CODE)
                + too_large(ACTUAL_COST)
                + too_large(TOTAL_QUANTITY))
            .alias("empty"),
        ])
        .sort(
            [YEAR_MONTH, ICB_CODE, PRACTICE_CODE],
            SortMultipleOptions::default(),
        )
}

/// The rows of one file's plan, `Err(None)` when a value is missing (the bad rows are then
/// looked for), `Err(Some(e))` when polars failed.
fn read_file(
    path: &Path,
    mode: ReadMode,
) -> Result<(Vec<PracticeExcess>, u64), Option<PolarsError>> {
    let engine = match mode {
        ReadMode::Streaming => Engine::Streaming,
        ReadMode::Eager => Engine::InMemory,
    };
    // Two passes over the file, each streamed: the groups' low prices (a small table), then
    // each practice's excess against them.
    let columns = used_columns();
    let lows = scan_typed(path, &columns)
        .and_then(|lf| low_prices(lf).collect_with_engine(engine))
        .map(|r| r.unwrap_single())
        .map_err(Some)?;
    let frame = scan_typed(path, &columns)
        .and_then(|lf| excess_plan(lf, lows.lazy()).collect_with_engine(engine))
        .map(|r| r.unwrap_single())
        .map_err(Some)?;
    let int = |name: &str| frame.column(name).and_then(|c| c.i64().cloned());
    let float = |name: &str| frame.column(name).and_then(|c| c.f64().cloned());
    let keys = Keys::of(&frame, true).map_err(Some)?;
    let (excess, cost, rows, icb_max) = (
        float("excess").map_err(Some)?,
        float("cost").map_err(Some)?,
        int("rows").map_err(Some)?,
        frame
            .column("icb_max")
            .and_then(|c| c.str().cloned())
            .map_err(Some)?,
    );
    let mut out = Vec::with_capacity(frame.height());
    let mut total_rows = 0u64;
    for k in 0..frame.height() {
        let Some(Key {
            month,
            icb_code: code,
            icb_name,
            practice_code: Some(practice),
        }) = keys.get(k)
        else {
            return Err(None);
        };
        if icb_max.get(k).map(str::trim).is_some_and(|m| m != code) {
            return Err(Some(PolarsError::ComputeError(
                format!("practice {practice} is in more than one ICB in {month}").into(),
            )));
        }
        total_rows += rows.get(k).unwrap_or(0) as u64;
        out.push(PracticeExcess {
            month,
            icb_code: code.to_string(),
            icb_name: icb_name.to_string(),
            practice_code: practice.to_string(),
            excess_gbp: excess.get(k).unwrap_or(0.0),
            actual_cost_gbp: cost.get(k).unwrap_or(0.0),
        });
    }
    Ok((out, total_rows))
}

/// Reads EPD monthly files and computes each practice's excess over the cheapest equivalent
/// in each month. Every file is checked (present, named once, the columns it needs) before any
/// is read; a bad value is reported with its file, line and column; a month may come from one
/// file only (the low price is national, so a month split over files would be wrong).
/// `on_file` is told of each file as it is finished.
pub fn excess(
    files: &[PathBuf],
    mode: ReadMode,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<ExcessTable, Error> {
    let used = used_columns();
    check_files(
        "data observed",
        EPD,
        files,
        "name the monthly files (EPD_YYYYMM.csv) before and after the change",
        &used,
    )?;
    let mut rows = Vec::new();
    let (read, months) = read_each_file(
        files,
        YEAR_MONTH,
        |path, failure| read_failure(path, &used, failure),
        |path| read_file(path, mode),
        |r| r.month,
        |file_rows| rows.extend(file_rows),
        on_file,
    )?;
    rows.sort_by(|a, b| {
        (a.month, &a.icb_code, &a.practice_code).cmp(&(b.month, &b.icb_code, &b.practice_code))
    });
    Ok(ExcessTable {
        rows,
        files: read,
        months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_and_generics_of_one_strength_and_form_share_a_group() {
        assert_eq!(group_key("0212000B0AAABAB"), Some(("0212000B0", "AB")));
        assert_eq!(group_key("0212000B0BBABAB"), Some(("0212000B0", "AB")));
        assert_eq!(group_key("0212000B0AAACAC"), Some(("0212000B0", "AC")));
        assert_eq!(group_key("0212000B0AAAB"), None);
        assert_eq!(group_key("21220000523"), None);
        assert_eq!(group_key("2122000052ABAAA"), None);
    }
}
