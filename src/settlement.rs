//! The cost of delay: the scenario settled in each month of a range (every action ends then,
//! with its recovery after), each run on the same draws, and what one more month without a
//! settlement costs, draw by draw.

use crate::month::Month;
use crate::stats::Summary;

/// The scenario settled in one month.
#[derive(Debug, Clone)]
pub struct SettledIn {
    /// The last month of action.
    pub month: Month,
    /// The national cost over the horizon.
    pub national: Summary,
    /// The national cost ÷ the number of ICBs.
    pub per_icb: Summary,
    /// The paired difference from settling a month earlier, draw by draw (`None` for the
    /// first month of the range).
    pub marginal: Option<Summary>,
    /// Share of draws in which settling a month later costs less (0 when every cost line is
    /// non-negative).
    pub marginal_negative_share: Option<f64>,
}

/// The cost of delay over a range of settlement months.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub rows: Vec<SettledIn>,
    /// The mean over the range of the marginal cost of one more month, national.
    pub mean_marginal: Option<f64>,
}

impl Settlement {
    /// From each settlement month's national cost per draw (same draws, in month order) for
    /// `n_icb` ICBs.
    pub fn new(runs: Vec<(Month, Vec<f64>)>, n_icb: usize) -> Settlement {
        let mut rows = Vec::with_capacity(runs.len());
        let mut previous: Option<&Vec<f64>> = None;
        for (month, national) in &runs {
            let marginal: Option<Vec<f64>> =
                previous.map(|p| national.iter().zip(p).map(|(a, b)| a - b).collect());
            rows.push(SettledIn {
                month: *month,
                per_icb: Summary::of(national.iter().map(|x| x / n_icb as f64).collect()),
                national: Summary::of(national.clone()),
                marginal_negative_share: marginal
                    .as_ref()
                    .map(|d| d.iter().filter(|&&x| x < 0.0).count() as f64 / d.len().max(1) as f64),
                marginal: marginal.map(Summary::of),
            });
            previous = Some(national);
        }
        let marginals: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.marginal.as_ref().map(|m| m.mean))
            .collect();
        let mean_marginal =
            (!marginals.is_empty()).then(|| marginals.iter().sum::<f64>() / marginals.len() as f64);
        Settlement {
            rows,
            mean_marginal,
        }
    }
}

/// Parses `YYYY-MM..YYYY-MM` (inclusive) into its first and last month.
pub fn parse_range(text: &str) -> Result<(Month, Month), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("'{text}' is not a range of months: write 2024-08..2025-03"))?;
    let first: Month = a.trim().parse()?;
    let last: Month = b.trim().parse()?;
    if last < first {
        return Err(format!("{last} is before {first}"));
    }
    Ok((first, last))
}
