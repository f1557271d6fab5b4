//! The ICB table: one row per ICB with its code, name, region and the numeric columns that
//! scenarios use as drivers. Read with polars; the default table is embedded in the binary.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, FileProblems, Problem};
use crate::provenance::InputFile;

/// How the embedded table is named in outputs and messages.
pub const EMBEDDED_NAME: &str = "embedded:data/icbs.csv";
/// `data/icbs.csv` as shipped: the 42 ICBs of 2024/25 (see `data/SOURCES.md`).
pub const EMBEDDED_CSV: &[u8] = include_bytes!("../data/icbs.csv");

/// The column of registered patients: what a footprint measures an old ICB's part of a body
/// by, and what the explorer's ICB list gives.
pub const PATIENTS: &str = "registered_patients";

/// A validated ICB table.
#[derive(Debug, Clone)]
pub struct IcbTable {
    /// The file as the user named it (or [`EMBEDDED_NAME`]), its hash and its bytes, so a
    /// run can record the exact table it used.
    pub file: InputFile,
    pub codes: Vec<String>,
    pub names: Vec<String>,
    /// NHS England region, or empty where the table has no `region` column.
    pub regions: Vec<String>,
    /// Every column of the file, in file order.
    pub columns: Vec<String>,
    /// The numeric columns that were asked for and are present.
    numeric: Vec<(String, Vec<f64>)>,
    /// For a table a footprint rebuilt: the ICBs of the table it was rebuilt from, and where
    /// their practices went (empty for a table as read).
    pub former: Vec<FormerIcb>,
}

/// An ICB of the table a footprint rebuilt, and the rows of the rebuilt table its practices
/// are in.
#[derive(Debug, Clone, PartialEq)]
pub struct FormerIcb {
    pub code: String,
    pub name: String,
    pub region: String,
    /// `(row of the rebuilt table, share of the row's registered patients that came from this
    /// ICB, share of this ICB's registered patients that went to the row)`, in row order.
    pub parts: Vec<(usize, f64, f64)>,
}

impl IcbTable {
    /// Reads a table from a file, or the embedded one when `path` is `None`, parsing the
    /// `numeric` columns that are present (a column that is absent is the scenario's problem:
    /// see [`IcbTable::has_column`]).
    pub fn load(path: Option<&Path>, numeric: &[String]) -> Result<IcbTable, Error> {
        let file = match path {
            None => InputFile::new(EMBEDDED_NAME, EMBEDDED_CSV),
            Some(p) => InputFile::read(p, "the ICB table")?,
        };
        Self::from_csv(&file.bytes, &file.source, numeric).map_err(|p| Error::Input(vec![p]))
    }

