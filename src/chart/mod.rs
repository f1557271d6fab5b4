//! Charts of a run, drawn with plotters as SVG and rasterised with resvg to PNG at print
//! resolution (twice the SVG's pixel size: a 1,400-pixel chart becomes 2,800 pixels, 9.3
//! inches at 300 dpi). Text uses the bundled DejaVu Sans, so charts render the same on a
//! machine without system fonts.

use std::sync::Once;

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::benchmark::Comparison;
use crate::compare::Compared;
use crate::error::{Error, Result};
use crate::money::{gbp, percent, reference_position, thousands};
use crate::scenario::Scenario;
use crate::sensitivity::{FactorName, RankRow, Sensitivity, SobolRow};
use crate::stats::Summary;
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
mod decision;
mod icb;
mod nowcast;
mod observed;
mod run;
mod settlement;

pub use analysis::{benchmark_charts, compare_chart, sensitivity_charts};
pub use calibration::calibration_charts;
pub use decision::decision_charts;
pub use icb::{icb_actions_svg, icb_distribution_svg, icb_monthly_svg};
pub use nowcast::nowcast_chart;
pub use observed::{activity_charts, observed_charts};
pub use run::run_charts;
pub use settlement::settlement_charts;

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

/// SVG reading options with the bundled font as the sans-serif family.
fn svg_options() -> &'static resvg::usvg::Options<'static> {
    static OPTIONS: std::sync::OnceLock<resvg::usvg::Options<'static>> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut o = resvg::usvg::Options::default();
        let db = o.fontdb_mut();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        o.font_family = "DejaVu Sans".to_string();
        o
    })
}

/// Renders an SVG to PNG bytes at `scale` with the bundled font as the sans-serif family.
pub fn rasterize(svg: &str, scale: f32) -> std::result::Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_str(svg, svg_options()).map_err(|e| e.to_string())?;
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
    encode_png(pixmap).map_err(|e| e.to_string())
}

/// PNG bytes of a rendered chart: RGBA, 8 bits, the encoder's default compression with the
/// "up" filter on every row instead of choosing a filter row by row (on these charts about a
/// third less time to encode, for files about a sixth larger).
fn encode_png(
    pixmap: resvg::tiny_skia::Pixmap,
) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let (w, h) = (pixmap.width(), pixmap.height());
    let rgba = pixmap.take_demultiplied();
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgba)?;
    writer.finish()?;
    Ok(bytes)
}

/// The share of its row a bar fills: the rest is a gap that keeps neighbouring bars apart.
pub const BAR_FILL: f64 = 0.6;

/// A category axis of `n` rows: row `k` (from the bottom) is centred at `k`, with a tick and a
/// label at each row and nothing above the top row or below the bottom one (a segmented axis
/// keeps a spare row above the last, an empty category).
struct CategoryRows(usize);

impl Ranged for CategoryRows {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let range = self.range();
        let share = (value - range.start) / (range.end - range.start);
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight().allow_light_points() {
            true => Vec::new(),
            false => (0..self.0).map(|k| k as f64).collect(),
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.0.max(1) as f64 - 0.5
    }
}

fn category_rows(n: usize) -> CategoryRows {
    CategoryRows(n)
}

/// The label of row `y` of a category axis ([`category_rows`]).
fn row_label(labels: &[String], y: f64) -> String {
    let k = y.round();
    match k >= 0.0 && (y - k).abs() < 1e-9 {
        true => labels.get(k as usize).cloned().unwrap_or_default(),
        false => String::new(),
    }
}

/// The bottom and top of a bar in `row` of a category axis.
fn bar_span(row: usize) -> (f64, f64) {
    (row as f64 - BAR_FILL / 2.0, row as f64 + BAR_FILL / 2.0)
}

