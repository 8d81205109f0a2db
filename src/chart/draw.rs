//! Paints a [`Figure`] with plotters, on a PNG bitmap or into SVG.
//!
//! Legibility rules that hold for every kind: DejaVu Sans compiled into the binary (so a
//! machine without fonts draws the same picture), text sized from the picture's width, axis
//! ticks placed by hand at round values and labelled the Brazilian way, and colours from the
//! Okabe–Ito palette picked at different lightness, with shape doing the work where colour
//! alone would not survive a greyscale printer: a rising candle is hollow and a falling one
//! solid, the VWAP line is dashed, the heatmap's scale runs from dark to light.

use std::sync::Once;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::brl::{self, Unit};
use super::{CandlePanel, Error, Figure, Format, Plot, Series, Size, XAxis};

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(96, 96, 96);
const GRID: RGBColor = RGBColor(222, 222, 222);
const MISSING: RGBColor = RGBColor(238, 238, 238);
/// Okabe–Ito blue: dark (relative luminance 0.15).
const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Okabe–Ito orange: light (0.43), apart from the blue in greyscale.
const ORANGE: RGBColor = RGBColor(230, 159, 0);
/// Okabe–Ito vermilion, for falling candles (filled).
const VERMILION: RGBColor = RGBColor(213, 94, 0);
/// Volume columns: a pale grey-blue that stays behind the prices.
const VOLUME: RGBColor = RGBColor(160, 178, 196);

type Drawn<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A linear axis whose ticks are chosen here (round values, or one per slot) rather than by
/// plotters, and labelled by the chart's own formatter.
#[derive(Clone)]
struct Axis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let f = if span > 0.0 { (v - self.range.start) / span } else { 0.5 };
        limit.0 + (f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// The picture's bytes: PNG (8-bit RGB) or SVG text.
pub fn render(figure: &Figure, format: Format, size: Size) -> Result<Vec<u8>, Error> {
    if let Some(value) = figure.non_finite() {
        return Err(Error::Usage(format!(
            "{}: a value to draw is {value}; charts draw finite numbers only (filter it out or use NULL)",
            figure.title
        )));
    }
    fonts();
    let (w, h) = (size.width, size.height);
    let failed = |e: Box<dyn std::error::Error>| Error::Draw(e.to_string());
    match format {
        Format::Png => {
            let mut pixels = vec![255u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
                paint(&root, figure).map_err(failed)?;
                root.present().map_err(|e| Error::Draw(e.to_string()))?;
            }
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(|e| Error::Draw(e.to_string()))?;
            writer.write_image_data(&pixels).map_err(|e| Error::Draw(e.to_string()))?;
            writer.finish().map_err(|e| Error::Draw(e.to_string()))?;
            Ok(out)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                paint(&root, figure).map_err(failed)?;
                root.present().map_err(|e| Error::Draw(e.to_string()))?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// Registers the compiled-in fonts with plotters, once per process.
fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans parses: it is the crate's own copy of the font.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Sizes that grow with the picture: `px(16)` is 16 pixels on a 1200-pixel-wide chart.
#[derive(Clone, Copy)]
struct Scale(f64);

impl Scale {
    fn of<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Scale {
        let (w, h) = area.dim_in_pixel();
        Scale((w as f64 / 1200.0).min(h as f64 / 500.0).clamp(0.85, 2.5))
    }
    fn px(self, n: u32) -> u32 {
        ((n as f64 * self.0).round() as u32).max(1)
    }
    fn font(self, n: u32) -> TextStyle<'static> {
        (FONT, self.px(n)).into_font().color(&INK)
    }
}

fn paint<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let s = Scale::of(root);
    let title = (FONT, s.px(26)).into_font().style(FontStyle::Bold).color(&INK);
    let mut top = s.px(14);
    root.draw_text(&figure.title, &title, (s.px(20) as i32, top as i32))?;
    top += s.px(34);
    if let Some(subtitle) = &figure.subtitle {
        root.draw_text(subtitle, &(FONT, s.px(16)).into_font().color(&MUTED), (s.px(20) as i32, top as i32))?;
        top += s.px(26);
    }
    let (_, body) = root.split_vertically(top + s.px(6));
    match &figure.plot {
        Plot::HorizontalBars { categories, series, unit, axis } => bars(&body, s, categories, series, *unit, axis),
        Plot::Columns { labels, values, unit, axis } => columns(&body, s, labels, values, *unit, axis),
        Plot::Candles { panels } => candles(&body, s, panels),
        Plot::Heatmap { rows, days, cells } => heatmap(&body, s, rows, days, cells),
        Plot::Xy { points, x, x_name, y_name, line } => xy(&body, s, points, x, x_name, y_name, *line),
    }
}

/// Round tick values from `lo` to `hi`, about `n` of them (1, 2, 2.5 or 5 times a power of ten).
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    // The finest round step that gives at most half again as many ticks as asked.
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| (hi - lo) / s <= n.max(1) as f64 * 1.5)
        .unwrap_or(raw);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        // -0 prints as 0.
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// An axis of `n` slots (bars, days), with a labelled tick on every `step`-th.
fn slots(n: usize, max_labels: usize) -> Axis {
    let step = n.div_ceil(max_labels.max(1)).max(1);
    Axis { range: -0.5..n as f64 - 0.5, ticks: (0..n).step_by(step).map(|i| i as f64).collect() }
}

/// Slots at least `min` wide, the `n` used ones centred: one day is a candle, not a wall.
fn narrow_slots(n: usize, min: usize, max_labels: usize) -> Axis {
    let mut axis = slots(n, max_labels);
    let extra = min.saturating_sub(n) as f64 / 2.0;
    axis.range = axis.range.start - extra..axis.range.end + extra;
    axis
}

/// A continuous axis with round ticks.
fn continuous(lo: f64, hi: f64, n: usize) -> Axis {
    Axis { range: lo..hi, ticks: ticks(lo, hi, n) }
}

/// How many labels `width` pixels hold, at `chars` characters each.
fn fit(width: u32, chars: usize, s: Scale) -> usize {
    (width as usize / (chars * s.px(8) as usize + s.px(18) as usize)).max(1)
}

fn label(labels: &[String], v: f64) -> String {
    let i = v.round();
    if i < 0.0 { String::new() } else { labels.get(i as usize).cloned().unwrap_or_default() }
}

/// Pads a value range so marks do not touch the frame.
fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if hi > lo {
        let p = (hi - lo) * pad;
        (lo - p, hi + p)
    } else {
        let p = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        (lo - p, hi + p)
    }
}

fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: Scale,
    categories: &[String],
    series: &[Series],
    unit: Unit,
    axis: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let n = categories.len();
    let totals: Vec<f64> = (0..n).map(|i| series.iter().map(|s| s.values[i]).sum()).collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let longest = categories.iter().map(|c| c.chars().count()).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(area)
        .margin(s.px(16))
        .margin_right(s.px(30))
        .x_label_area_size(s.px(52))
        .y_label_area_size(longest as u32 * s.px(10) + s.px(16))
        .build_cartesian_2d(continuous(0.0, max * 1.16, 6), slots(n, n))?;
    let row = |i: usize| (n - 1 - i) as f64;
    let names = |v: &f64| {
        let i = v.round();
        if (0.0..n as f64).contains(&i) { categories[n - 1 - i as usize].clone() } else { String::new() }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_label_formatter(&|v| unit.short(*v))
        .y_label_formatter(&names)
        .x_desc(axis)
        .label_style(s.font(15))
        .axis_desc_style(s.font(16))
        .draw()?;
    let colours = [BLUE, ORANGE, VERMILION];
    let mut left = vec![0.0; n];
    for (k, serie) in series.iter().enumerate() {
        let colour = colours[k % colours.len()];
        let drawn = chart.draw_series((0..n).map(|i| {
            let (x0, x1) = (left[i], left[i] + serie.values[i]);
            left[i] = x1;
            Rectangle::new([(x0, row(i) - 0.36), (x1, row(i) + 0.36)], colour.filled())
        }))?;
        if series.len() > 1 {
            drawn.label(serie.name.as_str()).legend(move |(x, y)| {
                Rectangle::new([(x, y - s.px(7) as i32), (x + s.px(16) as i32, y + s.px(7) as i32)], colour.filled())
            });
        }
    }
    let text = s.font(14).pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(
        totals.iter().enumerate().map(|(i, t)| Text::new(unit.short(*t), (t + max * 0.01, row(i)), text.clone())),
    )?;
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(s.font(15))
            .draw()?;
    }
    Ok(())
}

