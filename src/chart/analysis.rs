//! The charts of the analysis commands: published figures (`benchmark`), tornado, rank
//! correlations and Sobol indices (`sensitivity`), and paired differences (`compare`).

use super::*;

/// The benchmark chart: each published figure against the simulated quantity.
pub fn benchmark_charts(
    scenario: &Scenario,
    rows: &[Comparison],
    iterations: usize,
) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    // Money on one axis; activity figures, each in its own units, are in benchmarks.csv.
    let shown: Vec<&Comparison> = rows
        .iter()
        .filter(|c| c.simulated.is_some() && !c.benchmark.quantity.is_activity())
        .collect();
    let period = format!(
        "{}: each figure on a run of its own scope (actions, period, cost view), {} iterations",
        scenario.name,
        thousands(iterations as u64)
    );
    let height = 260 + 60 * (shown.len() as u32 + 1);
    render!(
        charts,
        "benchmarks",
        (1500, height),
        benchmarks(&shown, &period)
    );
    let activity: Vec<&Comparison> = rows
        .iter()
        .filter(|c| c.simulated.is_some() && c.benchmark.quantity.is_activity())
        .collect();
    if !activity.is_empty() {
        let height = 260 + 60 * (activity.len() as u32 + 1);
        render!(
            charts,
            "benchmarks_activity",
            (1500, height),
            activity_benchmarks(&activity, &period)
        );
    }
    Ok(charts)
}

/// "k of n <what> fall inside the simulated 90% interval".
fn inside_title(rows: &[&Comparison], what: &str) -> String {
    let inside = rows
        .iter()
        .filter(|c| {
            c.published_percentile
                .is_some_and(|p| (5.0..=95.0).contains(&p))
        })
        .count();
    format!(
        "{inside} of {} {what} fall inside the simulated 90% interval",
        rows.len()
    )
}

/// The activity figures against the simulated quantity. Each is in its own units, so each row
/// is drawn in standard deviations of its own simulated distribution from its simulated mean:
/// the bar is the simulated 90% interval, the cross the published figure.
fn activity_benchmarks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[&Comparison],
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let title = inside_title(rows, "observed activity figures");
    let area = titled(root, &title, period)?;
    let z = |c: &Comparison, x: f64| {
        let s = c.simulated.expect("only simulated rows are shown");
        match s.sd > 0.0 {
            true => (x - s.mean) / s.sd,
            false => 0.0,
        }
    };
    let reach = rows
        .iter()
        .flat_map(|c| {
            let s = c.simulated.expect("simulated");
            [s.p05, s.p95, c.benchmark.published.unwrap_or(s.mean)].map(|x| z(c, x).abs())
        })
        .fold(2.0, f64::max)
        * 1.15;
    let n = rows.len();
    let y_of = |k: usize| (n - 1 - k) as f64;
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|c| {
            let s = c.simulated.expect("simulated");
            format!(
                "{}: simulated {}, published {}",
                shortened(&c.benchmark.label, 52),
                crate::money::count_short(s.mean),
                c.benchmark
                    .published
                    .map_or("-".to_string(), crate::money::count_short)
            )
        })
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(760)
        .build_cartesian_2d(-reach..reach, category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_label_formatter(&|x| match x.abs() < 1e-9 {
            true => "0".to_string(),
            false => format!("{x:+.0} sd"),
        })
        .x_desc("sd of the simulated figure from its mean: dot = mean, bar = 90% interval, cross = published")
        .house_style(16)
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(row, c)| {
        let s = c.simulated.expect("simulated");
        PathElement::new(
            vec![(z(c, s.p05), y_of(row)), (z(c, s.p95), y_of(row))],
            SKY.stroke_width(6),
        )
    }))?;
    chart.draw_series((0..n).map(|row| Circle::new((0.0, y_of(row)), 6, BLUE.filled())))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(row, c)| {
        let p = c.benchmark.published?;
        Some(Cross::new(
            (z(c, p), y_of(row)),
            9,
            VERMILLION.stroke_width(3),
        ))
    }))?;
    Ok(())
}

/// The tornado, rank-correlation and Sobol charts.
pub fn sensitivity_charts(
    scenario: &Scenario,
    s: &Sensitivity,
    iterations: usize,
) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    let period = format!(
        "{}: {}, {}",
        scenario.name,
        scenario.period(),
        scenario.cost_view.describe()
    );
    let shown = s.tornado.len().min(MAX_BARS);
    render!(
        charts,
        "tornado",
        (1500, 260 + 40 * (shown as u32 + 1)),
        tornado_chart(s, &period)
    );
    let ranked = s
        .ranks
        .iter()
        .filter(|r| r.target == "national")
        .count()
        .min(MAX_BARS);
    let subtitle = format!("{period}, {} iterations", thousands(iterations as u64));
    render!(
        charts,
        "rank_sensitivity",
        (1500, 260 + 40 * (ranked as u32 + 1)),
        rank_chart(s, &subtitle)
    );
    let sobol_rows = s.sobol.len().min(MAX_BARS);
    render!(
        charts,
        "sobol",
        (1500, 260 + 40 * (sobol_rows as u32 + 1)),
        sobol_chart(s, &period)
    );
    Ok(charts)
}