/// One row of an interval-bar chart: a bar from 0 to the mean, a line across the 90%
/// interval.
struct IntervalBar {
    /// Row from the bottom (0) of the category axis.
    row: usize,
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
/// actions): one row per label, bars filling [`BAR_FILL`] of their row, then the interval
/// lines.
fn interval_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: BarFrame,
    bars: &[IntervalBar],
) -> DrawResult<DB::ErrorType> {
    let n = frame.labels.len();
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(frame.x_label_area)
        .y_label_area_size(frame.y_label_area)
        .build_cartesian_2d(frame.x, category_rows(n))?;
    // Labels longer than their area are shortened to fit it, with an ellipsis.
    let room = f64::from(frame.y_label_area) - 20.0;
    let labels: Vec<String> = frame
        .labels
        .iter()
        .map(|l| fit_label(l, frame.font, room))
        .collect();
    let category = |y: &f64| row_label(&labels, *y);
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
        let (bottom, top) = bar_span(b.row);
        Rectangle::new([(0.0, bottom), (b.mean, top)], b.colour.mix(0.8).filled())
    }))?;
    chart.draw_series(bars.iter().map(|b| {
        let y = b.row as f64;
        PathElement::new(vec![(b.p05, y), (b.p95, y)], BLACK.stroke_width(2))
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

/// A row of months as a 90% band with the mean over it (and the median, if asked), with a
/// legend: the monthly chart's cumulative cost and the cost of delay by settlement month.
/// `values[k]` is month `labels[k]`.
fn band_over_months<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    values: &[&Summary],
    median: bool,
    (x_desc, y_desc): (&str, &str),
) -> DrawResult<DB::ErrorType> {
    let months = values.len();
    let lo = values.iter().map(|v| v.p05).fold(f64::INFINITY, f64::min);
    let hi = values
        .iter()
        .map(|v| v.p95)
        .fold(f64::NEG_INFINITY, f64::max);
    let step = months.div_ceil(12).max(1);
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.3f64..(months as f64 - 0.7), padded(lo, hi))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(months.min(14))
        .x_label_formatter(&|x| month_label(labels, step, *x))
        .y_label_formatter(&|y| gbp(*y))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .house_style(16)
        .draw()?;
    let xs = || (0..months).map(|m| m as f64);
    let fill = SKY.mix(0.45).filled();
    draw_band(&mut chart, values, fill, "90% interval")?;
    if median {
        chart
            .draw_series(LineSeries::new(
                xs().zip(values.iter().map(|v| v.p50)),
                GREY.stroke_width(2),
            ))?
            .label("median")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], GREY.stroke_width(2)));
    }
    draw_mean(&mut chart, values, BLUE.stroke_width(3), 4, "mean")?;
    house_legend(&mut chart, SeriesLabelPosition::UpperLeft, 17)
}

/// A chart over months: month `k` at x = `k`, money on y.
type MonthsChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The 90% band of `values` (month `k` at x = `k`) filled with `fill`, in the legend as
/// `label`.
fn draw_band<DB: DrawingBackend>(
    chart: &mut MonthsChart<'_, DB>,
    values: &[&Summary],
    fill: ShapeStyle,
    label: &str,
) -> DrawResult<DB::ErrorType> {
    let xs = || (0..values.len()).map(|m| m as f64);
    let band: Vec<(f64, f64)> = xs()
        .zip(values.iter().map(|v| v.p95))
        .chain(xs().rev().zip(values.iter().rev().map(|v| v.p05)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, fill)))?
        .label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], fill));
    Ok(())
}

/// The mean of `values` (month `k` at x = `k`) as a line in `style` (with points of
/// `point_size`; 0: none), in the legend as `label`.
fn draw_mean<DB: DrawingBackend>(
    chart: &mut MonthsChart<'_, DB>,
    values: &[&Summary],
    style: ShapeStyle,
    point_size: u32,
    label: &str,
) -> DrawResult<DB::ErrorType> {
    let xs = (0..values.len()).map(|m| m as f64);
    chart
        .draw_series(
            LineSeries::new(xs.zip(values.iter().map(|v| v.mean)), style).point_size(point_size),
        )?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
    Ok(())
}

/// The legend every chart shares: the series' labels at `size` in a faint box at `position`.
fn house_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    size: i32,
) -> DrawResult<DB::ErrorType> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, size))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.2))
        .draw()
}

/// A chart of [`log_money_rows`].
type LogMoneyRows<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, CategoryRows>>;

