//! A measure observed against the interrupted time series' counterfactual (with its 95%
//! band), nationally and for each ICB as small multiples, the change months marked: the
//! realised loss of `data observed` (the excess over the cheapest equivalent, in pounds) and
//! each activity of `data activity` (a count a month).

use super::*;
use crate::activity::{ActivityObserved, GP_APPOINTMENTS, PRACTICE_APPOINTMENTS};
use crate::month::Month;
use crate::observed::{Observed, Series};

/// What the charts of one measure are named and say.
struct Words {
    /// The national chart's name and the ICBs' small multiples'.
    national: String,
    icbs: String,
    title: String,
    subtitle: String,
    icbs_title: String,
    icbs_subtitle: String,
    x_desc: &'static str,
    y_desc: String,
    /// The legend's name of the observed line.
    observed: &'static str,
    /// A value of the measure as the axis shows it.
    value: fn(f64) -> String,
}

fn changes_text(observed: &Observed) -> String {
    observed
        .changes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The national chart (`observed_national`) and the ICBs' small multiples (`observed_icbs`).
pub fn observed_charts(observed: &Observed) -> Result<Vec<Chart>> {
    let f = &observed.national.fit;
    let (first, last) = (
        observed.months[0],
        observed.months[observed.months.len() - 1],
    );
    let changes = changes_text(observed);
    let words = Words {
        national: "observed_national".to_string(),
        icbs: "observed_icbs".to_string(),
        title: format!(
            "Prescribing excess over the cheapest equivalent: {} a month above the counterfactual after {} (95% interval {} to {})",
            gbp(f.effect_per_month),
            observed.changes[0],
            gbp(f.effect_low),
            gbp(f.effect_high)
        ),
        subtitle: format!(
            "England, {first} to {last}: cost above each group's national 10th-percentile price per unit; interrupted time series, step and slope at {changes}; {} months before, {} after",
            f.months_before, f.months_after
        ),
        icbs_title: "Prescribing excess over the cheapest equivalent by ICB: observed against the counterfactual".to_string(),
        icbs_subtitle: format!(
            "Each ICB's monthly excess (blue), its counterfactual with 95% band (orange), change months dashed at {changes}; each panel on its own scale"
        ),
        x_desc: "Month (EPD YEAR_MONTH)",
        y_desc: "Excess over the cheapest equivalent, £ a month".to_string(),
        observed: "observed excess",
        value: gbp,
    };
    series_charts(observed, &words)
}

/// A count as an axis shows it: `1.2m`, `350k`, `−4.5k`, `120`.
fn count(x: f64) -> String {
    gbp(x).replacen('£', "", 1)
}

/// For each activity, the national chart (`activity_<activity>_national`) and the ICBs' small
/// multiples (`activity_<activity>_icbs`).
pub fn activity_charts(activity: &ActivityObserved) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    for m in &activity.measures {
        let observed = &m.observed;
        let f = &observed.national.fit;
        let (first, last) = (
            observed.months[0],
            observed.months[observed.months.len() - 1],
        );
        let changes = changes_text(observed);
        let what = match m.activity {
            GP_APPOINTMENTS => "GP appointments",
            PRACTICE_APPOINTMENTS => "Appointments with any practice staff",
            _ => "Specialist advice (Advice & Guidance) requests",
        };
        let x_desc = match activity.kind {
            crate::activity::Kind::Appointments => "Month (APPOINTMENT_MONTH_START_DATE)",
            crate::activity::Kind::Advice => "Month (MONTH)",
        };
        let words = Words {
            national: format!("activity_{}_national", m.activity),
            icbs: format!("activity_{}_icbs", m.activity),
            title: format!(
                "{what}: {} a month against the counterfactual after {} (95% interval {} to {})",
                signed(f.effect_per_month),
                observed.changes[0],
                signed(f.effect_low),
                signed(f.effect_high)
            ),
            subtitle: format!(
                "England, {first} to {last}: {} ({}); interrupted time series, step and slope at {changes}; {} months before, {} after",
                m.activity,
                activity.kind.described(),
                f.months_before,
                f.months_after
            ),
            icbs_title: format!("{what} by ICB: observed against the counterfactual"),
            icbs_subtitle: format!(
                "Each ICB's monthly count (blue), its counterfactual with 95% band (orange), change months dashed at {changes}; each panel on its own scale"
            ),
            x_desc,
            y_desc: format!("{what} a month"),
            observed: "observed",
            value: count,
        };
        charts.extend(series_charts(observed, &words)?);
    }
    Ok(charts)
}

