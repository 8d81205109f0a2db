//! One HTML page about a range of days: the charts, the last day's top tables, the daily
//! summary and the data-quality checks. The page carries everything inline (PNG charts as
//! data URIs, one style sheet, no script, no font or network fetch), so it can be mailed,
//! archived or opened from an S3 console and look the same.

use std::fmt::Write as _;
use std::path::Path;

use arrow::array::RecordBatch;
use base64::Engine as _;
use chrono::NaiveDate;

use crate::chart::brl::{self, Unit};
use crate::chart::data::{dates_of, days_filter, floats_of, no_days, strings};
use crate::chart::{self, Figure, Format, Kind, Size};
use crate::error::Result;
use crate::lake::Lake;
use crate::quality::{self, CheckOptions, CheckResult};
use crate::sql::{Session, execute};

/// What the page covers and how it looks.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// Each chart's size; the page shows it at exactly this size.
    pub chart_size: Size,
    /// Tickers in the top tables and the heatmap.
    pub top: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

impl ReportOptions {
    /// The days from `from` to `to`, with charts of 1000x520 pixels and top-10 tables.
    pub fn new(from: NaiveDate, to: NaiveDate) -> ReportOptions {
        ReportOptions { from, to, chart_size: Size { width: 1000, height: 520 }, top: 10, progress: false }
    }
}

/// A finished page.
#[derive(Debug)]
pub struct Report {
    /// The page, with its charts inlined.
    pub html: String,
    /// Chart titles, in page order.
    pub charts: Vec<String>,
    /// Charts that had nothing to show and why (options on days without options, say).
    pub skipped: Vec<String>,
    /// Trading days in the range.
    pub days: usize,
    /// The last trading day in the range, the one the top tables are of.
    pub last_day: NaiveDate,
    /// Data quality checks over their threshold.
    pub checks_failed: usize,
}

/// Builds the page and writes it to `path`, whole or not at all.
pub async fn write(lake: &Lake, opts: &ReportOptions, path: &Path) -> Result<Report> {
    let report = build(lake, opts).await?;
    crate::local_fs::replace_local_file(path, report.html.as_bytes())
        .map_err(|source| chart::Error::Io { path: path.display().to_string(), source })?;
    Ok(report)
}

/// Builds the page: reads what it shows, then renders it.
pub async fn build(lake: &Lake, opts: &ReportOptions) -> Result<Report> {
    let gathered = gather(lake, opts).await?;
    render(lake, opts, gathered)
}

