//! Data-quality checks of the raw and refined tables: the rules a B3 analyst assumes hold
//! (every record has a code, prices are positive, the close lies within the day's range, no
//! key appears twice, the refined totals add up to the raw ones), counted over the days asked
//! for and compared with a threshold per check.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::catalog::refined::RefinedSpec;
use crate::error::{Error, Result};
use crate::lake::Lake;

/// One rule. Its SQL yields one row: the number of violations and one example.
pub struct Check {
    /// Its name, as `--threshold` takes it.
    pub name: &'static str,
    /// The table it looks at: raw, refined or summary.
    pub table: &'static str,
    /// What a violation is, in words.
    pub description: &'static str,
    /// `{days}` becomes the day filter and `{filter}` the refined table's raw filter.
    sql: &'static str,
}

/// Every check, in the order they run and are reported.
pub const CHECKS: &[Check] = &[
    Check {
        name: "blank_code",
        table: "raw",
        description: "records with a null or blank trading code",
        sql: "SELECT count(*), min(CAST(data_pregao AS VARCHAR)) FROM cotacoes_b3_raw WHERE {days} \
              AND (codigo_negociacao IS NULL OR trim(codigo_negociacao) = '')",
    },
    Check {
        name: "non_positive_price",
        table: "raw",
        description: "records with an open, high, low, average or close price <= 0",
        sql: "SELECT count(*), min(codigo_negociacao) FROM cotacoes_b3_raw WHERE {days} AND (preco_abertura <= 0 \
              OR preco_maximo <= 0 OR preco_minimo <= 0 OR preco_medio <= 0 OR preco_ultimo_negocio <= 0)",
    },
    Check {
        name: "high_below_low",
        table: "raw",
        description: "records whose high is below their low",
        sql: "SELECT count(*), min(codigo_negociacao) FROM cotacoes_b3_raw WHERE {days} AND preco_maximo < preco_minimo",
    },
    Check {
        name: "close_outside_range",
        table: "raw",
        description: "records whose close lies outside [low, high]",
        sql: "SELECT count(*), min(codigo_negociacao) FROM cotacoes_b3_raw WHERE {days} \
              AND (preco_ultimo_negocio < preco_minimo OR preco_ultimo_negocio > preco_maximo)",
    },
    Check {
        name: "zero_volume_with_trades",
        table: "raw",
        description: "records with trades but no traded value",
        sql: "SELECT count(*), min(codigo_negociacao) FROM cotacoes_b3_raw WHERE {days} \
              AND volume_total_negociado = 0 AND numero_negocios > 0",
    },
    Check {
        name: "duplicate_key",
        table: "raw",
        description: "(day, code, market, term) keys held by more than one record",
        sql: "SELECT count(*), min(k) FROM (SELECT concat(CAST(data_pregao AS VARCHAR), ' ', codigo_negociacao) AS k \
              FROM cotacoes_b3_raw WHERE {days} GROUP BY data_pregao, codigo_negociacao, tipo_mercado, prazo_dias_termo \
              HAVING count(*) > 1)",
    },
    Check {
        name: "duplicate_key",
        table: "refined",
        description: "(day, symbol) keys held by more than one row",
        sql: "SELECT count(*), min(k) FROM (SELECT concat(CAST(data_pregao AS VARCHAR), ' ', symbol) AS k \
              FROM cotacoes_b3_refined WHERE {days} GROUP BY data_pregao, symbol HAVING count(*) > 1)",
    },
    Check {
        name: "high_below_low",
        table: "refined",
        description: "rows whose high is below their low",
        sql: "SELECT count(*), min(symbol) FROM cotacoes_b3_refined WHERE {days} AND preco_maximo < preco_minimo",
    },
    Check {
        name: "close_outside_range",
        table: "refined",
        description: "rows whose close lies outside [low, high]",
        sql: "SELECT count(*), min(symbol) FROM cotacoes_b3_refined WHERE {days} \
              AND (preco_fechamento < preco_minimo OR preco_fechamento > preco_maximo)",
    },
    Check {
        name: "totals_match_raw",
        table: "refined",
        description: "days whose refined traded value, shares or trades differ from the raw records it selects (a day not yet transformed counts)",
        sql: "WITH r AS (SELECT data_pregao, sum(volume_total_negociado) AS v, sum(quantidade_papeis_negociados) AS q, \
                  sum(CAST(numero_negocios AS BIGINT)) AS n FROM cotacoes_b3_raw WHERE {days} AND ({filter}) GROUP BY data_pregao), \
              f AS (SELECT data_pregao, sum(vol_financeiro_total) AS v, sum(qtd_acoes_negociadas) AS q, \
                  sum(numero_negocios) AS n FROM cotacoes_b3_refined WHERE {days} GROUP BY data_pregao) \
              SELECT count(*), min(CAST(coalesce(r.data_pregao, f.data_pregao) AS VARCHAR)) \
              FROM r FULL OUTER JOIN f ON r.data_pregao = f.data_pregao \
              WHERE (r.v IS DISTINCT FROM f.v) OR (r.q IS DISTINCT FROM f.q) OR (r.n IS DISTINCT FROM f.n)",
    },
];

