//! What the activity files' cells must hold, and the bad cells of a file that would not read,
//! each with its line and column: the months (each distinct value checked once, at its first
//! line) and the counts and codes (the first rows with a bad value).

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Problem};
use crate::month::Month;
use crate::prescribing::{scan_typed, Kind, Source};

/// Rows with bad values reported from one file at most.
const MAX_BAD_ROWS: u32 = 20;
/// The row index added when looking for bad rows.
const ROW: &str = "__activity_row";

/// What a column read from an activity file must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    /// The month of the row, written as [`MonthFormat`] says.
    Month(MonthFormat),
    /// A count: a whole number, 0 or more.
    Count,
    /// Non-empty text.
    Code,
    /// Text, possibly empty.
    Text,
}

impl Cell {
    /// The kind `check_files` checks the column for and `scan_typed` reads it as.
    pub(crate) fn kind(self) -> Kind {
        match self {
            Cell::Count => Kind::Integer,
            _ => Kind::Text,
        }
    }

    /// Why a cell is not of this kind, if it is not.
    pub(crate) fn check(self, cell: Option<&str>) -> Option<String> {
        let text = cell.unwrap_or("").trim();
        match self {
            Cell::Text => None,
            _ if text.is_empty() => Some("empty value".to_string()),
            Cell::Code => None,
            Cell::Month(format) => format.parse(text).is_none().then(|| format.why(text)),
            Cell::Count => match text.parse::<i64>() {
                Ok(n) if n >= 0 => None,
                Ok(_) => Some(format!(
                    "{text} is negative: a count is a whole number, 0 or more"
                )),
                Err(_) => Some(format!(
                    "'{text}' is not a count: a whole number, 0 or more"
                )),
            },
        }
    }
}

/// How a file writes the month of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MonthFormat {
    /// The first day of the month, `DDMONYYYY` as NHS England's appointments files write it:
    /// `01AUG2024`.
    DayMonthYear,
    /// `YYYY-MM`, as the project writes months: `2024-08`.
    YearMonth,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

impl MonthFormat {
    /// The month of `text`, or `None` when it is not written this way.
    pub(crate) fn parse(self, text: &str) -> Option<Month> {
        let text = text.trim();
        match self {
            MonthFormat::YearMonth => text.parse().ok(),
            MonthFormat::DayMonthYear => {
                let (day, rest) = (text.get(..2)?, text.get(2..)?);
                let (name, year) = (rest.get(..3)?, rest.get(3..)?);
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(day) || !digits(year) || year.len() != 4 {
                    return None;
                }
                let day: u32 = day.parse().ok()?;
                if !(1..=31).contains(&day) {
                    return None;
                }
                let month = MONTH_NAMES
                    .iter()
                    .position(|m| m.eq_ignore_ascii_case(name))?;
                Month::new(year.parse().ok()?, month as u32 + 1)
            }
        }
    }

    fn why(self, text: &str) -> String {
        match self {
            MonthFormat::DayMonthYear => format!(
                "'{text}' is not a month start date: the publication writes DDMONYYYY, e.g. 01AUG2024"
            ),
            MonthFormat::YearMonth => {
                format!("'{text}' is not a month: write YYYY-MM, e.g. 2024-08")
            }
        }
    }
}

