//! The nowcast: what the prescribing data show so far against what the scenario expects,
//! month by month, cumulated from the figure's first month: the 90% band and mean on the
//! priors, the same calibrated to the figures, the observed excess above its counterfactual
//! (when its months are given) and the figure itself with its 95% interval at its last month.

use super::*;
use crate::month::Month;
use crate::summary::Expected;

/// The nowcast chart (`nowcast`): `observed` is the excess cumulated to each month's end, from
/// the figure's first month (empty: the figure alone is shown).
pub fn nowcast_chart(
    scenario: &Scenario,
    e: &Expected,
    observed: &[(Month, f64)],
) -> Result<Chart> {
    let mut charts = Vec::new();
    let (first, last) = e.observed;
    let end = e.months.iter().position(|m| *m == last);
    let at = |values: &[Summary]| end.and_then(|k| values.get(k)).map(|s| s.mean);
    let expected_then = match (at(&e.prior), e.calibrated.as_deref().and_then(at)) {
        (Some(prior), Some(calibrated)) => format!(
            "; expected by then {} on the priors, {} calibrated",
            gbp(prior),
            gbp(calibrated)
        ),
        (Some(prior), None) => format!("; expected by then {} on the priors", gbp(prior)),
        _ => String::new(),
    };
    let title = format!(
        "Observed so far against expected: {} from {first} to {last}{expected_then}",
        gbp(e.published)
    );
    let subtitle = format!(
        "{}: {} ({}); cumulated from {first} to {}, {}",
        scenario.name,
        e.label,
        e.id,
        e.months.last().copied().unwrap_or(last),
        scenario.cost_view.describe()
    );
    render!(
        charts,
        "nowcast",
        (1400, 800),
        draw(e, observed, &title, &subtitle)
    );
    Ok(charts.remove(0))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Expected,
    observed: &[(Month, f64)],
    title: &str,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let area = titled(root, title, subtitle)?;
    let labels: Vec<String> = e.months.iter().map(|m| m.to_string()).collect();
    let months = labels.len();
    let x_of = |m: Month| e.months.iter().position(|k| *k == m).map(|k| k as f64);
    let sd95 = 1.96 * e.published_sd;
    let bands = std::iter::once(e.prior.as_slice()).chain(e.calibrated.as_deref());
    let (mut lo, mut hi) = (e.published - sd95, e.published + sd95);
    for values in bands {
        lo = values.iter().map(|v| v.p05).fold(lo, f64::min);
        hi = values.iter().map(|v| v.p95).fold(hi, f64::max);
    }
    for &(_, v) in observed {
        (lo, hi) = (lo.min(v), hi.max(v));
    }
    let step = months.div_ceil(12).max(1);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.3f64..(months as f64 - 0.7), padded(lo.min(0.0), hi))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(months.min(14))
        .x_label_formatter(&|x| month_label(&labels, step, *x))
        .y_label_formatter(&|y| gbp(*y))
        .x_desc("Month (cumulated to its end)")
        .y_desc("Excess above the counterfactual, cumulated")
        .house_style(16)
        .draw()?;
    let prior: Vec<&Summary> = e.prior.iter().collect();
    draw_band(
        &mut chart,
        &prior,
        GREY.mix(0.18).filled(),
        "expected on the priors, 90% interval",
    )?;
    draw_mean(
        &mut chart,
        &prior,
        GREY.stroke_width(2),
        0,
        "expected on the priors, mean",
    )?;
    if let Some(calibrated) = &e.calibrated {
        let calibrated: Vec<&Summary> = calibrated.iter().collect();
        draw_band(
            &mut chart,
            &calibrated,
            SKY.mix(0.45).filled(),
            "expected, calibrated to the figures, 90% interval",
        )?;
        draw_mean(
            &mut chart,
            &calibrated,
            BLUE.stroke_width(3),
            0,
            "expected, calibrated, mean",
        )?;
    }
    let points: Vec<(f64, f64)> = observed
        .iter()
        .filter_map(|&(m, v)| x_of(m).map(|x| (x, v)))
        .collect();
    if !points.is_empty() {
        chart
            .draw_series(LineSeries::new(points.clone(), BLACK.stroke_width(3)).point_size(5))?
            .label("observed so far (excess above the counterfactual)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLACK.stroke_width(3)));
    }
    if let Some(x) = x_of(e.observed.1) {
        let (low, high) = (e.published - sd95, e.published + sd95);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, low), (x, high)],
                VERMILLION.stroke_width(3),
            )))?
            .label("the figure, with its 95% interval")
            .legend(|(x, y)| {
                PathElement::new(
                    vec![(x + 11, y - 8), (x + 11, y + 8)],
                    VERMILLION.stroke_width(3),
                )
            });
        chart.draw_series(std::iter::once(Circle::new(
            (x, e.published),
            6,
            VERMILLION.filled(),
        )))?;
    }
    house_legend(&mut chart, SeriesLabelPosition::UpperLeft, 17)
}
