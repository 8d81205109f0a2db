//! From the lake to figures: one query per chart kind, with partition filters so that a
//! chart of one day reads one day, and a clear error when the answer is empty, since an
//! empty picture would look like a market without trades.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Schema};
use chrono::{Datelike, NaiveDate};

use super::brl::{self, Unit};
use super::{Candle, CandlePanel, Error, Figure, Plot, Result, Series, XAxis};
use crate::catalog::refined::RefinedSpec;
use crate::source::cotahist::record::UNIX_EPOCH_DAYS_FROM_CE;
use crate::sql::{Session, execute};

/// A chart of the lake and what it needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The `n` tickers with the largest traded value on `day`.
    TopVolume {
        /// The trading day.
        day: NaiveDate,
        /// How many tickers.
        n: usize,
    },
    /// Candles, VWAP and traded value of each ticker, day by day.
    Price {
        /// The tickers, one panel each.
        symbols: Vec<String>,
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
    },
    /// The spot market's traded value per day.
    MarketVolume {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
    },
    /// The daily % change (close over open) of the `n` most traded tickers of the range.
    ReturnsHeatmap {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
        /// How many tickers (rows).
        n: usize,
    },
    /// Option traded value (calls and puts) by expiry, the `n` nearest expiries.
    ExpiryCalendar {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
        /// How many expiries.
        n: usize,
    },
    /// Any query's result: `x` against `y`.
    Sql {
        /// The query.
        sql: String,
        /// The column on the x axis.
        x: String,
        /// The column on the y axis (numeric).
        y: String,
        /// How the points are drawn.
        style: XyStyle,
    },
}

/// How a query result is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum XyStyle {
    /// One bar per x value.
    Bar,
    /// Points joined in x order.
    Line,
    /// Points alone.
    Scatter,
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

/// Asks the lake for what `kind` shows.
pub async fn figure(session: &Session, kind: &Kind) -> Result<Figure> {
    if let Kind::Price { from, to, .. }
    | Kind::MarketVolume { from, to }
    | Kind::ReturnsHeatmap { from, to, .. }
    | Kind::ExpiryCalendar { from, to, .. } = kind
        && from > to
    {
        return Err(usage(format!("--from {} is after --to {}", brl::date(*from), brl::date(*to))));
    }
    match kind {
        Kind::TopVolume { day, n } => top_volume(session, *day, *n).await,
        Kind::Price { symbols, from, to } => price(session, symbols, *from, *to).await,
        Kind::MarketVolume { from, to } => market_volume(session, *from, *to).await,
        Kind::ReturnsHeatmap { from, to, n } => returns_heatmap(session, *from, *to, *n).await,
        Kind::ExpiryCalendar { from, to, n } => expiry_calendar(session, *from, *to, *n).await,
        Kind::Sql { sql, x, y, style } => {
            let done = execute(session, sql).await?;
            Ok(from_result(&done.schema, &done.batches, x, y, *style)?)
        }
    }
}

/// Filters a table partitioned by year, month and day to the days `from..=to`: the year bounds
/// prune years before months are listed, the combined key the days, `data_pregao` the rows.
pub fn days_filter(from: NaiveDate, to: NaiveDate) -> String {
    let key = |d: NaiveDate| d.year() * 10000 + d.month() as i32 * 100 + d.day() as i32;
    format!(
        "year BETWEEN {} AND {} AND year * 10000 + month * 100 + day BETWEEN {} AND {} \
         AND data_pregao BETWEEN DATE '{from}' AND DATE '{to}'",
        from.year(),
        to.year(),
        key(from),
        key(to)
    )
}