/// The chart every "published figure against simulated intervals" chart shares: a log money
/// axis from `lo` to `hi` (ticks 1, 2, 5…) across one row per figure, `labels` bottom row
/// first in an area `label_width` wide, its mesh drawn with `x_desc`.
fn log_money_rows<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    labels: &[String],
    label_width: u32,
    x_desc: &str,
) -> std::result::Result<LogMoneyRows<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = labels.len();
    let mut chart = ChartBuilder::on(area)
        .x_label_area_size(70)
        .y_label_area_size(label_width)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(one_two_five(lo, hi)),
            category_rows(n),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| row_label(labels, *y))
        .x_label_formatter(&|x| gbp(*x))
        .x_desc(x_desc)
        .house_style(16)
        .draw()?;
    Ok(chart)
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

/// Left edge of a chart's title and subtitle, and the space they keep from the right edge.
const TITLE_X: i32 = 30;
const TITLE_RIGHT: i32 = 25;

/// Title and subtitle sizes: the house size, the smallest a title is scaled to before it is
/// wrapped onto two lines, and the smallest a subtitle is scaled to.
const TITLE_SIZE: i32 = 30;
const TITLE_MIN: i32 = 22;
const SUBTITLE_SIZE: i32 = 19;
const SUBTITLE_MIN: i32 = 13;

/// The width in pixels of `text` drawn at plotters' font `size`, as it renders: laid out by
/// usvg with the bundled font, as [`rasterize`] draws it (plotters' own estimate ignores the
/// bold face). Widths scale with the size, so one layout serves every size.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    text_extent(text, bold) * size / 100.0
}

/// The width of `text` at plotters' font size 100.
fn text_extent(text: &str, bold: bool) -> f64 {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    // Plotters writes a font of size s as font-size s / 1.24 (points to pixels).
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="400"><text x="0" y="200" font-family="{FONT}" font-size="{}" font-weight="{}">{escaped}</text></svg>"#,
        100.0 / 1.24,
        if bold { "bold" } else { "normal" }
    );
    resvg::usvg::Tree::from_str(&svg, svg_options()).map_or(f64::INFINITY, |t| {
        f64::from(t.root().abs_bounding_box().right())
    })
}

/// `text` as set at font `size` in `width` pixels: whole if it fits, else cut at a word (or,
/// for a single long word, a character) with an ellipsis.
fn fit_label(text: &str, size: i32, width: f64) -> String {
    let fits = |t: &str| text_width(t, f64::from(size), false) <= width;
    if fits(text) {
        return text.to_string();
    }
    let cuts: Vec<usize> = text.char_indices().map(|(k, _)| k).skip(1).collect();
    let shortened = |k: usize| format!("{}…", text[..k].trim_end());
    let words = cuts.iter().rev().filter(|&&k| text[k..].starts_with(' '));
    words
        .chain(cuts.iter().rev())
        .map(|&k| shortened(k))
        .find(|t| fits(t))
        .unwrap_or_else(|| "…".to_string())
}

/// The lines and size a title or subtitle is set in to fit `width` pixels: on one line at
/// the largest size from `size` down to `min` at which it fits, else (for a title) on two
/// lines, broken at the space that makes the longer line shortest, at the largest size at
/// which both fit (down to 14; a single word longer than the chart is left to overflow).
fn fit_text(
    text: &str,
    size: i32,
    min: i32,
    bold: bool,
    width: f64,
    wrap: bool,
) -> (Vec<String>, i32) {
    // The largest size from `size` down to `lowest` at which an extent fits, if any.
    let largest = |extent: f64, lowest: i32| {
        (lowest..=size)
            .rev()
            .find(|&s| extent * f64::from(s) / 100.0 <= width)
    };
    let whole = text_extent(text, bold);
    if let Some(s) = largest(whole, min) {
        return (vec![text.to_string()], s);
    }
    if !wrap {
        return (vec![text.to_string()], min);
    }
    let split = text
        .match_indices(' ')
        .map(|(k, _)| {
            let (a, b) = (&text[..k], &text[k + 1..]);
            (a, b, text_extent(a, bold).max(text_extent(b, bold)))
        })
        .min_by(|x, y| x.2.total_cmp(&y.2));
    match split {
        Some((a, b, longer)) => (
            vec![a.to_string(), b.to_string()],
            largest(longer, 14).unwrap_or(14).min(min),
        ),
        None => (vec![text.to_string()], min),
    }
}

