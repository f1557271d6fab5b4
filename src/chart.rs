//! Charts of a run, drawn with plotters as SVG and rasterised with resvg to PNG at print
//! resolution (twice the SVG's pixel size: a 1,400-pixel chart becomes 2,800 pixels, 9.3
//! inches at 300 dpi). Text uses the bundled DejaVu Sans, so charts render the same on a
//! machine without system fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::benchmark::Comparison;
use crate::error::{Error, Result};
use crate::money::{gbp, percent};
use crate::output::{Compared, Sensitivity};
use crate::scenario::Scenario;
use crate::sensitivity::{FactorName, RankRow, SobolRow};
use crate::summary::{IcbResult, RunSummary};

/// Okabe–Ito palette: distinguishable with every common colour-vision deficiency.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const SKY: RGBColor = RGBColor(86, 180, 233);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub const GREY: RGBColor = RGBColor(96, 96, 96);

/// Okabe–Ito's yellow, darkened to show on white.
pub const OLIVE: RGBColor = RGBColor(150, 130, 0);

/// Colours of the NHS regions, in order of first appearance (vermillion is kept for the
/// reference line).
const REGION_COLOURS: [RGBColor; 8] = [BLUE, ORANGE, GREEN, SKY, PURPLE, BLACK, OLIVE, GREY];

/// The colour of a region among `regions` (blue when the table has no regions).
pub fn region_colour(regions: &[&str], region: &str) -> RGBColor {
    regions
        .iter()
        .position(|r| *r == region)
        .map_or(BLUE, |k| REGION_COLOURS[k % REGION_COLOURS.len()])
}

const FONT: &str = "sans-serif";

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// PNG pixels per SVG pixel.
pub const PNG_SCALE: f32 = 2.0;

/// Gives plotters the bundled font for text layout.
fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both are valid TrueType files checked in with the source; see the font test below.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, REGULAR);
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, BOLD);
    });
}

type DrawResult<E> = std::result::Result<(), DrawingAreaErrorKind<E>>;

/// The mesh every chart shares: labels at `size` (axis titles 2 larger), no minor grid lines,
/// faint major ones.
trait HouseStyle {
    fn house_style(&mut self, size: i32) -> &mut Self;
}

impl<X: Ranged, Y: Ranged, DB: DrawingBackend> HouseStyle
    for plotters::chart::MeshStyle<'_, '_, X, Y, DB>
{
    fn house_style(&mut self, size: i32) -> &mut Self {
        self.label_style((FONT, size))
            .axis_desc_style((FONT, size + 2))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
    }
}

/// Draws one chart function into an SVG string of the given size.
macro_rules! svg {
    ($name:expr, $size:expr, $chart:ident ( $($arg:expr),* )) => {{
        register_fonts();
        let name: &str = &$name;
        let fail = |e: String| Error::Output(format!("chart {name}: {e}"));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, $size).into_drawing_area();
            $chart(&root, $($arg),*).map_err(|e| fail(e.to_string()))?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
        svg
    }};
}

/// Draws one chart function and writes it as `<name>.svg` and `<name>.png` in `dir`.
macro_rules! render {
    ($dir:expr, $name:expr, $size:expr, $chart:ident ( $($arg:expr),* )) => {{
        let name: String = $name.to_string();
        let svg = svg!(name, $size, $chart($($arg),*));
        save_chart($dir, &name, &svg)?;
    }};
}

/// Writes a chart's SVG and its PNG rendering.
fn save_chart(dir: &Path, name: &str, svg: &str) -> Result<()> {
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, svg).map_err(|e| Error::io("cannot write", &svg_path, e))?;
    let png_path = dir.join(format!("{name}.png"));
    let png = rasterize(svg, PNG_SCALE).map_err(|e| Error::Output(format!("chart {name}: {e}")))?;
    std::fs::write(&png_path, png).map_err(|e| Error::io("cannot write", &png_path, e))
}

