//! The transform job on real and generated raw lakes: values, layouts, reruns, bookmarks,
//! hostile tickers.

use std::path::Path;

use b3lake::lake::Lake;
use b3lake::transform::{Days, Layout, TransformOptions, TransformReport, transform};
use chrono::NaiveDate;

use crate::common::*;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn run(lake: &Lake, days: Days, layout: Option<Layout>, filter: Option<&str>) -> b3lake::Result<TransformReport> {
    let opts = TransformOptions { days, layout, filter: filter.map(str::to_string), ..Default::default() };
    Ok(transform(lake, &opts).await?)
}

/// A lake holding the real B3 session of 2022-02-04, transformed.
async fn real_day(dir: &Path, layout: Option<Layout>, filter: Option<&str>) -> Lake {
    let lake = Lake::open(dir.to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let report = run(&lake, Days::Incremental, layout, filter).await.unwrap();
    assert_eq!(report.days, [date("2022-02-04")]);
    lake
}

/// One row of the refined table as text, columns `|`-separated.
async fn refined_row(lake: &Lake, symbol: &str, columns: &str) -> String {
    let sql = format!("SELECT {columns} FROM cotacoes_b3_refined WHERE symbol = '{symbol}'");
    let batches = query(lake, &sql).await;
    let rows = strings(&batches);
    assert_eq!(rows.len(), 1, "{symbol}: {rows:?}");
    rows[0].clone()
}

const PRICES: &str = "CAST(preco_abertura AS VARCHAR), CAST(preco_fechamento AS VARCHAR), \
    CAST(preco_maximo AS VARCHAR), CAST(preco_minimo AS VARCHAR), CAST(preco_medio_ponderado AS VARCHAR), \
    CAST(vol_financeiro_total AS VARCHAR), qtd_acoes_negociadas, numero_negocios, registros_agregados, fator_cotacao";

#[tokio::test]
async fn refined_values_of_the_real_day_match_the_file_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day(dir.path(), None, None).await;
    // Fields read off the file's lines (PREABE, PREULT, PREMAX, PREMIN, VOLTOT/QUATOT,
    // VOLTOT, QUATOT, TOTNEG, 1 record, FATCOT).
    assert_eq!(
        refined_row(&lake, "PETR4", PRICES).await,
        "32.41|32.63|33.23|31.88|32.78440546|1945649554.00|59346800|94572|1|1"
    );
    assert_eq!(
        refined_row(&lake, "VALE3", PRICES).await,
        "85.75|87.98|88.17|85.55|87.19393949|2139338183.00|24535400|61188|1|1"
    );
    // Quoted per 1,000 shares: R$ 8,115.62 / 46,971,000 shares = R$ 0.00017278 a share,
    // which is the file's PREMED of 0.17 per thousand.
    assert_eq!(refined_row(&lake, "FNAM11", PRICES).await, "0.18|0.18|0.18|0.17|0.00017278|8115.62|46971000|19|1|1000");
    // 2022-02-04 was a Friday, day 35 of 365, in the first quarter and the month's first week.
    assert_eq!(
        refined_row(&lake, "PETR4", "data_pregao, dia_semana, trimestre, dias_desde_inicio_ano, dias_ate_fim_ano, eh_inicio_mes, dias_ate_vencimento, round(variacao_percentual_dia, 4), round(volatilidade_relativa, 6), nome_empresa, year, month, day").await,
        "2022-02-04|5|1|34|330|true||0.6788|0.041178|PETROBRAS|2022|2|4"
    );
    // The default filter is the spot market: no odd lots, no options.
    assert_eq!(
        query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined WHERE symbol IN ('PETR4F', 'PETRB365')").await,
        0
    );
    // 1,196 spot tickers, one row each; totals equal the sums of the market-10 lines.
    let summary = strings(&query(&lake, "SELECT numero_tickers, CAST(vol_financeiro_total AS VARCHAR), qtd_acoes_negociadas, numero_negocios, altas, baixas, estaveis FROM cotacoes_b3_resumo_diario").await);
    assert_eq!(summary, ["1196|25219273994.21|1587404450|3152887|515|512|169"]);
    assert_eq!(query_one_i64(&lake, "SELECT count(DISTINCT symbol) FROM cotacoes_b3_refined").await, 1196);
    // A folder a symbol, and the day's companion beside them.
    let day = dir.path().join("refined/year=2022/month=02/day=04");
    let entries: Vec<String> =
        std::fs::read_dir(&day).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(entries.len(), 1197);
    assert_eq!(entries.iter().filter(|e| e.starts_with("symbol=")).count(), 1196);
    assert!(day.join("_b3lake_day").is_file());
}