/// Title, subtitle and a plotting area below them. Both are sized (and the title wrapped) to
/// fit the chart's width.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let width = f64::from(root.dim_in_pixel().0 as i32 - TITLE_X - TITLE_RIGHT);
    let (lines, size) = fit_text(title, TITLE_SIZE, TITLE_MIN, true, width, true);
    let line_height = size + size / 5;
    let mut y = if lines.len() == 1 { 18 } else { 6 };
    for line in lines {
        root.draw(&Text::new(
            line,
            (TITLE_X, y),
            (FONT, size)
                .into_font()
                .style(FontStyle::Bold)
                .color(&BLACK),
        ))?;
        y += line_height;
    }
    let (sub, sub_size) = fit_text(subtitle, SUBTITLE_SIZE, SUBTITLE_MIN, false, width, false);
    root.draw(&Text::new(
        sub.concat(),
        (TITLE_X, (y + 4).max(58)),
        (FONT, sub_size).into_font().color(&GREY),
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

    /// The attribute `name` of an SVG element's text.
    fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
        let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&element[start..start + element[start..].find('"')?])
    }

    fn number(element: &str, name: &str) -> f64 {
        attr(element, name).and_then(|v| v.parse().ok()).unwrap()
    }

    /// The elements of one kind (`<rect`, `<polyline`…) of an SVG, as text.
    fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
        svg.match_indices(tag)
            .map(|(k, _)| &svg[k..k + svg[k..].find('>').unwrap()])
            .collect()
    }

    fn three_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        root.fill(&WHITE)?;
        let labels: Vec<String> = ["small", "middle", "large"].map(String::from).to_vec();
        let bars: Vec<IntervalBar> = (0..3)
            .map(|row| IntervalBar {
                row,
                mean: 1.0 + row as f64,
                p05: 0.5,
                p95: 2.0 + row as f64,
                colour: BLUE,
            })
            .collect();
        let frame = BarFrame {
            labels: &labels,
            x: 0.0..4.0,
            x_label_area: 40,
            y_label_area: 100,
            font: 15,
            x_desc: None,
        };
        interval_bars(root, frame, &bars)
    }

    #[test]
    fn bars_fill_three_fifths_of_their_rows_and_no_row_is_empty() -> Result<()> {
        let svg = svg!("bars", (600, 400), three_bars());
        let mut bars: Vec<(f64, f64)> = elements(&svg, "<rect")
            .into_iter()
            .filter(|r| attr(r, "fill") == Some("#0072B2"))
            .map(|r| (number(r, "y"), number(r, "height")))
            .collect();
        bars.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(bars.len(), 3, "{svg}");
        let pitch = (bars[2].0 - bars[0].0) / 2.0;
        for (k, &(y, height)) in bars.iter().enumerate() {
            // Rows are whole pixels apart: allow a pixel either way.
            assert!(
                (height - BAR_FILL * pitch).abs() <= 1.0,
                "bar {k}: {height} of {pitch}"
            );
            if k > 0 {
                let gap = y - (bars[k - 1].0 + bars[k - 1].1);
                assert!(
                    gap >= 0.3 * pitch,
                    "bars {k} and {} touch: gap {gap}",
                    k - 1
                );
            }
        }
        // The category axis: a vertical line from the top of the plot to its bottom, one tick
        // per row, and half a row's gap (no empty row) above the top bar and below the bottom.
        let lines: Vec<Vec<(f64, f64)>> = elements(&svg, "<polyline")
            .into_iter()
            .map(|p| {
                attr(p, "points")
                    .unwrap()
                    .split_whitespace()
                    .map(|xy| {
                        let (x, y) = xy.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect();
        let axis = lines
            .iter()
            .find(|l| l.len() == 2 && l[0].0 == l[1].0 && l[1].1 - l[0].1 > 100.0)
            .expect("a vertical axis");
        let (x, top, bottom) = (axis[0].0, axis[0].1, axis[1].1);
        let ticks = lines
            .iter()
            .filter(|l| l.len() == 2 && l[0].1 == l[1].1 && l[1].0 == x && l[0].0 < x)
            .count();
        assert_eq!(ticks, 3, "one tick per row");
        let margin = (1.0 - BAR_FILL) / 2.0 * pitch;
        assert!(
            (bars[0].0 - top - margin).abs() <= 1.5,
            "space above the top bar"
        );
        let below = bottom - (bars[2].0 + bars[2].1);
        assert!(
            (below - margin).abs() <= 1.5,
            "space below the bottom bar: {below}"
        );
        for label in ["small", "middle", "large"] {
            assert_eq!(svg.matches(&format!("\n{label}\n")).count(), 1, "{label}");
        }
        Ok(())
    }

    fn title_only<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        title: &str,
        subtitle: &str,
    ) -> DrawResult<DB::ErrorType> {
        titled(root, title, subtitle).map(|_| ())
    }

    /// The bounding boxes of the text an SVG renders, laid out with the bundled font.
    fn text_boxes(svg: &str) -> Vec<resvg::usvg::Rect> {
        fn walk(group: &resvg::usvg::Group, out: &mut Vec<resvg::usvg::Rect>) {
            for node in group.children() {
                match node {
                    resvg::usvg::Node::Text(t) => out.push(t.abs_bounding_box()),
                    resvg::usvg::Node::Group(g) => walk(g, out),
                    _ => {}
                }
            }
        }
        let tree = resvg::usvg::Tree::from_str(svg, svg_options()).unwrap();
        let mut out = Vec::new();
        walk(tree.root(), &mut out);
        out
    }

    #[test]
    fn long_labels_are_shortened_to_their_area() {
        let label = "Cap contacts at 25 per clinician per day and redirect the rest to NHS 111";
        assert_eq!(fit_label(label, 16, 2000.0), label);
        let short = fit_label(label, 16, 300.0);
        assert!(short.ends_with("day…") || short.ends_with('…'), "{short}");
        assert!(text_width(&short, 16.0, false) <= 300.0, "{short}");
        assert!(label.starts_with(short.trim_end_matches('…')), "{short}");
        assert_eq!(
            fit_label("Supercalifragilistic", 16, 60.0).chars().last(),
            Some('…')
        );
    }

    #[test]
    fn titles_fit_the_chart_at_every_size_the_report_uses() -> Result<()> {
        let long = "Cap contacts at 25 per clinician per day is the largest cost: £163m of £412m nationally on average";
        let longer = format!("{long}, and {long}");
        let subtitle = "Buckinghamshire, Oxfordshire and Berkshire West: GP collective action 2024: the whole BMA menu, ICB cash: 2024-08 to 2025-01, ICB cash, 1000000 iterations";
        for width in [1200u32, 1400, 1500] {
            for title in ["Short", long, &longer] {
                let svg = svg!("title", (width, 300), title_only(title, subtitle));
                let boxes = text_boxes(&svg);
                assert!(boxes.len() >= 2, "{svg}");
                for b in &boxes {
                    assert!(
                        b.left() >= 0.0 && b.right() <= width as f32 - 10.0,
                        "{width} px: text from {} to {}: {svg}",
                        b.left(),
                        b.right()
                    );
                    // Above the plotting area, which starts 95 pixels down.
                    assert!(
                        b.bottom() <= 95.0,
                        "{width} px: text down to {}",
                        b.bottom()
                    );
                }
                // Lines do not overlap.
                let mut rows: Vec<_> = boxes.iter().map(|b| (b.top(), b.bottom())).collect();
                rows.sort_by(|a, b| a.0.total_cmp(&b.0));
                assert!(rows.windows(2).all(|w| w[0].1 <= w[1].0), "{rows:?}");
                // A short title keeps the house size.
                if title == "Short" {
                    assert!(svg.contains(&format!("font-size=\"{}\"", TITLE_SIZE as f64 / 1.24)));
                }
            }
        }
        // The measure used to fit them agrees with the rendered width.
        let svg = svg!("title", (1500, 300), title_only(long, ""));
        let title = elements(&svg, "<text")
            .into_iter()
            .find(|t| attr(t, "font-weight") == Some("bold"))
            .unwrap();
        let size = number(title, "font-size") * 1.24;
        let rendered = text_boxes(&svg)[0].right();
        let measured = TITLE_X as f64 + text_width(long, size, true);
        assert!(
            (f64::from(rendered) - measured).abs() < 3.0,
            "{rendered} against {measured}"
        );
        Ok(())
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