/// `text` cut to at most `chars` characters, with an ellipsis where it was cut.
pub(super) fn shortened(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars.saturating_sub(1)) {
        Some((k, _)) if text.chars().count() > chars => format!("{}…", text[..k].trim_end()),
        _ => text.to_string(),
    }
}

/// Bars drawn in a sensitivity chart at most: the rest are in the CSV.
const MAX_BARS: usize = 20;

/// A factor path for a chart label: `actions.a.costs[1].factors.rate` → `a[1] · rate`.
fn factor_label(names: &[FactorName], j: usize) -> String {
    let path = &names[j].path;
    let name = path.rsplit('.').next().unwrap_or(path);
    let line = path
        .split('.')
        .find_map(|part| part.strip_prefix("costs"))
        .unwrap_or("");
    format!("{}{line} · {name}", names[j].action)
}

fn tornado_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Sensitivity,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let rows = &s.tornado[..s.tornado.len().min(MAX_BARS)];
    let title = match rows.first() {
        Some(r) => format!(
            "{} moves the national cost most: {} to {}",
            factor_label(s.names, r.factor),
            gbp(r.national_low.min(r.national_high)),
            gbp(r.national_low.max(r.national_high))
        ),
        None => "No uncertain national factors".to_string(),
    };
    let area = titled(root, &title, period)?;
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let lo = rows
        .iter()
        .map(|r| r.national_low.min(r.national_high))
        .fold(s.base_national, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.national_low.max(r.national_high))
        .fold(s.base_national, f64::max);
    let pad = (hi - lo).max(1.0) * 0.05;
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|r| factor_label(s.names, r.factor))
        .collect();
    let y_of = |k: usize| n - 1 - k;
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d((lo - pad)..(hi + pad), category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc(format!(
            "Expected national cost with the factor at its 10th (light) and 90th (dark) percentile, others at their medians ({})",
            gbp(s.base_national)
        ))
        .house_style(16)
        .draw()?;
    let bar = |value: f64, row: usize, colour: RGBColor| {
        let (a, b) = (s.base_national.min(value), s.base_national.max(value));
        let (bottom, top) = bar_span(y_of(row));
        Rectangle::new([(a, bottom), (b, top)], colour.filled())
    };
    chart.draw_series(
        rows.iter()
            .enumerate()
            .map(|(k, r)| bar(r.national_low, k, SKY)),
    )?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .map(|(k, r)| bar(r.national_high, k, BLUE)),
    )?;
    let y = chart.y_range();
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(s.base_national, y.start), (s.base_national, y.end)],
        BLACK.stroke_width(1),
    )))?;
    Ok(())
}

fn rank_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Sensitivity,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let mut rows: Vec<&RankRow> = s.ranks.iter().filter(|r| r.target == "national").collect();
    rows.sort_by(|a, b| {
        b.spearman
            .abs()
            .total_cmp(&a.spearman.abs())
            .then(a.factor.cmp(&b.factor))
    });
    rows.truncate(MAX_BARS);
    let title = match rows.first() {
        Some(r) => format!(
            "{} ranks highest with the national cost (Spearman {:.2})",
            factor_label(s.names, r.factor),
            r.spearman
        ),
        None => "No uncertain national factors".to_string(),
    };
    let area = titled(root, &title, period)?;
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|r| factor_label(s.names, r.factor))
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d(-1.05f64..1.05, category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_desc("Rank correlation with the national cost: bar = Spearman, dot = partial rank correlation (PRCC)")
        .house_style(16)
        .draw()?;
    let y = |k: usize| n - 1 - k;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        let (bottom, top) = bar_span(y(k));
        Rectangle::new([(0.0, bottom), (r.spearman, top)], BLUE.mix(0.75).filled())
    }))?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.prcc.is_finite())
            .map(|(k, r)| Circle::new((r.prcc, y(k) as f64), 6, VERMILLION.filled())),
    )?;
    Ok(())
}