/// Renders an SVG to PNG bytes at `scale` with the bundled font as the sans-serif family.
pub fn rasterize(svg: &str, scale: f32) -> std::result::Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    static OPTIONS: std::sync::OnceLock<usvg::Options<'static>> = std::sync::OnceLock::new();
    let options = OPTIONS.get_or_init(|| {
        let mut o = usvg::Options::default();
        let db = o.fontdb_mut();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        o.font_family = "DejaVu Sans".to_string();
        o
    });
    let tree = usvg::Tree::from_str(svg, options).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let (w, h) = (
        (size.width() as f32 * scale).ceil() as u32,
        (size.height() as f32 * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or("empty chart")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// Draws every chart of a run into `dir` (created), each as `<name>.png` and `<name>.svg`.
pub fn write_all(dir: &Path, scenario: &Scenario, s: &RunSummary) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let period = format!(
        "{}: {} to {} ({} months), {}, {} iterations",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe(),
        s.iterations
    );
    let icb_height = 190 + 26 * s.icbs.len() as u32;
    render!(
        dir,
        "icb_costs",
        (1500, icb_height),
        icb_costs(scenario, s, &period)
    );
    render!(
        dir,
        "distribution",
        (1400, 780),
        distribution(scenario, s, &period)
    );
    let action_height = 260 + 60 * (s.actions.len() as u32 + 1);
    render!(dir, "actions", (1400, action_height), actions(s, &period));
    render!(dir, "monthly", (1400, 780), monthly(scenario, s, &period));
    render!(dir, "convergence", (1400, 780), convergence(s, &period));
    render!(
        dir,
        "exceedance",
        (1400, 780),
        exceedance(scenario, s, &period)
    );
    if !s.regions.is_empty() {
        let height = 260 + 60 * (s.regions.len() as u32 + 1);
        render!(dir, "regions", (1400, height), regions_chart(s, &period));
    }
    Ok(())
}

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
    let mut counts = vec![0usize; bins];
    for &x in values {
        counts[((x - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize] += 1;
    }
    let shares: Vec<f64> = counts
        .iter()
        .map(|&c| 100.0 * c as f64 / values.len() as f64)
        .collect();
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
    chart.draw_series(shares.iter().enumerate().map(|(k, &h)| {
        let x0 = lo + width * k as f64;
        Rectangle::new([(x0, 0.0), (x0 + width, h)], BLUE.mix(0.75).filled())
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(reference, 0.0), (reference, y_max)],
        VERMILLION.stroke_width(3),
    )))?;
    let x = chart.x_range();
    chart.draw_series(std::iter::once(reference_label(
        label,
        (reference, y_max * 0.95),
        reference > x.start + 0.6 * (x.end - x.start),
    )))?;
    Ok(())
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
    let labels: Vec<String> = rows.iter().rev().map(|r| r.0.clone()).collect();
    let y = |k: usize| (n - 1 - k) as i32;
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(60)
        .y_label_area_size(420)
        .build_cartesian_2d(padded(lo, hi), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .house_style(15)
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y(k))),
                (r.1, SegmentValue::Exact(y(k) + 1)),
            ],
            BLUE.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        let c = SegmentValue::CenterOf(y(k));
        PathElement::new(vec![(r.2, c.clone()), (r.3, c)], BLACK.stroke_width(2))
    }))?;
    Ok(())
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
        .x_label_formatter(&|x| {
            let k = x.round();
            if (x - k).abs() < 1e-9 && k >= 0.0 && (k as usize) < months && (k as usize) % step == 0
            {
                labels[k as usize].clone()
            } else {
                String::new()
            }
        })
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

/// Draws the benchmark chart into `dir` (created) as `benchmarks.png` and `benchmarks.svg`.
pub fn write_benchmarks(
    dir: &Path,
    scenario: &Scenario,
    rows: &[Comparison],
    iterations: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let shown: Vec<&Comparison> = rows.iter().filter(|c| c.simulated.is_some()).collect();
    let period = format!(
        "{}: {} to {} ({} months), {}, {} iterations",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe(),
        iterations
    );
    let height = 260 + 60 * (shown.len() as u32 + 1);
    render!(
        dir,
        "benchmarks",
        (1500, height),
        benchmarks(&shown, &period)
    );
    Ok(())
}