#[tokio::test]
async fn a_wider_filter_brings_odd_lots_and_options_with_their_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day(dir.path(), None, Some("tipo_mercado IN (10, 20, 70)")).await;
    assert_eq!(
        refined_row(&lake, "PETR4F", PRICES).await,
        "32.38|32.80|33.22|31.89|32.76721048|3312994.35|101107|9860|1|1"
    );
    // Expires 2022-02-18, two weeks after the session.
    assert_eq!(
        refined_row(
            &lake,
            "PETRB365",
            "CAST(data_vencimento AS VARCHAR), dias_ate_vencimento, CAST(preco_medio_ponderado AS VARCHAR)"
        )
        .await,
        "2022-02-18|14|0.44333333"
    );
}

#[tokio::test]
async fn both_layouts_hold_the_same_rows_and_compact_skips_pages() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let symbol = real_day(a.path(), Some(Layout::Symbol), None).await;
    let compact = real_day(b.path(), Some(Layout::Compact), None).await;
    let all = "SELECT * EXCEPT (symbol), symbol FROM cotacoes_b3_refined ORDER BY symbol";
    assert_eq!(strings(&query(&symbol, all).await), strings(&query(&compact, all).await));
    let files: Vec<_> = std::fs::read_dir(b.path().join("refined/year=2022/month=02/day=04")).unwrap().collect();
    assert_eq!(files.len(), 1, "compact: one file a day");

    // A symbol filter on the compact file reads one page, not the day's 1,196 rows.
    let ctx = b3lake::sql::session(&compact).await.unwrap();
    let df = ctx
        .plan("SELECT preco_fechamento FROM cotacoes_b3_refined WHERE year = 2022 AND symbol = 'PETR4'")
        .await
        .unwrap();
    let task = std::sync::Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await.unwrap();
    let batches = datafusion::physical_plan::collect(plan.clone(), task).await.unwrap();
    assert_eq!(strings(&batches), ["32.63"]);
    let scanned = scan_output_rows(plan.as_ref());
    assert!(scanned > 0 && scanned <= 64, "the scan returned {scanned} rows");
}

/// Rows the Parquet scan of a plan produced.
fn scan_output_rows(plan: &dyn datafusion::physical_plan::ExecutionPlan) -> usize {
    if plan.name() == "DataSourceExec" {
        return plan.metrics().and_then(|m| m.output_rows()).unwrap_or(0);
    }
    plan.children().iter().map(|c| scan_output_rows(c.as_ref())).sum()
}

