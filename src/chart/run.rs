//! The charts of a run (`run`): ICB costs, the distribution of the mean per ICB, exceedance,
//! actions, monthly path, regions, convergence.

use super::*;

/// Every chart of a run: ICB costs, distribution, actions, monthly path, convergence,
/// exceedance and (where the table has regions) regions.
pub fn run_charts(scenario: &Scenario, s: &RunSummary) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    let period = format!(
        "{}: {}, {}, {} iterations",
        scenario.name,
        scenario.period(),
        scenario.cost_view.describe(),
        thousands(s.iterations as u64)
    );
    let icb_height = 190 + 26 * s.icbs.len() as u32;
    render!(
        charts,
        "icb_costs",
        (1500, icb_height),
        icb_costs(scenario, s, &period)
    );
    render!(
        charts,
        "distribution",
        (1400, 780),
        distribution(scenario, s, &period)
    );
    let action_height = 260 + 60 * (s.actions.len() as u32 + 1);
    render!(
        charts,
        "actions",
        (1400, action_height),
        actions(s, &period)
    );
    render!(
        charts,
        "monthly",
        (1400, 780),
        monthly(scenario, s, &period)
    );
    render!(charts, "convergence", (1400, 780), convergence(s, &period));
    render!(
        charts,
        "exceedance",
        (1400, 780),
        exceedance(scenario, s, &period)
    );
    if !s.regions.is_empty() {
        let height = 260 + 60 * (s.regions.len() as u32 + 1);
        render!(charts, "regions", (1400, height), regions_chart(s, &period));
    }
    Ok(charts)
}

fn icb_costs<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let n = s.icbs.len();
    let reference = s.reference_gbp;
    // Ascending by mean, drawn bottom-up, so the costliest ICB is at the top.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        s.icbs[a]
            .cost
            .mean
            .total_cmp(&s.icbs[b].cost.mean)
            .then(a.cmp(&b))
    });
    let title = format!(
        "{} of {} ICBs have a mean cost above the {} reference",
        s.icbs_mean_above_reference,
        n,
        gbp(reference)
    );
    let area = titled(root, &title, period)?;
    let lo = s
        .icbs
        .iter()
        .map(|r| r.cost.p05)
        .fold(f64::INFINITY, f64::min);
    let hi = s.icbs.iter().map(|r| r.cost.p95).fold(reference, f64::max);
    let labels: Vec<String> = order
        .iter()
        .map(|&i| format!("{} {}", short_icb_name(&s.icbs[i].name), s.icbs[i].code))
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(480)
        .build_cartesian_2d(padded(lo, hi), category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc(format!(
            "Cost to the ICB over the period: dot = mean, bar = 90% interval (5th to 95th percentile); {} = reference",
            gbp(reference)
        ))
        .house_style(16)
        .draw()?;
    // Coloured by NHS region, with a legend of the regions.
    let regions: Vec<&str> = s.regions.iter().map(|r| r.name.as_str()).collect();
    let colour = |i: usize| region_colour(&regions, &s.icbs[i].region);
    chart.draw_series(order.iter().enumerate().map(|(row, &i)| {
        let c = &s.icbs[i].cost;
        let y = row as f64;
        PathElement::new(
            vec![(c.p05, y), (c.p95, y)],
            colour(i).mix(0.45).stroke_width(5),
        )
    }))?;
    chart.draw_series(
        order
            .iter()
            .enumerate()
            .map(|(row, &i)| Circle::new((s.icbs[i].cost.mean, row as f64), 5, colour(i).filled())),
    )?;
    // The reference line, named in the legend (the axis has no spare row to label it in).
    let rows = chart.y_range();
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(reference, rows.start), (reference, rows.end)],
            VERMILLION.stroke_width(2),
        )))?
        .label(&scenario.reference.label)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], VERMILLION.stroke_width(2)));
    for name in &regions {
        let c = region_colour(&regions, name);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(*name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 6, c.filled()));
    }
    house_legend(&mut chart, SeriesLabelPosition::LowerRight, 16)
}

