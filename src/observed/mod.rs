//! The realised loss from prescribing data: each practice's monthly cost above the cheapest
//! equivalent presentations (OpenPrescribing's price-per-unit "excess"), summed to ICBs and
//! the nation, and an interrupted time series on each sum that estimates how much the excess
//! rose after the months collective action switched medicines optimisation software off.
//!
//! One file a job: `excess` reads the EPD months into per-practice monthly excess (a polars
//! plan, streamed); `its` fits a series (pure numbers); this file builds the series, fits each
//! and names the ones that cannot be fitted; `benchmarks` writes the estimates as published
//! figures the model's `benchmark` and `calibrate` read; `notes` says what the figures rest on
//! (the cost measured in, a level shift fitted, months late); `monthly` reads the national
//! months of `observed_monthly.csv` back.

mod benchmarks;
mod excess;
mod its;
mod monthly;
mod notes;

use std::collections::BTreeMap;

pub use benchmarks::{benchmarks_csv, named as named_series, ACTION};
pub use excess::{
    discount_change, excess, excess_plan, group_key, low_prices, Cost, ExcessTable, PracticeExcess,
    CHEMICAL_CHARS, DISCOUNT_CHANGE, EQUIVALENT_CHARS, FIRST_DEVICE_CHAPTER, LOW_PERCENTILE,
};
pub use its::{
    ar1_coefficient, fit, fit_shifted, fit_with, newey_west, newey_west_lag, prais_winsten, Errors,
    ItsFit, ItsProblem, HARMONICS, LEVEL, MIN_PRE_MONTHS, MIN_SEGMENT_MONTHS, SEASONAL_PRE_MONTHS,
};
pub use monthly::{cumulative_excess, read_national, ObservedMonth, MONTHLY_COLUMNS};
pub use notes::notes;

use crate::error::{Error, Problem};
use crate::month::{list, Month};
use crate::prescribing::Grouping;

/// The code of the national row in every output.
pub const NATIONAL: &str = "national";

/// One monthly series and its fit: the nation, an ICB or a practice.
#[derive(Debug, Clone)]
pub struct Series {
    /// [`NATIONAL`] for the nation.
    pub icb_code: String,
    pub icb_name: String,
    /// `Some` for a practice.
    pub practice_code: Option<String>,
    /// Excess, £, month by month from [`Observed::months`]'s first.
    pub observed: Vec<f64>,
    pub fit: ItsFit,
}

/// A series that was not fitted, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub icb_code: String,
    pub practice_code: Option<String>,
    pub reason: String,
}

/// The realised loss: every series fitted, and those that could not be.
#[derive(Debug, Clone)]
pub struct Observed {
    pub changes: Vec<Month>,
    /// The level shifts of method fitted in the counterfactual ([`fit_shifted`]), inside the
    /// months.
    pub shifts: Vec<Month>,
    /// Every month of the data, consecutive.
    pub months: Vec<Month>,
    pub national: Series,
    /// In ICB code order.
    pub icbs: Vec<Series>,
    /// With [`Grouping::Practice`] only, in ICB then practice code order.
    pub practices: Vec<Series>,
    pub skipped: Vec<Skipped>,
    pub grouping: Grouping,
}

impl Observed {
    /// The series of the chosen level: the ICBs or the practices.
    pub fn units(&self) -> &[Series] {
        match self.grouping {
            Grouping::Icb => &self.icbs,
            Grouping::Practice => &self.practices,
        }
    }
}

/// Which months a series has rows in, and its value in each.
type Months = (Vec<bool>, Vec<f64>);

/// One row of a monthly measure, as [`fit_rows`] sums it into series: a month, the ICB it
/// belongs to (`None` when it maps to no ICB: counted in the national series only), the
/// practice (when the measure is by practice) and the value.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub month: Month,
    /// The ICB's code and name.
    pub icb: Option<(&'a str, &'a str)>,
    pub practice_code: Option<&'a str>,
    pub value: f64,
}

fn problem(command: &str, field: &str, message: String) -> Error {
    Error::input(command, Problem::new(None, field, message))
}

/// Where missing months fall: " (2023-07 in the baseline, before 2024-08; 2024-10 after the
/// change)", by the first of `changes`; empty without a change.
fn windows(missing: &[Month], changes: &[Month]) -> String {
    let Some(&first) = changes.iter().min() else {
        return String::new();
    };
    let (before, after): (Vec<Month>, Vec<Month>) = missing.iter().partition(|&&m| m < first);
    let mut parts = Vec::new();
    if !before.is_empty() {
        parts.push(format!("{} in the baseline, before {first}", list(&before)));
    }
    if !after.is_empty() {
        parts.push(format!("{} after the change {first}", list(&after)));
    }
    format!(" ({})", parts.join("; "))
}

/// Builds the national, ICB (and practice) series of `table` and fits each with steps and
/// slopes at `changes`: [`fit_rows`] on each practice's monthly excess, with the level shifts
/// of `table`'s cost ([`Cost::level_shifts`]: in actual cost, the discount change of April
/// 2024 when the months straddle it).
pub fn analyse(
    table: &ExcessTable,
    changes: &[Month],
    grouping: Grouping,
) -> Result<Observed, Error> {
    let shifts = table.cost.level_shifts(&table.months);
    if let Some(c) = changes.iter().find(|c| shifts.contains(c)) {
        return Err(problem(
            "data observed",
            "--change",
            format!(
                "{c} is the month NHSBSA changed how ACTUAL_COST is discounted, so a change then cannot be told from the new method's step; measure in list prices with --cost nic"
            ),
        ));
    }
    let rows = table.rows.iter().map(|r| Row {
        month: r.month,
        icb: Some((&r.icb_code, &r.icb_name)),
        practice_code: Some(&r.practice_code),
        value: r.excess_gbp,
    });
    fit_rows(
        "data observed",
        &table.months,
        rows,
        changes,
        &shifts,
        grouping,
    )
}

