//! The charts of `calibrate`: published figures against the prior and calibrated predictive
//! intervals, and the factors that moved most, prior against posterior.

use super::analysis::shortened;
use super::*;
use crate::calibrate::{moved, Calibration, FactorRow, Interval};

/// Factors shown on the factor chart, the ones that moved most first.
const MAX_FACTORS: usize = 10;

/// The figure chart, and with a posterior the factor chart.
pub fn calibration_charts(scenario: &Scenario, c: &Calibration) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    let subtitle = format!(
        "{}: {} prior draws, {} wave{}, effective sample size {:.0}",
        scenario.name,
        thousands(c.draws as u64),
        c.waves,
        if c.waves == 1 { "" } else { "s" },
        c.ess
    );
    let rows = c.figures.len() as u32;
    render!(
        charts,
        "calibration_figures",
        (1500, 280 + 90 * rows),
        figures_chart(c, &subtitle)
    );
    let moved: Vec<_> = moved(c).into_iter().take(MAX_FACTORS).collect();
    if !moved.is_empty() {
        render!(
            charts,
            "calibration_factors",
            (1500, 280 + 60 * moved.len() as u32),
            factors_chart(&moved, &subtitle)
        );
    }
    Ok(charts)
}

fn figures_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Calibration,
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let title = if c.posterior_reported {
        "Published figures against the model before and after calibration"
    } else {
        "No posterior: the published figures against the prior"
    };
    let area = titled(root, title, subtitle)?;
    let n = c.figures.len();
    if n == 0 {
        return Ok(());
    }
    let values: Vec<f64> = c
        .figures
        .iter()
        .flat_map(|f| {
            let post = f.posterior.map_or([f.published; 2], |p| [p.p05, p.p95]);
            [f.prior.p05, f.prior.p95, f.published, post[0], post[1]]
        })
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min) / 2.0;
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0) * 2.0;
    let labels: Vec<String> = c
        .figures
        .iter()
        .rev()
        .map(|f| shortened(&f.label, 60))
        .collect();
    let mut chart = log_money_rows(
        &area,
        (lo, hi),
        &labels,
        520,
        "90% intervals, dot = mean (log scale): grey = prior, blue = calibrated; cross = published",
    )?;
    let floor = |v: f64| v.max(lo);
    // Each figure's row: the prior as a wide grey band, the calibrated interval as a narrow
    // blue line over it.
    let mut bars = Vec::new();
    for (k, f) in c.figures.iter().enumerate() {
        let y = (n - 1 - k) as f64;
        bars.push((f.prior, GREY, y));
        if let Some(p) = f.posterior {
            bars.push((p, BLUE, y));
        }
    }
    chart.draw_series(bars.iter().map(|&(i, colour, y)| {
        PathElement::new(
            vec![(floor(i.p05), y), (floor(i.p95), y)],
            colour
                .mix(0.55)
                .stroke_width(if colour == BLUE { 6 } else { 14 }),
        )
    }))?;
    chart.draw_series(
        bars.iter()
            .map(|&(i, colour, y)| Circle::new((floor(i.mean), y), 6, colour.filled())),
    )?;
    chart.draw_series(c.figures.iter().enumerate().map(|(k, f)| {
        Cross::new(
            (floor(f.published), (n - 1 - k) as f64),
            9,
            VERMILLION.stroke_width(3),
        )
    }))?;
    Ok(())
}

fn factors_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    moved: &[(&FactorRow, Interval)],
    subtitle: &str,
) -> DrawResult<DB::ErrorType> {
    let area = titled(
        root,
        "The factors calibration moved most, against their priors",
        subtitle,
    )?;
    let n = moved.len();
    // Each factor on its own scale: 0 is its prior's 5th percentile, 1 its 95th.
    let scale = |f: &FactorRow, v: f64| (v - f.prior.p05) / (f.prior.p95 - f.prior.p05);
    let lo = moved
        .iter()
        .map(|(f, p)| scale(f, p.p05))
        .fold(0.0, f64::min)
        - 0.05;
    let hi = moved
        .iter()
        .map(|(f, p)| scale(f, p.p95))
        .fold(1.0, f64::max)
        + 0.05;
    let labels: Vec<String> = moved
        .iter()
        .rev()
        .map(|(f, _)| {
            let short = f
                .path
                .trim_start_matches("actions.")
                .replace(".factors.", ": ");
            shortened(&short, 72)
        })
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(620)
        .build_cartesian_2d(lo..hi, category_rows(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .x_label_formatter(&|x| format!("{x:.1}"))
        .x_desc("position within the prior's 90% interval (0 = its 5th percentile, 1 = its 95th); grey = prior, blue = calibrated")
        .house_style(16)
        .draw()?;
    let y = |k: usize| (n - 1 - k) as f64;
    chart.draw_series(moved.iter().enumerate().map(|(k, (f, _))| {
        PathElement::new(
            vec![(scale(f, f.prior.p05), y(k)), (scale(f, f.prior.p95), y(k))],
            GREY.mix(0.45).stroke_width(14),
        )
    }))?;
    chart.draw_series(moved.iter().enumerate().map(|(k, (f, p))| {
        PathElement::new(
            vec![(scale(f, p.p05), y(k)), (scale(f, p.p95), y(k))],
            BLUE.mix(0.8).stroke_width(6),
        )
    }))?;
    chart.draw_series(
        moved
            .iter()
            .enumerate()
            .map(|(k, (f, p))| Circle::new((scale(f, p.mean), y(k)), 6, BLUE.filled())),
    )?;
    chart.draw_series(
        moved
            .iter()
            .enumerate()
            .map(|(k, (f, _))| Circle::new((scale(f, f.prior.mean), y(k)), 6, GREY.filled())),
    )?;
    Ok(())
}
