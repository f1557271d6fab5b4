//! The practice table: one row per GP practice with its ICB, registered patients and
//! (optionally) prescribing cost. With `granularity = "practice"` each practice takes part or
//! not; the table sets each practice's share of its ICB's patients and prescribing (the ICB
//! table still sets the ICB's totals). The default table is embedded in the binary.

use std::path::Path;

use crate::data::{read_text_csv, text_column, TextCells};
use crate::error::{Error, FileProblems, Problem};
use crate::provenance::InputFile;

/// How the embedded table is named in outputs and messages.
pub const EMBEDDED_NAME: &str = "embedded:data/practices.csv";
/// `data/practices.csv` as shipped: open practices of 2022/23 (see `data/SOURCES.md`).
pub const EMBEDDED_CSV: &[u8] = include_bytes!("../data/practices.csv");

/// A validated practice table.
#[derive(Debug, Clone)]
pub struct PracticeTable {
    /// The file as the user named it (or [`EMBEDDED_NAME`]), its hash and its bytes.
    pub file: InputFile,
    pub codes: Vec<String>,
    pub icb_codes: Vec<String>,
    pub patients: Vec<f64>,
    /// Where the table has a `prescribing_cost_gbp` column.
    pub prescribing: Option<Vec<f64>>,
}

impl PracticeTable {
    /// Reads a table from a file, or the embedded one when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<PracticeTable, Error> {
        let file = match path {
            None => InputFile::new(EMBEDDED_NAME, EMBEDDED_CSV),
            Some(p) => InputFile::read(p, "the practice table")?,
        };
        Self::from_csv(&file.bytes, &file.source).map_err(|p| Error::Input(vec![p]))
    }

    /// Parses CSV bytes: `practice_code`, `icb_code`, `registered_patients` and optionally
    /// `prescribing_cost_gbp`; every problem with its line.
    pub fn from_csv(bytes: &[u8], source: &str) -> Result<PracticeTable, FileProblems> {
        let frame = read_text_csv(bytes, source)?;
        let mut problems = Vec::new();
        let cells = TextCells::new(&frame);
        let codes = text_column(&cells, "practice_code", &mut problems);
        let icbs = text_column(&cells, "icb_code", &mut problems);
        let patients = cells.numbers("registered_patients", &mut problems);
        let prescribing = cells
            .has("prescribing_cost_gbp")
            .then(|| cells.numbers("prescribing_cost_gbp", &mut problems));
        let fail = |problems| FileProblems {
            file: source.to_string(),
            problems,
        };
        let (Some(codes), Some(icb_codes), Some(patients)) = (codes, icbs, patients) else {
            return Err(fail(problems));
        };
        if codes.is_empty() {
            problems.push(Problem::new(
                None,
                "practice_code",
                "the table has no practices",
            ));
        }
        let mut seen = std::collections::HashMap::new();
        for (row, code) in codes.iter().enumerate() {
            if let Some(first) = seen.insert(code.as_str(), row) {
                problems.push(Problem::new(
                    Some(row + 2),
                    "practice_code",
                    format!(
                        "duplicate practice code '{code}' (first on line {})",
                        first + 2
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(PracticeTable {
            file: InputFile::new(source, bytes),
            codes,
            icb_codes,
            patients,
            prescribing: prescribing.flatten(),
        })
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_covers_the_42_icbs() {
        let t = PracticeTable::load(None).unwrap();
        assert!(t.len() > 6000, "{}", t.len());
        let mut icbs = t.icb_codes.clone();
        icbs.sort();
        icbs.dedup();
        assert_eq!(icbs.len(), 42);
        assert!(t.prescribing.is_some());
        assert!(t.patients.iter().all(|&p| p > 0.0));
    }

    #[test]
    fn bad_rows_are_reported_with_their_lines() {
        let csv = "practice_code,icb_code,registered_patients\nA1,QE1,100\nA1,QE1,-3\nA3,,x\n";
        let e = PracticeTable::from_csv(csv.as_bytes(), "p.csv").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("p.csv:3: registered_patients: -3 is negative; it must be 0 or more"),
            "{text}"
        );
        assert!(text.contains("p.csv:4: icb_code: empty value"), "{text}");
        assert!(
            text.contains("p.csv:4: registered_patients: 'x' is not a number"),
            "{text}"
        );
        let missing = PracticeTable::from_csv(b"practice_code,icb\nA1,QE1\n", "p.csv").unwrap_err();
        assert!(missing
            .to_string()
            .contains("required column 'icb_code' is missing"));
    }
}
