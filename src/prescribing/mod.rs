//! Real prescribing spend from NHSBSA's English Prescribing Dataset (EPD): monthly files (CSV,
//! or Parquet) scanned lazily and summed in polars' streaming engine by ICB (or practice) and
//! month, so a year of several-GB files is read in bounded memory; and the ICB table rebuilt
//! with that spend in place of the estimate.
//!
//! Money is summed exactly: each cost is rounded to a millionth of a pound (EPD gives at most a
//! few decimals, so this loses nothing) and the millionths are summed as integers, so a total
//! does not depend on the order in which parallel workers add it up. Files show totals rounded
//! to the penny, half away from zero.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::data::{read_text_csv, IcbTable, TextCells};
use crate::error::{Error, FileProblems, Problem};
use crate::month::Month;
use crate::practices::PracticeTable;

/// The EPD columns this module reads (NHSBSA's names; every other column is ignored and never
/// parsed).
pub mod column {
    /// `YYYYMM` as an integer, e.g. 202401.
    pub const YEAR_MONTH: &str = "YEAR_MONTH";
    /// The ICB's ODS code, e.g. `QE1`.
    pub const ICB_CODE: &str = "ICB_CODE";
    pub const ICB_NAME: &str = "ICB_NAME";
    /// Read with `--by practice` only.
    pub const PRACTICE_CODE: &str = "PRACTICE_CODE";
    /// Prescription items dispensed.
    pub const ITEMS: &str = "ITEMS";
    /// Net ingredient cost, £: the list price of the drugs before discounts and fees.
    pub const NIC: &str = "NIC";
    /// Actual cost, £: what the NHS paid (NIC less the national average discount, plus
    /// container allowances). The spend the model uses.
    pub const ACTUAL_COST: &str = "ACTUAL_COST";
}
use column::*;

/// Millionths of a pound: the unit money is summed in.
const MICROS_PER_POUND: f64 = 1e6;
const MICROS_PER_PENNY: i128 = 10_000;
/// Rows with bad values reported from one file at most.
const MAX_BAD_ROWS: u32 = 20;
/// The row index added when looking for bad rows.
const ROW: &str = "__epd_row";

/// What one output row sums over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One row per ICB.
    Icb,
    /// One row per ICB and practice.
    Practice,
}

/// How the files are read. The result is the same; only time and memory differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Lazy scan with projection pushdown, summed by polars' streaming engine: memory does not
    /// grow with the file.
    Streaming,
    /// The used columns read whole into memory (polars' eager CSV reader), then grouped: kept
    /// only to measure what streaming saves (`benches/prescribing.sh`).
    Eager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

impl Format {
    fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq") => {
                Format::Parquet
            }
            _ => Format::Csv,
        }
    }
}

/// Prescribing summed over the months present for one ICB (or practice).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    pub icb_code: String,
    /// As the data name it in the latest month.
    pub icb_name: String,
    /// `Some` with [`Grouping::Practice`].
    pub practice_code: Option<String>,
    /// Distinct months with at least one row.
    pub months: u32,
    pub first_month: Month,
    pub last_month: Month,
    /// EPD rows summed.
    pub input_rows: u64,
    pub items: i64,
    /// Net ingredient cost in millionths of a pound.
    pub nic_micros: i128,
    /// Actual cost in millionths of a pound.
    pub actual_cost_micros: i128,
}

impl SpendRow {
    /// Actual cost a year, in pence: the total × 12 / the months present.
    pub fn actual_cost_per_year_pence(&self) -> i128 {
        round_div(
            self.actual_cost_micros * 12,
            MICROS_PER_PENNY * i128::from(self.months),
        )
    }
}

/// One input file as read.
#[derive(Debug, Clone)]
pub struct FileRead {
    pub path: PathBuf,
    pub rows: u64,
    pub months: Vec<Month>,
    pub elapsed: Duration,
}

/// The prescribing table: sums by ICB (or practice) over every file read.
#[derive(Debug, Clone)]
pub struct PrescribingTable {
    pub grouping: Grouping,
    /// Sorted by ICB code, then practice code.
    pub rows: Vec<SpendRow>,
    pub files: Vec<FileRead>,
    /// Months with data, sorted.
    pub months: Vec<Month>,
    /// Months with data for each ICB code (with [`Grouping::Practice`], over its practices).
    pub icb_months: BTreeMap<String, u32>,
}

/// The data's ICBs set against a reference ICB table.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// ICB codes in the data but not in the reference table: code, name, EPD rows, actual cost
    /// in millionths of a pound.
    pub unknown: Vec<(String, String, u64, i128)>,
    /// Reference ICBs with no rows in the data: code, name.
    pub absent: Vec<(String, String)>,
    /// ICBs in the data with fewer months than the data span: code, months.
    pub short: Vec<(String, u32)>,
}

impl PrescribingTable {
    /// EPD rows read, over every file.
    pub fn input_rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Months between the first and last present that have no data.
    pub fn missing_months(&self) -> Vec<Month> {
        let (Some(&first), Some(&last)) = (self.months.first(), self.months.last()) else {
            return Vec::new();
        };
        (0..=last.since(first))
            .map(|k| first.plus(k))
            .filter(|m| self.months.binary_search(m).is_err())
            .collect()
    }