    /// Parses CSV bytes. Every column is read as text (an explicit all-text schema), then each
    /// column the scenario needs is converted here, so a bad value is reported with its line
    /// and ICB code rather than as a bare parse failure.
    pub fn from_csv(
        bytes: &[u8],
        source: &str,
        numeric: &[String],
    ) -> Result<IcbTable, FileProblems> {
        let fail = |problems: Vec<Problem>| FileProblems {
            file: source.to_string(),
            problems,
        };
        let frame = read_text_csv(bytes, source)?;
        let cells = TextCells::new(&frame);
        let columns = cells.columns.clone();
        let mut problems = Vec::new();
        let codes = cells.text("icb_code", &mut problems);
        let names = cells.text("icb_name", &mut problems);
        let regions = match cells.has("region") {
            true => cells.text("region", &mut problems),
            false => None,
        };
        let (Some(codes), Some(names)) = (codes, names) else {
            return Err(fail(problems));
        };
        if codes.is_empty() {
            return Err(fail(vec![Problem::new(
                None,
                "icb_code",
                "the table has no ICB rows",
            )]));
        }
        // Line of a data row: the header is line 1.
        let line = |row: usize| Some(row + 2);
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (row, code) in codes.iter().enumerate() {
            if code.is_empty() {
                problems.push(Problem::new(line(row), "icb_code", "empty ICB code"));
            } else if let Some((_, first)) = seen.iter().find(|(c, _)| *c == code) {
                problems.push(Problem::new(
                    line(row),
                    "icb_code",
                    format!("duplicate ICB code '{code}' (first on line {})", first + 2),
                ));
            } else {
                seen.push((code, row));
            }
        }
        let who = |row: usize| match codes[row].as_str() {
            "" => String::new(),
            code => format!(" (ICB {code})"),
        };
        let mut numeric_columns = Vec::new();
        for name in numeric.iter().filter(|n| columns.contains(n)) {
            if let Some(values) = cells.numbers_noted(name, &mut problems, &who) {
                numeric_columns.push((name.clone(), values));
            }
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(IcbTable {
            file: InputFile::new(source, bytes),
            regions: regions.unwrap_or_else(|| vec![String::new(); codes.len()]),
            names,
            codes,
            columns,
            numeric: numeric_columns,
            former: Vec::new(),
        })
    }

    /// A table made from its parts (a footprint's ICBs, say), keeping `file`, the table it was
    /// made from, for the run to record, and the ICBs of that table (`former`): its columns are
    /// `icb_code`, `icb_name`, `region` and the numeric ones.
    pub fn from_parts(
        file: InputFile,
        codes: Vec<String>,
        names: Vec<String>,
        regions: Vec<String>,
        numeric: Vec<(String, Vec<f64>)>,
        former: Vec<FormerIcb>,
    ) -> IcbTable {
        let columns = ["icb_code", "icb_name", "region"]
            .into_iter()
            .map(String::from)
            .chain(numeric.iter().map(|(n, _)| n.clone()))
            .collect();
        IcbTable {
            file,
            codes,
            names,
            regions,
            columns,
            numeric,
            former,
        }
    }

    /// The row of the ICB `code` (any case), or what to tell a user who named it: the table's
    /// codes and, for an ICB of the table a footprint rebuilt, where its practices are now.
    pub fn row_of(&self, code: &str) -> Result<usize, String> {
        if let Some(i) = self.codes.iter().position(|c| c.eq_ignore_ascii_case(code)) {
            return Ok(i);
        }
        let codes = self.codes.join(", ");
        match (self.replaced(code), self.former_icb(code)) {
            (Some(went), Some(former)) => Err(format!(
                "{went}: name {} instead (this run's ICBs: {codes})",
                match former.parts.as_slice() {
                    [(row, _, _)] => self.codes[*row].as_str(),
                    _ => "one of those",
                }
            )),
            _ if !self.former.is_empty() => Err(format!(
                "unknown ICB '{code}'; the ICBs of the footprint are: {codes}"
            )),
            _ => Err(format!(
                "unknown ICB '{code}'; the ICB table {} has: {codes}",
                self.file.source
            )),
        }
    }

    /// For an ICB of the table a footprint rebuilt this one from: that it was replaced, and
    /// the rows its practices are in now, with the share of its patients in each.
    pub fn replaced(&self, code: &str) -> Option<String> {
        let former = self.former_icb(code)?;
        let went: Vec<String> = former
            .parts
            .iter()
            .map(|&(row, _, own)| {
                format!(
                    "{} {} ({:.0}% of its patients)",
                    self.codes[row],
                    self.names[row],
                    100.0 * own
                )
            })
            .collect();
        let went = match went.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no ICB of the run".to_string(),
        };
        Some(format!(
            "'{}' ({}) is an ICB the footprint replaced; its practices are now in {went}",
            former.code, former.name
        ))
    }

    fn former_icb(&self, code: &str) -> Option<&FormerIcb> {
        self.former
            .iter()
            .find(|f| f.code.eq_ignore_ascii_case(code))
    }

    /// The numeric columns that were asked for and are present, in the order asked.
    pub fn numeric_columns(&self) -> &[(String, Vec<f64>)] {
        &self.numeric
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// A numeric column that was asked for when the table was loaded.
    pub fn numeric(&self, name: &str) -> Option<&[f64]> {
        self.numeric
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Reads CSV bytes with every column declared as text (conversion, with row-precise
/// problems, is the caller's); a malformed table is a problem of `file`.
pub fn read_text_csv(bytes: &[u8], file: &str) -> Result<DataFrame, FileProblems> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| FileProblems {
            file: file.to_string(),
            problems: vec![Problem::new(
                None,
                "csv",
                format!("not a readable CSV table: {e}"),
            )],
        })
}

/// The text cells of a CSV table read by [`read_text_csv`], column by column, for the small
/// tables beside the ICB table (practices, ICB maps).
pub struct TextCells<'f> {
    frame: &'f DataFrame,
    columns: Vec<String>,
}

impl<'f> TextCells<'f> {
    pub fn new(frame: &'f DataFrame) -> Self {
        let columns = frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        TextCells { frame, columns }
    }

    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// A column's trimmed cells (an absent cell is empty), or a problem when it is missing.
    pub fn text(&self, name: &str, problems: &mut Vec<Problem>) -> Option<Vec<String>> {
        match self.frame.column(name).and_then(|c| c.str().cloned()) {
            Ok(values) => Some(
                values
                    .iter()
                    .map(|v| v.unwrap_or("").trim().to_string())
                    .collect(),
            ),
            Err(_) => {
                problems.push(Problem::new(
                    None,
                    name,
                    format!(
                        "required column '{name}' is missing; the table has: {}",
                        self.columns.join(", ")
                    ),
                ));
                None
            }
        }
    }

