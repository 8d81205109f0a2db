//! `b3lake chart` and `b3lake report` on the demo lake (the real 2022-02-04 session and a
//! synthetic January 2024): every kind as PNG and SVG, what the figures hold against the
//! tables, clear errors instead of empty pictures, `\chart` from a result, and the report
//! rendered by headless Chromium with every chart visible in its screenshot.

use std::path::Path;
use std::process::{Command, Output};

use b3lake::chart::{self, Kind, Plot};
use b3lake::lake::Lake;
use chrono::NaiveDate;

use crate::common::{chromium, demo_lake, query, strings};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn b3lake(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_b3lake")).args(args).output().expect("run b3lake")
}

/// A decoded PNG: width, height and RGB(A) pixels.
struct Picture {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Picture {
    fn decode(bytes: &[u8]) -> Picture {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).expect("the PNG decodes");
        pixels.truncate(info.buffer_size());
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected PNG colour type {other:?}"),
        };
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        Picture { width: info.width as usize, height: info.height as usize, channels, pixels }
    }

    fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// Share of pixels that are not the white background, and how many colours there are.
    fn ink(&self) -> (f64, usize) {
        let mut colours = std::collections::HashSet::new();
        let (mut inked, mut all) = (0, 0);
        for y in (0..self.height).step_by(2) {
            for x in (0..self.width).step_by(2) {
                let p = self.rgb(x, y);
                colours.insert(p);
                inked += usize::from(p != [255, 255, 255]);
                all += 1;
            }
        }
        (inked as f64 / all as f64, colours.len())
    }
}

/// Checks a chart file: the requested size, decodes, not blank; returns the SVG's text.
fn check_picture(path: &Path, width: usize, height: usize) -> Option<String> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().unwrap() == "png" {
        let p = Picture::decode(&bytes);
        assert_eq!((p.width, p.height), (width, height), "{}", path.display());
        let (ink, colours) = p.ink();
        assert!(ink > 0.03 && colours > 20, "{}: {:.1}% inked, {colours} colours", path.display(), ink * 100.0);
        None
    } else {
        let text = String::from_utf8(bytes).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("width"), Some(width.to_string().as_str()));
        assert_eq!(root.attribute("height"), Some(height.to_string().as_str()));
        let shapes = root
            .descendants()
            .filter(|n| matches!(n.tag_name().name(), "rect" | "path" | "polyline" | "circle" | "line"))
            .count();
        let texts: Vec<&str> =
            root.descendants().filter(|n| n.tag_name().name() == "text").filter_map(|n| n.text()).collect();
        assert!(shapes > 10 && texts.len() > 5, "{}: {shapes} shapes, {} texts", path.display(), texts.len());
        Some(texts.join("\n"))
    }
}