fn columns<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: Scale,
    labels: &[String],
    values: &[f64],
    unit: Unit,
    axis: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let n = labels.len();
    let lo = values.iter().copied().fold(0.0, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = (if lo < 0.0 { lo * 1.12 } else { 0.0 }, if hi > 0.0 { hi * 1.12 } else { 0.0 });
    let (lo, hi) = if hi > lo { (lo, hi) } else { (0.0, 1.0) };
    let width = area.dim_in_pixel().0;
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(area)
        .margin(s.px(16))
        .margin_right(s.px(30))
        .x_label_area_size(s.px(44))
        .y_label_area_size(s.px(100))
        .build_cartesian_2d(narrow_slots(n, 8, fit(width, longest, s)), continuous(lo, hi, 6))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_label_formatter(&|v| label(labels, *v))
        .y_label_formatter(&|v| unit.short(*v))
        .y_desc(axis)
        .label_style(s.font(15))
        .axis_desc_style(s.font(16))
        .draw()?;
    chart.draw_series(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Rectangle::new([(i as f64 - 0.38, 0.0), (i as f64 + 0.38, *v)], BLUE.filled())),
    )?;
    // Values on the columns while they fit.
    if n <= fit(width, 7, s) {
        let above = s.font(13).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| Text::new(unit.short(*v), (i as f64, v.max(0.0) + (hi - lo) * 0.01), above.clone())),
        )?;
    }
    Ok(())
}

fn candles<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: Scale, panels: &[CandlePanel]) -> Drawn
where
    DB::ErrorType: 'static,
{
    for (panel, a) in panels.iter().zip(area.split_evenly((panels.len(), 1))) {
        let (w, h) = a.dim_in_pixel();
        let (top, bottom) = a.split_vertically((h as f64 * 0.66) as u32);
        let n = panel.days.len();
        let labels: Vec<String> = panel.days.iter().map(|d| brl::date(d.day)).collect();
        let lo = panel.days.iter().map(|d| d.low.min(d.vwap)).fold(f64::INFINITY, f64::min);
        let hi = panel.days.iter().map(|d| d.high.max(d.vwap)).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = padded(lo, hi, 0.08);
        let mut price = ChartBuilder::on(&top)
            .margin_left(s.px(16))
            .margin_right(s.px(30))
            .margin_top(s.px(8))
            .caption(&panel.symbol, (FONT, s.px(18)).into_font().style(FontStyle::Bold).color(&INK))
            .x_label_area_size(0)
            .y_label_area_size(s.px(100))
            .build_cartesian_2d(narrow_slots(n, 12, fit(w, 10, s)), continuous(lo, hi, 5))?;
        price
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .y_label_formatter(&|v| Unit::Price.short(*v))
            .y_desc("Preço (R$)")
            .label_style(s.font(14))
            .axis_desc_style(s.font(15))
            .draw()?;
        let half = 0.32;
        // Wicks, then bodies over them: hollow (white inside) when the day rose.
        price.draw_series(
            panel
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| PathElement::new(vec![(i as f64, d.low), (i as f64, d.high)], INK.stroke_width(s.px(1)))),
        )?;
        price.draw_series(panel.days.iter().enumerate().filter(|(_, d)| d.close >= d.open).flat_map(|(i, d)| {
            let body = [(i as f64 - half, d.open), (i as f64 + half, d.close)];
            [Rectangle::new(body, WHITE.filled()), Rectangle::new(body, BLUE.stroke_width(s.px(2)))]
        }))?;
        price.draw_series(panel.days.iter().enumerate().filter(|(_, d)| d.close < d.open).map(|(i, d)| {
            Rectangle::new([(i as f64 - half, d.open), (i as f64 + half, d.close)], VERMILION.filled())
        }))?;
        let vwap = ORANGE.stroke_width(s.px(3));
        price.draw_series(DashedLineSeries::new(
            panel.days.iter().enumerate().map(|(i, d)| (i as f64, d.vwap)),
            s.px(10),
            s.px(6),
            vwap,
        ))?;
        price.draw_series(
            panel.days.iter().enumerate().map(|(i, d)| Circle::new((i as f64, d.vwap), s.px(3), ORANGE.filled())),
        )?;
        let max_volume = panel.days.iter().map(|d| d.volume).fold(0.0, f64::max);
        let max_volume = if max_volume > 0.0 { max_volume * 1.1 } else { 1.0 };
        let mut volume = ChartBuilder::on(&bottom)
            .margin_left(s.px(16))
            .margin_right(s.px(30))
            .margin_bottom(s.px(6))
            .x_label_area_size(s.px(34))
            .y_label_area_size(s.px(100))
            .build_cartesian_2d(narrow_slots(n, 12, fit(w, 10, s)), continuous(0.0, max_volume, 2))?;
        volume
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_label_formatter(&|v| label(&labels, *v))
            .y_label_formatter(&|v| Unit::Brl.short(*v))
            .y_desc("Volume")
            .label_style(s.font(14))
            .axis_desc_style(s.font(15))
            .draw()?;
        volume.draw_series(
            panel
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| Rectangle::new([(i as f64 - half, 0.0), (i as f64 + half, d.volume)], VOLUME.filled())),
        )?;
    }
    Ok(())
}