/// `'A', 'B'`: SQL string literals for an `IN` list.
fn string_list(values: &[String]) -> String {
    values.iter().map(|s| format!("'{}'", s.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

async fn query(session: &Session, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(execute(session, sql).await?.batches)
}

/// The error for a range without trading days, with the days the lake has.
pub(crate) async fn no_days(session: &Session, from: NaiveDate, to: NaiveDate, what: &str) -> Error {
    let range = if from == to {
        format!("on {}", brl::date(from))
    } else {
        format!("between {} and {}", brl::date(from), brl::date(to))
    };
    let span = query(session, "SELECT min(data_pregao), max(data_pregao) FROM cotacoes_b3_resumo_diario")
        .await
        .ok()
        .and_then(|b| {
            let b = b.first()?;
            let first = dates(b.column(0)).first().copied().flatten()?;
            let last = dates(b.column(1)).first().copied().flatten()?;
            Some(format!(" (the lake has trading days from {} to {})", brl::date(first), brl::date(last)))
        })
        .unwrap_or_else(|| " (the lake has no transformed days; run b3lake transform)".to_string());
    usage(format!("no {what} {range}{span}"))
}

async fn top_volume(session: &Session, day: NaiveDate, n: usize) -> Result<Figure> {
    if n == 0 {
        return Err(usage("--n must be at least 1"));
    }
    let batches = query(
        session,
        &format!(
            "SELECT symbol, sum(vol_financeiro_total) AS v FROM cotacoes_b3_refined WHERE {} \
             GROUP BY symbol ORDER BY v DESC, symbol LIMIT {n}",
            days_filter(day, day)
        ),
    )
    .await?;
    let (symbols, values) = (strings_of(&batches, 0), floats_of(&batches, 1));
    if symbols.is_empty() {
        return Err(no_days(session, day, day, "quotes").await);
    }
    let total: f64 = values.iter().sum();
    Ok(Figure {
        title: format!("Maiores volumes financeiros em {}", brl::date(day)),
        subtitle: Some(format!("{} tickers do mercado à vista: {} no total", symbols.len(), Unit::Brl.short(total))),
        plot: Plot::HorizontalBars {
            categories: symbols,
            series: vec![Series { name: "Volume financeiro".into(), values }],
            unit: Unit::Brl,
            axis: "Volume financeiro (R$)".into(),
        },
    })
}

async fn price(session: &Session, symbols: &[String], from: NaiveDate, to: NaiveDate) -> Result<Figure> {
    if symbols.is_empty() {
        return Err(usage("name at least one --symbol"));
    }
    let wanted: Vec<String> = symbols.iter().map(|s| s.trim().to_ascii_uppercase()).collect();
    let list = string_list(&wanted);
    let batches = query(
        session,
        &format!(
            "SELECT symbol, data_pregao, preco_abertura, preco_maximo, preco_minimo, preco_fechamento, \
             preco_medio_ponderado * fator_cotacao, vol_financeiro_total FROM cotacoes_b3_refined \
             WHERE {} AND symbol IN ({list}) ORDER BY symbol, data_pregao",
            days_filter(from, to)
        ),
    )
    .await?;
    let mut panels: BTreeMap<String, Vec<Candle>> = BTreeMap::new();
    for b in &batches {
        let (sym, day) = (b.column(0).as_string::<i32>(), dates(b.column(1)));
        let cols: Vec<Vec<f64>> = (2..8).map(|i| floats(b.column(i))).collect();
        for r in 0..b.num_rows() {
            let Some(day) = day[r] else { continue };
            panels.entry(sym.value(r).to_string()).or_default().push(Candle {
                day,
                open: cols[0][r],
                high: cols[1][r],
                low: cols[2][r],
                close: cols[3][r],
                vwap: cols[4][r],
                volume: cols[5][r],
            });
        }
    }
    if panels.is_empty() && !has_days(session, from, to).await? {
        return Err(no_days(session, from, to, "trading days").await);
    }
    let missing: Vec<&String> = wanted.iter().filter(|s| !panels.contains_key(*s)).collect();
    if !missing.is_empty() {
        let names = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        return Err(usage(format!(
            "no quotes for {names} between {} and {} (unknown ticker, or not traded on the spot market then)",
            brl::date(from),
            brl::date(to)
        )));
    }
    let panels: Vec<CandlePanel> =
        wanted.iter().map(|s| CandlePanel { symbol: s.clone(), days: panels.remove(s).unwrap_or_default() }).collect();
    Ok(Figure {
        title: format!("Cotações de {}", wanted.join(", ")),
        subtitle: Some(format!(
            "{} a {}: candle vazado, alta; cheio, baixa; tracejado, VWAP; colunas, volume financeiro",
            brl::date(from),
            brl::date(to)
        )),
        plot: Plot::Candles { panels },
    })
}

async fn has_days(session: &Session, from: NaiveDate, to: NaiveDate) -> Result<bool> {
    let b = query(session, &format!("SELECT count(*) FROM cotacoes_b3_resumo_diario WHERE {}", days_filter(from, to)))
        .await?;
    Ok(b.first().is_some_and(|b| b.column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0) > 0))
}

async fn market_volume(session: &Session, from: NaiveDate, to: NaiveDate) -> Result<Figure> {
    let batches = query(
        session,
        &format!(
            "SELECT data_pregao, vol_financeiro_total FROM cotacoes_b3_resumo_diario WHERE {} ORDER BY data_pregao",
            days_filter(from, to)
        ),
    )
    .await?;
    let days: Vec<NaiveDate> = dates_of(&batches, 0);
    if days.is_empty() {
        return Err(no_days(session, from, to, "trading days").await);
    }
    Ok(market_volume_figure(from, to, &days, floats_of(&batches, 1)))
}

/// The market-volume figure of the days' traded values (the report has them already).
pub(crate) fn market_volume_figure(from: NaiveDate, to: NaiveDate, days: &[NaiveDate], values: Vec<f64>) -> Figure {
    let total: f64 = values.iter().sum();
    Figure {
        title: "Volume financeiro diário do mercado à vista".into(),
        subtitle: Some(format!(
            "{} a {}: {}, {} no total, média de {} por pregão",
            brl::date(from),
            brl::date(to),
            brl::sessions(days.len()),
            Unit::Brl.short(total),
            Unit::Brl.short(total / days.len() as f64)
        )),
        plot: Plot::Columns {
            labels: days.iter().map(|d| brl::date(*d)).collect(),
            values,
            unit: Unit::Brl,
            axis: "Volume financeiro (R$)".into(),
        },
    }
}

async fn returns_heatmap(session: &Session, from: NaiveDate, to: NaiveDate, n: usize) -> Result<Figure> {
    if n == 0 {
        return Err(usage("--n must be at least 1"));
    }
    // The ranking reads the raw table (one file a day) with the refined table's own filter, so
    // the same tickers rank the same; the refined table (one file per ticker and day) is then
    // read for those tickers only.
    let filter = RefinedSpec::load(session.catalog().lake()).await?.unwrap_or_default().filter;
    let ranked = query(
        session,
        &format!(
            "SELECT codigo_negociacao, sum(volume_total_negociado) AS t FROM cotacoes_b3_raw WHERE {} AND ({filter}) \
             GROUP BY codigo_negociacao ORDER BY t DESC, codigo_negociacao LIMIT {n}",
            days_filter(from, to)
        ),
    )
    .await?;
    let top = strings_of(&ranked, 0);
    if top.is_empty() {
        return Err(no_days(session, from, to, "quotes").await);
    }
    let list = string_list(&top);
    let batches = query(
        session,
        &format!(
            "SELECT symbol, data_pregao, variacao_percentual_dia FROM cotacoes_b3_refined \
             WHERE {} AND symbol IN ({list})",
            days_filter(from, to)
        ),
    )
    .await?;
    let mut values: BTreeMap<(String, NaiveDate), f64> = BTreeMap::new();
    let mut days = BTreeSet::new();
    for b in &batches {
        let (sym, day, v) = (b.column(0).as_string::<i32>(), dates(b.column(1)), floats(b.column(2)));
        for r in 0..b.num_rows() {
            if let Some(d) = day[r] {
                days.insert(d);
                if b.column(2).is_valid(r) {
                    values.insert((sym.value(r).to_string(), d), v[r]);
                }
            }
        }
    }
    let rows = top;
    let days: Vec<NaiveDate> = days.into_iter().collect();
    let cells = rows.iter().map(|s| days.iter().map(|d| values.get(&(s.clone(), *d)).copied()).collect()).collect();
    Ok(Figure {
        title: format!("Variação diária dos {} tickers mais negociados", rows.len()),
        subtitle: Some(format!(
            "{} a {}: fechamento sobre abertura, % (claro: alta; escuro: baixa)",
            brl::date(from),
            brl::date(to)
        )),
        plot: Plot::Heatmap { rows, days, cells },
    })
}

async fn expiry_calendar(session: &Session, from: NaiveDate, to: NaiveDate, n: usize) -> Result<Figure> {
    if n == 0 {
        return Err(usage("--n must be at least 1"));
    }
    let batches = query(
        session,
        &format!(
            "SELECT data_vencimento, sum(CASE WHEN tipo_mercado = 70 THEN volume_total_negociado ELSE 0 END) AS calls, \
                    sum(CASE WHEN tipo_mercado = 80 THEN volume_total_negociado ELSE 0 END) AS puts \
             FROM cotacoes_b3_raw WHERE {} AND tipo_mercado IN (70, 80) AND data_vencimento IS NOT NULL \
             GROUP BY data_vencimento ORDER BY data_vencimento",
            days_filter(from, to)
        ),
    )
    .await?;
    let expiries = dates_of(&batches, 0);
    if expiries.is_empty() {
        if !has_days(session, from, to).await? {
            return Err(no_days(session, from, to, "trading days").await);
        }
        return Err(usage(format!(
            "no options traded between {} and {} (tipo_mercado 70 and 80)",
            brl::date(from),
            brl::date(to)
        )));
    }
    let (calls, puts) = (floats_of(&batches, 1), floats_of(&batches, 2));
    let shown = expiries.len().min(n);
    let rest: f64 = calls[shown..].iter().chain(&puts[shown..]).sum();
    let mut subtitle = format!("opções negociadas de {} a {}, por vencimento", brl::date(from), brl::date(to));
    if shown < expiries.len() {
        subtitle.push_str(&format!(
            "; os {shown} mais próximos de {} vencimentos (demais: {})",
            expiries.len(),
            Unit::Brl.short(rest)
        ));
    }
    Ok(Figure {
        title: "Calendário de vencimentos de opções".into(),
        subtitle: Some(subtitle),
        plot: Plot::HorizontalBars {
            categories: expiries[..shown].iter().map(|d| brl::date(*d)).collect(),
            series: vec![
                Series { name: "Opções de compra".into(), values: calls[..shown].to_vec() },
                Series { name: "Opções de venda".into(), values: puts[..shown].to_vec() },
            ],
            unit: Unit::Brl,
            axis: "Volume financeiro (R$)".into(),
        },
    })
}

/// A figure of a result already computed: `x` against `y`, drawn as `style`.
pub fn from_result(
    schema: &Schema,
    batches: &[RecordBatch],
    x: &str,
    y: &str,
    style: XyStyle,
) -> super::Result<Figure> {
    let column = |name: &str| {
        schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Error::Usage(format!("no column {name:?} in the result (its columns: {})", names.join(", ")))
        })
    };
    let (xi, yi) = (column(x)?, column(y)?);
    let y_type = schema.field(yi).data_type();
    if !(y_type.is_numeric()) {
        return Err(Error::Usage(format!("column {y:?} is {y_type}, not a number: it cannot be the y axis")));
    }
    let mut xs: Vec<ArrayRef> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for b in batches {
        let yv = floats(b.column(yi));
        for (r, v) in yv.into_iter().enumerate() {
            if b.column(yi).is_valid(r) && b.column(xi).is_valid(r) {
                xs.push(b.column(xi).slice(r, 1));
                ys.push(v);
            }
        }
    }
    if ys.is_empty() {
        return Err(Error::Usage(format!("the result has no rows with both {x:?} and {y:?} to draw")));
    }
    const MAX_POINTS: usize = 100_000;
    if ys.len() > MAX_POINTS {
        return Err(Error::Usage(format!(
            "the result has {} rows; a chart draws at most {MAX_POINTS} (aggregate or LIMIT first)",
            ys.len()
        )));
    }
    let xs = arrow::compute::concat(&xs.iter().map(|a| a.as_ref()).collect::<Vec<_>>())
        .map_err(|e| Error::Usage(format!("column {x:?}: {e}")))?;
    let x_type = xs.data_type().clone();
    let labels = || -> Vec<String> {
        match &x_type {
            DataType::Date32 | DataType::Date64 => {
                dates(&xs).into_iter().map(|d| d.map(brl::date).unwrap_or_default()).collect()
            }
            t if t.is_integer() => strings(&xs),
            t if t.is_numeric() => floats(&xs).into_iter().map(|v| brl::decimal(v, 2)).collect(),
            _ => strings(&xs),
        }
    };
    let title = format!("{y} por {x}");
    let plot = match style {
        XyStyle::Bar => {
            if ys.len() > 500 {
                return Err(Error::Usage(format!(
                    "{} bars are too many to read; use --kind line or LIMIT the query",
                    ys.len()
                )));
            }
            Plot::Columns { labels: labels(), values: ys, unit: Unit::Count, axis: y.to_string() }
        }
        XyStyle::Line | XyStyle::Scatter => {
            let (axis, positions): (XAxis, Vec<f64>) = match &x_type {
                DataType::Date32 | DataType::Date64 => (
                    XAxis::Date,
                    dates(&xs).into_iter().map(|d| d.map_or(0.0, |d| d.num_days_from_ce() as f64)).collect(),
                ),
                t if t.is_numeric() => (XAxis::Number, floats(&xs)),
                _ => (XAxis::Labels(labels()), (0..ys.len()).map(|i| i as f64).collect()),
            };
            let points = positions.into_iter().zip(ys).collect();
            Plot::Xy { points, x: axis, x_name: x.to_string(), y_name: y.to_string(), line: style == XyStyle::Line }
        }
    };
    Ok(Figure { title, subtitle: None, plot })
}