#[tokio::test]
async fn every_kind_draws_on_the_real_day_and_on_generated_weeks() {
    let lake = demo_lake().await;
    let lake = lake.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let real = ["--from", "2022-02-04", "--to", "2022-02-04"];
    let weeks = ["--from", "2024-01-08", "--to", "2024-01-19"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("top-volume-real", vec!["top-volume", "--day", "2022-02-04"]),
        ("price-real", [&["price", "--symbol", "PETR4", "--symbol", "vale3"][..], &real].concat()),
        ("market-volume-real", [&["market-volume"][..], &real].concat()),
        ("returns-heatmap-real", [&["returns-heatmap"][..], &real].concat()),
        ("expiry-calendar-real", [&["expiry-calendar"][..], &real].concat()),
        (
            "sql-real",
            vec![
                "sql",
                "--sql",
                "SELECT symbol, vol_financeiro_total FROM cotacoes_b3_refined WHERE year = 2022 AND month = 2 AND day = 4 \
                 ORDER BY vol_financeiro_total DESC LIMIT 8",
                "--x",
                "symbol",
                "--y",
                "vol_financeiro_total",
            ],
        ),
        ("top-volume-weeks", vec!["top-volume", "--day", "2024-01-15", "--n", "15"]),
        ("price-weeks", [&["price", "--symbol", "RCBY3"][..], &weeks].concat()),
        ("market-volume-weeks", [&["market-volume"][..], &weeks].concat()),
        ("returns-heatmap-weeks", [&["returns-heatmap", "--n", "12"][..], &weeks].concat()),
        ("expiry-calendar-weeks", [&["expiry-calendar"][..], &weeks].concat()),
        (
            "sql-line-weeks",
            vec![
                "sql",
                "--sql",
                "SELECT data_pregao, vol_financeiro_total FROM cotacoes_b3_resumo_diario WHERE year = 2024",
                "--x",
                "data_pregao",
                "--y",
                "vol_financeiro_total",
                "--kind",
                "line",
            ],
        ),
        (
            "sql-scatter-weeks",
            vec![
                "sql",
                "--sql",
                "SELECT numero_negocios, vol_financeiro_total FROM cotacoes_b3_refined WHERE year = 2024 AND month = 1 AND day = 15",
                "--x",
                "numero_negocios",
                "--y",
                "vol_financeiro_total",
                "--kind",
                "scatter",
            ],
        ),
    ];
    for (name, args) in &cases {
        for (ext, width, height) in [("png", 1000, 560), ("svg", 900, 500)] {
            let file = out.path().join(format!("{name}.{ext}"));
            let (w, h) = (width.to_string(), height.to_string());
            let mut argv = vec!["chart"];
            argv.extend(args.iter().copied());
            argv.extend(["--lake", lake, "--out", file.to_str().unwrap(), "--width", &w, "--height", &h]);
            let o = b3lake(&argv);
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
            if let Some(texts) = check_picture(&file, width, height) {
                // Titles, the Brazilian units and dates are there as text.
                match *name {
                    "top-volume-real" => {
                        assert!(texts.contains("Maiores volumes financeiros em 04/02/2022"), "{texts}");
                        assert!(texts.contains("VALE3") && texts.contains("R$ 2,1 bi"), "{texts}");
                    }
                    "price-real" => {
                        assert!(
                            texts.contains("PETR4") && texts.contains("VALE3") && texts.contains("04/02/2022"),
                            "{texts}"
                        );
                        assert!(texts.contains("VWAP") && texts.contains("R$ "), "{texts}");
                    }
                    "market-volume-weeks" => assert!(texts.contains("10 pregões"), "{texts}"),
                    "returns-heatmap-weeks" => assert!(texts.contains("%"), "{texts}"),
                    "sql-line-weeks" => assert!(texts.contains("/01/2024"), "{texts}"),
                    _ => {}
                }
            }
        }
    }
}

