//! Charts of the lake, drawn offline: what an analyst would rather see than read.
//!
//! A chart is made in two steps that meet at [`Figure`]: [`data`] asks the lake (with the
//! same SQL session as `b3lake sql`, so partition filters prune) and shapes the answer into a
//! figure, and [`draw`] paints a figure onto any plotters backend, PNG or SVG. The split keeps
//! the REPL's `\chart` (a figure from a result already in hand) and the HTML report (PNGs to
//! inline) on the same drawing code, and lets the drawing be tested without a lake.

pub mod brl;
pub mod data;
pub mod draw;

use std::path::Path;

use chrono::NaiveDate;

pub use brl::Unit;
pub use data::{Kind, figure};

/// What can go wrong making a chart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Arguments the lake cannot answer: an unknown ticker, a range without trading days, a
    /// column the result does not have.
    #[error("{0}")]
    Usage(String),
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("{path}")]
    Io { path: String, source: std::io::Error },
    /// The query behind the chart.
    #[error(transparent)]
    Sql(#[from] crate::sql::Error),
    /// The lake's description of the refined table.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A chart ready to draw: titles and what to plot, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub subtitle: Option<String>,
    pub plot: Plot,
}

/// The shapes b3lake draws. Values are `f64` only here, at the pixels: the lake and its
/// labels keep exact decimals.
#[derive(Debug, Clone, PartialEq)]
pub enum Plot {
    /// One bar per category, top to bottom, each the stack of its series' values.
    HorizontalBars { categories: Vec<String>, series: Vec<Series>, unit: Unit, axis: String },
    /// One column per label, left to right (days or categories).
    Columns { labels: Vec<String>, values: Vec<f64>, unit: Unit, axis: String },
    /// Daily candles with a VWAP line and traded-value columns, one panel per ticker.
    Candles { panels: Vec<CandlePanel> },
    /// One row per ticker, one cell per day: the day's % change.
    Heatmap { rows: Vec<String>, days: Vec<NaiveDate>, cells: Vec<Vec<Option<f64>>> },
    /// Points of a query result, joined by a line or not.
    Xy { points: Vec<(f64, f64)>, x: XAxis, x_name: String, y_name: String, line: bool },
}

impl Figure {
    /// The first value that is infinite or not a number: a query's division by a zero
    /// double, say. There is no honest place on an axis for it.
    pub fn non_finite(&self) -> Option<f64> {
        let values: Box<dyn Iterator<Item = f64> + '_> = match &self.plot {
            Plot::HorizontalBars { series, .. } => Box::new(series.iter().flat_map(|s| s.values.iter().copied())),
            Plot::Columns { values, .. } => Box::new(values.iter().copied()),
            Plot::Candles { panels } => Box::new(
                panels.iter().flat_map(|p| &p.days).flat_map(|c| [c.open, c.high, c.low, c.close, c.vwap, c.volume]),
            ),
            Plot::Heatmap { cells, .. } => Box::new(cells.iter().flatten().flatten().copied()),
            Plot::Xy { points, .. } => Box::new(points.iter().flat_map(|&(x, y)| [x, y])),
        };
        values.into_iter().find(|v| !v.is_finite())
    }
}

/// A named series of values, one per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// One ticker's days.
#[derive(Debug, Clone, PartialEq)]
pub struct CandlePanel {
    pub symbol: String,
    pub days: Vec<Candle>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    pub day: NaiveDate,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// Volume-weighted average price, in the units of the prices (per quotation factor, as
    /// B3 quotes them), where the refined table has it per share.
    pub vwap: f64,
    /// Traded value, R$.
    pub volume: f64,
}

/// What an x value means.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    Number,
    /// Days since 0001-01-01 (chrono's `num_days_from_ce`).
    Date,
    /// The index of a label.
    Labels(Vec<String>),
}

/// The picture formats, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    pub fn of(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::Usage(format!("{}: the chart's file must end in .png or .svg", path.display()))),
        }
    }
}

/// A picture's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Size { width: 1200, height: 675 }
    }
}

impl Size {
    pub fn check(self) -> Result<Size> {
        if !(200..=8000).contains(&self.width) || !(150..=8000).contains(&self.height) {
            return Err(Error::Usage(format!(
                "a chart of {}x{} pixels: width and height must be 200..8000 and 150..8000",
                self.width, self.height
            )));
        }
        Ok(self)
    }
}

/// Draws `figure` to `path` (PNG or SVG by its extension), replacing the file whole.
pub fn write(figure: &Figure, path: &Path, size: Size) -> Result<()> {
    let format = Format::of(path)?;
    let bytes = draw::render(figure, format, size.check()?)?;
    crate::local_fs::replace_local_file(path, &bytes)
        .map_err(|source| Error::Io { path: path.display().to_string(), source })
}
