//! The index portfolio ("carteira do dia"): B3's real GetPortfolioDay answer (IBOV,
//! 2022-12-08) served from 127.0.0.1 in the pages each request asks for, in both languages;
//! each bad answer; and the transform's join of the members with their quotes.

use std::path::Path;
use std::time::Duration;

use b3lake::catalog::{Catalog, GlueCatalog, INDEX_MEMBERS, LocalCatalog, PORTFOLIO};
use b3lake::ingest::portfolio::ingest_portfolio;
use b3lake::lake::Lake;
use b3lake::retry::RetryConfig;
use b3lake::source::portfolio::{self, Language, Portfolio, PortfolioClient, PortfolioOptions};
use b3lake::transform::trigger::{self, Target};
use b3lake::transform::{TransformOptions, transform};
use base64::Engine;
use serde_json::{Value, json};

use crate::common::*;
use crate::sql::csv;

const ANSWER: &str = "GetPortfolioDay_IBOV_pt-br_2022-12-08.json";
pub(crate) const API: &str = "/indexProxy/indexCall";

pub(crate) fn real_answer() -> Value {
    serde_json::from_slice(&std::fs::read(data(ANSWER)).unwrap()).unwrap()
}

/// The request's parameters, decoded from the last path segment (base64 JSON).
fn params(path: &str) -> Value {
    let encoded = path.rsplit('/').next().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64 parameters");
    serde_json::from_slice(&bytes).expect("JSON parameters")
}

/// A B3 look-alike: the members of `answer`, cut into the pages each request asks for.
fn b3(answer: Value) -> HttpServer {
    HttpServer::start(move |_, path| portfolio_page(&answer, path))
}

/// The page of `answer` that the GetPortfolioDay request for `path` asks for.
pub(crate) fn portfolio_page(answer: &Value, path: &str) -> Reply {
    assert!(path.starts_with(&format!("{API}/GetPortfolioDay/")), "{path}");
    let p = params(path);
    let (number, size) = (p["pageNumber"].as_u64().unwrap() as usize, p["pageSize"].as_u64().unwrap() as usize);
    let results = answer["results"].as_array().unwrap();
    let slice: Vec<Value> = results.iter().skip((number - 1) * size).take(size).cloned().collect();
    let body = json!({
        "page": {"pageNumber": number, "pageSize": size, "totalRecords": results.len(),
                 "totalPages": results.len().div_ceil(size)},
        "header": answer["header"],
        "results": slice,
    });
    Reply::Body("application/json", body.to_string().into_bytes())
}

/// A server that gives every request the same reply.
fn fixed(reply: Reply) -> HttpServer {
    HttpServer::start(move |_, _| reply.clone())
}

fn json_body(v: &Value) -> Reply {
    Reply::Body("application/json", v.to_string().into_bytes())
}

