//! `b3lake sql`: the queries of queries/ on the demo lake (the real 2022-02-04 session and a
//! synthetic January 2024), batch mode's formats, exit codes and error positions, the REPL
//! through a pseudo-terminal, and the Athena engine against moto.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;
use tokio::sync::OnceCell;

static DEMO: OnceCell<TempDir> = OnceCell::const_new();

/// The lake `b3lake demo` builds, built once for this module's tests.
async fn demo_lake() -> PathBuf {
    let dir = DEMO
        .get_or_init(|| async {
            let dir = tempfile::tempdir().unwrap();
            let month = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            b3lake::demo::run(dir.path().to_str().unwrap(), month, false).await.expect("the demo runs");
            dir
        })
        .await;
    dir.path().to_path_buf()
}

fn b3lake(lake: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .arg("sql")
        .arg("--lake")
        .arg(lake)
        .args(args)
        .env("B3LAKE_HISTORY", lake.join(".history"))
        .stdin(Stdio::null())
        .output()
        .expect("run b3lake")
}

/// The CSV rows (header first) a query file prints.
fn csv(lake: &Path, file: &str, vars: &[&str]) -> Vec<Vec<String>> {
    let query = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").join(file);
    let mut args = vec!["-f", query.to_str().unwrap(), "--format", "csv"];
    for v in vars {
        args.extend(["--var", v]);
    }
    let out = b3lake(lake, &args);
    assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn col(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

#[tokio::test]
async fn every_query_of_queries_answers_on_the_demo_lake() {
    let lake = demo_lake().await;

    // Top 10 by traded value on the real day: values read off B3's file.
    let top = csv(&lake, "top10_valor_negociado.sql", &[]);
    assert_eq!(top.len(), 11);
    let (sym, vol, close) = (col(&top, "symbol"), col(&top, "vol_financeiro_total"), col(&top, "preco_fechamento"));
    assert_eq!(
        (top[1][sym].as_str(), top[1][vol].as_str(), top[1][close].as_str()),
        ("VALE3", "2139338183.00", "87.98")
    );
    assert_eq!(
        (top[2][sym].as_str(), top[2][vol].as_str(), top[2][close].as_str()),
        ("PETR4", "1945649554.00", "32.63")
    );
    assert!(top[1..].windows(2).all(|w| num(&w[0][vol]) >= num(&w[1][vol])));

    // A ticker's history: the period's VWAP is the traded value over the shares so far.
    let hist = csv(&lake, "historico_ticker.sql", &[]);
    assert_eq!(hist.len() - 1, 22, "RCBY3 trades every session of January 2024");
    let (v, q, p) =
        (col(&hist, "vol_financeiro_total"), col(&hist, "qtd_acoes_negociadas"), col(&hist, "vwap_periodo"));
    let (mut value, mut shares) = (0.0, 0.0);
    for row in &hist[1..] {
        value += num(&row[v]);
        shares += num(&row[q]);
        assert!((num(&row[p]) - value / shares).abs() < 1e-4, "{row:?}");
    }
    let closes: Vec<f64> = hist[1..].iter().map(|r| num(&r[col(&hist, "preco_fechamento")])).collect();

    // The 20-session moving average: the mean of the last 20 closes.
    let ma = csv(&lake, "media_movel_20.sql", &[]);
    assert_eq!(ma.len() - 1, 3);
    let last: f64 = closes[closes.len() - 20..].iter().sum::<f64>() / 20.0;
    assert!((num(&ma[3][col(&ma, "media_movel_20")]) - last).abs() < 1e-3, "{:?} vs {last}", ma[3]);
    assert_eq!(ma[3][0], "2024-01-31");

    // Gainers and losers: n of each, their change computed from their own closes.
    let moves = csv(&lake, "maiores_altas_baixas.sql", &["n=3"]);
    assert_eq!(moves.len() - 1, 6);
    let (prev, now, pct) =
        (col(&moves, "fechamento_anterior"), col(&moves, "preco_fechamento"), col(&moves, "variacao_pct"));
    for row in &moves[1..] {
        let expected = (num(&row[now]) - num(&row[prev])) * 100.0 / num(&row[prev]);
        assert!((num(&row[pct]) - expected).abs() < 0.006, "{row:?}");
    }
    assert_eq!(moves[1..].iter().filter(|r| r[0] == "alta").count(), 3);
    assert!(num(&moves[3][pct]) >= num(&moves[4][pct]));

    // Monthly traded value: ranks 1..n, decreasing.
    let monthly = csv(&lake, "valor_mensal_por_ticker.sql", &["n=5"]);
    assert_eq!(monthly.len() - 1, 5);
    let rank: Vec<&str> = monthly[1..].iter().map(|r| r[col(&monthly, "posicao")].as_str()).collect();
    assert_eq!(rank, ["1", "2", "3", "4", "5"]);
    assert_eq!(monthly[1][col(&monthly, "symbol")], "RCBY3");

    // Options expiring within 14 days, with their underlying: PETRB381 is a PETR4 call.
    let options = csv(&lake, "opcoes_vencendo.sql", &["days=14", "n=500"]);
    assert!(options.len() > 20);
    let days = col(&options, "dias_ate_vencimento");
    assert!(options[1..].iter().all(|r| (0..=14).contains(&(num(&r[days]) as i64))));
    let petr = options.iter().find(|r| r[0] == "PETRB381").expect("PETRB381 traded on 2022-02-04");
    assert_eq!(&petr[1..5], ["call", "PETR4", "32.63", "35.01"]);

    // Concentration: the top ticker's share of the day's value.
    let conc = csv(&lake, "concentracao_volume.sql", &[]);
    let total = num(&conc[1][col(&conc, "valor_total")]);
    assert!((num(&conc[1][col(&conc, "top1_pct")]) - 2139338183.0 * 100.0 / total).abs() < 0.006);
    assert_eq!(conc[1][col(&conc, "tickers")], "1196");
}

#[tokio::test]
async fn batch_mode_formats_outputs_and_positions_errors() {
    let lake = demo_lake().await;
    let day = "year = 2022 AND month = 2 AND day = 4 AND symbol IN ('PETR4', 'VALE3') ORDER BY symbol";
    let sql = format!("SELECT symbol, preco_fechamento FROM cotacoes_b3_refined WHERE {day}; SELECT 1 AS n");

    let out = b3lake(&lake, &["-c", &sql, "--format", "ndjson"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"symbol\":\"PETR4\",\"preco_fechamento\":32.63}\n{\"symbol\":\"VALE3\",\"preco_fechamento\":87.98}\n{\"n\":1}\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("2 rows in") && stderr.contains("(2 files, 2 partitions)"), "{stderr}");

    let out = b3lake(&lake, &["-c", &sql, "--format", "tsv"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "symbol\tpreco_fechamento\nPETR4\t32.63\nVALE3\t87.98\nn\n1\n");

    // --output, and SQL on standard input.
    let file = lake.join("out.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["sql", "--lake", lake.to_str().unwrap(), "--format", "csv", "--output", file.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("SELECT symbol FROM cotacoes_b3_refined WHERE {day};").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "symbol\nPETR4\nVALE3\n");

    // Errors: non-zero exit, the statement's number and where in the file.
    let script = lake.join("bad.sql");
    std::fs::write(&script, "SELECT 1;\n-- the second statement\nSELECT symbol\n  FRM cotacoes_b3_refined;\n").unwrap();
    let out = b3lake(&lake, &["-f", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bad.sql: statement 2, line 4, column 7:"), "{stderr}");
    std::fs::write(&script, "SELECT 1;\n\n   SELECT nope FROM cotacoes_b3_refined;\nSELECT 2;\n").unwrap();
    let out = b3lake(&lake, &["-f", script.to_str().unwrap()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("bad.sql: statement 2, line 3, column 4:") && stderr.contains("nope"), "{stderr}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().matches("┌").count(), 1, "the third statement never ran");

    let out = b3lake(&lake, &["-c", "SELECT ${missing}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--var missing=VALUE"));
    let out = b3lake(&lake, &["-c", "SELECT 1", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}