    /// Totals over every row: items, NIC and actual cost (millionths of a pound).
    pub fn totals(&self) -> (i64, i128, i128) {
        self.rows.iter().fold((0, 0, 0), |(i, n, a), r| {
            (i + r.items, n + r.nic_micros, a + r.actual_cost_micros)
        })
    }

    pub fn coverage(&self, reference: &IcbTable) -> Coverage {
        let span = self.months.len() as u32;
        let mut by_icb: BTreeMap<&str, (&str, u64, i128)> = BTreeMap::new();
        for r in &self.rows {
            let e = by_icb.entry(&r.icb_code).or_insert((&r.icb_name, 0, 0));
            e.1 += r.input_rows;
            e.2 += r.actual_cost_micros;
        }
        let known = |code: &str| reference.codes.iter().any(|c| c == code);
        Coverage {
            unknown: by_icb
                .iter()
                .filter(|(code, _)| !known(code))
                .map(|(code, (name, rows, cost))| {
                    (code.to_string(), name.to_string(), *rows, *cost)
                })
                .collect(),
            absent: reference
                .codes
                .iter()
                .zip(&reference.names)
                .filter(|(code, _)| !by_icb.contains_key(code.as_str()))
                .map(|(c, n)| (c.clone(), n.clone()))
                .collect(),
            short: self
                .icb_months
                .iter()
                .filter(|(_, m)| **m < span)
                .map(|(code, m)| (code.clone(), *m))
                .collect(),
        }
    }

    /// The table as CSV (see [`header`] for the columns).
    pub fn to_csv(&self) -> String {
        let mut text = header(self.grouping).join(",");
        text.push('\n');
        for r in &self.rows {
            let mut fields = vec![csv_field(&r.icb_code), csv_field(&r.icb_name)];
            if let Some(p) = &r.practice_code {
                fields.push(csv_field(p));
            }
            fields.extend([
                r.months.to_string(),
                r.first_month.to_string(),
                r.last_month.to_string(),
                r.items.to_string(),
                pounds(round_div(r.nic_micros, MICROS_PER_PENNY)),
                pounds(round_div(r.actual_cost_micros, MICROS_PER_PENNY)),
                pounds(r.actual_cost_per_year_pence()),
            ]);
            text.push_str(&fields.join(","));
            text.push('\n');
        }
        text
    }
}

/// The output columns: `icb_code, icb_name, [practice_code,] months, first_month, last_month,
/// items, nic_gbp, actual_cost_gbp, actual_cost_gbp_per_year`. Months are `YYYY-MM`; money is
/// pounds with two decimals; the yearly figure is `actual_cost_gbp × 12 / months`.
pub fn header(grouping: Grouping) -> Vec<&'static str> {
    let mut h = vec!["icb_code", "icb_name"];
    if grouping == Grouping::Practice {
        h.push("practice_code");
    }
    h.extend([
        "months",
        "first_month",
        "last_month",
        "items",
        "nic_gbp",
        "actual_cost_gbp",
        "actual_cost_gbp_per_year",
    ]);
    h
}

/// `num / den` rounded half away from zero (`den > 0`).
fn round_div(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Pence as pounds with two decimals: `-1234.05`.
fn pounds(pence: i128) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", pence.abs() / 100, pence.abs() % 100)
}

/// A CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The columns read for a grouping, with the type each must hold.
fn used_columns(grouping: Grouping) -> Vec<(&'static str, Kind)> {
    let mut c = vec![
        (YEAR_MONTH, Kind::Integer),
        (ICB_CODE, Kind::Text),
        (ICB_NAME, Kind::Text),
        (ITEMS, Kind::Integer),
        (NIC, Kind::Number),
        (ACTUAL_COST, Kind::Number),
    ];
    if grouping == Grouping::Practice {
        c.insert(3, (PRACTICE_CODE, Kind::Text));
    }
    c
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Number,
    Text,
}

impl Kind {
    fn dtype(self) -> DataType {
        match self {
            Kind::Integer => DataType::Int64,
            Kind::Number => DataType::Float64,
            Kind::Text => DataType::String,
        }
    }

    fn accepts(self, dtype: &DataType) -> bool {
        match self {
            Kind::Integer => dtype.is_integer(),
            Kind::Number => dtype.is_primitive_numeric(),
            Kind::Text => dtype == &DataType::String,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Integer => "a whole number",
            Kind::Number => "a number",
            Kind::Text => "text",
        }
    }

    /// Why a text cell is not of this kind, if it is not.
    fn check(self, name: &str, cell: Option<&str>) -> Option<String> {
        let cell = cell.unwrap_or("");
        if cell.trim().is_empty() && name != ICB_NAME {
            return Some("empty value".to_string());
        }
        let bad = || Some(format!("'{cell}' is not {}", self.describe()));
        match self {
            Kind::Integer => match cell.parse::<i64>() {
                Err(_) => bad(),
                Ok(ym) if name == YEAR_MONTH && month_of(ym).is_none() => Some(format!(
                    "{ym} is not a month: EPD writes YYYYMM, e.g. 202401"
                )),
                Ok(_) => None,
            },
            Kind::Number => match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => None,
                _ => bad(),
            },
            Kind::Text => None,
        }
    }
}

