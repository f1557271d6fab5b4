//! Charts of a run, drawn with plotters as SVG and rasterised with resvg to PNG at print
//! resolution (twice the SVG's pixel size: a 1,400-pixel chart becomes 2,800 pixels, 9.3
//! inches at 300 dpi). Text uses the bundled DejaVu Sans, so charts render the same on a
//! machine without system fonts.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::benchmark::Comparison;
use crate::compare::Compared;
use crate::error::{Error, Result};
use crate::money::{gbp, percent, reference_position};
use crate::scenario::Scenario;
use crate::sensitivity::{FactorName, RankRow, Sensitivity, SobolRow};
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

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

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

/// Draws one chart function and adds it to `charts` under `name`.
macro_rules! render {
    ($charts:expr, $name:expr, $size:expr, $chart:ident ( $($arg:expr),* )) => {{
        let name: String = $name.to_string();
        let svg = svg!(name, $size, $chart($($arg),*));
        $charts.push(Chart { name, svg });
    }};
}

mod analysis;
mod calibration;
mod icb;
mod run;

pub use analysis::{benchmark_charts, compare_chart, sensitivity_charts};
pub use calibration::calibration_charts;
pub use icb::{icb_actions_svg, icb_distribution_svg, icb_monthly_svg};
pub use run::run_charts;

/// A drawn chart: its file name without extension and its SVG text. The output layer writes
/// it as `<name>.svg` and, through [`rasterize`], `<name>.png`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub name: String,
    pub svg: String,
}

impl Chart {
    /// The chart as PNG at print resolution ([`PNG_SCALE`]).
    pub fn png(&self) -> Result<Vec<u8>> {
        rasterize(&self.svg, PNG_SCALE)
            .map_err(|e| Error::Output(format!("chart {}: {e}", self.name)))
    }
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

/// One row of an interval-bar chart: a bar from 0 to the mean, a line across the 90%
/// interval.
struct IntervalBar {
    /// Row from the bottom (0) of the category axis.
    row: i32,
    mean: f64,
    p05: f64,
    p95: f64,
    colour: RGBColor,
}

/// The frame of an interval-bar chart.
struct BarFrame<'a> {
    /// Category labels, bottom row first.
    labels: &'a [String],
    x: std::ops::Range<f64>,
    x_label_area: u32,
    y_label_area: u32,
    font: i32,
    x_desc: Option<&'a str>,
}

/// The interval-bar chart every "cost by category" chart shares (actions, regions, an ICB's
/// actions): bars in the order given, then the interval lines.
fn interval_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: BarFrame,
    bars: &[IntervalBar],
) -> DrawResult<DB::ErrorType> {
    let n = frame.labels.len();
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(frame.x_label_area)
        .y_label_area_size(frame.y_label_area)
        .build_cartesian_2d(frame.x, (0..n as i32).into_segmented())?;
    let category = |v: &SegmentValue<i32>| segment_label(frame.labels, v);
    let money = |x: &f64| gbp(*x);
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&category)
        .x_label_formatter(&money)
        .house_style(frame.font);
    if let Some(desc) = frame.x_desc {
        mesh.x_desc(desc);
    }
    mesh.draw()?;
    chart.draw_series(bars.iter().map(|b| {
        Rectangle::new(
            [
                (0.0, SegmentValue::Exact(b.row)),
                (b.mean, SegmentValue::Exact(b.row + 1)),
            ],
            b.colour.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(bars.iter().map(|b| {
        let y = SegmentValue::CenterOf(b.row);
        PathElement::new(vec![(b.p05, y.clone()), (b.p95, y)], BLACK.stroke_width(2))
    }))?;
    Ok(())
}

/// Shares (in %) of `values` in `bins` bins of `width` from `start`; values outside fall in
/// the first or last bin.
fn histogram(values: &[f64], start: f64, width: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0usize; bins];
    for &x in values {
        counts[((x - start) / width).floor().clamp(0.0, (bins - 1) as f64) as usize] += 1;
    }
    let n = values.len() as f64;
    counts.iter().map(|&c| 100.0 * c as f64 / n).collect()
}

/// The body of both distribution charts: a histogram's bars (`shares` in bins of `width` from
/// `start`), the reference line and its label at `label_height` × `y_max`.
#[allow(clippy::too_many_arguments)]
fn histogram_bars<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    shares: &[f64],
    start: f64,
    width: f64,
    reference: f64,
    y_max: f64,
    label: &str,
    label_height: f64,
) -> DrawResult<DB::ErrorType> {
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
        label,
        (reference, y_max * label_height),
        reference > x.start + 0.6 * (x.end - x.start),
    )))?;
    Ok(())
}

/// The label of month `x` of a monthly axis (`labels[k]` at whole `k`), every `step`-th month
/// only, so that a long horizon keeps its labels apart.
fn month_label(labels: &[String], step: usize, x: f64) -> String {
    let k = x.round();
    match k >= 0.0 && (x - k).abs() < 1e-9 && (k as usize).is_multiple_of(step) {
        true => labels.get(k as usize).cloned().unwrap_or_default(),
        false => String::new(),
    }
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

/// Title, subtitle and a plotting area below them.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
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