#[tokio::test]
async fn figures_hold_the_lake_values() {
    let dir = demo_lake().await;
    let lake = Lake::open(dir.to_str().unwrap()).await.unwrap();
    let session = b3lake::sql::session(&lake).await.unwrap();

    // Top volume on the real day: B3's figures, largest first.
    let f = chart::figure(&session, &Kind::TopVolume { day: day("2022-02-04"), n: 10 }).await.unwrap();
    let Plot::HorizontalBars { categories, series, .. } = &f.plot else { panic!("{f:?}") };
    assert_eq!(categories.len(), 10);
    assert_eq!((categories[0].as_str(), series[0].values[0]), ("VALE3", 2139338183.00));
    assert_eq!((categories[1].as_str(), series[0].values[1]), ("PETR4", 1945649554.00));
    assert!(series[0].values.windows(2).all(|w| w[0] >= w[1]));

    // Candles: each day's prices as the refined table has them.
    let (from, to) = (day("2024-01-08"), day("2024-01-19"));
    let f = chart::figure(&session, &Kind::Price { symbols: vec!["rcby3".into()], from, to }).await.unwrap();
    let Plot::Candles { panels } = &f.plot else { panic!("{f:?}") };
    assert_eq!(panels[0].symbol, "RCBY3");
    let rows = strings(
        &query(
            &lake,
            "SELECT data_pregao, preco_abertura, preco_maximo, preco_minimo, preco_fechamento, vol_financeiro_total \
             FROM cotacoes_b3_refined WHERE symbol = 'RCBY3' AND data_pregao BETWEEN DATE '2024-01-08' AND DATE '2024-01-19' \
             ORDER BY data_pregao",
        )
        .await,
    );
    assert_eq!(panels[0].days.len(), 10);
    assert_eq!(rows.len(), 10);
    for (c, row) in panels[0].days.iter().zip(&rows) {
        let v: Vec<&str> = row.split('|').collect();
        assert_eq!(c.day.to_string(), v[0]);
        assert_eq!([c.open, c.high, c.low, c.close, c.volume], [1, 2, 3, 4, 5].map(|i| v[i].parse::<f64>().unwrap()));
        assert!(c.low <= c.vwap && c.vwap <= c.high, "{c:?}");
    }

    // Market volume: one column per trading day, the daily summary's totals.
    let f = chart::figure(&session, &Kind::MarketVolume { from, to }).await.unwrap();
    let Plot::Columns { labels, values, .. } = &f.plot else { panic!("{f:?}") };
    assert_eq!(labels[0], "08/01/2024");
    assert_eq!(labels.len(), 10);
    let total: f64 = query(&lake, "SELECT CAST(sum(vol_financeiro_total) AS DOUBLE) FROM cotacoes_b3_refined WHERE data_pregao = DATE '2024-01-08' AND year = 2024 AND month = 1 AND day = 8")
        .await[0]
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Float64Array>()
        .unwrap()
        .value(0);
    assert!((values[0] - total).abs() < 0.01, "{} vs {total}", values[0]);

    // Heatmap: the most traded tickers of the range, each cell the day's close over open.
    let f = chart::figure(&session, &Kind::ReturnsHeatmap { from, to, n: 5 }).await.unwrap();
    let Plot::Heatmap { rows: tickers, days, cells } = &f.plot else { panic!("{f:?}") };
    assert_eq!((tickers.len(), days.len()), (5, 10));
    let top = strings(
        &query(
            &lake,
            "SELECT symbol FROM cotacoes_b3_refined WHERE data_pregao BETWEEN DATE '2024-01-08' AND DATE '2024-01-19' \
             GROUP BY symbol ORDER BY sum(vol_financeiro_total) DESC, symbol LIMIT 5",
        )
        .await,
    );
    assert_eq!(tickers, &top);
    let first = strings(
        &query(
            &lake,
            &format!(
                "SELECT variacao_percentual_dia FROM cotacoes_b3_refined WHERE symbol = '{}' AND data_pregao = DATE '2024-01-08'",
                top[0]
            ),
        )
        .await,
    );
    assert_eq!(cells[0][0].map(|v| v.to_string()), first.first().map(|v| v.parse::<f64>().unwrap().to_string()));

    // Expiry calendar: calls and puts add up to the raw options' traded value.
    let f = chart::figure(&session, &Kind::ExpiryCalendar { from: day("2022-02-04"), to: day("2022-02-04"), n: 100 })
        .await
        .unwrap();
    let Plot::HorizontalBars { categories, series, .. } = &f.plot else { panic!("{f:?}") };
    assert_eq!(series.len(), 2);
    let sum: f64 = series.iter().flat_map(|s| &s.values).sum();
    let raw = strings(
        &query(
            &lake,
            "SELECT count(DISTINCT data_vencimento), sum(volume_total_negociado) FROM cotacoes_b3_raw \
             WHERE year = 2022 AND month = 2 AND day = 4 AND tipo_mercado IN (70, 80)",
        )
        .await,
    );
    let v: Vec<&str> = raw[0].split('|').collect();
    assert_eq!(categories.len(), v[0].parse::<usize>().unwrap());
    assert!((sum - v[1].parse::<f64>().unwrap()).abs() < 1.0, "{sum} vs {}", v[1]);
    // In date order, the Brazilian way.
    let dates: Vec<NaiveDate> = categories.iter().map(|c| NaiveDate::parse_from_str(c, "%d/%m/%Y").unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "{categories:?}");
}

