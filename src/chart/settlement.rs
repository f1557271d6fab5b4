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
    let n = s.rows.len();
    let lo = s
        .rows
        .iter()
        .map(|r| r.national.p05)
        .fold(f64::INFINITY, f64::min);
    let hi = s
        .rows
        .iter()
        .map(|r| r.national.p95)
        .fold(f64::NEG_INFINITY, f64::max);
    let labels: Vec<String> = s.rows.iter().map(|r| r.month.to_string()).collect();
    let step = n.div_ceil(12).max(1);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), padded(lo, hi))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(14))
        .x_label_formatter(&|x| month_label(&labels, step, *x))
        .y_label_formatter(&|y| gbp(*y))
        .x_desc("Settled in (the last month of action; effects then fade as each action's recovery says)")
        .y_desc(format!("National cost, {} to {}", scenario.start, scenario.end()))
        .house_style(16)
        .draw()?;
    let xs = || (0..n).map(|m| m as f64);
    let band: Vec<(f64, f64)> = xs()
        .zip(s.rows.iter().map(|r| r.national.p95))
        .chain(xs().rev().zip(s.rows.iter().rev().map(|r| r.national.p05)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, SKY.mix(0.45).filled())))?
        .label("90% interval")
        .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], SKY.mix(0.45).filled()));
    chart
        .draw_series(
            LineSeries::new(
                xs().zip(s.rows.iter().map(|r| r.national.mean)),
                BLUE.stroke_width(3),
            )
            .point_size(4),
        )?
        .label("mean")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLUE.stroke_width(3)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 17))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.2))
        .draw()?;
    Ok(())
}