#[tokio::test]
async fn reruns_never_duplicate_and_incremental_runs_do_only_new_days() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day(dir.path(), None, None).await;
    let again = run(&lake, Days::Incremental, None, None).await.unwrap();
    assert!(again.days.is_empty() && again.up_to_date == 1, "{again}");
    let before = snapshot(&dir.path().join("refined"));
    for days in [Days::All, Days::Only(vec![date("2022-02-04")])] {
        let report = run(&lake, days, None, None).await.unwrap();
        assert_eq!(report.days.len(), 1);
    }
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined").await, 1196);
    assert_eq!(snapshot(&dir.path().join("refined")).keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    assert!(!dir.path().join("_staging").exists(), "staging is cleaned up");

    // A new day and a re-ingested day are done; nothing else.
    let synth = dir.path().join("COTAHIST_M.TXT");
    b3lake::source::synth::write_file(&synth, date("2022-02-07"), date("2022-02-08"), 3).unwrap();
    ingest_paths(&lake, std::slice::from_ref(&synth)).await.unwrap();
    let report = run(&lake, Days::Incremental, None, None).await.unwrap();
    assert_eq!(report.days, [date("2022-02-07"), date("2022-02-08")]);
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let report = run(&lake, Days::Incremental, None, None).await.unwrap();
    assert_eq!(report.days, [date("2022-02-04")]);
    // A changed filter makes every day stale.
    let report = run(&lake, Days::Incremental, None, Some("tipo_mercado IN (10, 20)")).await.unwrap();
    assert_eq!(report.days.len(), 3);
    let n = query_one_i64(
        &lake,
        "SELECT count(*) FROM (SELECT data_pregao, symbol FROM cotacoes_b3_refined GROUP BY 1, 2 HAVING count(*) > 1)",
    )
    .await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_failed_day_is_retried_and_the_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let synth = dir.path().join("COTAHIST_M.TXT");
    b3lake::source::synth::write_file(&synth, date("2024-03-04"), date("2024-03-06"), 5).unwrap();
    ingest_paths(&lake, std::slice::from_ref(&synth)).await.unwrap();
    let broken = dir.path().join("raw/year=2024/month=03/day=05/cotacoes_20240305.parquet");
    let good = std::fs::read(&broken).unwrap();
    std::fs::write(&broken, b"not parquet at all").unwrap();

    let err = run(&lake, Days::Incremental, None, None).await.unwrap_err().to_string();
    assert!(err.contains("1 of 3 days failed") && err.contains("2024-03-05"), "{err}");
    let done = strings(
        &query(&lake, "SELECT DISTINCT CAST(data_pregao AS VARCHAR) FROM cotacoes_b3_refined ORDER BY 1").await,
    );
    assert_eq!(done, ["2024-03-04", "2024-03-06"]);
    let bookmarks = b3lake::transform::Bookmarks::load(&lake).await.unwrap();
    assert_eq!(bookmarks.days.keys().copied().collect::<Vec<_>>(), [date("2024-03-04"), date("2024-03-06")]);

    std::fs::write(&broken, good).unwrap();
    let report = run(&lake, Days::Incremental, None, None).await.unwrap();
    assert_eq!(report.days, [date("2024-03-05")], "only the failed day is redone");
    assert_eq!(report.up_to_date, 2);
}

#[tokio::test]
async fn hostile_tickers_stay_in_their_partition() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).await.unwrap();
    let hostile = ["../../x", "A/B", "day=05", "50%", "Z%2FZ", "..", "SP ACE", "AÇÚCAR"];
    let mut lines = lines(DAY_2022);
    let petr4 = lines.iter().position(|l| &l[12..24] == b"PETR4       ").unwrap();
    let template = lines[petr4].clone();
    let trailer = lines.pop().unwrap();
    for code in hostile {
        let mut line = template.clone();
        let latin1: Vec<u8> = code.chars().map(|c| c as u32 as u8).collect();
        line[12..24].copy_from_slice(format!("{:<12}", "").as_bytes());
        line[12..12 + latin1.len()].copy_from_slice(&latin1);
        lines.push(line);
    }
    lines.push(trailer);
    let file = dir.path().join("COTAHIST_D04022022.TXT");
    write_lines(&file, &lines);
    let inputs = b3lake::source::resolve(&[file]).unwrap();
    let opts = b3lake::ingest::IngestOptions {
        reader: b3lake::source::ReaderOptions { allow_count_mismatch: true, ..Default::default() },
        ..Default::default()
    };
    b3lake::ingest::ingest(&lake, &inputs, &opts).await.unwrap();
    run(&lake, Days::Incremental, None, None).await.unwrap();

    // Every refined file sits exactly four folders below refined/, in a symbol= folder.
    let refined = dir.path().join("lake/refined");
    let files: Vec<_> = snapshot(&refined).into_iter().filter(|(p, _)| !p.to_string_lossy().ends_with('/')).collect();
    assert_eq!(files.len(), 1196 + hostile.len() + 1);
    let companion = std::path::Path::new("year=2022/month=02/day=04/_b3lake_day");
    assert!(files.iter().any(|(p, _)| p == companion), "the day's companion");
    for (path, _) in files.iter().filter(|(p, _)| p != companion) {
        let parts: Vec<_> = path.components().collect();
        assert_eq!(parts.len(), 5, "{}", path.display());
        assert!(parts[3].as_os_str().to_string_lossy().starts_with("symbol="), "{}", path.display());
    }
    let mut top: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    top.sort();
    assert_eq!(top, ["COTAHIST_D04022022.TXT", "lake"], "nothing escaped the lake");
    // Queries see each ticker as it was, in the partition value and the column.
    for code in hostile {
        let sql =
            format!("SELECT codigo_negociacao FROM cotacoes_b3_refined WHERE symbol = '{}'", code.replace('\'', "''"));
        assert_eq!(strings(&query(&lake, &sql).await), [code], "{code}");
    }
}