/// Why a file could not be read, when its plan failed (`failure`; `None` when a value was
/// bad or missing): every distinct bad month at its first line, then the first
/// [`MAX_BAD_ROWS`] rows with a bad count or an empty code, each with its line (the header is
/// line 1), column and value; or, if none is found, polars' reason. A failure to read the
/// file at all is an I/O error, not a problem with its values.
pub(crate) fn diagnose(
    path: &Path,
    source: Source,
    columns: &[(&'static str, Cell)],
    failure: Option<PolarsError>,
) -> Result<Vec<Problem>, Error> {
    crate::prescribing::failure_problems(
        path,
        failure,
        || bad_cells(path, columns).unwrap_or_default(),
        &format!("file of {}", source.files),
    )
}

fn bad_cells(path: &Path, columns: &[(&'static str, Cell)]) -> PolarsResult<Vec<Problem>> {
    // Every column as text.
    let text = || scan_typed(path, &[]).map(|lf| lf.with_row_index(ROW, None));
    let mut problems = Vec::new();
    for &(name, cell) in columns {
        let Cell::Month(_) = cell else { continue };
        // Few distinct months: each checked once, at the first line that has it.
        let months = text()?
            .group_by([col(name)])
            .agg([col(ROW).min().alias(ROW)])
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        let rows = months.column(ROW)?.cast(&DataType::Int64)?;
        let (values, rows) = (months.column(name)?.str()?, rows.i64()?);
        let mut bad: Vec<(i64, Problem)> = Vec::new();
        for k in 0..months.height() {
            let row = rows.get(k).unwrap_or(0);
            if let Some(why) = cell.check(values.get(k)) {
                bad.push((row, Problem::new(Some(row as usize + 2), name, why)));
            }
        }
        bad.sort_by_key(|(row, _)| *row);
        problems.extend(bad.into_iter().map(|(_, p)| p));
    }
    let bad = |name: &str, cell: Cell| -> Option<Expr> {
        let value = col(name);
        match cell {
            Cell::Month(_) | Cell::Text => None,
            Cell::Code => Some(value.clone().is_null().or(value.eq(lit("")))),
            Cell::Count => {
                let n = value.clone().cast(DataType::Int64);
                Some(value.is_null().or(n.clone().is_null()).or(n.lt(lit(0i64))))
            }
        }
    };
    let checked: Vec<(&str, Cell)> = columns
        .iter()
        .copied()
        .filter(|(n, c)| bad(n, *c).is_some())
        .collect();
    let Some(any_bad) = checked
        .iter()
        .filter_map(|(n, c)| bad(n, *c))
        .reduce(|a, b| a.or(b))
    else {
        return Ok(problems);
    };
    let mut select = vec![col(ROW)];
    select.extend(checked.iter().map(|(n, _)| col(*n)));
    let rows = text()?
        .filter(any_bad)
        .select(select)
        .limit(MAX_BAD_ROWS)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let index = rows.column(ROW)?.cast(&DataType::Int64)?;
    let index = index.i64()?;
    for k in 0..rows.height() {
        let row = index.get(k).unwrap_or(0) as usize;
        for (name, cell) in &checked {
            if let Some(why) = cell.check(rows.column(name)?.str()?.get(k)) {
                problems.push(Problem::new(Some(row + 2), *name, why));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_as_the_files_write_them() {
        let dmy = MonthFormat::DayMonthYear;
        assert_eq!(dmy.parse("01AUG2024"), Month::new(2024, 8));
        assert_eq!(dmy.parse("01Aug2024"), Month::new(2024, 8));
        assert_eq!(dmy.parse("AUG2024"), None);
        assert_eq!(dmy.parse("01AUGUST2024"), None);
        assert_eq!(dmy.parse("00AUG2024"), None);
        assert_eq!(dmy.parse("2024-08"), None);
        assert_eq!(MonthFormat::YearMonth.parse("2024-08"), Month::new(2024, 8));
        assert_eq!(MonthFormat::YearMonth.parse("01AUG2024"), None);
    }

    #[test]
    fn counts_are_whole_numbers_0_or_more() {
        assert_eq!(Cell::Count.check(Some("12")), None);
        assert_eq!(Cell::Count.check(Some("0")), None);
        assert_eq!(
            Cell::Count.check(Some("-3")).unwrap(),
            "-3 is negative: a count is a whole number, 0 or more"
        );
        assert_eq!(
            Cell::Count.check(Some("1.5")).unwrap(),
            "'1.5' is not a count: a whole number, 0 or more"
        );
        assert_eq!(Cell::Count.check(None).unwrap(), "empty value");
        assert_eq!(Cell::Code.check(Some(" ")).unwrap(), "empty value");
        assert_eq!(Cell::Text.check(None), None);
        assert_eq!(
            Cell::Month(MonthFormat::DayMonthYear)
                .check(Some("Aug-24"))
                .unwrap(),
            "'Aug-24' is not a month start date: the publication writes DDMONYYYY, e.g. 01AUG2024"
        );
    }
}
