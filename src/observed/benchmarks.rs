//! The realised loss as published figures: a benchmarks table (the columns of
//! `data/benchmarks.csv`) that `benchmark` and `calibrate` read, one row for the nation and
//! one per ICB, scoped to the medicines optimisation action over the months observed after
//! the first change.

use super::{Observed, Series, NATIONAL};
use crate::prescribing::csv_field as field;

/// The action of the model whose cost the excess measures.
pub const ACTION: &str = "medicines_optimisation";

const HEADER: &str = "id,label,published,published_sd,quantity,icb_code,actions,start,end,cost_view,conditions,source,same_as";

/// The benchmarks table for `observed`. Each figure is the cumulative excess over the
/// counterfactual from the first change to the last month; its sd is the standard error behind
/// the 95% interval (months × the effect's standard error). A benchmark figure
/// cannot be negative, so an estimate below zero is written as 0 and the source says so. The
/// ICB rows restate the national one (`same_as`), so calibration counts the data once.
pub fn benchmarks_csv(observed: &Observed) -> String {
    let start = observed.changes[0];
    let end = observed.months[observed.months.len() - 1];
    let national_id = "observed_excess_national".to_string();
    let row = |s: &Series| -> String {
        let (national, id, who) = named(s, "excess");
        let f = &s.fit;
        let sd = f.months_after as f64 * f.effect_se;
        let floored = match f.cumulative < 0.0 {
            true => format!(
                " The estimate was {:.0} (below zero) and is written as 0.",
                f.cumulative
            ),
            false => String::new(),
        };
        let label = format!(
            "Prescribing data: excess over the cheapest equivalent above the counterfactual, {who}, {start} to {end}"
        );
        let source = format!(
            "icb-impact data observed on the English Prescribing Dataset (NHSBSA), {} to {end}: each practice's cost above its equivalence group's national 10th-percentile price per unit (OpenPrescribing's price-per-unit measure), summed; interrupted time series with trend, seasonality, step and slope at {}; {} months before, {} after; cumulative excess over the counterfactual {:.0} (95% interval {:.0} to {:.0}); sd: the standard error under AR(1) errors. docs/observed.md.{floored}",
            observed.months[0],
            observed
                .changes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" and "),
            f.months_before,
            f.months_after,
            f.cumulative,
            f.cumulative_low,
            f.cumulative_high,
        );
        [
            id,
            field(&label),
            format!("{:.2}", f.cumulative.max(0.0)),
            format!("{:.2}", sd),
            (if national {
                "national_total"
            } else {
                "icb_total"
            })
            .to_string(),
            (if national {
                String::new()
            } else {
                s.icb_code.clone()
            }),
            ACTION.to_string(),
            start.to_string(),
            end.to_string(),
            "icb_cash".to_string(),
            String::new(),
            field(&source),
            (if national {
                String::new()
            } else {
                national_id.clone()
            }),
        ]
        .join(",")
    };
    let mut text = format!("{HEADER}\n{}\n", row(&observed.national));
    for s in &observed.icbs {
        text.push_str(&row(s));
        text.push('\n');
    }
    text
}

/// A series as a benchmark row names it: whether it is England's, its id
/// (`observed_<what>_national` or `observed_<what>_<icb code>`) and who it is in a label.
pub fn named(s: &Series, what: &str) -> (bool, String, String) {
    let national = s.icb_code == NATIONAL;
    let id = match national {
        true => format!("observed_{what}_national"),
        false => format!("observed_{what}_{}", s.icb_code.to_lowercase()),
    };
    let who = match national {
        true => "England".to_string(),
        false => format!("{} ({})", s.icb_name, s.icb_code),
    };
    (national, id, who)
}