/// The calendar's check: its SQL lists the raw table's days; a trading day of B3's calendar
/// between the first and the last of them (or among the days asked for) without quotes is a
/// violation: a file never ingested, or late.
pub const MISSING_TRADING_DAY: Check = Check {
    name: "missing_trading_day",
    table: "raw",
    description: "trading days (B3's calendar) without quotes, between the first and the last day",
    sql: "SELECT DISTINCT year, month, day FROM cotacoes_b3_raw WHERE {days}",
};

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub check: String,
    /// The table it looked at.
    pub table: String,
    /// What a violation is.
    pub description: String,
    /// Rows (or days) that break the rule.
    pub violations: u64,
    /// Violations allowed.
    pub threshold: u64,
    /// One offending key (a code or a day), to start looking.
    pub example: Option<String>,
    /// Violations are within the threshold.
    pub passed: bool,
}

/// What to check and how much to forgive.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Days to check; empty means every day.
    pub days: Vec<NaiveDate>,
    /// Violations allowed per check (`table.check` or `check`); others allow `default_threshold`.
    pub thresholds: BTreeMap<String, u64>,
    /// Violations allowed for checks without a threshold of their own.
    pub default_threshold: u64,
}

/// Runs every check on the lake.
pub async fn check(lake: &Lake, opts: &CheckOptions) -> Result<Vec<CheckResult>> {
    let ctx = crate::sql::session(lake).await?;
    let filter = RefinedSpec::load(lake).await?.unwrap_or_default().filter;
    let days = day_filter(&opts.days);
    let mut results = Vec::new();
    for check in CHECKS.iter().chain([&MISSING_TRADING_DAY]) {
        let sql = check.sql.replace("{days}", &days).replace("{filter}", &filter);
        let failed = |e| Error::Check { check: format!("{}.{}", check.table, check.name), source: Box::new(e) };
        let batches = crate::sql::execute(&ctx, &sql).await.map_err(failed)?.batches;
        let (violations, example) = if check.name == MISSING_TRADING_DAY.name {
            let missing = missing_trading_days(&batches, &opts.days);
            (missing.len() as u64, missing.first().map(NaiveDate::to_string))
        } else {
            let batch =
                batches.first().ok_or_else(|| Error::Usage(format!("check {} returned nothing", check.name)))?;
            let violations = batch.column(0).as_primitive::<Int64Type>().value(0) as u64;
            let example = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8)
                .ok()
                .and_then(|c| c.as_string::<i32>().is_valid(0).then(|| c.as_string::<i32>().value(0).to_string()));
            (violations, example)
        };
        let qualified = format!("{}.{}", check.table, check.name);
        let threshold = opts
            .thresholds
            .get(&qualified)
            .or_else(|| opts.thresholds.get(check.name))
            .copied()
            .unwrap_or(opts.default_threshold);
        results.push(CheckResult {
            check: check.name.to_string(),
            table: check.table.to_string(),
            description: check.description.to_string(),
            violations,
            threshold,
            example: if violations > 0 { example } else { None },
            passed: violations <= threshold,
        });
    }
    Ok(results)
}

/// The trading days without quotes: among `asked`, or else between the first and the last day of
/// `present` (batches of year, month and day).
fn missing_trading_days(present: &[arrow::array::RecordBatch], asked: &[NaiveDate]) -> Vec<NaiveDate> {
    use arrow::datatypes::Int32Type;
    let mut days = std::collections::BTreeSet::new();
    for batch in present {
        let [y, m, d] = [0, 1, 2].map(|i| arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Int32));
        let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else { continue };
        let (y, m, d) = (y.as_primitive::<Int32Type>(), m.as_primitive::<Int32Type>(), d.as_primitive::<Int32Type>());
        days.extend(
            y.iter()
                .zip(m.iter())
                .zip(d.iter())
                .filter_map(|((y, m), d)| NaiveDate::from_ymd_opt(y?, m? as u32, d? as u32)),
        );
    }
    use crate::source::calendar;
    if asked.is_empty() {
        return calendar::missing_between(&days.into_iter().collect::<Vec<_>>());
    }
    asked.iter().copied().filter(|d| calendar::is_trading_day(*d) && !days.contains(d)).collect()
}

/// A filter on the partition columns (so only those days' files are read) and on the date.
fn day_filter(days: &[NaiveDate]) -> String {
    if days.is_empty() {
        return "TRUE".to_string();
    }
    let parts: Vec<String> = days
        .iter()
        .map(|d| {
            format!(
                "(year = {} AND month = {} AND day = {} AND data_pregao = DATE '{d}')",
                d.year(),
                d.month(),
                d.day()
            )
        })
        .collect();
    format!("({})", parts.join(" OR "))
}

/// The results as a text table.
pub fn format_table(results: &[CheckResult]) -> String {
    let mut rows = vec![["table", "check", "violations", "threshold", "status", "example"].map(String::from).to_vec()];
    for r in results {
        rows.push(vec![
            r.table.clone(),
            r.check.clone(),
            r.violations.to_string(),
            r.threshold.to_string(),
            if r.passed { "ok".into() } else { "FAILED".into() },
            r.example.clone().unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    out
}