/// Cividis (Nuñez, Anderton and Renslow, 2018): blue to yellow, its lightness rising
/// steadily, so the order of values survives greyscale and colour-blind eyes.
fn cividis(t: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [0.0, 34.0, 78.0]),
        (0.25, [65.0, 77.0, 107.0]),
        (0.5, [124.0, 123.0, 120.0]),
        (0.75, [188.0, 175.0, 111.0]),
        (1.0, [254.0, 232.0, 56.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = STOPS.iter().position(|(p, _)| *p >= t).unwrap_or(4).max(1);
    let ((p0, c0), (p1, c1)) = (STOPS[k - 1], STOPS[k]);
    let f = (t - p0) / (p1 - p0);
    let c = |i: usize| (c0[i] + (c1[i] - c0[i]) * f).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

fn luminance(c: RGBColor) -> f64 {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) / 255.0
}

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: Scale,
    rows: &[String],
    days: &[NaiveDate],
    cells: &[Vec<Option<f64>>],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let (main, legend) = area.split_horizontally(w.saturating_sub(s.px(120)));
    let m = cells.iter().flatten().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let m = if m > 0.0 { m } else { 1.0 };
    let colour = |v: f64| cividis((v / m + 1.0) / 2.0);
    let (nr, nd) = (rows.len(), days.len());
    let labels: Vec<String> = days.iter().map(|d| brl::date(*d)).collect();
    let mut chart = ChartBuilder::on(&main)
        .margin(s.px(16))
        .x_label_area_size(s.px(40))
        .y_label_area_size(s.px(96))
        .build_cartesian_2d(slots(nd, fit(main.dim_in_pixel().0, 10, s)), slots(nr, (h / s.px(16)) as usize))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|v| label(&labels, *v))
        .y_label_formatter(&|v| {
            let i = v.round();
            if (0.0..nr as f64).contains(&i) { rows[nr - 1 - i as usize].clone() } else { String::new() }
        })
        .label_style(s.font(14))
        .draw()?;
    let y = |r: usize| (nr - 1 - r) as f64;
    chart.draw_series(cells.iter().enumerate().flat_map(|(r, row)| {
        row.iter().enumerate().map(move |(d, v)| {
            let fill = v.map_or(MISSING, colour);
            Rectangle::new([(d as f64 - 0.5, y(r) - 0.5), (d as f64 + 0.5, y(r) + 0.5)], fill.filled())
        })
    }))?;
    // Cell borders, so neighbouring cells of close values stay apart.
    chart.draw_series(cells.iter().enumerate().flat_map(|(r, row)| {
        (0..row.len()).map(move |d| {
            Rectangle::new([(d as f64 - 0.5, y(r) - 0.5), (d as f64 + 0.5, y(r) + 0.5)], WHITE.stroke_width(1))
        })
    }))?;
    let (plot_w, plot_h) = chart.plotting_area().dim_in_pixel();
    if plot_w as usize / nd.max(1) >= s.px(48) as usize && plot_h as usize / nr.max(1) >= s.px(16) as usize {
        let centre = Pos::new(HPos::Center, VPos::Center);
        chart.draw_series(cells.iter().enumerate().flat_map(|(r, row)| {
            row.iter().enumerate().filter_map(move |(d, v)| {
                let v = (*v)?;
                let ink: &'static RGBColor = if luminance(colour(v)) < 0.5 { &WHITE } else { &INK };
                Some(Text::new(brl::percent(v, 1), (d as f64, y(r)), s.font(13).color(ink).pos(centre)))
            })
        }))?;
    }
    // The scale: +m at the top, -m at the bottom.
    let (_, lh) = legend.dim_in_pixel();
    let (x0, x1) = (s.px(20) as i32, s.px(44) as i32);
    let (top, bottom) = (s.px(24) as i32, lh as i32 - s.px(60) as i32);
    let steps = 64;
    for k in 0..steps {
        let t = 1.0 - k as f64 / steps as f64;
        let y0 = top + (bottom - top) * k / steps;
        let y1 = top + (bottom - top) * (k + 1) / steps;
        legend.draw(&Rectangle::new([(x0, y0), (x1, y1 + 1)], cividis(t).filled()))?;
    }
    legend.draw(&Rectangle::new([(x0, top), (x1, bottom)], INK.stroke_width(1)))?;
    let text = s.font(13).pos(Pos::new(HPos::Left, VPos::Center));
    for (v, y) in [(m, top), (0.0, (top + bottom) / 2), (-m, bottom)] {
        legend.draw(&Text::new(brl::percent(v, 1), (x1 + s.px(6) as i32, y), text.clone()))?;
    }
    if cells.iter().flatten().any(Option::is_none) {
        legend.draw(&Rectangle::new(
            [(x0, bottom + s.px(16) as i32), (x1, bottom + s.px(34) as i32)],
            MISSING.filled(),
        ))?;
        legend.draw(&Text::new(
            "sem negócio",
            (x0, bottom + s.px(46) as i32),
            s.font(12).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

fn xy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: Scale,
    points: &[(f64, f64)],
    x: &XAxis,
    x_name: &str,
    y_name: &str,
    line: bool,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let (ylo, yhi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (ylo, yhi) = padded(ylo, yhi, 0.06);
    let x_axis = match x {
        XAxis::Labels(labels) => {
            let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
            slots(labels.len(), fit(w, longest, s))
        }
        XAxis::Number | XAxis::Date => {
            let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
            let (lo, hi) = padded(lo, hi, 0.03);
            let n = fit(w, if *x == XAxis::Date { 10 } else { 7 }, s);
            if *x == XAxis::Date {
                // Whole days only.
                let step = ((hi - lo) / n as f64).ceil().max(1.0);
                let first = lo.ceil();
                Axis { range: lo..hi, ticks: (0..).map(|k| first + k as f64 * step).take_while(|t| *t <= hi).collect() }
            } else {
                continuous(lo, hi, n)
            }
        }
    };
    let x_format = |v: &f64| match x {
        XAxis::Labels(labels) => label(labels, *v),
        XAxis::Date => NaiveDate::from_num_days_from_ce_opt(v.round() as i32).map(brl::date).unwrap_or_default(),
        XAxis::Number => brl::compact(*v),
    };
    let mut chart = ChartBuilder::on(area)
        .margin(s.px(16))
        .margin_right(s.px(30))
        .x_label_area_size(s.px(52))
        .y_label_area_size(s.px(100))
        .build_cartesian_2d(x_axis, continuous(ylo, yhi, 6))?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_label_formatter(&x_format)
        .y_label_formatter(&|v| brl::compact(*v))
        .x_desc(x_name)
        .y_desc(y_name)
        .label_style(s.font(15))
        .axis_desc_style(s.font(16))
        .draw()?;
    if line {
        let mut sorted = points.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart.draw_series(LineSeries::new(sorted, BLUE.stroke_width(s.px(2))))?;
    }
    if !line || points.len() <= 200 {
        let r = if line { s.px(3) } else { s.px(4) };
        chart.draw_series(points.iter().map(|p| Circle::new(*p, r, BLUE.filled())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 2.3e9, 5), vec![0.0, 5e8, 1e9, 1.5e9, 2e9]);
        assert_eq!(ticks(31.2, 33.9, 5), vec![31.5, 32.0, 32.5, 33.0, 33.5]);
    }

    #[test]
    fn cividis_lightness_rises() {
        let l: Vec<f64> = (0..=10).map(|k| luminance(cividis(k as f64 / 10.0))).collect();
        assert!(l.windows(2).all(|w| w[1] > w[0]), "{l:?}");
        // The palette's colours are apart in greyscale.
        assert!((luminance(ORANGE) - luminance(BLUE)).abs() > 0.25);
        assert!((luminance(VERMILION) - luminance(WHITE)).abs() > 0.4);
    }
}