/// A numeric column as doubles (NULL as 0; callers check validity where it matters).
fn floats(a: &ArrayRef) -> Vec<f64> {
    match arrow::compute::cast(a, &DataType::Float64) {
        Ok(c) => c.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(0.0)).collect(),
        Err(_) => vec![0.0; a.len()],
    }
}

/// A column as text, NULL as empty; a DECIMAL keeps every digit (`1234.50`).
pub(crate) fn strings(a: &ArrayRef) -> Vec<String> {
    match arrow::compute::cast(a, &DataType::Utf8) {
        Ok(c) => c.as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_string()).collect(),
        Err(_) => vec![String::new(); a.len()],
    }
}

fn dates(a: &ArrayRef) -> Vec<Option<NaiveDate>> {
    match arrow::compute::cast(a, &DataType::Date32) {
        Ok(c) => c
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + UNIX_EPOCH_DAYS_FROM_CE)))
            .collect(),
        Err(_) => vec![None; a.len()],
    }
}

pub(crate) fn floats_of(batches: &[RecordBatch], i: usize) -> Vec<f64> {
    batches.iter().flat_map(|b| floats(b.column(i))).collect()
}

fn strings_of(batches: &[RecordBatch], i: usize) -> Vec<String> {
    batches.iter().flat_map(|b| strings(b.column(i))).collect()
}

