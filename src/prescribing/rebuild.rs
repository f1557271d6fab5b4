//! The ICB table and the practice table rebuilt with real prescribing spend in place of their
//! prescribing cost; every other column and row is kept, and the new table must load.

use std::collections::{BTreeSet, HashMap, HashSet};

use polars::prelude::*;

use super::spend::Spend;
use crate::data::{read_text_csv, IcbTable};
use crate::error::{Error, Problem};
use crate::practices::PracticeTable;

/// The column of the ICB table (and of the practice table) that real spend replaces.
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
            &base.file.source,
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
    let mut frame =
        read_text_csv(&base.file.bytes, &base.file.source).map_err(|p| Error::Input(vec![p]))?;
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
    let by_code: HashMap<&str, &Spend> = spend
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
                    &base.file.source,
                    Problem::new(
                        None,
                        PRESCRIBING_COLUMN,
                        format!("practice {code} has no prescribing data and the practice table has no {PRESCRIBING_COLUMN} to keep: start from a table that has one"),
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
    let known: HashSet<&str> = base.codes.iter().map(String::as_str).collect();
    Ok(RebuiltPractices {
        csv,
        updated,
        kept,
        not_in_table: by_code
            .keys()
            .filter(|c| !known.contains(*c))
            .map(|c| c.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        other_icb,
    })
}
