//! The activity estimates as observations of the benchmarks table: for each activity one row
//! for England and one per ICB, the change in activity over the counterfactual from the first
//! change to the last month, in the activity's own unit.

use super::{ActivityObserved, Measure};
use crate::observed::Series;
use crate::prescribing::csv_field as field;

/// The benchmarks table's columns.
pub const BENCHMARKS_HEADER: &str = "id,label,published,published_sd,unit,quantity,icb_code,activity,actions,start,end,cost_view,conditions,source,discrepancy_sd,observation,same_as";

/// Words for an activity in a label.
fn words(activity: &str) -> String {
    match activity {
        super::GP_APPOINTMENTS => "GP appointments".to_string(),
        super::PRACTICE_APPOINTMENTS => "appointments with any practice staff".to_string(),
        super::ADVICE_REQUESTS => "specialist advice (Advice & Guidance) requests".to_string(),
        other => other.replace('_', " "),
    }
}

/// The benchmarks table for `activity`. Each row is the cumulative change in the activity
/// over the counterfactual from the first change to the last month (negative when activity
/// fell); its sd is the standard error behind the 95% interval (months × the effect's
/// standard error). The actions are left empty (every action of the scenario), as are the cost
/// view, the conditions, the discrepancy and the observation. The ICB rows restate their
/// activity's national row (`same_as`), so calibration counts the data once.
pub fn benchmarks_csv(activity: &ActivityObserved) -> String {
    let start = activity.changes[0];
    let (first, end) = (
        activity.months[0],
        activity.months[activity.months.len() - 1],
    );
    let changes = activity
        .changes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut text = format!("{BENCHMARKS_HEADER}\n");
    for Measure {
        activity: name,
        observed,
    } in &activity.measures
    {
        let national_id = format!("observed_{name}_national");
        let row = |s: &Series| -> String {
            let (national, id, who) = crate::observed::named_series(s, name);
            let f = &s.fit;
            let sd = f.months_after as f64 * f.effect_se;
            let label = format!(
                "{}: change against the counterfactual, {who}, {start} to {end}",
                words(name)
            );
            let source = format!(
                "icb-impact data activity on {}, {first} to {end}: {name} ({}); interrupted time series with trend, seasonality, step and slope at {changes}; {} months before, {} after; cumulative change against the counterfactual {:.0} (95% interval {:.0} to {:.0}); sd: the standard error under AR(1) errors. docs/observed.md.",
                activity.kind.described(),
                words(name),
                f.months_before,
                f.months_after,
                f.cumulative,
                f.cumulative_low,
                f.cumulative_high,
            );
            [
                id,
                field(&label),
                format!("{:.2}", f.cumulative),
                format!("{sd:.2}"),
                name.to_string(),
                (if national {
                    "national_activity"
                } else {
                    "icb_activity"
                })
                .to_string(),
                (if national {
                    String::new()
                } else {
                    s.icb_code.clone()
                }),
                name.to_string(),
                String::new(),
                start.to_string(),
                end.to_string(),
                String::new(),
                String::new(),
                field(&source),
                String::new(),
                String::new(),
                (if national {
                    String::new()
                } else {
                    national_id.clone()
                }),
            ]
            .join(",")
        };
        text.push_str(&row(&observed.national));
        text.push('\n');
        for s in &observed.icbs {
            text.push_str(&row(s));
            text.push('\n');
        }
    }
    text
}