pub(crate) fn dates_of(batches: &[RecordBatch], i: usize) -> Vec<NaiveDate> {
    batches.iter().flat_map(|b| dates(b.column(i))).flatten().collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Date32Array, Decimal128Array, StringArray};
    use arrow::datatypes::Field;

    use super::*;

    #[test]
    fn figures_of_a_result() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("symbol", DataType::Utf8, false),
            Field::new("dia", DataType::Date32, false),
            Field::new("v", DataType::Decimal128(18, 2), true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["PETR4", "VALE3"])),
                Arc::new(Date32Array::from(vec![19027, 19028])),
                Arc::new(Decimal128Array::from(vec![Some(123456), None]).with_precision_and_scale(18, 2).unwrap()),
            ],
        )
        .unwrap();
        let f = from_result(&schema, std::slice::from_ref(&batch), "symbol", "v", XyStyle::Bar).unwrap();
        // The NULL row is left out; the decimal is exact to the cent as a double.
        assert_eq!(
            f.plot,
            Plot::Columns { labels: vec!["PETR4".into()], values: vec![1234.56], unit: Unit::Count, axis: "v".into() }
        );
        let f = from_result(&schema, std::slice::from_ref(&batch), "dia", "v", XyStyle::Line).unwrap();
        let Plot::Xy { points, x: XAxis::Date, .. } = f.plot else { panic!("{f:?}") };
        assert_eq!(points, vec![(NaiveDate::from_ymd_opt(2022, 2, 4).unwrap().num_days_from_ce() as f64, 1234.56)]);
        let e = from_result(&schema, std::slice::from_ref(&batch), "x", "v", XyStyle::Bar).unwrap_err().to_string();
        assert_eq!(e, "no column \"x\" in the result (its columns: symbol, dia, v)");
        let e = from_result(&schema, &[batch], "v", "symbol", XyStyle::Bar).unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
    }
}