#[tokio::test]
async fn changing_the_layout_needs_a_full_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day(dir.path(), None, None).await;
    let err = run(&lake, Days::Incremental, Some(Layout::Compact), None).await.unwrap_err().to_string();
    assert!(err.contains("symbol layout") && err.contains("--all"), "{err}");
    run(&lake, Days::All, Some(Layout::Compact), None).await.unwrap();
    assert!(dir.path().join("refined/year=2022/month=02/day=04/part-00000.parquet").is_file());
    assert!(!dir.path().join("refined/year=2022/month=02/day=04/symbol=PETR4").exists());
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined").await, 1196);
    // Later runs keep the lake's layout without being told.
    let report = run(&lake, Days::All, None, None).await.unwrap();
    assert_eq!(report.layout, Layout::Compact);
}

#[tokio::test]
async fn the_cli_transforms_checks_and_watches() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    let out = cli(&["ingest", data(DAY_2022).to_str().unwrap(), "--lake", lake_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&["transform", "--lake", lake_arg, "--day", "2022-02-05"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no raw data for 2022-02-05"), "{}", stderr(&out));
    let out = cli(&["transform", "--lake", lake_arg, "--filter", "no_such_column = 1"]);
    assert!(!out.status.success() && stderr(&out).contains("no_such_column"), "{}", stderr(&out));

    let out = cli(&["watch", "--lake", lake_arg, "--interval", "0", "--polls", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("1 trading days transformed (2022-02-04)").count(), 1, "{stdout}");

    let out = cli(&["check", "--lake", lake_arg, "--format", "json"]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(results.as_array().unwrap().len() >= 10);
    assert!(results.as_array().unwrap().iter().all(|r| r["violations"] == 0 && r["passed"] == true));
}

#[tokio::test]
async fn checks_find_broken_records_and_thresholds_allow_them() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let mut lines = lines(DAY_2022);
    let at = |lines: &[Vec<u8>], code: &[u8]| {
        lines.iter().position(|l| l[12..24].starts_with(code) && l[24..27] == *b"010").unwrap()
    };
    // VALE3: high below low; PETR4: close above the high; ITUB4: trades with no value.
    let (vale, petr, itub) = (at(&lines, b"VALE3 "), at(&lines, b"PETR4 "), at(&lines, b"ITUB4 "));
    lines[vale][69..82].copy_from_slice(b"0000000001000");
    lines[petr][108..121].copy_from_slice(b"0000000009999");
    lines[itub][170..188].copy_from_slice(b"000000000000000000");
    let file = dir.path().join("COTAHIST_D04022022.TXT");
    write_lines(&file, &lines);
    let lake_arg = lake_dir.to_str().unwrap();
    assert!(cli(&["ingest", file.to_str().unwrap(), "--lake", lake_arg]).status.success());
    assert!(cli(&["transform", "--lake", lake_arg]).status.success());

    let out = cli(&["check", "--lake", lake_arg, "--day", "2022-02-04"]);
    assert!(!out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let row = |table_name: &str, check: &str| {
        table.lines().find(|l| l.split_whitespace().take(2).eq([table_name, check])).unwrap_or("").to_string()
    };
    assert!(
        row("raw", "high_below_low").contains("FAILED") && row("raw", "high_below_low").contains("VALE3"),
        "{table}"
    );
    assert!(row("raw", "close_outside_range").contains("FAILED"), "{table}");
    assert!(row("raw", "zero_volume_with_trades").contains("ITUB4"), "{table}");
    assert!(row("refined", "high_below_low").contains("FAILED"), "{table}");
    assert!(row("refined", "totals_match_raw").contains(" ok"), "{table}");
    assert!(row("raw", "blank_code").contains(" ok"), "{table}");
    assert!(stderr(&out).contains("checks over their threshold"), "{}", stderr(&out));

    // high_below_low fails in raw and refined (1 each); close_outside_range in raw (PETR4, and
    // VALE3 whose close is now above its high) and refined; one zero-volume record.
    let out = cli(&[
        "check",
        "--lake",
        lake_arg,
        "--threshold",
        "high_below_low=1",
        "--threshold",
        "close_outside_range=2",
        "--threshold",
        "raw.zero_volume_with_trades=1",
    ]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    // A day not transformed yet shows up as a totals mismatch.
    let synth = dir.path().join("COTAHIST_M.TXT");
    b3lake::source::synth::write_file(&synth, date("2022-02-07"), date("2022-02-07"), 3).unwrap();
    assert!(cli(&["ingest", synth.to_str().unwrap(), "--lake", lake_arg]).status.success());
    let out = cli(&["check", "--lake", lake_arg, "--day", "2022-02-07", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let totals = results.as_array().unwrap().iter().find(|r| r["check"] == "totals_match_raw").unwrap().clone();
    assert_eq!((totals["violations"].as_u64(), totals["example"].as_str()), (Some(1), Some("2022-02-07")));
    assert!(!out.status.success());

    // B3's calendar: with 4, 7 and 9 February in the lake, Tuesday the 8th is missing; Carnival
    // Monday (28 February) and a Saturday are not trading days.
    let wednesday = dir.path().join("COTAHIST_W.TXT");
    b3lake::source::synth::write_file(&wednesday, date("2022-02-09"), date("2022-02-09"), 3).unwrap();
    assert!(cli(&["ingest", wednesday.to_str().unwrap(), "--lake", lake_arg]).status.success());
    let missing = |days: &[&str]| {
        let mut args = vec!["check", "--lake", lake_arg, "--format", "json"];
        for day in days {
            args.extend(["--day", day]);
        }
        let results: serde_json::Value = serde_json::from_slice(&cli(&args).stdout).unwrap();
        let r = results.as_array().unwrap().iter().find(|r| r["check"] == "missing_trading_day").unwrap().clone();
        (r["violations"].as_u64().unwrap(), r["example"].as_str().map(String::from))
    };
    assert_eq!(missing(&[]), (1, Some("2022-02-08".into())));
    assert_eq!(missing(&["2022-02-28", "2022-02-05", "2022-02-07"]), (0, None));
    assert_eq!(missing(&["2022-02-08", "2022-02-09"]), (1, Some("2022-02-08".into())));
}

#[test]
fn the_demo_runs_the_whole_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&["demo", "--lake", dir.path().join("lake").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // January 2024's 22 business days (New Year's Day is a holiday) and the real 2022-02-04.
    assert!(stdout.contains("23 trading days transformed (2022-02-04 .. 2024-01-31)"), "{stdout}");
    assert!(stdout.contains("| VALE3  | VALE "), "{stdout}");
}

#[tokio::test]
async fn a_symbol_built_any_way_as_text_is_a_partition() {
    // Custom SQL whose symbol is a CAST, a view type, a large string or a function result.
    for symbol in [
        "CAST(codigo_negociacao AS VARCHAR)",
        "arrow_cast(codigo_negociacao, 'Utf8View')",
        "arrow_cast(codigo_negociacao, 'LargeUtf8')",
        "upper(lower(codigo_negociacao))",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let queries = dir.path().join("queries");
        std::fs::create_dir(&queries).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/transform");
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            let sql = std::fs::read_to_string(&path).unwrap();
            let sql = sql.replace("codigo_negociacao AS symbol", &format!("{symbol} AS symbol"));
            std::fs::write(queries.join(path.file_name().unwrap()), sql).unwrap();
        }
        let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).await.unwrap();
        ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
        let opts =
            TransformOptions { queries: b3lake::transform::Queries::from_dir(&queries).unwrap(), ..Default::default() };
        let report = transform(&lake, &opts).await.unwrap_or_else(|e| panic!("{symbol}: {e}"));
        assert_eq!(report.rows, 1196, "{symbol}");
        assert!(dir.path().join("lake/refined/year=2022/month=02/day=04/symbol=PETR4/part-00000.parquet").is_file());
        assert_eq!(refined_row(&lake, "PETR4", "codigo_negociacao").await, "PETR4", "{symbol}");
    }
}

#[tokio::test]
async fn an_empty_raw_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day(dir.path(), None, None).await;
    let before = snapshot(&dir.path().join("refined"));
    let file = dir.path().join("raw/year=2022/month=02/day=04/cotacoes_20220204.parquet");
    std::fs::write(&file, b"").unwrap();
    let err = run(&lake, Days::All, None, None).await.unwrap_err().to_string();
    assert!(err.contains("cotacoes_20220204.parquet") && err.contains("empty file (0 bytes)"), "{err}");
    assert!(snapshot(&dir.path().join("refined")) == before, "the day's refined rows are kept");
    // MSCK REPAIR and queries that list the table refuse it too, instead of dropping the day.
    let session = b3lake::sql::session(&lake).await.unwrap();
    let err = b3lake::sql::execute(&session, "MSCK REPAIR TABLE cotacoes_b3_raw").await.unwrap_err().to_string();
    assert!(err.contains("cotacoes_20220204.parquet") && err.contains("empty file"), "{err}");
    let listed = b3lake::sql::session_with(&lake, b3lake::sql::Partitions::Listing).await.unwrap();
    let err = b3lake::sql::execute(&listed, "SELECT count(*) FROM cotacoes_b3_raw").await.unwrap_err().to_string();
    assert!(err.contains("empty file"), "{err}");
}

#[tokio::test]
async fn a_copied_lake_stays_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    real_day(&dir.path().join("a"), None, None).await;
    // `cp -a` keeps every file's content and time, not its inode.
    let out = std::process::Command::new("cp").arg("-a").arg(dir.path().join("a")).arg(dir.path().join("b")).output();
    assert!(out.unwrap().status.success());
    let copy = Lake::open(dir.path().join("b").to_str().unwrap()).await.unwrap();
    let report = run(&copy, Days::Incremental, None, None).await.unwrap();
    assert_eq!((report.days.len(), report.up_to_date), (0, 1));
    // A raw file that really changes is still seen.
    let raw = dir.path().join("b/raw/year=2022/month=02/day=04/cotacoes_20220204.parquet");
    let bytes = std::fs::read(&raw).unwrap();
    std::fs::write(&raw, &bytes).unwrap();
    let report = run(&copy, Days::Incremental, None, None).await.unwrap();
    assert_eq!(report.days, [date("2022-02-04")]);
}

/// With `--log-format json` a job writes its metrics as one line of CloudWatch's Embedded
/// Metric Format, whose directive names only members the line has.
#[test]
fn json_logs_carry_the_jobs_metrics_in_embedded_metric_format() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    let ingest = cli(&["--log-format", "json", "ingest", data(DAY_2022).to_str().unwrap(), "--lake", lake]);
    let transform = cli(&["--log-format", "json", "transform", "--lake", lake]);
    let text = cli(&["transform", "--lake", lake, "--all"]);
    // Every quote record of the file (all but its header and trailer); its one day.
    let records = (lines(DAY_2022).len() - 2) as f64;
    for (out, job, metric, value) in
        [(&ingest, "ingest", "RecordsIngested", records), (&transform, "transform", "DaysTransformed", 1.0)]
    {
        assert!(out.status.success(), "{}", stderr(out));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("_aws").is_some())
            .collect();
        assert_eq!(lines.len(), 1, "one metrics line: {}", stderr(out));
        let line = &lines[0];
        assert_eq!((line["Job"].as_str(), line["Function"].as_str()), (Some(job), Some("cli")));
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "b3lake");
        for name in directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()) {
            assert!(line[name].is_number(), "{name} in {line}");
        }
        assert_eq!(line["Failures"], 0.0);
        assert!(line["Duration"].as_f64().unwrap() > 0.0);
        assert_eq!(line[metric].as_f64().unwrap(), value);
    }
    assert!(!String::from_utf8_lossy(&text.stderr).contains("_aws"), "no metrics lines in text logs");
}