    /// A column of numbers, each finite and 0 or more; each bad cell a problem with its line.
    pub fn numbers(&self, name: &str, problems: &mut Vec<Problem>) -> Option<Vec<f64>> {
        self.numbers_noted(name, problems, &|_| String::new())
    }

    /// [`TextCells::numbers`], with `note(row)` after each problem (which ICB, say).
    pub fn numbers_noted(
        &self,
        name: &str,
        problems: &mut Vec<Problem>,
        note: &dyn Fn(usize) -> String,
    ) -> Option<Vec<f64>> {
        let cells = self.text(name, problems)?;
        let before = problems.len();
        let values = cells
            .iter()
            .enumerate()
            .map(|(row, cell)| {
                let bad = |what: String| {
                    Problem::new(Some(row + 2), name, format!("{what}{}", note(row)))
                };
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => return v,
                    Ok(v) if v < 0.0 => {
                        problems.push(bad(format!("{cell} is negative; it must be 0 or more")))
                    }
                    Ok(_) => problems.push(bad(format!("'{cell}' is not a finite number"))),
                    Err(_) if cell.is_empty() => problems.push(bad("empty value".to_string())),
                    Err(_) => problems.push(bad(format!("'{cell}' is not a number"))),
                }
                f64::NAN
            })
            .collect();
        (problems.len() == before).then_some(values)
    }
}

/// A column of non-empty text; each empty cell a problem with its line.
pub fn text_column(
    cells: &TextCells,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<String>> {
    let values = cells.text(name, problems)?;
    let before = problems.len();
    for (row, v) in values.iter().enumerate() {
        if v.is_empty() {
            problems.push(Problem::new(Some(row + 2), name, "empty value"));
        }
    }
    (problems.len() == before).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn embedded_table_has_the_42_icbs_and_their_totals() {
        let t = IcbTable::load(
            None,
            &cols(&[
                "registered_patients",
                "gp_practices",
                "prescribing_cost_gbp",
            ]),
        )
        .unwrap();
        assert_eq!(t.len(), 42);
        assert_eq!(t.codes[0], "QOQ");
        let sum = |c: &str| t.numeric(c).unwrap().iter().sum::<f64>();
        // National totals quoted in data/SOURCES.md.
        assert_eq!(sum("registered_patients"), 63_878_949.0);
        assert_eq!(sum("gp_practices"), 6_208.0);
        assert_eq!(sum("prescribing_cost_gbp"), 10_100_001_000.0);
        assert_eq!(t.regions.iter().filter(|r| *r == "Midlands").count(), 11);
        assert_eq!(t.file.sha256, crate::provenance::sha256_hex(EMBEDDED_CSV));
    }

    #[test]
    fn region_is_optional_and_only_asked_columns_are_parsed() {
        let csv = b"icb_code,icb_name,patients,notes\nA,Alpha,10,x\nB,Beta,20,y\n";
        let t = IcbTable::from_csv(csv, "t.csv", &cols(&["patients"])).unwrap();
        assert_eq!(t.regions, vec!["", ""]);
        assert_eq!(t.numeric("patients").unwrap(), &[10.0, 20.0]);
        assert!(t.numeric("notes").is_none());
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_code() {
        let csv =
            b"icb_code,icb_name,patients\nA,Alpha,ten\nB,Beta,-3\nA,Again,5\n,Blank,1\nC,Gamma,\n";
        let e = IcbTable::from_csv(csv, "t.csv", &cols(&["patients"])).unwrap_err();
        let text = e.to_string();
        for expected in [
            "t.csv:2: patients: 'ten' is not a number (ICB A)",
            "t.csv:3: patients: -3 is negative; it must be 0 or more (ICB B)",
            "t.csv:4: icb_code: duplicate ICB code 'A' (first on line 2)",
            "t.csv:5: icb_code: empty ICB code",
            "t.csv:6: patients: empty value (ICB C)",
        ] {
            assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
        }
    }

    #[test]
    fn missing_required_columns_are_named() {
        let e = IcbTable::from_csv(b"code,name\nA,Alpha\n", "t.csv", &[]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(
                "t.csv: icb_code: required column 'icb_code' is missing; the table has: code, name"
            ),
            "{text}"
        );
        assert!(
            text.contains("icb_name: required column 'icb_name' is missing"),
            "{text}"
        );
    }
}
