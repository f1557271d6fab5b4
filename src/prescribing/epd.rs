//! The EPD files read: each file checked for the columns it needs, scanned lazily (CSV or
//! Parquet) and summed by month and ICB (or practice) in polars' streaming engine, the bad rows
//! found when a file will not sum, and the files' sums merged into a [`PrescribingTable`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use polars::prelude::*;

use super::tables::{FileRead, Grouping, PrescribingTable, SpendRow};
use super::MICROS_PER_POUND;
use crate::error::{Error, FileProblems, Problem};
use crate::month::Month;

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
    /// The 15-character BNF code of the presentation (read by `data observed` only).
    pub const BNF_CODE: &str = "BNF_CODE";
    /// Quantity dispensed over all items: `QUANTITY × ITEMS`, in the presentation's unit
    /// (tablets, ml, grams; read by `data observed` only).
    pub const TOTAL_QUANTITY: &str = "TOTAL_QUANTITY";
}
use column::*;

/// Rows with bad values reported from one file at most.
const MAX_BAD_ROWS: u32 = 20;
/// The row index added when looking for bad rows.
const ROW: &str = "__epd_row";

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

/// What a column read from an EPD file must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A whole number (`YEAR_MONTH` must also be a month).
    Integer,
    /// A finite number.
    Number,
    /// Text; empty only for `ICB_NAME`.
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
                Ok(v) if v.is_finite() && v.abs() <= MAX_NUMBER => None,
                Ok(v) if v.is_finite() => Some(format!(
                    "'{cell}' is too large: a row's value is at most {MAX_NUMBER:e}, so that sums are exact"
                )),
                _ => bad(),
            },
            Kind::Text => None,
        }
    }
}

