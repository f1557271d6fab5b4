//! The charts of a decision: the expected cost of each option with its 90% interval, the
//! probability that each is the cheapest, and the value of learning each factor first.

use super::*;
use crate::decide::Decision;

/// The most factors the EVPPI chart shows (the largest).
const MAX_FACTORS: usize = 15;
/// The fewest it shows, when fewer are worth anything.
const MIN_FACTORS: usize = 5;

/// The decision charts of scope `scope` (0: national): `decision_costs`,
/// `decision_prob_best` and, where there is a choice, `decision_evppi`.
pub fn decision_charts(scenario: &Scenario, d: &Decision, scope: usize) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    let s = &d.scopes[scope];
    let subtitle = format!(
        "{}: {} ({}), {}, {}, {} iterations on the same draws for every option",
        scenario.name,
        s.name,
        s.code,
        scenario.period(),
        scenario.cost_view.describe(),
        thousands(d.iterations as u64)
    );
    let rows = s.options.len() as u32;
    render!(
        charts,
        "decision_costs",
        (1400, 260 + 70 * rows),
        cost_chart(d, scope, &subtitle)
    );
    render!(
        charts,
        "decision_prob_best",
        (1400, 260 + 70 * rows),
        prob_best_chart(d, scope, &subtitle)
    );
    let evppi = d.evppi_of(scope);
    if !evppi.is_empty() {
        let worth = evppi.iter().filter(|e| e.value.value > 0.0).count();
        let n = worth.clamp(MIN_FACTORS, MAX_FACTORS).min(evppi.len()) as u32;
        render!(
            charts,
            "decision_evppi",
            (1500, 300 + 60 * n),
            evppi_chart(d, scope, &subtitle)
        );
    }
    Ok(charts)
}

/// Options' labels, the first option at the top.
fn option_labels(d: &Decision, scope: usize) -> Vec<String> {
    d.scopes[scope]
        .options
        .iter()
        .rev()
        .map(|o| d.options[o.option].label.clone())
        .collect()
}

fn cost_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Decision,
    scope: usize,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let s = &d.scopes[scope];
    let best = &s.options[s.best];
    let title = match s.best {
        0 => format!(
            "Doing nothing more has the lowest expected cost: {}",
            gbp(best.cost.mean)
        ),
        _ => format!(
            "{} has the lowest expected cost: {}, saving {} on average",
            d.options[best.option].label,
            gbp(best.cost.mean),
            gbp(best.saving.value)
        ),
    };
    let area = titled(root, &title, subtitle)?;
    let n = s.options.len();
    let lo = s.options.iter().map(|o| o.cost.p05).fold(0.0, f64::min);
    let hi = s.options.iter().map(|o| o.cost.p95).fold(0.0, f64::max);
    let labels = option_labels(d, scope);
    let bars: Vec<IntervalBar> = s
        .options
        .iter()
        .enumerate()
        .map(|(k, o)| IntervalBar {
            row: n - 1 - k,
            mean: o.cost.mean,
            p05: o.cost.p05,
            p95: o.cost.p95,
            colour: if k == s.best { GREEN } else { BLUE },
        })
        .collect();
    let frame = BarFrame {
        labels: &labels,
        x: padded(lo, hi),
        x_label_area: 70,
        y_label_area: 460,
        font: 16,
        x_desc: Some(
            "Cost with the option taken (the scenario's cost plus the option's own): bar = mean, line = 90% interval",
        ),
    };
    interval_bars(&area, frame, &bars)
}

fn prob_best_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Decision,
    scope: usize,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let s = &d.scopes[scope];
    let (top, most) =
        s.options
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |(k, p), (j, o)| {
                if o.prob_best > p {
                    (j, o.prob_best)
                } else {
                    (k, p)
                }
            });
    let title = format!(
        "{} is the cheapest in {} of the simulated futures",
        d.options[s.options[top].option].label,
        percent(most)
    );
    let area = titled(root, &title, subtitle)?;
    let n = s.options.len();
    let labels = option_labels(d, scope);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(460)
        .build_cartesian_2d(0.0..1.0, category_rows(n))?;
    let room = 440.0;
    let fitted: Vec<String> = labels.iter().map(|l| fit_label(l, 16, room)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&fitted, *y))
        .x_label_formatter(&|x| format!("{:.0}%", 100.0 * x))
        .x_desc("Share of simulated futures in which the option is the cheapest (ties shared)")
        .house_style(16)
        .draw()?;
    chart.draw_series(s.options.iter().enumerate().map(|(k, o)| {
        let (bottom, top) = bar_span(n - 1 - k);
        let colour = if k == s.best { GREEN } else { BLUE };
        Rectangle::new(
            [(0.0, bottom), (o.prob_best, top)],
            colour.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(s.options.iter().enumerate().map(|(k, o)| {
        Text::new(
            format!("  {}", percent(o.prob_best)),
            (o.prob_best, (n - 1 - k) as f64),
            (FONT, 16)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    }))?;
    Ok(())
}

fn evppi_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Decision,
    scope: usize,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let s = &d.scopes[scope];
    let all = d.evppi_of(scope);
    // The factors worth something to learn (at least the largest few when none is).
    let worth = all.iter().filter(|e| e.value.value > 0.0).count();
    let rows: Vec<_> = all
        .into_iter()
        .take(worth.clamp(MIN_FACTORS, MAX_FACTORS))
        .collect();
    let top = rows[0];
    let title = match top.value.value > 0.0 {
        true => format!(
            "Worth most to learn before deciding: {}, {} (everything at once, the EVPI: {})",
            top.label,
            gbp(top.value.value),
            gbp(s.evpi.value)
        ),
        false => "No factor is worth learning before deciding: one option is the cheapest in every future".to_string(),
    };
    let area = titled(root, &title, subtitle)?;
    let n = rows.len();
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|e| match e.group {
            true => format!("{} (group)", e.label),
            false => e.label.clone(),
        })
        .collect();
    let bars: Vec<IntervalBar> = rows
        .iter()
        .enumerate()
        .map(|(k, e)| IntervalBar {
            row: n - 1 - k,
            mean: e.value.value,
            p05: (e.value.value - 1.96 * e.value.se).max(0.0),
            p95: e.value.value + 1.96 * e.value.se,
            colour: if e.group { PURPLE } else { BLUE },
        })
        .collect();
    let hi = bars
        .iter()
        .map(|b| b.p95)
        .fold(s.evpi.value + 1.96 * s.evpi.se, f64::max);
    let frame = BarFrame {
        labels: &labels,
        x: padded(0.0, hi),
        x_label_area: 70,
        y_label_area: 560,
        font: 16,
        x_desc: Some(
            "Expected value of learning the factor before choosing (EVPPI): bar = estimate, line = ±1.96 standard errors",
        ),
    };
    interval_bars(&area, frame, &bars)?;
    // The EVPI: what learning everything would be worth, the most any factor can be.
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d(padded(0.0, hi), category_rows(n))?;
    let y = chart.y_range();
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(s.evpi.value, y.start), (s.evpi.value, y.end)],
        VERMILLION.stroke_width(2),
    )))?;
    let right = s.evpi.value > 0.7 * padded(0.0, hi).end;
    chart.draw_series(std::iter::once(reference_label(
        &format!("EVPI {}", gbp(s.evpi.value)),
        (s.evpi.value, y.start + 0.2),
        right,
    )))?;
    Ok(())
}