#[tokio::test]
async fn wrong_arguments_are_clear_errors_and_draw_nothing() {
    let lake = demo_lake().await;
    let lake = lake.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("x.png");
    let f = file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["price", "--symbol", "PETR4", "--symbol", "XPTO9", "--from", "2022-02-04", "--to", "2022-02-04"],
            "no quotes for XPTO9 between 04/02/2022 and 04/02/2022",
        ),
        (
            vec!["market-volume", "--from", "2030-01-01", "--to", "2030-01-31"],
            "no trading days between 01/01/2030 and 31/01/2030 (the lake has trading days from 04/02/2022 to 31/01/2024)",
        ),
        (vec!["top-volume", "--day", "2024-01-06"], "no quotes on 06/01/2024"),
        (vec!["price", "--symbol", "PETR4", "--from", "2030-01-01", "--to", "2030-01-02"], "no trading days between"),
        (
            vec!["returns-heatmap", "--from", "2024-01-20", "--to", "2024-01-10"],
            "--from 20/01/2024 is after --to 10/01/2024",
        ),
        (vec!["expiry-calendar", "--from", "2030-01-01", "--to", "2030-01-02"], "no trading days between"),
        (
            vec!["sql", "--sql", "SELECT 1 AS a", "--x", "a", "--y", "b"],
            "no column \"b\" in the result (its columns: a)",
        ),
        (vec!["sql", "--sql", "SELECT 1 AS a WHERE false", "--x", "a", "--y", "a"], "no rows"),
    ];
    for (args, message) in &cases {
        let mut argv = vec!["chart"];
        argv.extend(args.iter().copied());
        argv.extend(["--lake", lake, "--out", f]);
        let o = b3lake(&argv);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!file.exists(), "{args:?} left a picture");
    }
    let o = b3lake(&["chart", "top-volume", "--day", "2022-02-04", "--lake", lake, "--out", "x.jpg"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.jpg: the chart's file must end in .png or .svg"));
    let o = b3lake(&["report", "--from", "2030-01-01", "--to", "2030-01-02", "--lake", lake, "--out", f]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no trading days between 01/01/2030 and 02/01/2030"));
}

#[tokio::test]
async fn the_shell_draws_its_last_result() {
    let lake = demo_lake().await;
    let out = tempfile::tempdir().unwrap();
    let svg = out.path().join("top.svg");
    let lake = Lake::open(lake.to_str().unwrap()).await.unwrap();
    let session = b3lake::sql::session(&lake).await.unwrap();
    let mut shell = b3lake::frontend::shell::Shell::new(session, Box::new(std::io::sink()));
    let none = shell.chart(b3lake::chart::data::XyStyle::Bar, "symbol", "v", &svg).unwrap_err().to_string();
    assert!(none.contains("no result to draw"), "{none}");
    shell
        .run(
            "SELECT symbol, vol_financeiro_total AS v FROM cotacoes_b3_refined WHERE year = 2022 AND month = 2 AND day = 4 \
             ORDER BY v DESC LIMIT 5",
        )
        .await
        .unwrap();
    let f = shell.chart(b3lake::chart::data::XyStyle::Bar, "symbol", "v", &svg).unwrap();
    let Plot::Columns { labels, .. } = &f.plot else { panic!("{f:?}") };
    assert_eq!(labels[..2], ["VALE3".to_string(), "PETR4".to_string()]);
    let texts = check_picture(&svg, 1200, 675).unwrap();
    assert!(texts.contains("VALE3") && texts.contains("2,1 bi"), "{texts}");
}

/// Where `part` appears, pixel for pixel (within a small tolerance), in `whole`.
fn find(whole: &Picture, part: &Picture) -> Option<(usize, usize)> {
    let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 4);
    // The row of the part with the most colour changes anchors the search.
    let changes = |y: usize| (1..part.width).filter(|&x| part.rgb(x, y) != part.rgb(x - 1, y)).count();
    let anchor = (0..part.height).max_by_key(|&y| changes(y))?;
    // Its inked pixels first: a blank stretch of the page fails at once.
    let mut probe: Vec<usize> = (0..part.width).filter(|&x| part.rgb(x, anchor) != [255, 255, 255]).collect();
    probe.extend((0..part.width).step_by(7));
    for oy in 0..=whole.height.checked_sub(part.height)? {
        for ox in 0..=whole.width.checked_sub(part.width)? {
            if probe.iter().all(|&x| close(whole.rgb(ox + x, oy + anchor), part.rgb(x, anchor))) {
                let (mut same, mut all) = (0, 0);
                for y in (0..part.height).step_by(5) {
                    for x in (0..part.width).step_by(5) {
                        all += 1;
                        same += usize::from(close(whole.rgb(ox + x, oy + y), part.rgb(x, y)));
                    }
                }
                if same * 100 >= all * 98 {
                    return Some((ox, oy));
                }
            }
        }
    }
    None
}

#[tokio::test]
async fn the_report_shows_every_chart_in_headless_chromium() {
    let lake = demo_lake().await;
    let out = tempfile::tempdir().unwrap();
    let html_path = out.path().join("report.html");
    let o = b3lake(&[
        "report",
        "--lake",
        lake.to_str().unwrap(),
        "--from",
        "2024-01-15",
        "--to",
        "2024-01-19",
        "--out",
        html_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("5 trading days to 2024-01-19, 5 charts, 0 checks failed"), "{stdout}");
    let html = std::fs::read_to_string(&html_path).unwrap();

    // Self-contained: no address to fetch, images inline.
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    let images: Vec<Picture> = html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|s| {
            use base64::Engine as _;
            let b64 = &s[..s.find('"').unwrap()];
            Picture::decode(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap())
        })
        .collect();
    assert_eq!(images.len(), 5);
    for id in ["market-volume", "top-volume", "price", "returns-heatmap", "expiry-calendar"] {
        assert!(html.contains(&format!("id=\"chart-{id}\"")), "{id}");
    }
    // The day's tables and the checks.
    assert!(html.contains("Destaques de 19/01/2024") && html.contains("Qualidade dos dados"));
    assert!(html.contains("refined.totals_match_raw") && !html.contains("FALHOU"));
    let top = strings(
        &query(
            &Lake::open(lake.to_str().unwrap()).await.unwrap(),
            "SELECT symbol, vol_financeiro_total FROM cotacoes_b3_refined WHERE year = 2024 AND month = 1 AND day = 19 \
             ORDER BY vol_financeiro_total DESC, symbol LIMIT 1",
        )
        .await,
    );
    let (symbol, volume) = top[0].split_once('|').unwrap();
    // Exact to the cent, written the Brazilian way.
    let exact = b3lake::chart::brl::exact(volume);
    assert!(html.contains(&format!("<td>{symbol}</td>")) && html.contains(&format!("R$ {exact}")), "{symbol} {exact}");

    // Headless Chromium renders the page; its screenshot holds each chart, pixel for pixel.
    let shot = out.path().join("shot.png");
    let o = chromium(&out.path().join("profile"))
        .args(["--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1100,7000"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .expect("run chromium");
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let screen = Picture::decode(&std::fs::read(&shot).unwrap());
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for (i, image) in images.iter().enumerate() {
        let at =
            find(&screen, image).unwrap_or_else(|| panic!("chart {i} is not in the screenshot {}", shot.display()));
        seen.push(at);
    }
    // Each at its own place, down the page.
    assert!(seen.windows(2).zip(&images).all(|(w, i)| w[1].1 >= w[0].1 + i.height), "{seen:?}");
}

#[test]
fn an_infinite_value_is_refused_not_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = dir.path().join("inf.png");
    let sql =
        "SELECT x, CASE WHEN x = 2 THEN CAST(1e308 AS DOUBLE) * 10 ELSE x END AS y FROM (VALUES (1), (2), (3)) t(x)";
    let o = b3lake(&[
        "chart",
        "sql",
        "--sql",
        sql,
        "--x",
        "x",
        "--y",
        "y",
        "--lake",
        lake.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a value to draw is inf") && err.contains("finite numbers only"), "{err}");
    assert!(!file.exists());
}