/// What the page shows, read from the lake.
struct Gathered {
    /// The daily summary's rows, one a trading day.
    summary: Vec<RecordBatch>,
    days: Vec<NaiveDate>,
    last: NaiveDate,
    charts: Vec<(&'static str, Figure)>,
    /// The charts left out, and why.
    skipped: Vec<String>,
    checks: Vec<CheckResult>,
    top: Vec<RecordBatch>,
    movers: Vec<(&'static str, Vec<RecordBatch>)>,
}

async fn gather(lake: &Lake, opts: &ReportOptions) -> Result<Gathered> {
    let (from, to) = (opts.from, opts.to);
    // The steps: five charts, the checks, the top tables.
    let bar =
        crate::telemetry::progress_bar(opts.progress, 7, "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}");
    let step = |what: &str| {
        tracing::info!(step = what, "report");
        bar.set_message(what.to_string());
        bar.inc(1);
    };
    bar.set_message("daily summary");
    let session = crate::sql::session(lake).await?;
    // The daily summary says which days there are; without any, the report has nothing to say.
    let summary = query(
        &session,
        &format!(
            "SELECT data_pregao, numero_tickers, vol_financeiro_total, numero_negocios, altas, baixas, estaveis, \
             maior_alta, maior_alta_pct, maior_baixa, maior_baixa_pct FROM cotacoes_b3_resumo_diario WHERE {} \
             ORDER BY data_pregao",
            days_filter(from, to)
        ),
    )
    .await?;
    let days: Vec<NaiveDate> = dates_of(&summary, 0);
    let Some(&last) = days.last() else {
        return Err(no_days(&session, from, to, "trading days").await.into());
    };
    let market = chart::data::market_volume_figure(from, to, &days, floats_of(&summary, 2));
    step("market-volume");

    let mut charts = vec![("market-volume", market)];
    let mut skipped = Vec::new();
    let leaders = top_symbols(&session, last, 3).await?;
    let kinds = [
        ("top-volume", Kind::TopVolume { day: last, n: opts.top }),
        ("price", Kind::Price { symbols: leaders, from, to }),
        ("returns-heatmap", Kind::ReturnsHeatmap { from, to, n: opts.top.max(10) * 2 }),
        ("expiry-calendar", Kind::ExpiryCalendar { from, to, n: 20 }),
    ];
    for (name, kind) in kinds {
        let figure = chart::figure(&session, &kind).await;
        step(name);
        match figure {
            Ok(figure) => charts.push((name, figure)),
            // A kind with nothing in the range (no options traded) is left out and said so.
            Err(chart::Error::Usage(why)) => skipped.push(format!("{name}: {why}")),
            Err(e) => return Err(e.into()),
        }
    }

    let checks = quality::check(lake, &CheckOptions { days: days.clone(), ..Default::default() }).await?;
    step("data-quality checks");
    let top = top_rows(&session, last, opts.top).await?;
    let movers = movers(&session, last, 5).await?;
    step("top tables");
    bar.finish_and_clear();
    Ok(Gathered { summary, days, last, charts, skipped, checks, top, movers })
}

fn render(lake: &Lake, opts: &ReportOptions, gathered: Gathered) -> Result<Report> {
    let Gathered { summary, days, last, charts, skipped, checks, top, movers } = gathered;
    let (from, to) = (opts.from, opts.to);
    let mut html = String::with_capacity(1 << 20);
    let title = if from == to {
        format!("Mercado B3 em {}", brl::date(from))
    } else {
        format!("Mercado B3 de {} a {}", brl::date(from), brl::date(to))
    };
    write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"pt-BR\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p class=\"meta\">{}, o último em {}. Lago: <code>{}</code>.</p>\n",
        esc(&title),
        esc(&title),
        brl::sessions(days.len()),
        brl::date(last),
        esc(&lake.to_string())
    )
    .expect("writing to a String");
    html.push_str(&cards(&summary));

    html.push_str("<h2>Gráficos</h2>\n");
    for (name, figure) in &charts {
        // Candles get a panel of the chart's height, less the titles, each.
        let size = match &figure.plot {
            chart::Plot::Candles { panels } if panels.len() > 1 => {
                Size { height: opts.chart_size.height * panels.len() as u32 * 3 / 4, ..opts.chart_size }
            }
            _ => opts.chart_size,
        };
        let png = chart::draw::render(figure, Format::Png, size)?;
        let _ = writeln!(
            html,
            "<figure id=\"chart-{name}\"><img alt=\"{}\" width=\"{}\" height=\"{}\" src=\"data:image/png;base64,{}\"></figure>",
            esc(&figure.title),
            size.width,
            size.height,
            base64::engine::general_purpose::STANDARD.encode(png)
        );
    }
    for why in &skipped {
        let _ = writeln!(html, "<p class=\"note\">Sem gráfico: {}</p>", esc(why));
    }

    let _ = writeln!(html, "<h2>Destaques de {}</h2>", brl::date(last));
    html.push_str(&top_table(&top, opts.top));
    html.push_str(&movers_table(&movers));

    html.push_str("<h2>Resumo diário</h2>\n");
    html.push_str(&summary_table(&summary));

    let failed = checks.iter().filter(|c| !c.passed).count();
    let _ = writeln!(
        html,
        "<h2>Qualidade dos dados</h2>\n<p class=\"meta\">{} verificações em {}: {}.</p>",
        checks.len(),
        brl::sessions(days.len()),
        if failed == 0 { "todas passaram".to_string() } else { format!("{failed} falharam") }
    );
    let rows: Vec<Vec<Cell>> = checks
        .iter()
        .map(|c| {
            vec![
                Cell::text(format!("{}.{}", c.table, c.check)),
                Cell::text(&c.description),
                Cell::num(c.violations.to_string()),
                Cell::text(c.example.clone().unwrap_or_default()),
                Cell::status(c.passed),
            ]
        })
        .collect();
    html.push_str(&table(&["verificação", "regra", "violações", "exemplo", "resultado"], &rows));
    html.push_str("</main>\n</body>\n</html>\n");
    Ok(Report {
        html,
        charts: charts.iter().map(|(_, f)| f.title.clone()).collect(),
        skipped,
        days: days.len(),
        last_day: last,
        checks_failed: failed,
    })
}

const STYLE: &str = "body{margin:0;background:#f6f6f4;color:#212121;font:15px/1.45 'DejaVu Sans',Verdana,sans-serif}\
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}h1{font-size:28px;margin:0 0 4px}\
h2{font-size:21px;margin:32px 0 10px;border-bottom:2px solid #212121;padding-bottom:4px}\
.meta{color:#555;margin:4px 0 12px}.note{color:#555;font-style:italic}\
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{background:#fff;border:1px solid #ddd;padding:10px 16px;min-width:180px}\
.card b{display:block;font-size:22px}figure{margin:0 0 18px;background:#fff;border:1px solid #ddd;width:max-content}\
figure img{display:block}table{border-collapse:collapse;background:#fff;margin:8px 0 16px;width:100%}\
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#ececec}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
td.ok{font-weight:bold}td.fail{font-weight:bold;background:#212121;color:#fff}caption{text-align:left;font-weight:bold;padding:4px 0}";

/// HTML-escapes text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

struct Cell {
    text: String,
    class: &'static str,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell { text: s.into(), class: "" }
    }
    fn num(s: impl Into<String>) -> Cell {
        Cell { text: s.into(), class: "n" }
    }
    fn status(passed: bool) -> Cell {
        if passed { Cell { text: "ok".into(), class: "ok" } } else { Cell { text: "FALHOU".into(), class: "fail" } }
    }
}

fn table(headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = String::from("<table>\n<tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            if c.class.is_empty() {
                let _ = write!(out, "<td>{}</td>", esc(&c.text));
            } else {
                let _ = write!(out, "<td class=\"{}\">{}</td>", c.class, esc(&c.text));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

async fn query(session: &Session, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(execute(session, sql).await?.batches)
}

/// Each row's values as text, exact: a DECIMAL keeps every digit (`1234.50`), NULL is empty.
fn text_rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for b in batches {
        let cols: Vec<Vec<String>> = b.columns().iter().map(strings).collect();
        rows.extend((0..b.num_rows()).map(|r| cols.iter().map(|c| c[r].clone()).collect::<Vec<_>>()));
    }
    rows
}

fn money(exact: &str) -> String {
    if exact.is_empty() { String::new() } else { format!("R$ {}", brl::exact(exact)) }
}

/// A percentage given as text (`1.2345`): `+1,23%`; empty stays empty.
fn percent(v: &str) -> String {
    v.parse::<f64>().map(|v| brl::percent(v, 2)).unwrap_or_default()
}

/// Totals of the range, as cards.
fn cards(summary: &[RecordBatch]) -> String {
    let volume: f64 = floats_of(summary, 2).iter().sum();
    let trades: f64 = floats_of(summary, 3).iter().sum();
    let days: usize = summary.iter().map(|b| b.num_rows()).sum();
    let mut out = String::from("<div class=\"cards\">");
    for (label, value) in [
        ("pregões", days.to_string()),
        ("volume financeiro", Unit::Brl.short(volume)),
        ("média por pregão", Unit::Brl.short(volume / days.max(1) as f64)),
        ("negócios", brl::compact(trades)),
    ] {
        let _ = write!(out, "<div class=\"card\">{}<b>{}</b></div>", esc(label), esc(&value));
    }
    out.push_str("</div>\n");
    out
}

async fn top_symbols(session: &Session, day: NaiveDate, n: usize) -> Result<Vec<String>> {
    let b = query(
        session,
        &format!(
            "SELECT symbol FROM cotacoes_b3_refined WHERE {} ORDER BY vol_financeiro_total DESC, symbol LIMIT {n}",
            days_filter(day, day)
        ),
    )
    .await?;
    Ok(text_rows(&b).into_iter().map(|mut r| r.swap_remove(0)).collect())
}

/// The day's `n` largest traded values.
async fn top_rows(session: &Session, day: NaiveDate, n: usize) -> Result<Vec<RecordBatch>> {
    query(
        session,
        &format!(
            "SELECT symbol, nome_empresa, preco_abertura, preco_fechamento, variacao_percentual_dia, \
             vol_financeiro_total, numero_negocios FROM cotacoes_b3_refined WHERE {} \
             ORDER BY vol_financeiro_total DESC, symbol LIMIT {n}",
            days_filter(day, day)
        ),
    )
    .await
}

fn top_table(batches: &[RecordBatch], n: usize) -> String {
    let rows: Vec<Vec<Cell>> = text_rows(batches)
        .iter()
        .map(|v| {
            vec![
                Cell::text(&v[0]),
                Cell::text(v[1].trim()),
                Cell::num(money(&v[2])),
                Cell::num(money(&v[3])),
                Cell::num(percent(&v[4])),
                Cell::num(money(&v[5])),
                Cell::num(brl::exact(&v[6])),
            ]
        })
        .collect();
    let mut out = format!("<h3>Os {n} maiores volumes financeiros</h3>\n");
    out.push_str(&table(
        &["ticker", "empresa", "abertura", "fechamento", "variação", "volume financeiro", "negócios"],
        &rows,
    ));
    out
}

/// The day's largest rises and falls (close over open) among tickers with at least 100
/// trades, each with its title.
async fn movers(session: &Session, day: NaiveDate, n: usize) -> Result<Vec<(&'static str, Vec<RecordBatch>)>> {
    let mut out = Vec::new();
    for (title, order) in [("Maiores altas", "DESC"), ("Maiores baixas", "ASC")] {
        let batches = query(
            session,
            &format!(
                "SELECT symbol, preco_abertura, preco_fechamento, variacao_percentual_dia, numero_negocios \
                 FROM cotacoes_b3_refined WHERE {} AND numero_negocios >= 100 AND variacao_percentual_dia IS NOT NULL \
                 ORDER BY variacao_percentual_dia {order}, symbol LIMIT {n}",
                days_filter(day, day)
            ),
        )
        .await?;
        out.push((title, batches));
    }
    Ok(out)
}

fn movers_table(movers: &[(&str, Vec<RecordBatch>)]) -> String {
    let mut out = String::new();
    for (title, batches) in movers {
        let rows: Vec<Vec<Cell>> = text_rows(batches)
            .iter()
            .map(|v| {
                vec![
                    Cell::text(&v[0]),
                    Cell::num(money(&v[1])),
                    Cell::num(money(&v[2])),
                    Cell::num(percent(&v[3])),
                    Cell::num(brl::exact(&v[4])),
                ]
            })
            .collect();
        let _ = writeln!(out, "<h3>{title} (fechamento sobre abertura, ao menos 100 negócios)</h3>");
        out.push_str(&table(&["ticker", "abertura", "fechamento", "variação", "negócios"], &rows));
    }
    out
}

fn summary_table(summary: &[RecordBatch]) -> String {
    let day = |v: &str| v.parse::<NaiveDate>().map(brl::date).unwrap_or_default();
    let rows: Vec<Vec<Cell>> = text_rows(summary)
        .iter()
        .map(|v| {
            vec![
                Cell::text(day(&v[0])),
                Cell::num(brl::exact(&v[1])),
                Cell::num(money(&v[2])),
                Cell::num(brl::exact(&v[3])),
                Cell::num(format!("{} / {} / {}", v[4], v[5], v[6])),
                Cell::text(format!("{} {}", v[7], percent(&v[8]))),
                Cell::text(format!("{} {}", v[9], percent(&v[10]))),
            ]
        })
        .collect();
    table(
        &[
            "pregão",
            "tickers",
            "volume financeiro",
            "negócios",
            "altas / baixas / estáveis",
            "maior alta",
            "maior baixa",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(esc("<a href=\"x\">P&G</a>"), "&lt;a href=&quot;x&quot;&gt;P&amp;G&lt;/a&gt;");
        let t = table(&["a"], &[vec![Cell::num("1"), Cell::status(false)]]);
        assert!(t.contains("<td class=\"n\">1</td><td class=\"fail\">FALHOU</td>"), "{t}");
    }
}
