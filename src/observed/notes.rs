//! What `data observed` says beside its figures, in its report, its manifest and its
//! benchmarks table alike: the cost the excess is measured in and the level shift fitted for
//! NHSBSA's change of discount method, and any months expected but not read.

use super::{discount_change, Cost, Observed};
use crate::prescribing::PublishedMonths;

/// The notes of a run: the cost measured in first, then the months late (if any). One list,
/// written everywhere the run's figures are.
pub fn notes(observed: &Observed, cost: Cost, months: &PublishedMonths) -> Vec<String> {
    let change = discount_change();
    let cost_note = match (cost, observed.shifts.contains(&change)) {
        (Cost::Actual, true) => format!(
            "Excess in {}; a level shift at {change} fitted in the counterfactual, for NHSBSA's new method of discount in ACTUAL_COST from April 2024 data",
            cost.describe()
        ),
        (Cost::Actual, false) => format!(
            "Excess in {}; every month read is on one side of {change}, NHSBSA's change of discount method in ACTUAL_COST, so no level shift is fitted",
            cost.describe()
        ),
        (Cost::Nic, _) => format!(
            "Excess in {}, unaffected by NHSBSA's change of discount method in ACTUAL_COST from {change}; above the cash the NHS paid by the discount",
            cost.describe()
        ),
    };
    std::iter::once(cost_note)
        .chain(months.late_note())
        .collect()
}