fn distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let reference = s.reference_gbp;
    let avg = &s.per_icb_average;
    let title = format!(
        "Mean cost per ICB: {} to {} in 9 of 10 futures; {} is {}",
        gbp(avg.p05),
        gbp(avg.p95),
        gbp(reference),
        reference_position(s.reference_percentile)
    );
    let area = titled(root, &title, period)?;
    let sorted = &s.per_icb_average_draws;
    let (lo, hi) = (avg.min, avg.max);
    let bins = 60usize;
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        lo.abs().max(1.0) / bins as f64
    };
    let start = if hi > lo {
        lo
    } else {
        lo - width * bins as f64 / 2.0
    };
    let shares = histogram(sorted, start, width, bins);
    let y_max = shares.iter().copied().fold(0.0, f64::max) * 1.15;
    let end = start + width * bins as f64;
    let x_range = padded(start.min(reference), end.max(reference));
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(x_range, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| gbp(*x))
        .y_label_formatter(&|y| {
            if y_max < 10.0 {
                format!("{y:.1}%")
            } else {
                format!("{y:.0}%")
            }
        })
        .x_desc(format!(
            "Simulated mean cost per ICB over the period (national total ÷ {})",
            s.icbs.len()
        ))
        .y_desc("Share of simulated futures")
        .house_style(16)
        .draw()?;
    let label = format!(
        "{} ({})",
        scenario.reference.label,
        reference_position(s.reference_percentile)
    );
    histogram_bars(
        &mut chart, &shares, start, width, reference, y_max, &label, 0.96,
    )
}

fn actions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let n = s.actions.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        s.actions[a]
            .cost
            .mean
            .total_cmp(&s.actions[b].cost.mean)
            .then(b.cmp(&a))
    });
    let largest = &s.actions[*order.last().expect("at least one action")];
    let title = if n == 1 {
        format!(
            "{}: {} nationally on average",
            largest.label,
            gbp(largest.cost.mean)
        )
    } else {
        format!(
            "{} is the largest cost: {} of {} nationally on average",
            largest.label,
            gbp(largest.cost.mean),
            gbp(s.national.mean)
        )
    };
    let area = titled(root, &title, period)?;
    let lo = s
        .actions
        .iter()
        .map(|a| a.cost.p05)
        .fold(f64::INFINITY, f64::min);
    let hi = s
        .actions
        .iter()
        .map(|a| a.cost.p95)
        .fold(f64::NEG_INFINITY, f64::max);
    let labels: Vec<String> = order.iter().map(|&a| s.actions[a].label.clone()).collect();
    let bars: Vec<IntervalBar> = order
        .iter()
        .enumerate()
        .map(|(row, &a)| {
            let c = &s.actions[a].cost;
            IntervalBar {
                row,
                mean: c.mean,
                p05: c.p05,
                p95: c.p95,
                colour: BLUE,
            }
        })
        .collect();
    let frame = BarFrame {
        labels: &labels,
        x: padded(lo, hi),
        x_label_area: 70,
        y_label_area: 420,
        font: 16,
        x_desc: Some("National cost over the period: bar = mean, line = 90% interval"),
    };
    interval_bars(&area, frame, &bars)
}

fn monthly<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let last = s.monthly.last().expect("at least one month");
    let title = format!(
        "National cost reaches {} by {} (90% interval {} to {})",
        gbp(last.cumulative.mean),
        last.month,
        gbp(last.cumulative.p05),
        gbp(last.cumulative.p95)
    );
    let area = titled(root, &title, period)?;
    let labels: Vec<String> = s.monthly.iter().map(|m| m.month.to_string()).collect();
    let values: Vec<&Summary> = s.monthly.iter().map(|m| &m.cumulative).collect();
    band_over_months(
        &area,
        &labels,
        &values,
        true,
        (
            &format!("Month (cumulative from {})", scenario.start),
            "Cumulative national cost",
        ),
    )
}

fn exceedance<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &Scenario,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let reference = s.reference_gbp;
    let p = s.prob_average_above_reference;
    let title = format!(
        "The average ICB's cost exceeds {} in {} of simulated futures",
        gbp(reference),
        percent(p)
    );
    let area = titled(root, &title, period)?;
    let mut sorted = s.per_icb_average_draws.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let (lo, hi) = (
        sorted[0].min(reference),
        sorted[sorted.len() - 1].max(reference),
    );
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(padded(lo, hi), 0.0..1.02)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| gbp(*x))
        .y_label_formatter(&|y| format!("{:.0}%", 100.0 * y))
        .x_desc("Mean cost per ICB over the period (national total ÷ number of ICBs)")
        .y_desc("Probability the cost exceeds this")
        .house_style(16)
        .draw()?;
    // P(X > x) at each sorted value, thinned to at most 2,000 points.
    let step = (sorted.len() / 2000).max(1);
    let curve = sorted
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(k, &x)| (x, 1.0 - (k + 1) as f64 / n));
    chart.draw_series(LineSeries::new(curve, BLUE.stroke_width(3)))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(reference, 0.0), (reference, 1.02)],
        VERMILLION.stroke_width(2),
    )))?;
    let x = chart.x_range();
    chart.draw_series(std::iter::once(reference_label(
        &format!(
            "{}: exceeded with probability {}",
            scenario.reference.label,
            percent(p)
        ),
        (reference, 0.95),
        reference > x.start + 0.6 * (x.end - x.start),
    )))?;
    Ok(())
}

