//! The cost of delay: the national cost against the month a settlement ends every action.

use super::*;
use crate::scenario::CostView;
use crate::settlement::Settlement;

/// The settlement chart.
pub fn settlement_charts(
    scenario: &Scenario,
    s: &Settlement,
    iterations: usize,
) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    let subtitle = format!(
        "{}: {}, {}, {} iterations on the same draws for every month",
        scenario.name,
        scenario.period(),
        scenario.cost_view.describe(),
        thousands(iterations as u64)
    );
    render!(
        charts,
        "settlement",
        (1400, 800),
        settlement_chart(scenario, s, &subtitle)
    );
    Ok(charts)
}

fn settlement_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    s: &Settlement,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let who = match scenario.cost_view {
        CostView::IcbCash => "ICBs",
        CostView::Economic => "the NHS",
    };
    let title = match s.mean_marginal {
        Some(m) => format!(
            "Each month without a settlement costs {who} {} on average",
            gbp(m)
        ),
        None => format!("Cost to {who} if settled in {}", s.rows[0].month),
    };
    let area = titled(root, &title, subtitle)?;
    let labels: Vec<String> = s.rows.iter().map(|r| r.month.to_string()).collect();
    let values: Vec<&Summary> = s.rows.iter().map(|r| &r.national).collect();
    band_over_months(
        &area,
        &labels,
        &values,
        false,
        (
            "Settled in (the last month of action; effects then fade as each action's recovery says)",
            &format!("National cost, {} to {}", scenario.start, scenario.end()),
        ),
    )
}
