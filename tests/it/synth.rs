//! The generator: valid files, realistic mix, deterministic.

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use b3lake::lake::Lake;

use crate::common::*;

#[tokio::test]
async fn a_generated_week_is_valid_and_looks_like_2022() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("COTAHIST_SYNTH.TXT");
    let out =
        cli(&["synth", "--out", file.to_str().unwrap(), "--from", "2022-02-05", "--to", "2022-02-13", "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Every line is 245 bytes plus CRLF; the trailer's count is checked by ingest itself.
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.len() % 247, 0);
    assert!(bytes.chunks(247).all(|l| &l[245..] == b"\r\n"));
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).await.unwrap();
    let report = ingest_paths(&lake, std::slice::from_ref(&file)).await.unwrap();
    assert_eq!(report.days.len(), 5, "Monday to Friday");
    let per_day = report.records as f64 / 5.0;
    assert!((6500.0..8500.0).contains(&per_day), "{per_day} records a day");

    let share = |sql: &str| {
        let sql = sql.to_string();
        let lake = lake.clone();
        async move {
            let batches = query(&lake, &sql).await;
            batches[0].column(0).as_primitive::<Int64Type>().value(0) as f64 / report.records as f64
        }
    };
    let spot = share("SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 10").await;
    let options = share("SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado IN (70, 80)").await;
    let odd = share("SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 20").await;
    let forward = share("SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 30").await;
    assert!((0.13..0.19).contains(&spot), "spot {spot}");
    assert!((0.68..0.78).contains(&options), "options {options}");
    assert!(odd > 0.02 && forward > 0.02, "odd lot {odd}, forward {forward}");
    assert!(share("SELECT count(*) FROM cotacoes_b3_raw WHERE fator_cotacao = 1000").await > 0.0);
    assert!(
        share(
            "SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 70 AND preco_exercicio > 0 AND data_vencimento > data_pregao"
        )
        .await
            > 0.3
    );
    assert!(
        share("SELECT count(*) FROM cotacoes_b3_raw WHERE preco_exercicio_pontos > 0").await > 0.0,
        "index options"
    );
    assert!(share("SELECT count(*) FROM cotacoes_b3_raw WHERE nome_empresa LIKE '%Ç%' OR nome_empresa LIKE '%É%' OR nome_empresa LIKE '%Ã%'").await > 0.0, "Latin-1 names");
    assert!(
        share("SELECT count(*) FROM cotacoes_b3_raw WHERE preco_minimo > preco_maximo OR preco_medio > preco_maximo")
            .await
            == 0.0
    );
    // Every raw data-quality rule holds, unique keys included.
    let checks = b3lake::quality::check(&lake, &Default::default()).await.unwrap();
    let raw_failures: Vec<_> = checks.iter().filter(|c| c.table == "raw" && c.violations > 0).collect();
    assert!(raw_failures.is_empty(), "{raw_failures:?}");
    // Prices move from day to day.
    let moved = query(&lake, "SELECT count(DISTINCT preco_ultimo_negocio) FROM cotacoes_b3_raw WHERE codigo_negociacao = (SELECT min(codigo_negociacao) FROM cotacoes_b3_raw WHERE tipo_mercado = 10 AND codigo_bdi = '02')").await;
    assert!(moved[0].column(0).as_primitive::<Int64Type>().value(0) >= 3);

    // Deterministic for a seed.
    let again = dir.path().join("again.txt");
    assert!(
        cli(&["synth", "--out", again.to_str().unwrap(), "--from", "2022-02-05", "--to", "2022-02-13", "--seed", "3"])
            .status
            .success()
    );
    assert!(std::fs::read(&again).unwrap() == bytes);
}

#[test]
fn synth_writes_zips() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("COTAHIST_A2023.ZIP");
    assert!(
        cli(&["synth", "--out", zip.to_str().unwrap(), "--from", "2023-01-02", "--to", "2023-01-03"]).status.success()
    );
    let inputs = b3lake::source::resolve(&[zip]).unwrap();
    assert_eq!(inputs.len(), 1);
    assert!(inputs[0].to_string().ends_with("COTAHIST_A2023.ZIP!COTAHIST_A2023.TXT"));
}