/// Draws the tornado, rank-correlation and Sobol charts into `dir`.
pub fn write_sensitivity(
    dir: &Path,
    scenario: &Scenario,
    s: &Sensitivity,
    iterations: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let period = format!(
        "{}: {} to {} ({} months), {}",
        scenario.name,
        scenario.start,
        scenario.end(),
        scenario.months,
        scenario.cost_view.describe()
    );
    let shown = s.tornado.len().min(MAX_BARS);
    render!(
        dir,
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
    let subtitle = format!("{period}, {iterations} iterations");
    render!(
        dir,
        "rank_sensitivity",
        (1500, 260 + 40 * (ranked as u32 + 1)),
        rank_chart(s, &subtitle)
    );
    let sobol_rows = s.sobol.len().min(MAX_BARS);
    render!(
        dir,
        "sobol",
        (1500, 260 + 40 * (sobol_rows as u32 + 1)),
        sobol_chart(s, &period)
    );
    Ok(())
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
    let y_of = |k: usize| (n - 1 - k) as i32;
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d((lo - pad)..(hi + pad), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc(format!(
            "Expected national cost with the factor at its 10th (light) and 90th (dark) percentile, others at their medians ({})",
            gbp(s.base_national)
        ))
        .house_style(16)
        .draw()?;
    let bar = |value: f64, row: usize, colour: RGBColor| {
        let (a, b) = (s.base_national.min(value), s.base_national.max(value));
        let y = y_of(row);
        Rectangle::new(
            [(a, SegmentValue::Exact(y)), (b, SegmentValue::Exact(y + 1))],
            colour.filled(),
        )
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
    chart.draw_series(std::iter::once(PathElement::new(
        vec![
            (s.base_national, SegmentValue::Exact(0)),
            (s.base_national, SegmentValue::Last),
        ],
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
        .build_cartesian_2d(-1.05f64..1.05, (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_desc("Rank correlation with the national cost: bar = Spearman, dot = partial rank correlation (PRCC)")
        .house_style(16)
        .draw()?;
    let y = |k: usize| (n - 1 - k) as i32;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y(k))),
                (r.spearman, SegmentValue::Exact(y(k) + 1)),
            ],
            BLUE.mix(0.75).filled(),
        )
    }))?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.prcc.is_finite())
            .map(|(k, r)| {
                Circle::new(
                    (r.prcc, SegmentValue::CenterOf(y(k))),
                    6,
                    VERMILLION.filled(),
                )
            }),
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
        .build_cartesian_2d(-0.05f64..1.05, (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| format!("{:.0}%", 100.0 * x))
        .x_desc("Share of the variance of the expected national cost: bar = first order, dot = total order, lines = 95% bootstrap intervals")
        .house_style(16)
        .draw()?;
    let y = |k: usize| (n - 1 - k) as i32;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y(k))),
                (r.index.first.max(0.0), SegmentValue::Exact(y(k) + 1)),
            ],
            SKY.filled(),
        )
    }))?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.index.total_lo.is_finite())
            .map(|(k, r)| {
                let c = SegmentValue::CenterOf(y(k));
                PathElement::new(
                    vec![(r.index.total_lo, c.clone()), (r.index.total_hi, c)],
                    BLACK.stroke_width(2),
                )
            }),
    )?;
    chart.draw_series(rows.iter().enumerate().map(|(k, r)| {
        Circle::new(
            (r.index.total, SegmentValue::CenterOf(y(k))),
            6,
            BLUE.filled(),
        )
    }))?;
    Ok(())
}

/// Draws the chart of one paired comparison as `compare_<stem>.{png,svg}` in `dir`.
pub fn write_compare(
    dir: &Path,
    baseline: &Scenario,
    c: &Compared,
    iterations: usize,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let stem = c
        .path
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let period = format!(
        "B = {}, A = {}: {}, {} iterations, common random numbers",
        c.scenario.name,
        baseline.name,
        baseline.cost_view.describe(),
        iterations
    );
    let height = 190 + 26 * (c.rows.len() as u32);
    render!(
        dir,
        format!("compare_{stem}"),
        (1500, height),
        compare_chart(c, &period)
    );
    Ok(())
}

