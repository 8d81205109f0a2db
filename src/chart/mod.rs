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
    /// The drawing library failed.
    #[error("drawing the chart: {0}")]
    Draw(String),
    /// Writing the picture failed.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The query behind the chart.
    #[error(transparent)]
    Sql(#[from] crate::sql::Error),
    /// The lake's description of the refined table.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
}

/// The charts' result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A chart ready to draw: titles and what to plot, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The title, above the plot.
    pub title: String,
    /// A line under the title: the source and the unit.
    pub subtitle: Option<String>,
    /// What is drawn.
    pub plot: Plot,
}

/// The shapes b3lake draws. Values are `f64` only here, at the pixels: the lake and its
/// labels keep exact decimals.
#[derive(Debug, Clone, PartialEq)]
pub enum Plot {
    /// One bar per category, top to bottom, each the stack of its series' values.
    HorizontalBars {
        /// The bars, top first.
        categories: Vec<String>,
        /// The stacked parts of each bar.
        series: Vec<Series>,
        /// How values are written.
        unit: Unit,
        /// The value axis title.
        axis: String,
    },
    /// One column per label, left to right (days or categories).
    Columns {
        /// The columns, left first.
        labels: Vec<String>,
        /// One per label.
        values: Vec<f64>,
        /// How values are written.
        unit: Unit,
        /// The value axis title.
        axis: String,
    },
    /// Daily candles with a VWAP line and traded-value columns, one panel per ticker.
    Candles {
        /// The panels, top first.
        panels: Vec<CandlePanel>,
    },
    /// One row per ticker, one cell per day: the day's % change.
    Heatmap {
        /// The row labels (tickers).
        rows: Vec<String>,
        /// The columns.
        days: Vec<NaiveDate>,
        /// By row, then day; `None` where the ticker did not trade.
        cells: Vec<Vec<Option<f64>>>,
    },
    /// Points of a query result, joined by a line or not.
    Xy {
        /// The points, in x order.
        points: Vec<(f64, f64)>,
        /// What x values mean.
        x: XAxis,
        /// The x axis title.
        x_name: String,
        /// The y axis title.
        y_name: String,
        /// Join the points.
        line: bool,
    },
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
    /// The name, in the legend.
    pub name: String,
    /// One value per category.
    pub values: Vec<f64>,
}

/// One ticker's days.
#[derive(Debug, Clone, PartialEq)]
pub struct CandlePanel {
    /// The ticker.
    pub symbol: String,
    /// Its trading days, in order.
    pub days: Vec<Candle>,
}

/// One ticker's trading day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    /// The trading day.
    pub day: NaiveDate,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price (last trade).
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
    /// Plain numbers.
    Number,
    /// Days since 0001-01-01 (chrono's `num_days_from_ce`).
    Date,
    /// The index of a label.
    Labels(Vec<String>),
}

/// The picture formats, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A bitmap, for pages and chats.
    Png,
    /// Vectors, for print.
    Svg,
}

impl Format {
    /// The format of a file name's extension (`.png`, `.svg`, any case).
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
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

impl Default for Size {
    fn default() -> Self {
        Size { width: 1200, height: 675 }
    }
}

impl Size {
    /// The size, if a chart can be drawn at it (200 to 8,000 by 150 to 8,000 pixels).
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
