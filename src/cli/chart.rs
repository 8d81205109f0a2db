//! `chart`: one picture of the lake, drawn to a PNG or SVG file.

use std::path::PathBuf;

use b3lake::chart::data::XyStyle;
use b3lake::chart::{self, Kind, Size};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{DayRange, LakeArg};

/// Where the picture goes, and its size.
#[derive(Args, Debug)]
pub struct ChartOut {
    #[command(flatten)]
    lake: LakeArg,
    /// The picture: FILE.png or FILE.svg.
    #[arg(long)]
    out: PathBuf,
    /// Width in pixels.
    #[arg(long, default_value_t = 1200)]
    width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 675)]
    height: u32,
}

/// `--from/--to`, `--n` and where the picture goes: the charts of the first `n` of a range.
#[derive(Args, Debug)]
pub struct RangeChart {
    #[command(flatten)]
    range: DayRange,
    /// How many to show: tickers (the most traded) or expiries (the nearest).
    #[arg(long, default_value_t = 20)]
    n: usize,
    #[command(flatten)]
    out: ChartOut,
}

#[derive(Subcommand, Debug)]
pub enum ChartKind {
    /// The tickers with the largest traded value on a day, as bars.
    TopVolume {
        #[arg(long)]
        day: NaiveDate,
        /// How many tickers.
        #[arg(long, default_value_t = 10)]
        n: usize,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Daily candles, VWAP and traded value of tickers (one panel each).
    Price {
        /// A ticker (PETR4); repeatable.
        #[arg(long = "symbol", required = true)]
        symbols: Vec<String>,
        #[command(flatten)]
        range: DayRange,
        #[command(flatten)]
        out: ChartOut,
    },
    /// The spot market's traded value per day.
    MarketVolume {
        #[command(flatten)]
        range: DayRange,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Daily % change (close over open) of the most traded tickers, as a heatmap.
    ReturnsHeatmap(RangeChart),
    /// Options' traded value (calls and puts) by expiry date.
    ExpiryCalendar(RangeChart),
    /// Any query's result: one column against another.
    Sql {
        /// The query.
        #[arg(long)]
        sql: String,
        /// The column on the x axis.
        #[arg(long)]
        x: String,
        /// The column on the y axis (numeric).
        #[arg(long)]
        y: String,
        /// How the points are drawn.
        #[arg(long, default_value = "bar", ignore_case = true)]
        kind: XyStyle,
        #[command(flatten)]
        out: ChartOut,
    },
}

impl ChartKind {
    pub async fn run(self) -> anyhow::Result<()> {
        let (kind, out) = match self {
            ChartKind::TopVolume { day, n, out } => (Kind::TopVolume { day, n }, out),
            ChartKind::Price { symbols, range, out } => (Kind::Price { symbols, from: range.from, to: range.to }, out),
            ChartKind::MarketVolume { range, out } => (Kind::MarketVolume { from: range.from, to: range.to }, out),
            ChartKind::ReturnsHeatmap(RangeChart { range, n, out }) => {
                (Kind::ReturnsHeatmap { from: range.from, to: range.to, n }, out)
            }
            ChartKind::ExpiryCalendar(RangeChart { range, n, out }) => {
                (Kind::ExpiryCalendar { from: range.from, to: range.to, n }, out)
            }
            ChartKind::Sql { sql, x, y, kind, out } => (Kind::Sql { sql, x, y, style: kind }, out),
        };
        let size = Size { width: out.width, height: out.height }.check()?;
        chart::Format::of(&out.out)?;
        let lake = out.lake.open().await?;
        let session = b3lake::sql::session(&lake).await?;
        let figure = chart::figure(&session, &kind).await?;
        chart::write(&figure, &out.out, size)?;
        println!("wrote {} ({}x{}): {}", out.out.display(), size.width, size.height, figure.title);
        Ok(())
    }
}