fn sobol_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Sensitivity,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let mut rows: Vec<&SobolRow> = s.sobol.iter().collect();
    rows.sort_by(|a, b| b.index.total.total_cmp(&a.index.total));
    rows.truncate(MAX_BARS);
    let title = match rows.first() {
        Some(r) => format!(
            "{} explains the most variance: {:.0}% alone, {:.0}% with interactions",
            r.name.rsplit('.').next().unwrap_or(&r.name),
            100.0 * r.index.first,
            100.0 * r.index.total
        ),
        None => "No uncertain national factors".to_string(),
    };
    let area = titled(root, &title, period)?;
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|r| {
            let j = s.names.iter().position(|f| f.path == r.name).unwrap_or(0);
            factor_label(s.names, j)
        })
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d(-0.05f64..1.05, category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_label_formatter(&|x| format!("{:.0}%", 100.0 * x))
        .x_desc("Share of the variance of the expected national cost: bar = first order, dot = total order, lines = 95% bootstrap intervals")
        .house_style(16)
        .draw()?;
    let y = |k: usize| n - 1 - k;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        let (bottom, top) = bar_span(y(k));
        Rectangle::new([(0.0, bottom), (r.index.first.max(0.0), top)], SKY.filled())
    }))?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.index.total_lo.is_finite())
            .map(|(k, r)| {
                let c = y(k) as f64;
                PathElement::new(
                    vec![(r.index.total_lo, c), (r.index.total_hi, c)],
                    BLACK.stroke_width(2),
                )
            }),
    )?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .map(|(k, r)| Circle::new((r.index.total, y(k) as f64), 6, BLUE.filled())),
    )?;
    Ok(())
}

/// The chart of one paired comparison, named `compare_<stem of B>`.
pub fn compare_chart(baseline: &Scenario, c: &Compared, iterations: usize) -> Result<Chart> {
    let mut charts = Vec::new();
    let stem = c
        .path
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let period = format!(
        "B = {}, A = {}: {}, {} iterations, common random numbers",
        c.scenario.name,
        baseline.name,
        baseline.cost_view.describe(),
        thousands(iterations as u64)
    );
    let height = 190 + 26 * (c.rows.len() as u32);
    render!(
        charts,
        format!("compare_{stem}"),
        (1500, height),
        paired_chart(c, &period)
    );
    Ok(charts.remove(0))
}

fn paired_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Compared,
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let (icbs, national) = c.rows.split_at(c.rows.len() - 1);
    let n_row = &national[0];
    let title = format!(
        "B − A nationally: {} (90% interval {} to {}); B costs more in {:.0}% of futures",
        gbp(n_row.diff.mean),
        gbp(n_row.diff.p05),
        gbp(n_row.diff.p95),
        100.0 * n_row.prob_b_greater
    );
    let area = titled(root, &title, period)?;
    let n = icbs.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        icbs[a]
            .diff
            .mean
            .total_cmp(&icbs[b].diff.mean)
            .then(a.cmp(&b))
    });
    let lo = icbs.iter().map(|r| r.diff.p05).fold(0.0, f64::min);
    let hi = icbs.iter().map(|r| r.diff.p95).fold(0.0, f64::max);
    let labels: Vec<String> = order
        .iter()
        .map(|&i| format!("{} {}", short_icb_name(&icbs[i].name), icbs[i].code))
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
        .x_desc("Paired difference B − A per ICB: dot = mean, bar = 90% interval")
        .house_style(16)
        .draw()?;
    chart.draw_series(order.iter().enumerate().map(|(row, &i)| {
        let d = &icbs[i].diff;
        let y = row as f64;
        PathElement::new(vec![(d.p05, y), (d.p95, y)], SKY.stroke_width(5))
    }))?;
    chart.draw_series(
        order
            .iter()
            .enumerate()
            .map(|(row, &i)| Circle::new((icbs[i].diff.mean, row as f64), 5, BLUE.filled())),
    )?;
    let y = chart.y_range();
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, y.start), (0.0, y.end)],
        GREY.stroke_width(1),
    )))?;
    Ok(())
}

fn benchmarks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[&Comparison],
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let title = inside_title(rows, "published figures");
    let area = titled(root, &title, period)?;
    if rows.is_empty() {
        return Ok(());
    }
    // Figures span £1m to £500m: a log axis keeps each readable.
    let values = rows.iter().flat_map(|c| {
        let s = c.simulated.expect("only simulated rows are shown");
        [s.p05, s.p95, c.benchmark.published.unwrap_or(s.mean)]
    });
    let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
    let lo = positive
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(1e6)
        / 2.0;
    let hi = positive.iter().copied().fold(0.0, f64::max).max(lo * 10.0) * 2.0;
    let n = rows.len();
    // The first figure at the top.
    let y_of = |k: usize| (n - 1 - k) as f64;
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|c| shortened(&c.benchmark.label, 64))
        .collect();
    let mut chart = log_money_rows(
        &area,
        (lo, hi),
        &labels,
        560,
        "Simulated: dot = mean, bar = 90% interval (log scale); cross = published figure",
    )?;
    let floor = |v: f64| v.max(lo);
    chart.draw_series(rows.iter().enumerate().map(|(row, c)| {
        let s = c.simulated.expect("simulated");
        let y = y_of(row);
        PathElement::new(
            vec![(floor(s.p05), y), (floor(s.p95), y)],
            SKY.stroke_width(6),
        )
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(row, c)| {
        let s = c.simulated.expect("simulated");
        Circle::new((floor(s.mean), y_of(row)), 6, BLUE.filled())
    }))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(row, c)| {
        let p = c.benchmark.published?;
        Some(Cross::new(
            (floor(p), y_of(row)),
            9,
            VERMILLION.stroke_width(3),
        ))
    }))?;
    Ok(())
}