/// Rows of a query and the files it opened, on a session reading partitions from `source`.
async fn rows_and_files(lake: &Lake, source: b3lake::sql::Partitions, sql: &str) -> (Vec<String>, usize) {
    let session = b3lake::sql::session_with(lake, source).await.unwrap();
    let done = b3lake::sql::execute(&session, sql).await.unwrap();
    (strings(&done.batches), done.scanned.files)
}

#[tokio::test]
async fn whole_days_are_read_from_their_companion_while_it_is_current() {
    use b3lake::sql::Partitions::{Index, Listing};
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[small_days(&dir.path().join("C.TXT"), 0, 12)]).await.unwrap();
    run(&lake, Days::Incremental, None, None).await.unwrap();
    let day = |d: u32| dir.path().join(format!("refined/year=2024/month=03/day={d:02}"));
    assert!(day(4).join("_b3lake_day").is_file());
    let all = "SELECT * EXCEPT (symbol), symbol FROM cotacoes_b3_refined ORDER BY data_pregao, symbol";
    let per_day = "SELECT day, count(*), sum(vol_financeiro_total) FROM cotacoes_b3_refined GROUP BY day ORDER BY day";

    // Three days, twelve tickers each: three files, the same rows as the 36 ticker files.
    let (rows, files) = rows_and_files(&lake, Index, all).await;
    let (listed, listed_files) = rows_and_files(&lake, Listing, all).await;
    assert_eq!((rows.len(), files, listed_files), (36, 3, 36));
    assert_eq!(rows, listed);
    // The partitions Athena sees are the ticker folders alone.
    assert_eq!(rows_and_files(&lake, Index, "SHOW PARTITIONS cotacoes_b3_refined").await.0.len(), 36);
    // A ticker filter reads that ticker's files; a day filter that day's companion.
    let petr = "SELECT count(*) FROM cotacoes_b3_refined WHERE symbol = (SELECT min(symbol) FROM cotacoes_b3_refined)";
    assert_eq!(rows_and_files(&lake, Index, petr).await.0, ["3"]);
    let one_day = "SELECT count(*), min(symbol), max(day) FROM cotacoes_b3_refined WHERE day = 5";
    let (one, files) = rows_and_files(&lake, Index, one_day).await;
    assert_eq!((one, files), (rows_and_files(&lake, Listing, one_day).await.0, 1));

    // An INSERT into a day retires its companion: that day is read file by file, the others not.
    let session = b3lake::sql::session(&lake).await.unwrap();
    let insert = "INSERT INTO cotacoes_b3_refined SELECT * FROM cotacoes_b3_refined \
                  WHERE day = 5 AND symbol = (SELECT min(symbol) FROM cotacoes_b3_refined)";
    b3lake::sql::execute(&session, insert).await.unwrap();
    let (counts, files) = rows_and_files(&lake, Index, per_day).await;
    assert_eq!(counts, rows_and_files(&lake, Listing, per_day).await.0);
    assert_eq!(counts.iter().map(|r| r.split('|').nth(1).unwrap().to_string()).collect::<Vec<_>>(), ["12", "13", "12"]);
    assert_eq!(files, 1 + 13 + 1);
    let (rows, _) = rows_and_files(&lake, Index, all).await;
    assert_eq!(rows, rows_and_files(&lake, Listing, all).await.0);

    // So does dropping a ticker's partition (its folder stays: the index no longer has it).
    let dropped = strings(&query(&lake, "SELECT max(symbol) FROM cotacoes_b3_refined WHERE day = 6").await);
    let drop = format!(
        "ALTER TABLE cotacoes_b3_refined DROP PARTITION (year = 2024, month = 3, day = 6, symbol = '{}')",
        dropped[0]
    );
    b3lake::sql::execute(&session, &drop).await.unwrap();
    let (counts, files) = rows_and_files(&lake, Index, "SELECT count(*) FROM cotacoes_b3_refined WHERE day = 6").await;
    assert_eq!((counts, files), (vec!["11".to_string()], 11));

    // An index entry whose partitions are not those the companion was made from (edited by
    // hand here) is read file by file too: the digest no longer matches.
    let index = dir.path().join("_b3lake/catalog/partitions");
    let shard = snapshot(&index)
        .into_keys()
        .find(|p| p.to_string_lossy().contains("refined") && p.ends_with("day=4.json"))
        .map(|p| index.join(p))
        .expect("day 4's index entry");
    let mut entry: serde_json::Value = serde_json::from_slice(&std::fs::read(&shard).unwrap()).unwrap();
    assert!(entry["companion"].is_object(), "{entry}");
    entry["partitions"].as_array_mut().unwrap().pop();
    std::fs::write(&shard, serde_json::to_vec(&entry).unwrap()).unwrap();
    let (counts, files) = rows_and_files(&lake, Index, "SELECT count(*) FROM cotacoes_b3_refined WHERE day = 4").await;
    assert_eq!((counts, files), (vec!["11".to_string()], 11));

    // The next full transform writes every day and its companion again.
    run(&lake, Days::All, None, None).await.unwrap();
    let (rows, files) = rows_and_files(&lake, Index, all).await;
    assert_eq!((rows.len(), files), (36, 3));
    assert_eq!(rows, rows_and_files(&lake, Listing, all).await.0);
}
