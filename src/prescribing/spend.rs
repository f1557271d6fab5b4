//! Prescribing tables read back (`data build` and `data practices`): the CSV that
//! [`PrescribingTable::to_csv`](super::PrescribingTable::to_csv) writes, by ICB or by practice,
//! every problem reported with its line.

use std::collections::HashMap;
use std::path::Path;

use crate::data::{read_text_csv, TextCells};
use crate::error::{Error, FileProblems, Problem};

/// One row of a prescribing table written by [`aggregate`](super::aggregate) (by ICB, or by
/// practice), as `data build` and `data practices` read it.
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
    let mut seen = HashMap::new();
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