/// The same answer in English: `,` for thousands, `.` for decimals, month first.
fn to_english(answer: &Value) -> Value {
    let swap = |s: &str| {
        s.chars()
            .map(|c| {
                if c == '.' {
                    ','
                } else if c == ',' {
                    '.'
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    let mut v = answer.clone();
    for key in ["part", "partAcum", "reductor", "theoricalQty"] {
        let s = swap(v["header"][key].as_str().unwrap());
        v["header"][key] = json!(s);
    }
    let date = v["header"]["date"].as_str().unwrap().to_string();
    let (d, rest) = date.split_once('/').unwrap();
    let (m, y) = rest.split_once('/').unwrap();
    v["header"]["date"] = json!(format!("{m}/{d}/{y}"));
    for row in v["results"].as_array_mut().unwrap() {
        for key in ["part", "partAcum", "theoricalQty"] {
            let s = swap(row[key].as_str().unwrap());
            row[key] = json!(s);
        }
    }
    v
}

/// The real answer with one member's field changed.
fn with_member(code: &str, key: &str, value: Value) -> Value {
    let mut v = real_answer();
    let row = v["results"].as_array_mut().unwrap().iter_mut().find(|r| r["cod"] == code).unwrap();
    row[key] = value;
    v
}

fn client(server: &HttpServer, page_size: u32) -> PortfolioClient {
    PortfolioClient::new(PortfolioOptions {
        base_url: format!("{}{API}", server.base),
        retry: RetryConfig::new(3, Duration::from_millis(10)),
        page_size,
        ..Default::default()
    })
    .unwrap()
}

async fn lake_at(dir: &Path) -> Lake {
    Lake::open(dir.to_str().unwrap()).await.unwrap()
}

fn ingest_ibov(lake: &Path, server: &HttpServer, extra: &[&str]) -> std::process::Output {
    let base = format!("{}{API}", server.base);
    let mut args = vec!["ingest-ibov", "--lake", lake.to_str().unwrap(), "--base-url", &base];
    args.extend(["--attempts", "3", "--backoff-ms", "10"]);
    args.extend(extra);
    cli(&args)
}

#[tokio::test]
async fn pages_are_followed_and_every_value_is_exact() {
    let server = b3(real_answer());
    let portfolio = client(&server, 20).fetch("IBOV", Language::PtBr).await.unwrap();

    // 92 members in pages of 20: five requests, each with B3's parameters.
    let requests = server.requests();
    assert_eq!(requests.len(), 5, "{requests:?}");
    for (i, path) in requests.iter().enumerate() {
        assert_eq!(
            params(path),
            json!({"pageNumber": i + 1, "pageSize": 20, "language": "pt-br", "index": "IBOV", "segment": 2})
        );
    }
    // Byte for byte what B3's site sends, keys in its order.
    let first = requests[0].rsplit('/').next().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD.decode(first).unwrap(),
        br#"{"pageNumber":1,"pageSize":20,"language":"pt-br","index":"IBOV","segment":2}"#
    );
    assert_eq!(portfolio.members.len(), 92);
    assert_eq!(portfolio.date.to_string(), "2022-12-08");
    assert_eq!(portfolio.total_quantity, 101_053_551_382);
    assert_eq!(portfolio.reducer, 1_855_379_487_445_950, "18.553.794,87445950 at scale 8");

    let dir = tempfile::tempdir().unwrap();
    let lake = lake_at(dir.path()).await;
    let report = ingest_portfolio(&lake, &portfolio, None).await.unwrap();
    assert_eq!(report.file, "raw_ibov/year=2022/month=12/day=08/carteira_20221208.parquet");
    assert!(dir.path().join(&report.file).is_file());

    // Values read by hand off the answer, through the catalog table.
    let rows = strings(
        &query(
            &lake,
            "SELECT codigo, acao, tipo, segmento, qtd_teorica, participacao_pct, participacao_acumulada_pct, \
             qtd_teorica_total, redutor, texto_substituido, data_carteira, indice, idioma FROM carteira_b3_raw \
             WHERE codigo IN ('ABEV3', 'ECOR3', 'PETR4', 'VALE3', 'WEGE3') ORDER BY codigo",
        )
        .await,
    );
    let tail = "101053551382|18553794.87445950";
    assert_eq!(
        rows,
        [
            format!(
                "ABEV3|AMBEV S/A|ON|Cons N C\u{FFFD}clico / Bebidas|4386652506|3.468|3.468|{tail}|true|2022-12-08|IBOV|pt-br"
            ),
            format!(
                "ECOR3|ECORODOVIAS|ON  ED  NM|Bens Indls/Transporte|333657615|0.070|2.089|{tail}|false|2022-12-08|IBOV|pt-br"
            ),
            format!(
                "PETR4|PETROBRAS|PN      N2|Petr\u{FFFD}leo, G\u{FFFD}s e Biocombust\u{FFFD}veis|4566441248|5.720|13.759|{tail}|true|2022-12-08|IBOV|pt-br"
            ),
            format!(
                "VALE3|VALE|ON      NM|Mats B\u{FFFD}sicos / Minera\u{FFFD}\u{FFFD}o|4547296398|19.064|19.625|{tail}|true|2022-12-08|IBOV|pt-br"
            ),
            format!(
                "WEGE3|WEG|ON      NM|Bens Indls / M\u{FFFD}qs e Equips|1481593024|2.728|2.728|{tail}|true|2022-12-08|IBOV|pt-br"
            ),
        ]
    );
    // Exact types, whole-table sums, and the flag against an independent count.
    let types = strings(
        &query(
            &lake,
            "SELECT arrow_typeof(qtd_teorica), arrow_typeof(participacao_pct), arrow_typeof(redutor), \
             sum(participacao_pct), sum(qtd_teorica), sum(CASE WHEN texto_substituido THEN 1 ELSE 0 END), count(*), \
             year, month, day FROM carteira_b3_raw GROUP BY 1, 2, 3, year, month, day",
        )
        .await,
    );
    let flagged = real_answer()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| ["segment", "cod", "asset", "type"].iter().any(|k| r[*k].as_str().unwrap().contains('\u{FFFD}')))
        .count();
    assert_eq!(flagged, 71);
    assert_eq!(
        types,
        [format!("Decimal128(20, 0)|Decimal128(9, 3)|Decimal128(28, 8)|100.000|101053551382|{flagged}|92|2022|12|8")]
    );
    assert_eq!(report.replaced_text, flagged);
}

#[tokio::test]
async fn an_english_answer_reads_to_the_same_portfolio() {
    let pt = portfolio::read_file(&data(ANSWER), "IBOV", Language::PtBr).unwrap();
    let english = to_english(&real_answer());
    assert_eq!(english["header"]["reductor"], "18,553,794.87445950");
    assert_eq!(english["header"]["date"], "12/08/22");
    let server = b3(english);
    let en = client(&server, 9999).fetch("IBOV", Language::EnUs).await.unwrap();
    assert_eq!(params(&server.requests()[0])["language"], "en-us");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(en.language, Language::EnUs);
    assert_eq!(Portfolio { language: Language::PtBr, ..en }, pt);
    // The English answer read as Portuguese is refused, not misread.
    let err = client(&server, 9999).fetch("IBOV", Language::PtBr).await.unwrap_err().to_string();
    assert!(err.contains("is not a number in pt-br format"), "{err}");
}

#[tokio::test]
async fn a_latin1_answer_is_read_without_loss() {
    // B3's older encoding: accents as single bytes, not UTF-8.
    let mut v = real_answer();
    v["results"].as_array_mut().unwrap().iter_mut().find(|r| r["cod"] == "VALE3").unwrap()["segment"] =
        json!("Mats Básicos / Mineração");
    let text = v.to_string().replace('\u{FFFD}', "?");
    assert!(text.chars().all(|c| (c as u32) < 256));
    let latin1: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    assert!(std::str::from_utf8(&latin1).is_err());
    let server = fixed(Reply::Body("application/json; charset=ISO-8859-1", latin1));
    let portfolio = client(&server, 9999).fetch("IBOV", Language::PtBr).await.unwrap();
    let vale = portfolio.members.iter().find(|m| m.code == "VALE3").unwrap();
    assert_eq!(vale.segment.as_deref(), Some("Mats Básicos / Mineração"));
    assert_eq!(portfolio.replaced_text(), 0);
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff() {
    let body = real_answer().to_string().into_bytes();
    let server = HttpServer::start(move |i, _| match i {
        0 => Reply::Status(503),
        1 => Reply::CutOff(body.clone()),
        _ => Reply::Body("application/json", body.clone()),
    });
    let portfolio = client(&server, 9999).fetch("IBOV", Language::PtBr).await.unwrap();
    assert_eq!(portfolio.members.len(), 92);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn the_cli_writes_the_day_replaces_it_on_a_rerun_and_keeps_indices_apart() {
    let dir = tempfile::tempdir().unwrap();
    let server = b3(real_answer());
    let out = ingest_ibov(dir.path(), &server, &["--date", "2022-12-08"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("IBOV portfolio of 2022-12-08: 92 members (71 with replaced characters)"), "{stdout}");
    let ibov_file = dir.path().join("raw_ibov/year=2022/month=12/day=08/carteira_20221208.parquet");
    let ibov_bytes = std::fs::read(&ibov_file).unwrap();

    // B3 serves today's portfolio only: asking for another day changes nothing.
    let before = snapshot(dir.path());
    let out = ingest_ibov(dir.path(), &server, &["--date", "2022-12-09"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("answered the IBOV portfolio of 2022-12-08, not of 2022-12-09"), "{}", stderr(&out));
    assert_eq!(snapshot(dir.path()), before);

    // A rerun replaces the file: still 92 rows. This one also syncs the day to Glue (moto).
    let out = ingest_ibov(dir.path(), &server, &["--sync-glue", "portfolio_cli"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lake = lake_at(dir.path()).await;
    let glue = GlueCatalog::new(crate::trigger::glue().await, "portfolio_cli", &LocalCatalog::new(&lake).lake_url());
    let def = glue.table(PORTFOLIO).await.unwrap().expect("the table is in Glue");
    let partitions = glue.partitions(&def, &[]).await.unwrap();
    assert_eq!(partitions.len(), 1);
    assert_eq!(partitions[0].values, ["2022", "12", "8"]);
    assert_eq!(partitions[0].location, "raw_ibov/year=2022/month=12/day=08");
    // Another index goes to its own file beside IBOV's, which stays as it was.
    let out = ingest_ibov(dir.path(), &server, &["--index", "smll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(params(server.requests().last().unwrap())["index"], "SMLL");
    assert!(dir.path().join("raw_ibov/year=2022/month=12/day=08/carteira_SMLL_20221208.parquet").is_file());
    assert_eq!(std::fs::read(&ibov_file).unwrap(), ibov_bytes);
    let counts =
        strings(&query(&lake, "SELECT indice, count(*) FROM carteira_b3_raw GROUP BY indice ORDER BY indice").await);
    assert_eq!(counts, ["IBOV|92", "SMLL|92"]);

    // A saved answer ingests offline, to the same rows.
    let other = tempfile::tempdir().unwrap();
    let file = data(ANSWER);
    let out = cli(&["ingest-ibov", "--file", file.to_str().unwrap(), "--lake", other.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = |lake: &Lake| {
        let lake = lake.clone();
        async move { strings(&query(&lake, "SELECT * FROM carteira_b3_raw WHERE indice = 'IBOV' ORDER BY codigo").await) }
    };
    assert_eq!(rows(&lake_at(other.path()).await).await, rows(&lake).await);
    let bad = cli(&["ingest-ibov", "--index", "IB-OV", "--file", file.to_str().unwrap()]);
    assert!(!bad.status.success() && stderr(&bad).contains("not a B3 index code"), "{}", stderr(&bad));
}

#[tokio::test]
async fn each_bad_answer_is_an_error_that_leaves_the_lake_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let good = b3(real_answer());
    assert!(ingest_ibov(dir.path(), &good, &[]).status.success());
    let before = snapshot(dir.path());

    let mut lost = real_answer();
    lost["results"].as_array_mut().unwrap().pop();
    let empty = json!({"page": {"pageNumber": 1, "pageSize": 9999, "totalRecords": 0, "totalPages": 0},
                       "header": null, "results": []});
    let mut twice = real_answer();
    let first = twice["results"][0].clone();
    twice["results"].as_array_mut().unwrap()[1] = first;
    let html = Reply::Body("text/html", b"<!DOCTYPE html><html><body>Manuten\xe7\xe3o</body></html>".to_vec());
    // (case, server, extra arguments, what the message says, requests made)
    type Case<'a> = (&'a str, HttpServer, Vec<&'a str>, Vec<&'a str>, usize);
    let cases: Vec<Case> = vec![
        ("empty", fixed(json_body(&empty)), vec![], vec!["B3 answered no members for index IBOV"], 1),
        ("html", fixed(html), vec![], vec!["HTML page instead of the portfolio JSON"], 1),
        (
            "not JSON",
            fixed(Reply::Body("application/json", b"{\"page\": \"x\"}".to_vec())),
            vec![],
            vec!["not a GetPortfolioDay answer"],
            1,
        ),
        (
            "a bad number",
            b3(with_member("VALE3", "part", json!("19.0,64"))),
            vec![],
            vec!["(VALE3), field part", "\"19.0,64\" is not a number in pt-br format"],
            1,
        ),
        (
            "a missing quantity",
            b3(with_member("PETR4", "theoricalQty", Value::Null)),
            vec![],
            vec!["(PETR4), field theoricalQty: missing"],
            1,
        ),
        (
            "a bad date",
            b3({
                let mut v = real_answer();
                v["header"]["date"] = json!("31/02/22");
                v
            }),
            vec![],
            vec!["header, field date: ", "\"31/02/22\" is not a date in pt-br format (dd/mm/yy)"],
            1,
        ),
        ("a lost member", fixed(json_body(&lost)), vec![], vec!["B3 announced 92 members and sent 91"], 1),
        (
            "weights not 100",
            b3(with_member("VALE3", "part", json!("29,064"))),
            vec![],
            vec!["weights add up to 110.000%"],
            1,
        ),
        (
            "quantities not the total",
            b3(with_member("VALE3", "theoricalQty", json!("4.547.296.399"))),
            vec![],
            vec!["add up to 101053551383, the header's total is 101053551382"],
            1,
        ),
        ("a member twice", b3(twice), vec![], vec!["field cod: WEGE3 appears twice"], 1),
        (
            "the wrong language",
            b3(real_answer()),
            vec!["--language", "en-us"],
            vec!["is not a number in en-us format", "(it reads as pt-br: is --language right?)"],
            1,
        ),
        ("HTTP 500", fixed(Reply::Status(500)), vec![], vec!["HTTP 500 after 3 attempts"], 3),
        ("HTTP 404", fixed(Reply::Status(404)), vec![], vec!["HTTP 404 after 1 attempts"], 1),
        (
            "cut off",
            fixed(Reply::CutOff(real_answer().to_string().into_bytes())),
            vec![],
            vec!["answer cut off after 3 attempts"],
            3,
        ),
    ];
    for (name, server, args, expected, requests) in cases {
        let out = ingest_ibov(dir.path(), &server, &args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{name}: succeeded");
        for e in expected {
            assert!(err.contains(e), "{name}: {err:?} lacks {e:?}");
        }
        assert!(err.contains(&format!("{}{API}/GetPortfolioDay/", server.base)), "{name}: names the URL: {err}");
        assert_eq!(server.requests().len(), requests, "{name}: requests");
        assert_eq!(snapshot(dir.path()), before, "{name}: the lake changed");
    }
}

/// The real 2022-02-04 session with its dates set to 2022-12-08, the portfolio's day: real
/// quotes for every IBOV member (all 92 traded that February day too).
pub(crate) fn quotes_of_the_portfolio_day(dir: &Path) -> std::path::PathBuf {
    let lines: Vec<Vec<u8>> = lines(DAY_2022)
        .into_iter()
        .map(|mut l| {
            if l.starts_with(b"01") {
                l[2..10].copy_from_slice(b"20221208");
            }
            l
        })
        .collect();
    let path = dir.join("COTAHIST_D08122022.TXT");
    write_lines(&path, &lines);
    path
}

#[tokio::test]
async fn the_transform_joins_each_member_with_its_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let lake = lake_at(dir.path()).await;
    ingest_paths(&lake, &[quotes_of_the_portfolio_day(inputs.path())]).await.unwrap();
    let ibov = portfolio::read_file(&data(ANSWER), "IBOV", Language::PtBr).unwrap();
    ingest_portfolio(&lake, &ibov, None).await.unwrap();
    let with_glue = TransformOptions { sync_glue: Some("portfolio_join".into()), ..Default::default() };
    let report = transform(&lake, &with_glue).await.unwrap();
    assert_eq!(report.days.len(), 1);
    let glue = GlueCatalog::new(crate::trigger::glue().await, "portfolio_join", &LocalCatalog::new(&lake).lake_url());
    let def = glue.table(INDEX_MEMBERS).await.unwrap().expect("the table is in Glue");
    assert_eq!(def.columns, LocalCatalog::new(&lake).require(INDEX_MEMBERS).await.unwrap().columns);
    let partitions = glue.partitions(&def, &[]).await.unwrap();
    assert_eq!(
        partitions.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(),
        ["index_members/year=2022/month=12/day=08"]
    );
    assert!(dir.path().join("index_members/year=2022/month=12/day=08/part-00000.parquet").is_file());

    // Each member's row against the refined table, joined here independently.
    let joined = strings(
        &query(
            &lake,
            "SELECT m.codigo_negociacao, m.participacao_pct, m.qtd_teorica, m.preco_fechamento, m.vol_financeiro_total, \
             m.valor_teorico, m.negociado, r.preco_fechamento, r.vol_financeiro_total \
             FROM cotacoes_b3_membros_indice m JOIN cotacoes_b3_refined r \
             ON r.symbol = m.codigo_negociacao AND r.year = 2022 AND r.month = 12 AND r.day = 8 \
             WHERE m.indice = 'IBOV' ORDER BY m.codigo_negociacao",
        )
        .await,
    );
    assert_eq!(joined.len(), 92, "every member traded");
    for row in &joined {
        let c: Vec<&str> = row.split('|').collect();
        assert_eq!((c[3], c[4], c[6]), (c[7], c[8], "true"), "{row}");
        let member = ibov.members.iter().find(|m| m.code == c[0]).unwrap();
        // valor_teorico = quantity x close (FATCOT 1), in cents, exactly.
        let cents: i128 = c[3].replace('.', "").parse().unwrap();
        assert_eq!(c[5].replace('.', "").parse::<i128>().unwrap(), member.quantity * cents, "{row}");
    }
    let vale = joined.iter().find(|r| r.starts_with("VALE3|")).unwrap();
    assert_eq!(vale, "VALE3|19.064|4547296398|87.98|2139338183.00|400071137096.04|true|87.98|2139338183.00");
    let shares = strings(
        &query(
            &lake,
            "SELECT round(sum(participacao_volume_pct), 9), round(sum(participacao_teorica_fechamento_pct), 9), \
             sum(participacao_pct) FROM cotacoes_b3_membros_indice",
        )
        .await,
    );
    assert_eq!(shares, ["100.0|100.0|100.000"]);

    // The queries of queries/: members by traded value, and weight against traded value.
    let by_value = csv(dir.path(), "membros_indice_por_valor.sql", &[]);
    assert_eq!(by_value.len(), 93);
    assert_eq!(by_value[1][..2], ["1".to_string(), "VALE3".to_string()]);
    assert_eq!(by_value[2][1], "PETR4");
    let vol = by_value[0].iter().position(|c| c == "vol_financeiro_total").unwrap();
    assert!(by_value[1..].windows(2).all(|w| w[0][vol].parse::<f64>().unwrap() >= w[1][vol].parse::<f64>().unwrap()));
    let weight = csv(dir.path(), "peso_vs_volume.sql", &[]);
    let col = |name: &str| weight[0].iter().position(|c| c == name).unwrap();
    let (w, v, g, r) =
        (col("participacao_pct"), col("participacao_volume_pct"), col("giro_relativo"), col("correlacao"));
    assert_eq!(weight.len(), 93);
    let num = |s: &str| s.parse::<f64>().unwrap();
    let vale = weight.iter().find(|row| row[0] == "VALE3").unwrap();
    assert_eq!((vale[w].as_str(), vale[g].as_str()), ("19.064", "0.57"), "10.846% of the value, 19.064% of the weight");
    assert!(weight[1..].windows(2).all(|p| num(&p[0][g]) >= num(&p[1][g])));
    // Pearson's r of the two shares, computed here.
    let pairs: Vec<(f64, f64)> = weight[1..].iter().map(|row| (num(&row[w]), num(&row[v]))).collect();
    let n = pairs.len() as f64;
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sx = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>().sqrt();
    let sy = pairs.iter().map(|p| (p.1 - my).powi(2)).sum::<f64>().sqrt();
    assert!(weight[1..].iter().all(|row| (num(&row[r]) - cov / (sx * sy)).abs() < 1e-3), "{}", weight[1][r]);

    // Incremental: nothing changed, nothing to do; a new portfolio for the day redoes it.
    let again = transform(&lake, &TransformOptions::default()).await.unwrap();
    assert_eq!((again.days.len(), again.up_to_date), (0, 1));
    let smll = Portfolio { index: "SMLL".into(), ..ibov.clone() };
    ingest_portfolio(&lake, &smll, None).await.unwrap();
    let redone = transform(&lake, &TransformOptions::default()).await.unwrap();
    assert_eq!(redone.days.len(), 1);
    let per_index = strings(
        &query(&lake, "SELECT indice, count(*) FROM cotacoes_b3_membros_indice GROUP BY indice ORDER BY indice").await,
    );
    assert_eq!(per_index, ["IBOV|92", "SMLL|92"]);

    // Portfolios gone: the day's members go too.
    std::fs::remove_dir_all(dir.path().join("raw_ibov")).unwrap();
    let gone = transform(&lake, &TransformOptions::default()).await.unwrap();
    assert_eq!(gone.days.len(), 1);
    assert!(!dir.path().join("index_members/year=2022/month=12/day=08").exists());
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_membros_indice").await, 0);
}

#[tokio::test]
async fn a_portfolio_event_joins_its_day_once_the_day_has_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let lake = lake_at(dir.path()).await;
    let ibov = portfolio::read_file(&data(ANSWER), "IBOV", Language::PtBr).unwrap();
    ingest_portfolio(&lake, &ibov, None).await.unwrap();
    let json =
        crate::trigger::event("lake-bucket", &["raw_ibov/year%3D2022/month%3D12/day%3D08/carteira_20221208.parquet"]);
    let location = dir.path().to_str().unwrap().to_string();
    let target = Target { lake: Some(location.clone()), options: TransformOptions::default() };

    // No quotes of that day yet: nothing to join, and not an error.
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert!(report.local.is_empty() && report.ignored.is_empty());
    assert_eq!(report.waiting, [(location.clone(), ibov.date)]);
    assert!(report.to_string().contains("a portfolio of 2022-12-08, a day without quotes yet"), "{report}");

    // With the day's quotes in the lake, the same event transforms the day and joins it.
    ingest_paths(&lake, &[quotes_of_the_portfolio_day(inputs.path())]).await.unwrap();
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert_eq!(report.local[0].1.days, [ibov.date]);
    assert!(report.waiting.is_empty());
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_membros_indice").await, 92);
}

#[tokio::test]
async fn a_portfolio_goes_to_an_s3_lake_too() {
    let url = bucket("portfolio-lake").await;
    let lake = Lake::open(&url).await.unwrap();
    let ibov = portfolio::read_file(&data(ANSWER), "IBOV", Language::PtBr).unwrap();
    let report = ingest_portfolio(&lake, &ibov, None).await.unwrap();
    assert!(lake.exists(&lake.path(&report.file)).await.unwrap(), "{}", report.file);
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM carteira_b3_raw WHERE day = 8").await, 92);
    // A rerun replaces the object: still 92 rows.
    ingest_portfolio(&lake, &ibov, None).await.unwrap();
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM carteira_b3_raw").await, 92);
}