/// A change in a count, with its sign: `+1.20k`, `−350`.
fn signed(x: f64) -> String {
    match x > 0.0 {
        true => format!("+{}", count(x)),
        false => count(x),
    }
}

/// The national chart and the ICBs' small multiples of one measure.
fn series_charts(observed: &Observed, words: &Words) -> Result<Vec<Chart>> {
    let mut charts = Vec::new();
    render!(
        charts,
        words.national,
        (1400, 800),
        national_chart(observed, words)
    );
    if !observed.icbs.is_empty() {
        let columns = 7usize;
        let rows = observed.icbs.len().div_ceil(columns);
        let height = 150 + 260 * rows as u32;
        render!(
            charts,
            words.icbs,
            (2100, height),
            icb_grid(observed, words, columns, rows)
        );
    }
    Ok(charts)
}

fn national_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    observed: &Observed,
    words: &Words,
) -> DrawResult<DB::ErrorType> {
    let area = titled(root, &words.title, &words.subtitle)?;
    panel(&area, observed, &observed.national, words, 16, true)
}

fn icb_grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    observed: &Observed,
    words: &Words,
    columns: usize,
    rows: usize,
) -> DrawResult<DB::ErrorType> {
    let area = titled(root, &words.icbs_title, &words.icbs_subtitle)?;
    let cells = area.split_evenly((rows, columns));
    for (cell, series) in cells.iter().zip(&observed.icbs) {
        let (w, _) = cell.dim_in_pixel();
        let name = fit_label(
            &format!("{} {}", series.icb_code, short_icb_name(&series.icb_name)),
            12,
            f64::from(w as i32 - 40),
        );
        cell.draw(&Text::new(
            name,
            (8, 2),
            (FONT, 12).into_font().style(FontStyle::Bold).color(&BLACK),
        ))?;
        let inner = cell.margin(20, 6, 4, 8);
        panel(&inner, observed, series, words, 10, false)?;
    }
    Ok(())
}

/// One series: the band, the counterfactual, the observed months and the change lines.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    observed: &Observed,
    series: &Series,
    words: &Words,
    size: i32,
    legend: bool,
) -> DrawResult<DB::ErrorType> {
    let f = &series.fit;
    let n = series.observed.len();
    let labels: Vec<String> = observed.months.iter().map(Month::to_string).collect();
    let lo = f
        .counterfactual_low
        .iter()
        .chain(&series.observed)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = f
        .counterfactual_high
        .iter()
        .chain(&series.observed)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let step = n.div_ceil(if legend { 12 } else { 3 }).max(1);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(if legend { 70 } else { 22 })
        .y_label_area_size(if legend { 110 } else { 60 })
        .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), padded(lo, hi))?;
    let x_label = |x: &f64| month_label(&labels, step, *x);
    let y_label = |y: &f64| (words.value)(*y);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .x_labels(n.min(14))
        .y_labels(if legend { 10 } else { 4 })
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .house_style(size);
    if legend {
        mesh.x_desc(words.x_desc).y_desc(&words.y_desc);
    }
    mesh.draw()?;
    let xs = || (0..n).map(|m| m as f64);
    let band: Vec<(f64, f64)> = xs()
        .zip(f.counterfactual_high.iter().copied())
        .chain(xs().rev().zip(f.counterfactual_low.iter().rev().copied()))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(
            band,
            ORANGE.mix(0.25).filled(),
        )))?
        .label("counterfactual, 95% band")
        .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], ORANGE.mix(0.25).filled()));
    chart
        .draw_series(LineSeries::new(
            xs().zip(f.counterfactual.iter().copied()),
            VERMILLION.stroke_width(2),
        ))?
        .label("counterfactual: the pre-period's trend and season carried on")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], VERMILLION.stroke_width(2)));
    chart
        .draw_series(
            LineSeries::new(
                xs().zip(series.observed.iter().copied()),
                BLUE.stroke_width(if legend { 3 } else { 2 }),
            )
            .point_size(if legend { 3 } else { 1 }),
        )?
        .label(words.observed)
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLUE.stroke_width(3)));
    let y = padded(lo, hi);
    for change in &observed.changes {
        let x = change.since(observed.months[0]) as f64 - 0.5;
        chart.draw_series(DashedLineSeries::new(
            [(x, y.start), (x, y.end)],
            6,
            4,
            GREY.stroke_width(2),
        ))?;
        if legend {
            chart.draw_series(std::iter::once(Text::new(
                format!(" {change}"),
                (x, y.end),
                (FONT, 15).into_font().color(&GREY),
            )))?;
        }
    }
    if legend {
        house_legend(&mut chart, SeriesLabelPosition::UpperLeft, 17)?;
    }
    Ok(())
}