fn compare_chart<DB: DrawingBackend>(
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
        .build_cartesian_2d(padded(lo, hi), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc("Paired difference B − A per ICB: dot = mean, bar = 90% interval")
        .house_style(16)
        .draw()?;
    chart.draw_series(order.iter().enumerate().map(|(row, &i)| {
        let d = &icbs[i].diff;
        let y = SegmentValue::CenterOf(row as i32);
        PathElement::new(vec![(d.p05, y.clone()), (d.p95, y)], SKY.stroke_width(5))
    }))?;
    chart.draw_series(order.iter().enumerate().map(|(row, &i)| {
        Circle::new(
            (icbs[i].diff.mean, SegmentValue::CenterOf(row as i32)),
            5,
            BLUE.filled(),
        )
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Last)],
        GREY.stroke_width(1),
    )))?;
    Ok(())
}

/// The label of a category row of a segmented axis (blank between rows).
fn segment_label(labels: &[String], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(k) => labels.get(*k as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Tick values 1, 2, 5, 10, 20, 50… between `lo` and `hi`, for a log axis.
fn one_two_five(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        out.extend(
            [1.0, 2.0, 5.0]
                .iter()
                .map(|m| m * decade)
                .filter(|v| (lo..=hi).contains(v)),
        );
        decade *= 10.0;
    }
    out
}

/// `NHS Cheshire and Merseyside Integrated Care Board` → `Cheshire and Merseyside`.
pub fn short_icb_name(name: &str) -> &str {
    let name = name.strip_prefix("NHS ").unwrap_or(name);
    name.strip_suffix(" Integrated Care Board")
        .or_else(|| name.strip_suffix(" ICB"))
        .unwrap_or(name)
}

/// 1st, 2nd, 3rd, 4th, 11th, 62nd…
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Title, subtitle and a plotting area below them.
fn titled<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        title.to_string(),
        (30, 18),
        (FONT, 30).into_font().style(FontStyle::Bold).color(&BLACK),
    ))?;
    root.draw(&Text::new(
        subtitle.to_string(),
        (30, 58),
        (FONT, 19).into_font().color(&GREY),
    ))?;
    Ok(root.margin(95, 25, 25, 40))
}

/// A padded axis range that holds every value and zero.
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let pad = ((hi - lo) * 0.05).max(1.0);
    (if lo < 0.0 { lo - pad } else { 0.0 })..(hi + pad)
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
        .build_cartesian_2d(padded(lo, hi), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
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
        let y = SegmentValue::CenterOf(row as i32);
        PathElement::new(
            vec![(c.p05, y.clone()), (c.p95, y)],
            colour(i).mix(0.45).stroke_width(5),
        )
    }))?;
    chart.draw_series(order.iter().enumerate().map(|(row, &i)| {
        Circle::new(
            (s.icbs[i].cost.mean, SegmentValue::CenterOf(row as i32)),
            5,
            colour(i).filled(),
        )
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![
            (reference, SegmentValue::Exact(0)),
            (reference, SegmentValue::Last),
        ],
        VERMILLION.stroke_width(2),
    )))?;
    for name in &regions {
        let c = region_colour(&regions, name);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, SegmentValue<i32>), i32>>())?
            .label(*name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 6, c.filled()));
    }
    if !regions.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.2))
            .draw()?;
    }
    // The segmented axis has one spare row above the last ICB: the reference label goes there.
    let x = chart.x_range();
    chart.draw_series(std::iter::once(reference_label(
        &scenario.reference.label,
        (reference, SegmentValue::CenterOf(n as i32)),
        reference > x.start + 0.6 * (x.end - x.start),
    )))?;
    Ok(())
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
    let mut counts = vec![0usize; bins];
    for &x in sorted {
        let k = ((x - start) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[k] += 1;
    }
    let n = sorted.len() as f64;
    let shares: Vec<f64> = counts.iter().map(|&c| 100.0 * c as f64 / n).collect();
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
    chart.draw_series(shares.iter().enumerate().map(|(k, &h)| {
        let x0 = start + width * k as f64;
        Rectangle::new([(x0, 0.0), (x0 + width, h)], BLUE.mix(0.75).filled())
    }))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(reference, 0.0), (reference, y_max)],
        VERMILLION.stroke_width(3),
    )))?;
    let x = chart.x_range();
    chart.draw_series(std::iter::once(reference_label(
        &format!(
            "{} ({})",
            scenario.reference.label,
            reference_position(s.reference_percentile)
        ),
        (reference, y_max * 0.96),
        reference > x.start + 0.6 * (x.end - x.start),
    )))?;
    Ok(())
}