/// The types of the columns read that are not text, for a CSV reader that would otherwise
/// read every column as text. The same for either grouping: only text columns differ.
fn number_schema() -> SchemaRef {
    Arc::new(
        used_columns(Grouping::Practice)
            .into_iter()
            .filter(|(_, k)| *k != Kind::Text)
            .map(|(name, kind)| Field::new(name.into(), kind.dtype()))
            .collect(),
    )
}

/// `YYYYMM` as a month.
fn month_of(year_month: i64) -> Option<Month> {
    let year = i32::try_from(year_month / 100).ok()?;
    let month = u32::try_from(year_month % 100).ok()?;
    Month::new(year, month)
}

fn scan(path: &Path, format: Format, typed: bool) -> PolarsResult<LazyFrame> {
    let source = PlRefPath::try_from_path(path)?;
    match format {
        Format::Csv => {
            // Everything is text unless typed: the numbers this module needs are parsed as
            // numbers, every other column is skipped by projection pushdown.
            let mut reader = LazyCsvReader::new(source)
                .with_has_header(true)
                .with_glob(false)
                .with_infer_schema_length(Some(0));
            if typed {
                reader = reader.with_dtype_overwrite(Some(number_schema()));
            }
            reader.finish()
        }
        Format::Parquet => LazyFrame::scan_parquet(
            source,
            ScanArgsParquet {
                glob: false,
                ..Default::default()
            },
        ),
    }
}

