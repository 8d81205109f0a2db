//! `b3lake sql`: the queries of queries/ on the demo lake (the real 2022-02-04 session and a
//! synthetic January 2024), batch mode's formats, exit codes and error positions, the REPL
//! through a pseudo-terminal, and the Athena engine against moto.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{cli, demo_lake, stderr};

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

/// The CSV rows (header first) a query file of queries/ prints on `lake`.
pub(crate) fn csv(lake: &Path, file: &str, vars: &[&str]) -> Vec<Vec<String>> {
    let query = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").join(file);
    let mut args = vec!["-f", query.to_str().unwrap(), "--format", "csv"];
    for v in vars {
        args.extend(["--var", v]);
    }
    let out = b3lake(lake, &args);
    assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(split_csv).collect()
}

/// One CSV line's cells; quoted cells may hold commas (`"Petróleo, Gás ..."`).
fn split_csv(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
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

    // Tables qualified as Athena qualifies them.
    let qualified = "SELECT count(*) AS n FROM awsdatacatalog.default.cotacoes_b3_refined r \
                     JOIN \"default\".\"cotacoes_b3_resumo_diario\" s ON s.data_pregao = r.data_pregao \
                     WHERE r.year = 2022 AND r.month = 2 AND r.day = 4";
    let out = b3lake(&lake, &["-c", qualified, "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n1196\n", "{}", String::from_utf8_lossy(&out.stderr));
    let out = b3lake(
        &lake,
        &["-c", "SELECT count(*) AS n FROM b3.cotacoes_b3_resumo_diario", "--database", "b3", "--format", "csv"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n23\n", "{}", String::from_utf8_lossy(&out.stderr));

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

/// A program on a pseudo-terminal: what it prints, and keys typed into it.
struct Terminal {
    master: std::fs::File,
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    seen: usize,
}

impl Terminal {
    fn spawn(mut command: Command) -> Terminal {
        use std::os::fd::FromRawFd;
        use std::os::unix::process::CommandExt;
        // SAFETY: plain libc calls on descriptors this function owns.
        let (master, slave) = unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(fd >= 0 && libc::grantpt(fd) == 0 && libc::unlockpt(fd) == 0, "no pseudo-terminal");
            let size = libc::winsize { ws_row: 40, ws_col: 160, ws_xpixel: 0, ws_ypixel: 0 };
            libc::ioctl(fd, libc::TIOCSWINSZ, &size);
            let name = std::ffi::CStr::from_ptr(libc::ptsname(fd)).to_str().unwrap().to_string();
            (std::fs::File::from_raw_fd(fd), std::fs::OpenOptions::new().read(true).write(true).open(name).unwrap())
        };
        command.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave).env("TERM", "xterm");
        // SAFETY: setsid and TIOCSCTTY are async-signal-safe; they make the terminal the
        // child's controlling terminal, so that Ctrl-C reaches it as SIGINT.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = command.spawn().expect("start b3lake on a terminal");
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), output.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal { master, child, output, seen: 0 }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Waits for `text` in what the program printed after the last match.
    fn expect(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let out = String::from_utf8_lossy(&self.output.lock().unwrap()).to_string();
            if let Some(at) = out[self.seen.min(out.len())..].find(text) {
                let found = out[self.seen..self.seen + at + text.len()].to_string();
                self.seen += at + text.len();
                return found;
            }
            assert!(std::time::Instant::now() < deadline, "no {text:?} in:\n{}", &out[self.seen.min(out.len())..]);
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[tokio::test]
async fn the_repl_on_a_terminal() {
    let lake = demo_lake().await;
    let script = lake.join("one.sql");
    std::fs::write(&script, "SELECT 'from' || ' a file' AS src;\n").unwrap();
    let history = lake.join("repl_history");
    let mut command = Command::new(env!("CARGO_BIN_EXE_b3lake"));
    command.args(["sql", "--lake", lake.to_str().unwrap()]).env("B3LAKE_HISTORY", &history);
    let mut t = Terminal::spawn(command);
    t.expect("b3lake> ");

    // A statement over three lines runs at its ';'.
    t.send("SELECT symbol, preco_fechamento\r");
    t.send("FROM cotacoes_b3_refined\r");
    t.send("WHERE year = 2022 AND month = 2 AND day = 4 AND symbol = 'PETR4';\r");
    let answer = t.expect("1 row in");
    assert!(answer.contains("32.63"), "{answer}");
    t.expect("data scanned:");
    t.expect("(1 file, 1 partition)");

    t.send("\\dt\r");
    t.expect("cotacoes_b3_resumo_diario");
    // Tab completes a table name.
    t.send("\\d cotacoes_b3_res\t\r");
    let described = t.expect("location: ");
    assert!(described.contains("partition_key") && described.contains("numero_tickers"), "{described}");
    t.expect("/summary/");
    t.send("\\dp cotacoes_b3_raw\r");
    t.expect("year=2022/month=2/day=4");
    t.send("\\timing off\r");
    t.expect("timing is off");
    t.send("\\format csv\r");
    t.expect("format is csv");
    t.send("SELECT 41 + 1 AS answer;\r");
    t.expect("answer\r\n42\r\n1 row\r\n");
    t.send(&format!("\\i {}\r", script.display()));
    t.expect("src\r\nfrom a file");
    t.send("\\set d 2022-02-04\r");
    // Keys typed before the prompt is back may be discarded by the line editor.
    t.expect("2022-02-04");
    t.expect("b3lake> ");
    t.send("SELECT day_of_week(DATE '${d}') AS dw;\r");
    t.expect("dw\r\n5");
    // \chart draws the last result.
    let png = lake.join("repl_chart.png");
    t.send(&format!("\\chart bar dw dw {}\r", png.display()));
    t.expect("wrote ");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG\r\n"), "{}", png.display());
    t.send("\\nope\r");
    t.expect("unknown command \\nope");
    t.send("SELECT * FROM nowhere;\r");
    t.expect("error: ");

    // Ctrl-C cancels a long query, and the REPL goes on.
    t.send("SELECT count(*) FROM range(1000000000000);\r");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    t.send("\x03");
    t.expect("query cancelled");
    t.expect("b3lake> ");
    t.send("SELECT 'still' || ' here' AS s;\r");
    t.expect("s\r\nstill here");

    t.send("\\q\r");
    let status = t.child.wait().unwrap();
    assert!(status.success());
    let history = std::fs::read_to_string(&history).unwrap();
    assert!(history.contains("\\dt") && history.contains("SELECT 41 + 1 AS answer;"), "{history}");
}

#[tokio::test]
async fn the_athena_engine_against_moto() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("run the tests with tests/run.sh, which starts moto");
    let lake = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let moto = |path: &str, body: serde_json::Value| {
        http.post(format!("{endpoint}{path}")).header("content-type", "application/json").body(body.to_string()).send()
    };
    let column = |name: &str, ty: &str, p: i32, s: i32| serde_json::json!({"Name": name, "Label": name, "Type": ty, "Precision": p, "Scale": s, "Nullable": "NULLABLE"});
    let row = |v: &[&str]| serde_json::json!({"Data": v.iter().map(|x| serde_json::json!({"VarCharValue": x})).collect::<Vec<_>>()});
    let results = serde_json::json!({"results": [{
        "rows": [row(&["symbol", "preco_fechamento", "numero_negocios", "data_pregao"]),
                 row(&["VALE3", "87.98", "56013", "2022-02-04"]), row(&["PETR4", "32.63", "48012", "2022-02-04"])],
        "column_info": [column("symbol", "varchar", 0, 0), column("preco_fechamento", "decimal", 13, 2),
                        column("numero_negocios", "bigint", 19, 0), column("data_pregao", "date", 0, 0)],
    }]});
    let queued = moto("/moto-api/static/athena/query-results", results).await.unwrap();
    assert!(queued.status().is_success());

    let sql = "SELECT symbol, preco_fechamento, numero_negocios, data_pregao FROM cotacoes_b3_refined \
               WHERE year = 2022 AND month = 2 AND day = 4 ORDER BY vol_financeiro_total DESC LIMIT 2";
    let athena = ["--engine", "athena", "--database", "b3", "--athena-output", "s3://athena-results/b3lake/"];
    let mut args = vec!["-c", sql, "--format", "ndjson"];
    args.extend(athena);
    let out = b3lake(lake.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Typed from Athena's metadata: the decimal and the count are JSON numbers.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"symbol\":\"VALE3\",\"preco_fechamento\":87.98,\"numero_negocios\":56013,\"data_pregao\":\"2022-02-04\"}\n\
         {\"symbol\":\"PETR4\",\"preco_fechamento\":32.63,\"numero_negocios\":48012,\"data_pregao\":\"2022-02-04\"}\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("2 rows in") && stderr.contains("data scanned: 0 B; cost: $0.00005"), "{stderr}");

    let client = aws_sdk_athena::Client::new(&aws_config::load_from_env().await);
    let last_query = || async {
        let ids = client.list_query_executions().send().await.unwrap().query_execution_ids.unwrap_or_default();
        let mut executions = Vec::new();
        for id in ids {
            let e = client.get_query_execution().query_execution_id(id).send().await.unwrap().query_execution.unwrap();
            executions.push(e);
        }
        executions.into_iter().max_by(|a, b| {
            let t = |e: &aws_sdk_athena::types::QueryExecution| {
                e.status.as_ref().and_then(|s| s.submission_date_time).map(|d| d.as_nanos())
            };
            t(a).cmp(&t(b))
        })
    };
    let sent = last_query().await.expect("a query reached Athena");
    assert_eq!(sent.query.as_deref(), Some(sql));
    assert_eq!(sent.query_execution_context.and_then(|c| c.database).as_deref(), Some("b3"));

    // Ctrl-C stops the query in Athena: moto keeps it running until told otherwise.
    let manual =
        serde_json::json!({"model_name": "athena::execution", "transition": {"progression": "manual", "times": 10000}});
    assert!(moto("/moto-api/state-manager/set-transition", manual).await.unwrap().status().is_success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["sql", "--lake", lake.path().to_str().unwrap(), "-c", "SELECT 'a long one'"])
        .args(athena)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    let unset = serde_json::json!({"model_name": "athena::execution"});
    moto("/moto-api/state-manager/unset-transition", unset).await.unwrap();
    assert_eq!(out.0.code(), Some(1));
    assert!(out.1.contains("query cancelled"), "{}", out.1);
    let stopped = last_query().await.unwrap();
    assert_eq!(stopped.query.as_deref(), Some("SELECT 'a long one'"));
    assert_eq!(stopped.status.and_then(|s| s.state), Some(aws_sdk_athena::types::QueryExecutionState::Cancelled));
}

#[test]
fn deep_statements_plan_or_are_refused_clearly_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    let depth = b3lake::sql::depth::MAX_DEPTH;
    // Just under the bound: a column added to itself, ORed equalities, chained UNION ALLs.
    let sum = format!("SELECT x{} FROM (VALUES (1)) t(x)", "+x".repeat(depth - 2));
    let ors = format!("SELECT count(*) FROM (VALUES (1)) t(x) WHERE {}", vec!["x = 1"; depth - 2].join(" OR "));
    let unions = format!("SELECT count(*) FROM ({})", vec!["SELECT 1"; depth - 2].join(" UNION ALL "));
    for (query, expected) in [(&sum, (depth - 1).to_string()), (&ors, "1".into()), (&unions, (depth - 2).to_string())] {
        let out = cli(&["sql", "--lake", lake, "--format", "csv", "-c", query]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().nth(1), Some(expected.as_str()));
    }
    // Far over it: a clear error with the statement's position, exit 1, no abort.
    let deep = [
        format!("SELECT 1{}", "+1".repeat(5000)),
        format!("SELECT 1 WHERE {}", vec!["1 = 1"; 5000].join(" OR ")),
        vec!["SELECT 1"; 3000].join(" UNION ALL "),
    ];
    for query in &deep {
        let out = cli(&["sql", "--lake", lake, "-c", &format!("SELECT 1;\n{query}")]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("statement 2, line 2, column 1") && err.contains("too deep to plan"), "{err}");
    }
}

#[test]
fn statements_the_parser_backtracks_on_are_refused_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    // A 30-part name before a broken subscript: the parser's backtracking doubles its time with
    // each part (20 parts take seconds; 30 would take about an hour).
    let chain = "a.".repeat(29);
    for query in [format!("SELECT {chain}b[c d"), format!("SELECT 1 FROM t WHERE {chain}b[c"), format!("IF {chain}#")] {
        let started = std::time::Instant::now();
        let out = cli(&["sql", "--lake", lake, "-c", &format!("SELECT 1;\n{query}")]);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("statement 2, line 2") && err.contains("gave up"), "{err}");
        assert!(took < b3lake::deadline::PARSE_TIME + std::time::Duration::from_secs(5), "{query}: {took:?}");
    }
    // The same names, well formed, still run.
    let out = cli(&["sql", "--lake", lake, "--format", "csv", "-c", "SELECT s.x[1] FROM (SELECT [7] AS x) s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().nth(1), Some("7"));
}

#[test]
fn data_scanned_counts_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    let day = crate::common::data(crate::common::DAY_2022);
    assert!(cli(&["ingest", day.to_str().unwrap(), "--lake", lake]).status.success());
    assert!(cli(&["transform", "--lake", lake]).status.success());
    // 1,196 one-ticker files (listed: the day's companion is not read); DataFusion reads them
    // in two groups, one file split between them.
    let count = "SELECT count(*) FROM cotacoes_b3_refined";
    let out = cli(&["sql", "--lake", lake, "--partitions", "listing", "--format", "csv", "-c", count]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("(1196 files, 1196 partitions)"), "{}", stderr(&out));
    // From the index, the day is its companion: one file.
    let out = cli(&["sql", "--lake", lake, "--format", "csv", "-c", count]);
    assert!(stderr(&out).contains("(1 file, 1 partition)"), "{}", stderr(&out));
}

/// The README's table of Athena's functions says which run locally: every function it calls
/// supported resolves in a session (a scalar, aggregate, window or lambda function), and every
/// function the dialect registers is in the table.
#[test]
fn the_readme_lists_athenas_functions_as_they_are() {
    let readme = include_str!("../../README.md");
    let start = readme.find("#### Athena's SQL, locally").expect("the README's Athena section");
    let section = &readme[start..];
    let section = &section[..section.find("\n### ").unwrap_or(section.len())];
    let ctx = b3lake::sql::dialect::context(datafusion::execution::SessionStateBuilder::new().with_default_features());
    let state = ctx.state();
    let resolves = |name: &str| {
        state.scalar_functions().contains_key(name)
            || state.aggregate_functions().contains_key(name)
            || state.window_functions().contains_key(name)
            || state.higher_order_functions().contains_key(name)
    };
    // Names the parser turns into other forms (tested in tests/slt/athena/).
    let syntax = [
        "date",
        "btrim",
        "overlay",
        "position",
        "substring",
        "localtime",
        "entropy",
        "reduce_agg",
        "max_n",
        "min_n",
        "max_by_n",
        "min_by_n",
    ];
    let name = |t: &str| {
        t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let mut listed = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Family") && !l.starts_with("|---")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(cells.len() >= 4, "a row of four cells: {row}");
        let names: Vec<&str> = cells[1]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|t| t.split('(').next().unwrap_or(t))
            .filter(|t| name(t))
            .collect();
        listed.extend(names.iter().map(|n| n.to_string()));
        match cells[2].trim() {
            "yes" => missing.extend(names.into_iter().filter(|n| !resolves(n) && !syntax.contains(n))),
            "no" => {}
            other => panic!("status is yes or no, not {other:?}: {row}"),
        }
    }
    assert!(missing.is_empty(), "the README says these run locally, but no session has them: {missing:?}");
    let registered = b3lake::sql::dialect::names(&ctx);
    let unlisted: Vec<&String> = registered
        .iter()
        .filter(|n| !listed.contains(n.as_str()) && !n.starts_with("athena_") && !syntax.contains(&n.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "the dialect registers these, but the README's table does not list them: {unlisted:?}"
    );
}
