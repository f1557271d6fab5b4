//! The charts of an ICB's one-pager: its cost distribution against the reference, its cost by
//! action and its expected monthly path.

use super::*;

/// An ICB's cost distribution against the reference, as SVG (for its one-pager).
pub fn icb_distribution_svg(
    icb: &IcbResult,
    values: &[f64],
    reference: f64,
    label: &str,
    subtitle: &str,
) -> Result<String> {
    Ok(svg!(
        "icb_distribution",
        (1200, 620),
        icb_histogram(icb, values, reference, label, subtitle)
    ))
}

fn icb_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    icb: &IcbResult,
    values: &[f64],
    reference: f64,
    label: &str,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let title = format!(
        "{} on average; {} is {}",
        gbp(icb.cost.mean),
        gbp(reference),
        reference_position(crate::stats::percentile_of(values, reference))
    );
    let subtitle = format!("{}: {subtitle}", short_icb_name(&icb.name));
    let area = titled(root, &title, &subtitle)?;
    let (lo, hi) = (icb.cost.min, icb.cost.max);
    let bins = 50usize;
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        lo.abs().max(1.0) / bins as f64
    };
    let shares = histogram(values, lo, width, bins);
    let y_max = shares.iter().copied().fold(0.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(
            padded(lo.min(reference), (lo + width * bins as f64).max(reference)),
            0.0..y_max.max(1.0),
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| gbp(*x))
        .y_label_formatter(&|y| format!("{y:.1}%"))
        .x_desc("Cost to this ICB over the period")
        .y_desc("Share of simulated futures")
        .house_style(15)
        .draw()?;
    histogram_bars(
        &mut chart, &shares, lo, width, reference, y_max, label, 0.95,
    )
}

/// An ICB's cost by action, as SVG.
pub fn icb_actions_svg(icb: &IcbResult, rows: &[(String, f64, f64, f64)]) -> Result<String> {
    let height = 220 + 50 * (rows.len() as u32 + 1);
    Ok(svg!(
        "icb_actions",
        (1200, height),
        icb_actions_chart(icb, rows)
    ))
}

fn icb_actions_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    icb: &IcbResult,
    rows: &[(String, f64, f64, f64)],
) -> DrawResult<DB::ErrorType> {
    let largest = rows.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let title = match largest {
        Some(r) => format!(
            "{} is the largest cost: {} of {}",
            r.0,
            gbp(r.1),
            gbp(icb.cost.mean)
        ),
        None => "Cost by action".to_string(),
    };
    let subtitle = format!(
        "{}: mean (bar) and 90% interval (line) by action",
        short_icb_name(&icb.name)
    );
    let area = titled(root, &title, &subtitle)?;
    let n = rows.len();
    let lo = rows.iter().map(|r| r.2).fold(0.0, f64::min);
    let hi = rows.iter().map(|r| r.3).fold(0.0, f64::max).max(1.0);
    // Ascending by this ICB's mean cost (ties in the order given, the first higher), drawn
    // bottom-up, so the costliest action is at the top.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| rows[a].1.total_cmp(&rows[b].1).then(b.cmp(&a)));
    let labels: Vec<String> = order.iter().map(|&k| rows[k].0.clone()).collect();
    let bars: Vec<IntervalBar> = order
        .iter()
        .enumerate()
        .map(|(row, &k)| IntervalBar {
            row,
            mean: rows[k].1,
            p05: rows[k].2,
            p95: rows[k].3,
            colour: BLUE,
        })
        .collect();
    let frame = BarFrame {
        labels: &labels,
        x: padded(lo, hi),
        x_label_area: 60,
        y_label_area: 420,
        font: 15,
        x_desc: None,
    };
    interval_bars(&area, frame, &bars)
}

/// An ICB's expected cumulative cost by month, as SVG.
pub fn icb_monthly_svg(
    icb: &IcbResult,
    scenario: &Scenario,
    monthly: &[f64],
    subtitle: &str,
) -> Result<String> {
    Ok(svg!(
        "icb_monthly",
        (1200, 560),
        icb_monthly_chart(icb, scenario, monthly, subtitle)
    ))
}

fn icb_monthly_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    icb: &IcbResult,
    scenario: &Scenario,
    monthly: &[f64],
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let cumulative: Vec<f64> = monthly
        .iter()
        .scan(0.0, |acc, m| {
            *acc += m;
            Some(*acc)
        })
        .collect();
    let last = cumulative.last().copied().unwrap_or(0.0);
    let title = format!(
        "Expected cumulative cost: {} by {}",
        gbp(last),
        scenario.end()
    );
    let subtitle = format!("{}: {subtitle}", short_icb_name(&icb.name));
    let area = titled(root, &title, &subtitle)?;
    let months = cumulative.len();
    let lo = cumulative.iter().copied().fold(0.0, f64::min);
    let hi = cumulative.iter().copied().fold(0.0, f64::max).max(1.0);
    let labels: Vec<String> = (0..months)
        .map(|m| scenario.start.plus(m as i32).to_string())
        .collect();
    let step = months.div_ceil(12).max(1);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d(-0.3f64..(months as f64 - 0.7), padded(lo, hi))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(months.min(14))
        .x_label_formatter(&|x| month_label(&labels, step, *x))
        .y_label_formatter(&|v| gbp(*v))
        .house_style(15)
        .draw()?;
    chart.draw_series(
        LineSeries::new(
            cumulative.iter().enumerate().map(|(m, v)| (m as f64, *v)),
            BLUE.stroke_width(3),
        )
        .point_size(4),
    )?;
    Ok(())
}