fn regions_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let mut order: Vec<usize> = (0..s.regions.len()).collect();
    order.sort_by(|&a, &b| {
        s.regions[a]
            .cost
            .mean
            .total_cmp(&s.regions[b].cost.mean)
            .then(a.cmp(&b))
    });
    let top = &s.regions[*order.last().expect("at least one region")];
    let title = format!(
        "{} carries the largest regional cost: {} ({:.0}% of the national {})",
        top.name,
        gbp(top.cost.mean),
        100.0 * top.cost.mean / s.national.mean,
        gbp(s.national.mean)
    );
    let area = titled(root, &title, period)?;
    let lo = s.regions.iter().map(|r| r.cost.p05).fold(0.0, f64::min);
    let hi = s.regions.iter().map(|r| r.cost.p95).fold(0.0, f64::max);
    let labels: Vec<String> = order
        .iter()
        .map(|&k| format!("{} ({} ICBs)", s.regions[k].name, s.regions[k].icbs))
        .collect();
    let names: Vec<&str> = s.regions.iter().map(|r| r.name.as_str()).collect();
    let bars: Vec<IntervalBar> = order
        .iter()
        .enumerate()
        .map(|(row, &k)| {
            let r = &s.regions[k];
            IntervalBar {
                row,
                mean: r.cost.mean,
                p05: r.cost.p05,
                p95: r.cost.p95,
                colour: region_colour(&names, &r.name),
            }
        })
        .collect();
    let frame = BarFrame {
        labels: &labels,
        x: padded(lo, hi),
        x_label_area: 70,
        y_label_area: 360,
        font: 16,
        x_desc: Some(
            "Regional cost over the period (sum of its ICBs): bar = mean, line = 90% interval",
        ),
    };
    interval_bars(&area, frame, &bars)
}

fn convergence<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &RunSummary,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let points: Vec<(f64, f64)> = s
        .trace
        .iter()
        .filter(|t| t.rse.is_finite() && t.rse > 0.0)
        .map(|t| (t.iterations as f64, t.rse))
        .collect();
    let title = match (s.trace.last(), s.target_rse) {
        (Some(t), Some(target)) => format!(
            "The national mean's relative standard error is {:.2}% after {} iterations (target {:.2}%)",
            100.0 * t.rse,
            thousands(t.iterations as u64),
            100.0 * target
        ),
        (Some(t), None) => format!(
            "The national mean's relative standard error is {:.2}% after {} iterations",
            100.0 * t.rse,
            thousands(t.iterations as u64)
        ),
        _ => "Convergence of the national mean".to_string(),
    };
    let area = titled(root, &title, period)?;
    if points.is_empty() {
        return Ok(());
    }
    let (x_lo, x_hi) = (
        points[0].0.min(100.0),
        points[points.len() - 1].0.max(1000.0),
    );
    let ys = points.iter().map(|p| p.1).chain(s.target_rse);
    let y_lo = ys.clone().fold(f64::INFINITY, f64::min) / 2.0;
    let y_hi = ys.fold(0.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(
            (x_lo..x_hi * 1.2)
                .log_scale()
                .with_key_points(one_two_five(x_lo, x_hi * 1.2)),
            (y_lo..y_hi)
                .log_scale()
                .with_key_points(one_two_five(y_lo, y_hi)),
        )?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{}%", 100.0 * y))
        .x_desc("Iterations (log scale)")
        .y_desc("Relative standard error of the national mean (log scale)")
        .house_style(16)
        .draw()?;
    chart
        .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(3)).point_size(3))?;
    if let Some(target) = s.target_rse {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x_lo, target), (x_hi * 1.2, target)],
            VERMILLION.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(reference_label(
            &format!("target {}%", 100.0 * target),
            (x_lo, target),
            false,
        )))?;
    }
    Ok(())
}