/// Sums `rows` into the national, ICB (and, with [`Grouping::Practice`], practice) monthly
/// series over `months` (the months the files hold, sorted) and fits each with steps and
/// slopes at `changes`, for every command that measures a change over months (`command`
/// names it in problems), with a level shift of method at each of `shifts` that falls inside
/// the months ([`fit_shifted`]). The national series has every row; an ICB's has the rows of
/// that ICB, in the order given. Refused: months missing inside the span, or a national series
/// that cannot be fitted (a pre-period too short, a change outside the months). An ICB or
/// practice without every month, or whose series cannot be fitted, is skipped and named.
pub fn fit_rows<'a>(
    command: &str,
    months: &[Month],
    rows: impl IntoIterator<Item = Row<'a>>,
    changes: &[Month],
    shifts: &[Month],
    grouping: Grouping,
) -> Result<Observed, Error> {
    let missing = crate::month::missing(months);
    if !missing.is_empty() {
        return Err(problem(
            command,
            "FILE",
            format!(
                "months missing between {} and {}: {}{}; the time series needs every month, so give their files",
                months[0],
                months[months.len() - 1],
                list(&missing),
                windows(&missing, changes)
            ),
        ));
    }
    let mut changes = changes.to_vec();
    changes.sort();
    changes.dedup();
    let Some(&first) = months.first() else {
        return Err(problem(
            command,
            "FILE",
            "the files hold no rows".to_string(),
        ));
    };
    let months = months.to_vec();
    let n = months.len();
    let last = months[n - 1];
    let shifts: Vec<Month> = shifts
        .iter()
        .copied()
        .filter(|&b| first < b && b <= last)
        .collect();
    let fit = |series: &[f64], first: Month, changes: &[Month]| {
        fit_shifted(series, first, changes, &shifts, Errors::Ar1)
    };
    let index = |m: Month| m.since(first) as usize;
    let mut national = vec![0.0; n];
    // ICB code → (name, months seen, series); practice (ICB, code) → (months seen, series).
    let mut icbs: BTreeMap<&str, (&str, Vec<bool>, Vec<f64>)> = BTreeMap::new();
    let mut practices: BTreeMap<(&str, &str), Months> = BTreeMap::new();
    for r in rows {
        let k = index(r.month);
        national[k] += r.value;
        let Some((icb_code, icb_name)) = r.icb else {
            continue;
        };
        let e = icbs
            .entry(icb_code)
            .or_insert_with(|| (icb_name, vec![false; n], vec![0.0; n]));
        e.0 = icb_name;
        e.1[k] = true;
        e.2[k] += r.value;
        if let (Grouping::Practice, Some(practice)) = (grouping, r.practice_code) {
            let p = practices
                .entry((icb_code, practice))
                .or_insert_with(|| (vec![false; n], vec![0.0; n]));
            p.0[k] = true;
            p.1[k] += r.value;
        }
    }
    let national_fit = fit(&national, first, &changes)
        .map_err(|e| problem(command, "--change", format!("the national series: {e}")))?;
    let mut skipped = Vec::new();
    let absent = |seen: &[bool]| -> Vec<Month> {
        seen.iter()
            .enumerate()
            .filter(|(_, s)| !**s)
            .map(|(k, _)| first.plus(k as i32))
            .collect()
    };
    let mut fit_unit = |icb: &str, practice: Option<&str>, seen: &[bool], series: &[f64]| {
        let gone = absent(seen);
        let result = match gone.is_empty() {
            true => fit(series, first, &changes).map_err(|e| e.to_string()),
            false => Err(format!("no rows in {}", list(&gone))),
        };
        match result {
            Ok(f) => Some(f),
            Err(reason) => {
                skipped.push(Skipped {
                    icb_code: icb.to_string(),
                    practice_code: practice.map(str::to_string),
                    reason,
                });
                None
            }
        }
    };
    let mut icb_series = Vec::new();
    for (code, (name, seen, series)) in &icbs {
        if let Some(f) = fit_unit(code, None, seen, series) {
            icb_series.push(Series {
                icb_code: code.to_string(),
                icb_name: name.to_string(),
                practice_code: None,
                observed: series.clone(),
                fit: f,
            });
        }
    }
    let mut practice_series = Vec::new();
    for ((icb, practice), (seen, series)) in &practices {
        if let Some(f) = fit_unit(icb, Some(practice), seen, series) {
            practice_series.push(Series {
                icb_code: icb.to_string(),
                icb_name: icbs.get(icb).map_or("", |e| e.0).to_string(),
                practice_code: Some(practice.to_string()),
                observed: series.clone(),
                fit: f,
            });
        }
    }
    Ok(Observed {
        changes,
        shifts,
        months,
        national: Series {
            icb_code: NATIONAL.to_string(),
            icb_name: "England".to_string(),
            practice_code: None,
            observed: national,
            fit: national_fit,
        },
        icbs: icb_series,
        practices: practice_series,
        skipped,
        grouping,
    })
}