/// The reference line's label, set to the left of the line when the line is far right.
fn reference_label<C>(text: &str, at: C, left_of_line: bool) -> Text<'static, C, String> {
    let (h, text) = if left_of_line {
        (HPos::Right, format!("{text}  "))
    } else {
        (HPos::Left, format!("  {text}"))
    };
    Text::new(
        text,
        at,
        (FONT, 17)
            .into_font()
            .color(&VERMILLION)
            .pos(Pos::new(h, VPos::Center)),
    )
}

/// Where the reference falls among simulated values, in words.
pub fn reference_position(percentile: f64) -> String {
    if percentile >= 100.0 {
        "above every simulated future".to_string()
    } else if percentile <= 0.0 {
        "below every simulated future".to_string()
    } else {
        format!(
            "at the {} percentile",
            ordinal(percentile.round().clamp(1.0, 99.0) as u32)
        )
    }
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
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(420)
        .build_cartesian_2d(padded(lo, hi), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc("National cost over the period: bar = mean, line = 90% interval")
        .house_style(16)
        .draw()?;
    chart.draw_series(order.iter().enumerate().map(|(row, &a)| {
        let mean = s.actions[a].cost.mean;
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row as i32)),
                (mean, SegmentValue::Exact(row as i32 + 1)),
            ],
            BLUE.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(order.iter().enumerate().map(|(row, &a)| {
        let c = &s.actions[a].cost;
        let y = SegmentValue::CenterOf(row as i32);
        PathElement::new(vec![(c.p05, y.clone()), (c.p95, y)], BLACK.stroke_width(2))
    }))?;
    Ok(())
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
    let months = s.monthly.len();
    let lo = s
        .monthly
        .iter()
        .map(|m| m.cumulative.p05)
        .fold(f64::INFINITY, f64::min);
    let hi = s
        .monthly
        .iter()
        .map(|m| m.cumulative.p95)
        .fold(f64::NEG_INFINITY, f64::max);
    let labels: Vec<String> = s.monthly.iter().map(|m| m.month.to_string()).collect();
    let step = months.div_ceil(12).max(1);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.3f64..(months as f64 - 0.7), padded(lo, hi))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(months.min(14))
        .x_label_formatter(&|x| {
            let k = x.round();
            let k_usize = k as usize;
            if (x - k).abs() < 1e-9 && k >= 0.0 && k_usize < months && k_usize % step == 0 {
                labels[k_usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| gbp(*y))
        .x_desc(format!("Month (cumulative from {})", scenario.start))
        .y_desc("Cumulative national cost")
        .house_style(16)
        .draw()?;
    let xs = || (0..months).map(|m| m as f64);
    let band: Vec<(f64, f64)> = xs()
        .zip(s.monthly.iter().map(|m| m.cumulative.p95))
        .chain(
            xs().rev()
                .zip(s.monthly.iter().rev().map(|m| m.cumulative.p05)),
        )
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, SKY.mix(0.45).filled())))?
        .label("90% interval")
        .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], SKY.mix(0.45).filled()));
    chart
        .draw_series(LineSeries::new(
            xs().zip(s.monthly.iter().map(|m| m.cumulative.p50)),
            GREY.stroke_width(2),
        ))?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], GREY.stroke_width(2)));
    chart
        .draw_series(
            LineSeries::new(
                xs().zip(s.monthly.iter().map(|m| m.cumulative.mean)),
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
    let n = order.len();
    let lo = s.regions.iter().map(|r| r.cost.p05).fold(0.0, f64::min);
    let hi = s.regions.iter().map(|r| r.cost.p95).fold(0.0, f64::max);
    let labels: Vec<String> = order
        .iter()
        .map(|&k| format!("{} ({} ICBs)", s.regions[k].name, s.regions[k].icbs))
        .collect();
    let names: Vec<&str> = s.regions.iter().map(|r| r.name.as_str()).collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(360)
        .build_cartesian_2d(padded(lo, hi), (0..n as i32).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc("Regional cost over the period (sum of its ICBs): bar = mean, line = 90% interval")
        .house_style(16)
        .draw()?;
    chart.draw_series(order.iter().enumerate().map(|(row, &k)| {
        let r = &s.regions[k];
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row as i32)),
                (r.cost.mean, SegmentValue::Exact(row as i32 + 1)),
            ],
            region_colour(&names, &r.name).mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(order.iter().enumerate().map(|(row, &k)| {
        let c = &s.regions[k].cost;
        let y = SegmentValue::CenterOf(row as i32);
        PathElement::new(vec![(c.p05, y.clone()), (c.p95, y)], BLACK.stroke_width(2))
    }))?;
    Ok(())
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
            t.iterations,
            100.0 * target
        ),
        (Some(t), None) => format!(
            "The national mean's relative standard error is {:.2}% after {} iterations",
            100.0 * t.rse,
            t.iterations
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

fn benchmarks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[&Comparison],
    period: &str,
) -> DrawResult<DB::ErrorType> {
    let inside = rows
        .iter()
        .filter(|c| {
            c.published_percentile
                .is_some_and(|p| (5.0..=95.0).contains(&p))
        })
        .count();
    let title = format!(
        "{inside} of {} published figures fall inside the simulated 90% interval",
        rows.len()
    );
    let area = titled(root, &title, period)?;
    if rows.is_empty() {
        return Ok(());
    }
    // Figures span £1m to £500m: a log axis keeps each readable.
    let values = rows.iter().flat_map(|c| {
        let s = c.simulated.expect("only simulated rows are shown");
        [s.p05, s.p95, c.benchmark.published_gbp.unwrap_or(s.mean)]
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
    let y_of = |k: usize| SegmentValue::CenterOf((n - 1 - k) as i32);
    let labels: Vec<String> = rows
        .iter()
        .rev()
        .map(|c| c.benchmark.label.clone())
        .collect();
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(70)
        .y_label_area_size(560)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(one_two_five(lo, hi)),
            (0..n as i32).into_segmented(),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| segment_label(&labels, v))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc("Simulated: dot = mean, bar = 90% interval (log scale); cross = published figure")
        .house_style(16)
        .draw()?;
    let floor = |v: f64| v.max(lo);
    chart.draw_series(rows.iter().enumerate().map(|(row, c)| {
        let s = c.simulated.expect("simulated");
        let y = y_of(row);
        PathElement::new(
            vec![(floor(s.p05), y.clone()), (floor(s.p95), y)],
            SKY.stroke_width(6),
        )
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(row, c)| {
        let s = c.simulated.expect("simulated");
        Circle::new((floor(s.mean), y_of(row)), 6, BLUE.filled())
    }))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(row, c)| {
        let p = c.benchmark.published_gbp?;
        Some(Cross::new(
            (floor(p), y_of(row)),
            9,
            VERMILLION.stroke_width(3),
        ))
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shortened_for_axis_labels() {
        assert_eq!(
            short_icb_name("NHS Cheshire and Merseyside Integrated Care Board"),
            "Cheshire and Merseyside"
        );
        assert_eq!(short_icb_name("Alpha"), "Alpha");
    }

    #[test]
    fn ordinals_follow_english_usage() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 62, 100]
            .iter()
            .map(|&n| ordinal(n))
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "62nd", "100th"]
        );
    }

    #[test]
    fn bundled_fonts_are_valid_truetype() {
        for bytes in [REGULAR, BOLD] {
            assert!(plotters::style::register_font("test-font", FontStyle::Normal, bytes).is_ok());
        }
    }

    #[test]
    fn charts_rasterise_with_the_bundled_font() {
        // A text-only SVG: rendered with a font, the title band has dark pixels; without
        // one it would be blank.
        let svg = r#"<svg width="200" height="40" viewBox="0 0 200 40" xmlns="http://www.w3.org/2000/svg"><rect width="200" height="40" fill="white"/><text x="5" y="30" font-family="sans-serif" font-size="24">£2m</text></svg>"#;
        let png = rasterize(svg, 2.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let blank = r#"<svg width="200" height="40" viewBox="0 0 200 40" xmlns="http://www.w3.org/2000/svg"><rect width="200" height="40" fill="white"/></svg>"#;
        assert!(
            png.len() > rasterize(blank, 2.0).unwrap().len() + 300,
            "text drew nothing"
        );
    }
}
