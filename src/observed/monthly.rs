//! `observed_monthly.csv` read back: the national rows that `data observed` wrote, for setting
//! what the data show month by month against what a scenario expects (the explorer's
//! nowcast). Read by header with real line numbers; a file that is not this table is refused
//! by file, line and column.

use serde::Deserialize;

use super::NATIONAL;
use crate::error::{FileProblems, Problem};
use crate::month::Month;

/// The columns `data observed` writes to `observed_monthly.csv` at ICB level (at practice
/// level `practice_code` follows `icb_code`).
pub const MONTHLY_COLUMNS: [&str; 7] = [
    "month",
    "icb_code",
    "observed_gbp",
    "counterfactual_gbp",
    "counterfactual_low_gbp",
    "counterfactual_high_gbp",
    "after_change",
];

/// One national month: the excess observed and its counterfactual, £.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservedMonth {
    pub month: Month,
    pub observed: f64,
    pub counterfactual: f64,
    /// After the first change (`--change`).
    pub after_change: bool,
}

#[derive(Deserialize)]
struct Row {
    month: String,
    icb_code: String,
    observed_gbp: f64,
    counterfactual_gbp: f64,
    after_change: bool,
}

/// The national months of `bytes`, an `observed_monthly.csv` called `file`, in its order.
pub fn read_national(bytes: &[u8], file: &str) -> Result<Vec<ObservedMonth>, FileProblems> {
    let refused = |line: Option<u64>, field: &str, message: String| FileProblems {
        file: file.to_string(),
        problems: vec![Problem::new(line.map(|l| l as usize), field, message)],
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| refused(Some(1), "header", e.to_string()))?
        .clone();
    let known = |h: &str| MONTHLY_COLUMNS.contains(&h) || h == "practice_code";
    if let Some(unknown) = headers.iter().find(|h| !known(h)) {
        return Err(refused(
            Some(1),
            unknown,
            format!(
                "not a column of data observed's observed_monthly.csv ({})",
                MONTHLY_COLUMNS.join(", ")
            ),
        ));
    }
    if let Some(missing) = MONTHLY_COLUMNS
        .iter()
        .find(|c| !headers.iter().any(|h| h == **c))
    {
        return Err(refused(
            Some(1),
            missing,
            "missing: not data observed's observed_monthly.csv".to_string(),
        ));
    }
    let practice_level = headers.iter().any(|h| h == "practice_code");
    let mut months = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            refused(line, "row", e.to_string())
        })?;
        let line = record.position().map(|p| p.line());
        let row: Row = record.deserialize(Some(&headers)).map_err(|e| {
            let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
                return refused(line, "row", e.to_string());
            };
            let field = err
                .field()
                .and_then(|i| headers.get(i as usize))
                .unwrap_or("row");
            let message = match err.kind() {
                csv::DeserializeErrorKind::ParseFloat(_) => "not a number".to_string(),
                csv::DeserializeErrorKind::ParseBool(_) => "not true or false".to_string(),
                other => other.to_string(),
            };
            refused(line, field, message)
        })?;
        if row.icb_code != NATIONAL {
            continue;
        }
        let month = row
            .month
            .parse::<Month>()
            .map_err(|e| refused(line, "month", e))?;
        for (name, value) in [
            ("observed_gbp", row.observed_gbp),
            ("counterfactual_gbp", row.counterfactual_gbp),
        ] {
            if !value.is_finite() {
                return Err(refused(line, name, "not a finite number".to_string()));
            }
        }
        if months
            .last()
            .is_some_and(|m: &ObservedMonth| m.month >= month)
        {
            return Err(refused(
                line,
                "month",
                format!("{month} does not follow the month before it"),
            ));
        }
        months.push(ObservedMonth {
            month,
            observed: row.observed_gbp,
            counterfactual: row.counterfactual_gbp,
            after_change: row.after_change,
        });
    }
    if months.is_empty() {
        let level = if practice_level {
            " (practice level)"
        } else {
            ""
        };
        return Err(refused(
            None,
            "icb_code",
            format!("no national rows (icb_code '{NATIONAL}'){level}: not data observed's observed_monthly.csv"),
        ));
    }
    Ok(months)
}