/// The types of the columns read that are not text, for a CSV reader that would otherwise
/// read every column as text.
fn number_schema(columns: &[(&'static str, Kind)]) -> SchemaRef {
    Arc::new(
        columns
            .iter()
            .copied()
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

/// The key of a summed frame's rows: `YEAR_MONTH`, `ICB_CODE`, `ICB_NAME`, `PRACTICE_CODE`
/// (when summed by practice) and the count of rows with an empty value (`empty`), read row by
/// row for both EPD commands.
pub(crate) struct Keys {
    months: Int64Chunked,
    codes: StringChunked,
    names: StringChunked,
    practices: Option<StringChunked>,
    empty: Int64Chunked,
}

/// One row's key, its text trimmed.
pub(crate) struct Key<'a> {
    pub month: Month,
    pub icb_code: &'a str,
    pub icb_name: &'a str,
    /// When summed by practice.
    pub practice_code: Option<&'a str>,
}

impl Keys {
    pub(crate) fn of(frame: &DataFrame, by_practice: bool) -> PolarsResult<Keys> {
        let text = |name: &str| frame.column(name).and_then(|c| c.str().cloned());
        Ok(Keys {
            months: frame.column(YEAR_MONTH)?.i64()?.clone(),
            codes: text(ICB_CODE)?,
            names: text(ICB_NAME)?,
            practices: match by_practice {
                true => Some(text(PRACTICE_CODE)?),
                false => None,
            },
            empty: frame.column("empty")?.i64()?.clone(),
        })
    }

    /// Row `k`'s key; `None` when a value is missing or empty (the bad rows are then looked
    /// for).
    pub(crate) fn get(&self, k: usize) -> Option<Key<'_>> {
        let icb_code = self.codes.get(k).map(str::trim).unwrap_or("");
        let practice_code = self
            .practices
            .as_ref()
            .map(|p| p.get(k).map(str::trim).unwrap_or(""));
        let month = self.months.get(k).and_then(month_of)?;
        let complete = !icb_code.is_empty()
            && practice_code.is_none_or(|p| !p.is_empty())
            && self.empty.get(k).unwrap_or(0) == 0;
        complete.then(|| Key {
            month,
            icb_code,
            icb_name: self.names.get(k).unwrap_or("").trim(),
            practice_code,
        })
    }
}

fn scan(path: &Path, format: Format, typed: Option<SchemaRef>) -> PolarsResult<LazyFrame> {
    let source = PlRefPath::try_from_path(path)?;
    match format {
        Format::Csv => {
            // Everything is text unless typed: the numbers this module needs are parsed as
            // numbers, every other column is skipped by projection pushdown.
            let mut reader = LazyCsvReader::new(source)
                .with_has_header(true)
                .with_glob(false)
                .with_infer_schema_length(Some(0));
            if let Some(schema) = typed {
                reader = reader.with_dtype_overwrite(Some(schema));
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

/// A file scanned lazily (CSV or Parquet, by its extension) with the non-text `columns` read
/// as numbers; every other column is left to projection pushdown.
pub(crate) fn scan_typed(path: &Path, columns: &[(&'static str, Kind)]) -> PolarsResult<LazyFrame> {
    scan(path, Format::of(path), Some(number_schema(columns)))
}

/// What the files a command reads are called in its messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    /// The files, as in "no EPD files given".
    pub files: &'static str,
    /// One file, as in "(an English Prescribing Dataset file has it)".
    pub file: &'static str,
}

/// NHSBSA's English Prescribing Dataset files.
pub(crate) const EPD: Source = Source {
    files: "EPD files",
    file: "an English Prescribing Dataset file",
};

/// Checks that a file exists and has the `columns` (of the right types, where the format has
/// types); a missing column is named as one `source` has.
fn check_columns(path: &Path, source: Source, columns: &[(&'static str, Kind)]) -> Vec<Problem> {
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
    let schema = match scan(path, format, None).and_then(|mut lf| lf.collect_schema()) {
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
    for &(name, kind) in columns {
        match schema.get(name) {
            None => problems.push(Problem::new(
                None,
                name,
                format!(
                    "required column '{name}' is missing ({} has it); the file has: {}",
                    source.file,
                    schema
                        .iter_names()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(dtype) if format == Format::Parquet && !kind.accepts(dtype) => {
                problems.push(Problem::new(
                    None,
                    name,
                    format!(
                        "column '{name}' holds {dtype}; it must hold {}",
                        kind.describe()
                    ),
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

/// The largest value a row's number may hold (a trillion): money summed as integer
/// millionths of a pound stays exact far beyond any month's national spend, and a value
/// beyond it (a `1e300`, say) is refused with its file, line and column, never dropped.
pub(crate) const MAX_NUMBER: f64 = 1e12;

/// The rows of a group whose number `name` is beyond [`MAX_NUMBER`]: counted with the empty
/// values, so that the file is read again for its bad rows.
pub(crate) fn too_large(name: &str) -> Expr {
    let x = col(name).cast(DataType::Float64);
    x.clone()
        .gt(lit(MAX_NUMBER))
        .or(x.lt(lit(-MAX_NUMBER)))
        .cast(DataType::Int64)
        .sum()
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
        (empty(ITEMS) + empty(NIC) + empty(ACTUAL_COST) + too_large(NIC) + too_large(ACTUAL_COST))
            .alias("empty"),
    ])
}

fn eager_read(path: &Path, grouping: Grouping) -> PolarsResult<DataFrame> {
    let used = used_columns(grouping);
    let schema = number_schema(&used);
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(
            used.iter().map(|(n, _)| PlSmallStr::from(*n)).collect(),
        ))
        .with_schema_overwrite(Some(schema))
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
        (ReadMode::Eager, Format::Parquet) => scan_typed(path, &used_columns(grouping))
            .and_then(|lf| sums(lf, grouping).collect_with_engine(Engine::InMemory))
            .map(|r| r.unwrap_single()),
        (ReadMode::Streaming, _) => scan_typed(path, &used_columns(grouping))
            .and_then(|lf| sums(lf, grouping).collect_with_engine(Engine::Streaming))
            .map(|r| r.unwrap_single()),
    }
    .map_err(Some)?;
    let int = |name: &str| frame.column(name).and_then(|c| c.i64().cloned());
    let keys = Keys::of(&frame, grouping == Grouping::Practice).map_err(Some)?;
    let (rows, items, nic, actual) = (
        int("rows").map_err(Some)?,
        int("items").map_err(Some)?,
        int("nic").map_err(Some)?,
        int("actual_cost").map_err(Some)?,
    );
    let mut groups = Vec::with_capacity(frame.height());
    for k in 0..frame.height() {
        let Some(key) = keys.get(k) else {
            return Err(None);
        };
        groups.push(Group {
            month: key.month,
            icb_code: key.icb_code.to_string(),
            icb_name: key.icb_name.to_string(),
            practice_code: key.practice_code.map(str::to_string),
            rows: rows.get(k).unwrap_or(0) as u64,
            items: items.get(k).unwrap_or(0),
            nic_micros: i128::from(nic.get(k).unwrap_or(0)),
            actual_cost_micros: i128::from(actual.get(k).unwrap_or(0)),
        });
    }
    Ok(groups)
}

/// Finds the rows whose values in `used` stopped a file being read: the first
/// [`MAX_BAD_ROWS`] with their line (CSV: the header is line 1) or row (Parquet), column and
/// value.
fn find_bad_rows(path: &Path, used: &[(&'static str, Kind)]) -> PolarsResult<Vec<Problem>> {
    let format = Format::of(path);
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
            Kind::Number => {
                let x = value.clone().cast(DataType::Float64);
                blank
                    .or(x.clone().is_null())
                    .or(x.clone().gt(lit(MAX_NUMBER)))
                    .or(x.lt(lit(-MAX_NUMBER)))
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
    let rows = scan(path, format, None)?
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
        for (name, kind) in used {
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

/// Checks every file before any is read: there is at least one (`command` says what to give
/// otherwise, as `hint`), and each is named once, exists and has the `columns` (of the right
/// types, where the format has types) that a `source` file has. Every problem of every file
/// is returned together.
pub(crate) fn check_files(
    command: &str,
    source: Source,
    files: &[PathBuf],
    hint: &str,
    columns: &[(&'static str, Kind)],
) -> Result<(), Error> {
    if files.is_empty() {
        return Err(Error::input(
            command,
            Problem::new(None, "FILE", format!("no {} given: {hint}", source.files)),
        ));
    }
    let mut all: Vec<FileProblems> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for path in files {
        let same = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let problems = if seen.contains(&same) {
            vec![Problem::new(
                None,
                "file",
                "given twice: each file is read once",
            )]
        } else {
            seen.push(same);
            check_columns(path, source, columns)
        };
        FileProblems::add(&mut all, path, problems);
    }
    match all.is_empty() {
        true => Ok(()),
        false => Err(Error::Input(all)),
    }
}

/// Why a file could not be read, when its plan failed (`failure`; `None` when a value was
/// missing): the bad rows' file, line, column and value, or, if none is found, polars' reason.
/// A failure to read the file at all is an I/O error, not a problem with its values.
pub(crate) fn read_failure(
    path: &Path,
    used: &[(&'static str, Kind)],
    failure: Option<PolarsError>,
) -> Result<Vec<Problem>, Error> {
    failure_problems(
        path,
        failure,
        || find_bad_rows(path, used).unwrap_or_default(),
        "English Prescribing Dataset file",
    )
}

/// A failed plan's problems: an I/O failure as an error; else the bad cells `bad` finds, or,
/// if none is found, polars' reason, for a file that should be a readable `what`.
pub(crate) fn failure_problems(
    path: &Path,
    failure: Option<PolarsError>,
    bad: impl FnOnce() -> Vec<Problem>,
    what: &str,
) -> Result<Vec<Problem>, Error> {
    if let Some(PolarsError::IO { error, .. }) = &failure {
        return Err(Error::io(
            "cannot read",
            path,
            std::io::Error::new(error.kind(), error.to_string()),
        ));
    }
    let mut problems = bad();
    if problems.is_empty() {
        let why = failure.map_or("unreadable values".to_string(), |e| e.to_string());
        problems.push(Problem::new(
            None,
            "file",
            format!("not a readable {what}: {why}"),
        ));
    }
    Ok(problems)
}

/// Reads `files` in turn with `read` (a file's rows, and the input rows they sum), hands each
/// file's rows to `keep` and reports the file to `on_file`. A file that cannot be read (its
/// problems found by `diagnose` from the failure: see [`read_failure`]), or that holds a
/// month another file holds (named as the column `month_column`), is a problem, and every
/// file's problems are reported together once all are read. Returns the files read and the
/// months they hold, in order.
pub(crate) fn read_each_file<T>(
    files: &[PathBuf],
    month_column: &str,
    diagnose: impl Fn(&Path, Option<PolarsError>) -> Result<Vec<Problem>, Error>,
    read: impl Fn(&Path) -> Result<(Vec<T>, u64), Option<PolarsError>>,
    month: impl Fn(&T) -> Month,
    mut keep: impl FnMut(Vec<T>),
    on_file: &mut dyn FnMut(&FileRead),
) -> Result<(Vec<FileRead>, Vec<Month>), Error> {
    let mut all: Vec<FileProblems> = Vec::new();
    let mut month_file: BTreeMap<Month, &Path> = BTreeMap::new();
    let mut read_files = Vec::new();
    for path in files {
        if crate::cancel::requested() {
            return Err(Error::Interrupted);
        }
        let started = Instant::now();
        let (rows, input_rows) = match read(path) {
            Ok(r) => r,
            Err(failure) => {
                FileProblems::add(&mut all, path, diagnose(path, failure)?);
                continue;
            }
        };
        let months: BTreeSet<Month> = rows.iter().map(&month).collect();
        let problems = claim_months(&mut month_file, path, month_column, &months);
        FileProblems::add(&mut all, path, problems);
        keep(rows);
        let file = FileRead {
            path: path.clone(),
            rows: input_rows,
            months: months.into_iter().collect(),
            elapsed: started.elapsed(),
        };
        on_file(&file);
        read_files.push(file);
    }
    if !all.is_empty() {
        return Err(Error::Input(all));
    }
    Ok((read_files, month_file.into_keys().collect()))
}

/// Records that `path` holds `months`; a month another file already holds is a problem of the
/// column `month_column` (the sums, and `data observed`'s national low prices, need each month
/// whole from one file).
fn claim_months<'a>(
    claimed: &mut BTreeMap<Month, &'a Path>,
    path: &'a Path,
    month_column: &str,
    months: &BTreeSet<Month>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for m in months {
        match claimed.get(m) {
            Some(other) => problems.push(Problem::new(
                None,
                month_column,
                format!(
                    "{m} is also in {}: each month must come from one file (was a month given twice?)",
                    other.display()
                ),
            )),
            None => {
                claimed.insert(*m, path);
            }
        }
    }
    problems
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
    check_files(
        "data prescribing",
        EPD,
        files,
        "name one or more monthly files (EPD_YYYYMM.csv)",
        &used_columns(grouping),
    )?;
    let mut totals: BTreeMap<(String, Option<String>), Totals> = BTreeMap::new();
    let mut icb_months: BTreeMap<String, BTreeSet<Month>> = BTreeMap::new();
    let groups_of = |path: &Path| {
        let groups = read_groups(path, grouping, mode)?;
        let rows = groups.iter().map(|g| g.rows).sum();
        Ok((groups, rows))
    };
    let keep = |groups: Vec<Group>| {
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
    };
    let used = used_columns(grouping);
    let (read, months) = read_each_file(
        files,
        YEAR_MONTH,
        |path, failure| read_failure(path, &used, failure),
        groups_of,
        |g| g.month,
        keep,
        on_file,
    )?;
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
        months,
        icb_months: icb_months
            .into_iter()
            .map(|(code, months)| (code, months.len() as u32))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let t = aggregate(
                std::slice::from_ref(&path),
                Grouping::Icb,
                mode,
                &mut |_| {},
            )
            .unwrap();
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
