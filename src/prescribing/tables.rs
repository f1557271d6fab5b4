//! The prescribing table that [`aggregate`](super::aggregate) makes: sums by ICB (or practice),
//! the files and months they came from, the ICBs set against a reference table, and the table
//! as CSV with money rounded to the penny.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::MICROS_PER_PENNY;
use crate::data::IcbTable;
use crate::month::Month;

/// What one output row sums over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Grouping {
    /// One row per ICB.
    Icb,
    /// One row per ICB and practice.
    Practice,
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
        crate::month::missing(&self.months)
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
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
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
}