/// The excess above its counterfactual cumulated from the first month after the change: each
/// month's end and the running sum.
pub fn cumulative_excess(months: &[ObservedMonth]) -> Vec<(Month, f64)> {
    let mut sum = 0.0;
    months
        .iter()
        .filter(|m| m.after_change)
        .map(|m| {
            sum += m.observed - m.counterfactual;
            (m.month, sum)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "month,icb_code,observed_gbp,counterfactual_gbp,counterfactual_low_gbp,counterfactual_high_gbp,after_change\n";

    #[test]
    fn the_national_rows_are_read_and_cumulated_from_the_change() {
        let text = format!(
            "{HEAD}2026-05,national,100.00,90.00,80.00,100.00,false\n2026-05,QE1,5.00,4.00,3.00,5.00,false\n2026-06,national,130.50,100.25,90.00,110.00,true\n2026-07,national,140.00,99.75,90.00,110.00,true\n"
        );
        let months = read_national(text.as_bytes(), "m.csv").unwrap();
        assert_eq!(months.len(), 3);
        let cumulated = cumulative_excess(&months);
        assert_eq!(
            cumulated,
            vec![
                ("2026-06".parse().unwrap(), 30.25),
                ("2026-07".parse().unwrap(), 30.25 + 40.25)
            ]
        );
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let text = "after_change,icb_code,month,counterfactual_high_gbp,counterfactual_low_gbp,counterfactual_gbp,observed_gbp\ntrue,national,2026-06,1,1,2,5\n";
        let months = read_national(text.as_bytes(), "m.csv").unwrap();
        assert_eq!(months[0].observed - months[0].counterfactual, 3.0);
    }

    fn refused(text: &str) -> Problem {
        let e = read_national(text.as_bytes(), "m.csv").unwrap_err();
        assert_eq!(e.file, "m.csv");
        e.problems.into_iter().next().unwrap()
    }

    #[test]
    fn a_bad_value_is_named_by_its_true_line_and_column() {
        // A quoted cell holding a line break: the bad row is on line 5, not row + 2 = 4.
        let text = format!(
            "{HEAD}2026-06,national,1,1,1,1,true\n2026-07,\"QE\n1\",1,1,1,1,true\n2026-08,national,lots,1,1,1,true\n"
        );
        let p = refused(&text);
        assert_eq!(
            (p.line, p.field.as_str(), p.message.as_str()),
            (Some(5), "observed_gbp", "not a number")
        );
        let p = refused(&format!("{HEAD}2026-13,national,1,1,1,1,true\n"));
        assert_eq!((p.line, p.field.as_str()), (Some(2), "month"));
        let p = refused(&format!("{HEAD}2026-06,national,1,1,1,1,yes\n"));
        assert_eq!(
            (p.line, p.field.as_str(), p.message.as_str()),
            (Some(2), "after_change", "not true or false")
        );
        let p = refused(&format!(
            "{HEAD}2026-07,national,1,1,1,1,true\n2026-06,national,1,1,1,1,true\n"
        ));
        assert_eq!((p.line, p.field.as_str()), (Some(3), "month"));
    }

    #[test]
    fn another_table_is_refused_by_its_header() {
        let p = refused("id,label,published\nx,y,1\n");
        assert_eq!((p.line, p.field.as_str()), (Some(1), "id"));
        let p = refused("month,icb_code,observed_gbp\n2026-06,national,1\n");
        assert_eq!((p.line, p.field.as_str()), (Some(1), "counterfactual_gbp"));
        let p = refused(&format!("{HEAD}2026-06,QE1,1,1,1,1,true\n"));
        assert_eq!(p.field, "icb_code");
        assert!(p.message.contains("no national rows"), "{}", p.message);
    }
}