/// Checks that a file exists and has the columns (of the right types, where the format has
/// types) that `grouping` reads.
fn check_columns(path: &Path, grouping: Grouping) -> Vec<Problem> {
    if let Err(e) = std::fs::metadata(path).and_then(|m| {
        if m.is_file() {
            Ok(())
        } else {
            Err(std::io::Error::other("not a file"))
        }
    }) {
        return vec![Problem::new(None, "file", format!("cannot read: {e}"))];
    }
    let format = Format::of(path);
    let schema = match scan(path, format, false).and_then(|mut lf| lf.collect_schema()) {
        Ok(s) => s,
        Err(e) => {
            let what = match format {
                Format::Csv => "a readable CSV file",
                Format::Parquet => "a readable Parquet file",
            };
            return vec![Problem::new(None, "file", format!("not {what}: {e}"))];
        }
    };
    let mut problems = Vec::new();
    for (name, kind) in used_columns(grouping) {
        match schema.get(name) {
            None => problems.push(Problem::new(
                None,
                name,
                format!(
                    "required column '{name}' is missing (an English Prescribing Dataset file has it); the file has: {}",
                    schema.iter_names().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(dtype) if format == Format::Parquet && !kind.accepts(dtype) => {
                problems.push(Problem::new(
                    None,
                    name,
                    format!("column '{name}' holds {dtype}; it must hold {}", kind.describe()),
                ))
            }
            Some(_) => {}
        }
    }
    problems
}

/// Makes polars read local files in chunks, as it reads cloud files, instead of memory-mapping
/// them. Both stream, but every page of a mapped file that has been read stays resident until
/// the system needs it back: a 6 GB month shows as 6 GB resident, where chunked reading keeps
/// the process near 200 MB (`benches/prescribing.sh`). polars reads the switch
/// (`POLARS_FORCE_ASYNC`) once, when it is first used, so this must run before any other
/// polars call, before polars starts its threads; a value the user set is kept.
pub fn read_local_files_in_chunks() {
    if std::env::var_os("POLARS_FORCE_ASYNC").is_none() {
        std::env::set_var("POLARS_FORCE_ASYNC", "1");
    }
}

/// One group of one file: a month, an ICB (and practice) and their sums.
struct Group {
    month: Month,
    icb_code: String,
    icb_name: String,
    practice_code: Option<String>,
    rows: u64,
    items: i64,
    nic_micros: i128,
    actual_cost_micros: i128,
}

/// A cost column in millionths of a pound, rounded half away from zero.
fn micros(name: &str) -> Expr {
    let scaled = col(name).cast(DataType::Float64) * lit(MICROS_PER_POUND);
    when(scaled.clone().gt_eq(lit(0.0)))
        .then(scaled.clone() + lit(0.5))
        .otherwise(scaled - lit(0.5))
        .cast(DataType::Int64)
}

/// The sums of one file by month, ICB (and practice), with counts of empty values.
fn sums(frame: LazyFrame, grouping: Grouping) -> LazyFrame {
    let mut keys = vec![
        col(YEAR_MONTH).cast(DataType::Int64),
        col(ICB_CODE),
        col(ICB_NAME),
    ];
    if grouping == Grouping::Practice {
        keys.push(col(PRACTICE_CODE));
    }
    let empty = |name: &str| col(name).null_count().cast(DataType::Int64);
    frame.group_by(keys).agg([
        len().cast(DataType::Int64).alias("rows"),
        col(ITEMS).cast(DataType::Int64).sum().alias("items"),
        micros(NIC).sum().alias("nic"),
        micros(ACTUAL_COST).sum().alias("actual_cost"),
        (empty(ITEMS) + empty(NIC) + empty(ACTUAL_COST)).alias("empty"),
    ])
}

fn eager_read(path: &Path, grouping: Grouping) -> PolarsResult<DataFrame> {
    let used = used_columns(grouping);
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(
            used.iter().map(|(n, _)| PlSmallStr::from(*n)).collect(),
        ))
        .with_schema_overwrite(Some(number_schema()))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()?;
    sums(frame.lazy(), grouping).collect()
}

/// The groups of one file. `Err(None)` asks for the bad rows to be found.
fn read_groups(
    path: &Path,
    grouping: Grouping,
    mode: ReadMode,
) -> Result<Vec<Group>, Option<PolarsError>> {
    let frame = match (mode, Format::of(path)) {
        (ReadMode::Eager, Format::Csv) => eager_read(path, grouping),
        (ReadMode::Eager, Format::Parquet) => scan(path, Format::Parquet, true)
            .and_then(|lf| sums(lf, grouping).collect_with_engine(Engine::InMemory))
            .map(|r| r.unwrap_single()),
        (ReadMode::Streaming, format) => scan(path, format, true)
            .and_then(|lf| sums(lf, grouping).collect_with_engine(Engine::Streaming))
            .map(|r| r.unwrap_single()),
    }
    .map_err(Some)?;
    let int = |name: &str| frame.column(name).and_then(|c| c.i64().cloned());
    let text = |name: &str| frame.column(name).and_then(|c| c.str().cloned());
    let (months, codes, names) = (
        int(YEAR_MONTH).map_err(Some)?,
        text(ICB_CODE).map_err(Some)?,
        text(ICB_NAME).map_err(Some)?,
    );
    let practices = match grouping {
        Grouping::Practice => Some(text(PRACTICE_CODE).map_err(Some)?),
        Grouping::Icb => None,
    };
    let (rows, items, nic, actual, empty) = (
        int("rows").map_err(Some)?,
        int("items").map_err(Some)?,
        int("nic").map_err(Some)?,
        int("actual_cost").map_err(Some)?,
        int("empty").map_err(Some)?,
    );
    let mut groups = Vec::with_capacity(frame.height());
    for k in 0..frame.height() {
        let code = codes.get(k).map(str::trim).unwrap_or("");
        let practice = practices
            .as_ref()
            .map(|p| p.get(k).map(str::trim).unwrap_or("").to_string());
        let month = months.get(k).and_then(month_of);
        let (Some(month), false, false, 0) = (
            month,
            code.is_empty(),
            practice.as_ref().is_some_and(|p| p.is_empty()),
            empty.get(k).unwrap_or(0),
        ) else {
            return Err(None);
        };
        groups.push(Group {
            month,
            icb_code: code.to_string(),
            icb_name: names.get(k).unwrap_or("").trim().to_string(),
            practice_code: practice,
            rows: rows.get(k).unwrap_or(0) as u64,
            items: items.get(k).unwrap_or(0),
            nic_micros: i128::from(nic.get(k).unwrap_or(0)),
            actual_cost_micros: i128::from(actual.get(k).unwrap_or(0)),
        });
    }
    Ok(groups)
}

/// Finds the rows whose values stopped a file being summed: the first [`MAX_BAD_ROWS`] with
/// their line (CSV: the header is line 1) or row (Parquet), column and value.
fn find_bad_rows(path: &Path, grouping: Grouping) -> PolarsResult<Vec<Problem>> {
    let format = Format::of(path);
    let used = used_columns(grouping);
    let bad = |name: &str, kind: Kind| -> Expr {
        let value = col(name);
        let blank = value.clone().is_null();
        match kind {
            Kind::Text if name == ICB_NAME => lit(false),
            Kind::Text => blank.or(value.eq(lit(""))),
            Kind::Integer if name == YEAR_MONTH => {
                let ym = value.cast(DataType::Int64);
                let mm = ym.clone() % lit(100i64);
                blank
                    .or(ym.clone().is_null())
                    .or(mm.clone().lt(lit(1i64)))
                    .or(mm.gt(lit(12i64)))
                    .or(ym.clone().lt(lit(190_001i64)))
                    .or(ym.gt(lit(220_012i64)))
            }
            _ => blank.or(value.cast(kind.dtype()).is_null()),
        }
    };
    let any_bad = used
        .iter()
        .map(|(n, k)| bad(n, *k))
        .reduce(|a, b| a.or(b))
        .expect("columns are used");
    let mut select = vec![col(ROW)];
    select.extend(
        used.iter()
            .map(|(n, _)| col(*n).cast(DataType::String).alias(*n)),
    );
    let rows = scan(path, format, false)?
        .with_row_index(ROW, None)
        .filter(any_bad)
        .select(select)
        .limit(MAX_BAD_ROWS)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let index = rows.column(ROW)?.cast(&DataType::Int64)?;
    let index = index.i64()?;
    let mut problems = Vec::new();
    for k in 0..rows.height() {
        let row = index.get(k).unwrap_or(0) as usize;
        for (name, kind) in &used {
            let cell = rows.column(name)?.str()?.get(k);
            if let Some(why) = kind.check(name, cell) {
                problems.push(match format {
                    Format::Csv => Problem::new(Some(row + 2), *name, why),
                    Format::Parquet => {
                        Problem::new(None, *name, format!("{why} (row {})", row + 1))
                    }
                });
            }
        }
    }
    if rows.height() as u32 == MAX_BAD_ROWS {
        problems.push(Problem::new(
            None,
            "file",
            format!("stopped after {MAX_BAD_ROWS} bad rows; there may be more"),
        ));
    }
    Ok(problems)
}

/// Totals of one ICB (or practice) as files are merged.
#[derive(Default)]
struct Totals {
    /// Name by month: the latest month's is used.
    names: BTreeMap<Month, String>,
    months: BTreeSet<Month>,
    rows: u64,
    items: i64,
    nic_micros: i128,
    actual_cost_micros: i128,
}

/// Reads EPD monthly files and sums items, NIC and actual cost by ICB (or practice) over the
/// months present. Every file is checked (present, the columns it needs) before any is read;
/// every bad value is reported with its file and line; a month may come from one file only.
/// `on_file` is told of each file as it is finished. For memory that does not grow with the
/// files, call [`read_local_files_in_chunks`] first.
pub fn aggregate(
    files: &[PathBuf],
    grouping: Grouping,
    mode: ReadMode,
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<PrescribingTable, Error> {
    if files.is_empty() {
        return Err(Error::input(
            "data prescribing",
            Problem::new(
                None,
                "FILE",
                "no EPD files given: name one or more monthly files (EPD_YYYYMM.csv)",
            ),
        ));
    }
    let mut all: Vec<FileProblems> = Vec::new();
    let report = |all: &mut Vec<FileProblems>, path: &Path, problems: Vec<Problem>| {
        if !problems.is_empty() {
            all.push(FileProblems {
                file: path.display().to_string(),
                problems,
            });
        }
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    for path in files {
        let same = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if seen.contains(&same) {
            report(
                &mut all,
                path,
                vec![Problem::new(
                    None,
                    "file",
                    "given twice: each file is read once",
                )],
            );
            continue;
        }
        seen.push(same);
        report(&mut all, path, check_columns(path, grouping));
    }
    if !all.is_empty() {
        return Err(Error::Input(all));
    }
    let mut totals: BTreeMap<(String, Option<String>), Totals> = BTreeMap::new();
    let mut icb_months: BTreeMap<String, BTreeSet<Month>> = BTreeMap::new();
    let mut month_file: BTreeMap<Month, &Path> = BTreeMap::new();
    let mut read = Vec::new();
    for path in files {
        if crate::cancel::requested() {
            return Err(Error::Interrupted);
        }
        let started = Instant::now();
        let groups = match read_groups(path, grouping, mode) {
            Ok(groups) => groups,
            Err(Some(PolarsError::IO { error, .. })) => {
                return Err(Error::io(
                    "cannot read",
                    path,
                    std::io::Error::new(error.kind(), error.to_string()),
                ))
            }
            Err(failure) => {
                let mut problems = find_bad_rows(path, grouping).unwrap_or_default();
                if problems.is_empty() {
                    let why = failure.map_or("unreadable values".to_string(), |e| e.to_string());
                    problems.push(Problem::new(
                        None,
                        "file",
                        format!("not a readable English Prescribing Dataset file: {why}"),
                    ));
                }
                report(&mut all, path, problems);
                continue;
            }
        };
        let months: BTreeSet<Month> = groups.iter().map(|g| g.month).collect();
        let mut problems = Vec::new();
        for m in &months {
            match month_file.get(m) {
                Some(other) => problems.push(Problem::new(
                    None,
                    YEAR_MONTH,
                    format!(
                        "{m} is also in {}: each month must come from one file (was a month given twice?)",
                        other.display()
                    ),
                )),
                None => {
                    month_file.insert(*m, path);
                }
            }
        }
        let rows: u64 = groups.iter().map(|g| g.rows).sum();
        for g in groups {
            icb_months
                .entry(g.icb_code.clone())
                .or_default()
                .insert(g.month);
            let t = totals.entry((g.icb_code, g.practice_code)).or_default();
            let name = t.names.entry(g.month).or_insert_with(|| g.icb_name.clone());
            // Two spellings in one month: the first in sort order, so runs agree.
            if g.icb_name < *name {
                *name = g.icb_name;
            }
            t.months.insert(g.month);
            t.rows += g.rows;
            t.items += g.items;
            t.nic_micros += g.nic_micros;
            t.actual_cost_micros += g.actual_cost_micros;
        }
        report(&mut all, path, problems);
        let file = FileRead {
            path: path.clone(),
            rows,
            months: months.into_iter().collect(),
            elapsed: started.elapsed(),
        };
        on_file(&file);
        read.push(file);
    }
    if !all.is_empty() {
        return Err(Error::Input(all));
    }
    let rows = totals
        .into_iter()
        .filter_map(|((icb_code, practice_code), t)| {
            Some(SpendRow {
                icb_name: t.names.values().next_back()?.clone(),
                icb_code,
                practice_code,
                months: t.months.len() as u32,
                first_month: *t.months.first()?,
                last_month: *t.months.last()?,
                input_rows: t.rows,
                items: t.items,
                nic_micros: t.nic_micros,
                actual_cost_micros: t.actual_cost_micros,
            })
        })
        .collect();
    Ok(PrescribingTable {
        grouping,
        rows,
        files: read,
        months: month_file.keys().copied().collect(),
        icb_months: icb_months
            .into_iter()
            .map(|(code, months)| (code, months.len() as u32))
            .collect(),
    })
}

/// One row of a prescribing table written by [`aggregate`] (by ICB, or by practice), as
/// `data build` and `data practices` read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    pub icb_code: String,
    pub icb_name: String,
    /// In a by-practice table.
    pub practice_code: Option<String>,
    pub months: u32,
    /// `actual_cost_gbp_per_year` exactly as written.
    pub per_year_text: String,
    pub per_year_gbp: f64,
}

/// Reads a by-ICB prescribing table, every problem reported with its line.
pub fn read_icb_spend(path: &Path) -> Result<Vec<Spend>, Error> {
    read_spend(path, false)
}

/// Reads a by-practice prescribing table, every problem reported with its line.
pub fn read_practice_spend(path: &Path) -> Result<Vec<Spend>, Error> {
    read_spend(path, true)
}

fn read_spend(path: &Path, by_practice: bool) -> Result<Vec<Spend>, Error> {
    let name = path.display().to_string();
    let fail = |problems: Vec<Problem>| {
        Error::Input(vec![FileProblems {
            file: name.clone(),
            problems,
        }])
    };
    let bytes = std::fs::read(path).map_err(|e| {
        fail(vec![Problem::new(
            None,
            "file",
            format!("cannot read the prescribing table: {e}"),
        )])
    })?;
    let frame = read_text_csv(&bytes, &name).map_err(|p| Error::Input(vec![p]))?;
    let cells = TextCells::new(&frame);
    match (cells.has("practice_code"), by_practice) {
        (true, false) => return Err(fail(vec![Problem::new(
            None,
            "practice_code",
            "this is a practice-level table; `data build` needs the by-ICB table (`data prescribing` without --by practice)",
        )])),
        (false, true) => return Err(fail(vec![Problem::new(
            None,
            "practice_code",
            "this is a by-ICB table; `data practices` needs the by-practice table (`data prescribing --by practice`)",
        )])),
        _ => {}
    }
    let mut problems = Vec::new();
    let mut column = |c: &str| cells.text(c, &mut problems);
    let practices = match by_practice {
        true => column("practice_code"),
        false => None,
    };
    let (codes, names, months, per_year) = (
        column("icb_code"),
        column("icb_name"),
        column("months"),
        column("actual_cost_gbp_per_year"),
    );
    let (Some(codes), Some(names), Some(months), Some(per_year)) = (codes, names, months, per_year)
    else {
        return Err(fail(problems));
    };
    if by_practice && practices.is_none() {
        return Err(fail(problems));
    }
    let mut spend: Vec<Spend> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (row, code) in codes.into_iter().enumerate() {
        let line = Some(row + 2);
        if code.is_empty() {
            problems.push(Problem::new(line, "icb_code", "empty ICB code"));
            continue;
        }
        let practice = practices.as_ref().map(|p| p[row].clone());
        let (field, key) = match &practice {
            Some(p) => ("practice_code", p.clone()),
            None => ("icb_code", code.clone()),
        };
        if key.is_empty() {
            problems.push(Problem::new(line, field, "empty code"));
            continue;
        }
        if let Some(first) = seen.insert(key.clone(), row) {
            let what = if practice.is_some() {
                "practice"
            } else {
                "ICB"
            };
            problems.push(Problem::new(
                line,
                field,
                format!(
                    "duplicate {what} code '{key}' (first on line {})",
                    first + 2
                ),
            ));
        }
        let month_count = match months[row].parse::<u32>() {
            Ok(m) if m >= 1 => m,
            _ => {
                problems.push(Problem::new(
                    line,
                    "months",
                    format!("'{}' is not a count of months (ICB {code})", months[row]),
                ));
                0
            }
        };
        let text = &per_year[row];
        let value = match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => {
                problems.push(Problem::new(
                    line,
                    "actual_cost_gbp_per_year",
                    format!("'{text}' is not an amount of 0 or more (ICB {code})"),
                ));
                f64::NAN
            }
        };
        spend.push(Spend {
            icb_code: code,
            icb_name: names[row].clone(),
            practice_code: practice,
            months: month_count,
            per_year_text: text.clone(),
            per_year_gbp: value,
        });
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(spend)
}

/// The column of the ICB table that real spend replaces.
pub const PRESCRIBING_COLUMN: &str = "prescribing_cost_gbp";

/// A row whose prescribing cost the real spend replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub icb_code: String,
    pub icb_name: String,
    /// Months the yearly figure was annualised from.
    pub months: u32,
    pub old_gbp: f64,
    pub new_gbp: f64,
}

impl Change {
    /// New against old, as a fraction (`None` when the old was 0).
    pub fn relative(&self) -> Option<f64> {
        (self.old_gbp != 0.0).then(|| self.new_gbp / self.old_gbp - 1.0)
    }
}

/// A new ICB table with real spend in place of the estimate.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// The new table as CSV: the base table's columns and rows, in order, with
    /// `prescribing_cost_gbp` replaced where the data has the ICB.
    pub csv: Vec<u8>,
    /// Rows whose value changed, in table order.
    pub changed: Vec<Change>,
    /// Rows the data has with exactly the old value.
    pub unchanged: Vec<String>,
    /// ICBs of the table the data lacks: they keep the estimate (code, name).
    pub kept: Vec<(String, String)>,
    /// ICB codes in the data but not in the table: ignored.
    pub not_in_table: Vec<String>,
}

/// Replaces `prescribing_cost_gbp` in `base` (loaded with that column parsed) with each ICB's
/// annualised actual cost. Every other column and row is kept as it was.
pub fn rebuild(base: &IcbTable, spend: &[Spend]) -> Result<Rebuilt, Error> {
    let Some(old) = base.numeric(PRESCRIBING_COLUMN) else {
        return Err(Error::input(
            &base.source,
            Problem::new(
                None,
                PRESCRIBING_COLUMN,
                format!(
                    "the ICB table has no '{PRESCRIBING_COLUMN}' column to replace; the table has: {}",
                    base.columns.join(", ")
                ),
            ),
        ));
    };
    let mut frame = read_text_csv(&base.bytes, &base.source).map_err(|p| Error::Input(vec![p]))?;
    let current = frame.column(PRESCRIBING_COLUMN)?.str()?.clone();
    let mut values: Vec<Option<String>> = Vec::with_capacity(base.len());
    let (mut changed, mut unchanged, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for (k, code) in base.codes.iter().enumerate() {
        match spend.iter().find(|s| &s.icb_code == code) {
            Some(s) => {
                values.push(Some(s.per_year_text.clone()));
                if s.per_year_gbp == old[k] {
                    unchanged.push(code.clone());
                } else {
                    changed.push(Change {
                        icb_code: code.clone(),
                        icb_name: base.names[k].clone(),
                        months: s.months,
                        old_gbp: old[k],
                        new_gbp: s.per_year_gbp,
                    });
                }
            }
            None => {
                values.push(current.get(k).map(str::to_string));
                kept.push((code.clone(), base.names[k].clone()));
            }
        }
    }
    frame.with_column(Column::new(PRESCRIBING_COLUMN.into(), values))?;
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv)
        .include_header(true)
        .finish(&mut frame)?;
    // The new table must load as the old one did.
    IcbTable::from_csv(
        &csv,
        "the rebuilt ICB table",
        &[PRESCRIBING_COLUMN.to_string()],
    )
    .map_err(|p| Error::Output(format!("the rebuilt ICB table does not load: {p}")))?;
    Ok(Rebuilt {
        csv,
        changed,
        unchanged,
        kept,
        not_in_table: spend
            .iter()
            .filter(|s| !base.codes.contains(&s.icb_code))
            .map(|s| s.icb_code.clone())
            .collect(),
    })
}

/// A new practice table with real spend in place of each practice's prescribing cost.
#[derive(Debug, Clone)]
pub struct RebuiltPractices {
    /// The new table as CSV: `practice_code, icb_code, registered_patients,
    /// prescribing_cost_gbp`, the base table's rows in order.
    pub csv: Vec<u8>,
    /// Practices given their real spend.
    pub updated: usize,
    /// Practices of the table the data lacks: they keep the table's figure.
    pub kept: Vec<String>,
    /// Practices in the data but not the table (no registered patients to go with them):
    /// ignored.
    pub not_in_table: Vec<String>,
    /// Practices the data places in another ICB than the table does (the table's is kept).
    pub other_icb: Vec<String>,
}

/// Replaces each practice's `prescribing_cost_gbp` in `base` with its annualised actual cost
/// from a by-practice prescribing table. Practices keep their ICB and patients.
pub fn rebuild_practices(base: &PracticeTable, spend: &[Spend]) -> Result<RebuiltPractices, Error> {
    let by_code: std::collections::HashMap<&str, &Spend> = spend
        .iter()
        .filter_map(|s| s.practice_code.as_deref().map(|p| (p, s)))
        .collect();
    let mut csv = String::from("practice_code,icb_code,registered_patients,prescribing_cost_gbp\n");
    let (mut updated, mut kept, mut other_icb) = (0, Vec::new(), Vec::new());
    for (k, code) in base.codes.iter().enumerate() {
        let cost = match (by_code.get(code.as_str()), &base.prescribing) {
            (Some(s), _) => {
                updated += 1;
                if s.icb_code != base.icb_codes[k] {
                    other_icb.push(code.clone());
                }
                s.per_year_text.clone()
            }
            (None, Some(old)) => {
                kept.push(code.clone());
                old[k].to_string()
            }
            (None, None) => {
                return Err(Error::input(
                    &base.source,
                    Problem::new(
                        None,
                        "prescribing_cost_gbp",
                        format!("practice {code} has no prescribing data and the practice table has no prescribing_cost_gbp to keep: start from a table that has one"),
                    ),
                ))
            }
        };
        csv.push_str(&format!(
            "{code},{},{},{cost}\n",
            base.icb_codes[k], base.patients[k]
        ));
    }
    let csv = csv.into_bytes();
    // The new table must load as a practice table.
    PracticeTable::from_csv(&csv, "the rebuilt practice table")
        .map_err(|p| Error::Output(format!("the rebuilt practice table does not load: {p}")))?;
    let known: std::collections::HashSet<&str> = base.codes.iter().map(String::as_str).collect();
    Ok(RebuiltPractices {
        csv,
        updated,
        kept,
        not_in_table: by_code
            .keys()
            .filter(|c| !known.contains(*c))
            .map(|c| c.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        other_icb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_half_away_from_zero_to_the_penny() {
        assert_eq!(round_div(15_000, MICROS_PER_PENNY), 2);
        assert_eq!(round_div(14_999, MICROS_PER_PENNY), 1);
        assert_eq!(round_div(-15_000, MICROS_PER_PENNY), -2);
        assert_eq!(round_div(-14_999, MICROS_PER_PENNY), -1);
        assert_eq!(pounds(123_405), "1234.05");
        assert_eq!(pounds(-5), "-0.05");
        assert_eq!(pounds(0), "0.00");
    }

    #[test]
    fn per_year_is_total_times_twelve_over_months() {
        let row = SpendRow {
            icb_code: "QE1".into(),
            icb_name: "x".into(),
            practice_code: None,
            months: 7,
            first_month: Month::new(2024, 1).unwrap(),
            last_month: Month::new(2024, 7).unwrap(),
            input_rows: 1,
            items: 1,
            nic_micros: 0,
            // £100.000001 over 7 months: £171.4285731… a year.
            actual_cost_micros: 100_000_001,
        };
        assert_eq!(row.actual_cost_per_year_pence(), 17_143);
    }

    #[test]
    fn year_months_are_checked() {
        assert_eq!(month_of(202401), Month::new(2024, 1));
        assert_eq!(month_of(202413), None);
        assert_eq!(month_of(202400), None);
        assert_eq!(
            Kind::Integer.check(YEAR_MONTH, Some("202413")).unwrap(),
            "202413 is not a month: EPD writes YYYYMM, e.g. 202401"
        );
        assert_eq!(
            Kind::Number.check(NIC, Some("abc")).unwrap(),
            "'abc' is not a number"
        );
        assert_eq!(Kind::Number.check(NIC, None).unwrap(), "empty value");
        assert_eq!(Kind::Text.check(ICB_NAME, None), None);
    }

    #[test]
    fn missing_months_are_the_gaps_in_the_span() {
        let m = |y, mm| Month::new(y, mm).unwrap();
        let t = PrescribingTable {
            grouping: Grouping::Icb,
            rows: Vec::new(),
            files: Vec::new(),
            months: vec![m(2023, 11), m(2024, 1), m(2024, 4)],
            icb_months: BTreeMap::new(),
        };
        assert_eq!(
            t.missing_months(),
            vec![m(2023, 12), m(2024, 2), m(2024, 3)]
        );
    }

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("NHS A, B"), "\"NHS A, B\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn a_small_file_sums_exactly_by_icb_and_month() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("EPD_202401.csv");
        std::fs::write(
            &path,
            "YEAR_MONTH,ICB_NAME,ICB_CODE,PRACTICE_CODE,BNF_CODE,ITEMS,NIC,ACTUAL_COST\n\
             202401,NHS A,QAA,P1,0101,2,10.10,9.33333\n\
             202401,NHS A,QAA,P2,0102,3,0.20,0.16667\n\
             202401,NHS B,QBB,P3,0101,1,5,4.5\n\
             202402,NHS A,QAA,P1,0101,4,1.01,1.00001\n",
        )
        .unwrap();
        for mode in [ReadMode::Streaming, ReadMode::Eager] {
            let t = aggregate(&[path.clone()], Grouping::Icb, mode, &mut |_| {}).unwrap();
            assert_eq!(t.input_rows(), 4);
            assert_eq!(
                t.to_csv(),
                "icb_code,icb_name,months,first_month,last_month,items,nic_gbp,actual_cost_gbp,actual_cost_gbp_per_year\n\
                 QAA,NHS A,2,2024-01,2024-02,9,11.31,10.50,63.00\n\
                 QBB,NHS B,1,2024-01,2024-01,1,5.00,4.50,54.00\n"
            );
            assert_eq!(t.rows[0].actual_cost_micros, 10_500_010);
        }
    }
}
