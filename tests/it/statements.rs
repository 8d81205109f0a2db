//! Athena's statements beyond SELECT and the Hive catalog's: views, CTAS, INSERT INTO,
//! UNLOAD, partition projection and EXPLAIN, locally and through Glue (moto).

use b3lake::lake::Lake;
use b3lake::sql::{execute, session};

use crate::catalog::{real_day_lake, run};
use crate::common::*;

#[tokio::test]
async fn views_persist_prune_and_go_stale_with_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    // The built-in views are there from the start, and a view's partition filter prunes.
    assert_eq!(run(&s, "SHOW VIEWS").await, ["cotacoes_b3_mercado_vista", "cotacoes_b3_ultima_sessao"]);
    let petr4 = "SELECT CAST(preco_fechamento AS VARCHAR) FROM cotacoes_b3_mercado_vista \
                 WHERE year = 2022 AND month = 2 AND day = 4 AND codigo_negociacao = 'PETR4'";
    assert_eq!(run(&s, petr4).await, ["32.63"]);
    let done = execute(&s, &petr4.replace("day = 4", "day = 5")).await.unwrap();
    assert_eq!((done.rows, done.scanned.files), (0, 0), "another day's filter reads no file");
    let latest = "SELECT CAST(preco_fechamento AS VARCHAR), CAST(data_pregao AS VARCHAR) FROM cotacoes_b3_ultima_sessao \
                  WHERE codigo_negociacao = 'VALE3'";
    assert_eq!(run(&s, latest).await, ["87.98|2022-02-04"]);

    // A view made in one session is there in the next (a new process), with Trino's types.
    run(&s, "CREATE VIEW caras AS SELECT codigo_negociacao AS ticker, preco_fechamento FROM cotacoes_b3_refined WHERE preco_fechamento > 100").await;
    let again = session(&lake).await.unwrap();
    assert_eq!(run(&again, "DESCRIBE caras").await, ["ticker|varchar||false", "preco_fechamento|decimal(13,2)||false"]);
    assert_eq!(
        run(&again, "SHOW CREATE VIEW caras").await,
        [
            "CREATE VIEW \"caras\" AS\nSELECT codigo_negociacao AS ticker, preco_fechamento FROM cotacoes_b3_refined WHERE preco_fechamento > 100"
        ]
    );
    let n = run(&again, "SELECT count(*) FROM caras").await;
    assert_eq!(n, run(&again, "SELECT count(*) FROM cotacoes_b3_refined WHERE preco_fechamento > 100").await);
    assert!(run(&again, "SHOW TABLES").await.contains(&"caras".to_string()), "Athena lists views among tables");
    assert_eq!(run(&again, "SHOW VIEWS LIKE 'car*|nada'").await, ["caras"]);

    // CREATE without OR REPLACE over an existing view fails and changes nothing; OR REPLACE replaces.
    let before = snapshot(dir.path());
    let err = execute(&again, "CREATE VIEW caras AS SELECT 1 AS x").await.unwrap_err().to_string();
    assert!(err.contains("View 'caras' already exists"), "{err}");
    // A view over a missing table fails and leaves nothing.
    let err = execute(&again, "CREATE VIEW fantasma AS SELECT * FROM nao_existe").await.unwrap_err().to_string();
    assert!(err.contains("nao_existe") && err.contains("not found"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
    run(&again, "CREATE OR REPLACE VIEW caras AS SELECT 1 AS x").await;
    assert_eq!(run(&session(&lake).await.unwrap(), "SELECT * FROM caras").await, ["1"]);

    // A view over a table that is then dropped is stale: Athena's message, not a crash.
    run(&again, "CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION '${lake}/t/'").await;
    run(&again, "CREATE VIEW sobre_t AS SELECT a FROM t").await;
    run(&again, "DROP TABLE t").await;
    let err = execute(&session(&lake).await.unwrap(), "SELECT * FROM sobre_t").await.unwrap_err().to_string();
    assert!(err.contains("View 'awsdatacatalog.default.sobre_t' is stale"), "{err}");
    run(&again, "DROP VIEW sobre_t").await;
    run(&again, "DROP VIEW IF EXISTS sobre_t").await;
    let err = execute(&again, "DROP VIEW sobre_t").await.unwrap_err().to_string();
    assert!(err.contains("View 'sobre_t' not found"), "{err}");
    // A view may not take a table's name, nor a table a view's.
    let err = execute(&again, "CREATE VIEW cotacoes_b3_raw AS SELECT 1 AS x").await.unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    let err = execute(&again, "CREATE EXTERNAL TABLE caras (a int) STORED AS PARQUET LOCATION '${lake}/c/'")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn views_reach_glue_as_athena_writes_them_and_come_back() {
    use base64::Engine;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = lake_dir.to_str().unwrap();
    let db = format!("views_{}", uuid::Uuid::new_v4().simple());
    let db = db.as_str();
    let local = rt.block_on(Lake::open(lake)).unwrap();
    rt.block_on(ingest_paths(&local, &[data(DEMO_2003)])).unwrap();
    let s = rt.block_on(session(&local)).unwrap();
    rt.block_on(run(&s, "CREATE VIEW negocios AS SELECT codigo_negociacao, numero_negocios FROM cotacoes_b3_raw"));
    let out = cli(&["catalog", "sync", "--lake", lake, "--database", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("create view negocios") && text.contains("create view cotacoes_b3_ultima_sessao"), "{text}");

    // In Glue, as Athena stores a view: VIRTUAL_VIEW, the encoded definition, Hive column types.
    let client = rt.block_on(crate::trigger::glue());
    let t = rt.block_on(client.get_table().database_name(db).name("negocios").send()).unwrap().table.unwrap();
    assert_eq!(t.table_type.as_deref(), Some("VIRTUAL_VIEW"));
    assert_eq!(t.view_expanded_text.as_deref(), Some("/* Presto View */"));
    assert_eq!(t.parameters.as_ref().unwrap().get("presto_view").map(String::as_str), Some("true"));
    let original = t.view_original_text.unwrap();
    let encoded = original.strip_prefix("/* Presto View: ").and_then(|t| t.strip_suffix(" */")).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(json["originalSql"], "SELECT codigo_negociacao, numero_negocios FROM cotacoes_b3_raw");
    assert_eq!((json["catalog"].as_str(), json["schema"].as_str()), (Some("awsdatacatalog"), Some(db)));
    assert_eq!(
        json["columns"],
        serde_json::json!([{"name": "codigo_negociacao", "type": "varchar"}, {"name": "numero_negocios", "type": "integer"}])
    );
    let columns: Vec<(String, String)> = t
        .storage_descriptor
        .unwrap()
        .columns
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.r#type.unwrap_or_default()))
        .collect();
    assert_eq!(columns, [("codigo_negociacao".into(), "string".into()), ("numero_negocios".into(), "int".into())]);
    // A second sync changes nothing.
    let out = cli(&["catalog", "sync", "--lake", lake, "--database", db]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("create view") && !text.contains("update view"), "{text}");

    // A view made in Athena (its own JSON, with an owner) is pulled into a new lake and runs there.
    let athena = serde_json::json!({
        "originalSql": "SELECT count(*) AS n FROM cotacoes_b3_raw WHERE tipo_mercado = 10",
        "catalog": "awsdatacatalog", "schema": db,
        "columns": [{"name": "n", "type": "bigint"}],
        "owner": "arn:aws:iam::123456789012:user/analyst", "runAsInvoker": false, "properties": {}
    });
    let text = format!("/* Presto View: {} */", base64::engine::general_purpose::STANDARD.encode(athena.to_string()));
    let input = aws_sdk_glue::types::TableInput::builder()
        .name("feito_no_athena")
        .table_type("VIRTUAL_VIEW")
        .view_original_text(text)
        .view_expanded_text("/* Presto View */")
        .parameters("presto_view", "true")
        .build()
        .unwrap();
    rt.block_on(client.create_table().database_name(db).table_input(input).send()).unwrap();
    // Forgotten locally, the lake's own view comes back from Glue with the one Athena made.
    let before = rt.block_on(run(&s, "SHOW CREATE VIEW negocios"));
    rt.block_on(run(&s, "DROP VIEW negocios"));
    let out = cli(&["catalog", "pull", "--lake", lake, "--database", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pulled = rt.block_on(session(&local)).unwrap();
    let views = rt.block_on(run(&pulled, "SHOW VIEWS"));
    assert!(views.contains(&"feito_no_athena".into()) && views.contains(&"negocios".into()), "{views:?}");
    let n = rt.block_on(run(&pulled, "SELECT n FROM feito_no_athena"));
    assert_eq!(n, rt.block_on(run(&pulled, "SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 10")));
    assert_eq!(rt.block_on(run(&pulled, "SHOW CREATE VIEW negocios")), before);

    // Dropped locally, dropped in Glue; the view Athena made stays.
    rt.block_on(run(&s, "DROP VIEW negocios"));
    let out = cli(&["catalog", "sync", "--lake", lake, "--database", db]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("drop view negocios"), "{text}{}", stderr(&out));
    assert!(rt.block_on(client.get_table().database_name(db).name("negocios").send()).is_err());
    assert!(rt.block_on(client.get_table().database_name(db).name("feito_no_athena").send()).is_ok());
}

/// Every Parquet file under a folder of the lake.
fn files_under(dir: &std::path::Path, extension: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(extension) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn ctas_and_insert_write_partitioned_parquet_and_register_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    let ctas = "CREATE TABLE vista WITH (format = 'PARQUET', write_compression = 'ZSTD', \
                external_location = '${lake}/vista/', partitioned_by = ARRAY['year', 'month']) AS \
                SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado, year, month \
                FROM cotacoes_b3_raw WHERE tipo_mercado = 10";
    assert_eq!(run(&s, ctas).await, ["1196"]);
    // Hive folders of the partition keys, Parquet with the codec asked for, registered.
    let files = files_under(&dir.path().join("vista/year=2022/month=2"), ".parquet");
    assert_eq!(files.len(), 1);
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&files[0]).unwrap()).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(&reader);
    assert!(matches!(meta.row_group(0).column(0).compression(), parquet::basic::Compression::ZSTD(_)));
    assert_eq!(run(&s, "SHOW PARTITIONS vista").await, ["year=2022/month=2"]);
    let petr4 = "SELECT CAST(preco_ultimo_negocio AS VARCHAR) FROM vista WHERE codigo_negociacao = 'PETR4'";
    assert_eq!(run(&s, petr4).await, ["32.63"]);
    let ddl = run(&s, "SHOW CREATE TABLE vista").await.join("\n");
    assert!(ddl.contains("PARTITIONED BY") && ddl.contains("'parquet.compression'='ZSTD'"), "{ddl}");
    // To the cent: the same sums as the source.
    let total = "SELECT CAST(sum(volume_total_negociado) AS VARCHAR), count(*) FROM";
    assert_eq!(
        run(&s, &format!("{total} vista")).await,
        run(&s, &format!("{total} cotacoes_b3_raw WHERE tipo_mercado = 10")).await
    );

    // INSERT INTO: a new partition and an existing one that grows; named columns, the rest NULL.
    let n = run(
        &s,
        "INSERT INTO vista (codigo_negociacao, year, month, preco_ultimo_negocio) \
         VALUES ('NOVO3', 2023, 1, 10.5), ('NOVO4', 2022, 2, 0.01)",
    )
    .await;
    assert_eq!(n, ["2"]);
    assert_eq!(run(&s, "SHOW PARTITIONS vista").await, ["year=2022/month=2", "year=2023/month=1"]);
    assert_eq!(
        run(&s, "SELECT codigo_negociacao, CAST(preco_ultimo_negocio AS VARCHAR), volume_total_negociado, year, month FROM vista WHERE codigo_negociacao LIKE 'NOVO%' ORDER BY 1").await,
        ["NOVO3|10.50||2023|1", "NOVO4|0.01||2022|2"]
    );
    assert_eq!(
        files_under(&dir.path().join("vista/year=2022/month=2"), ".parquet").len(),
        2,
        "a new file, the old kept"
    );
    // A new process sees it all (the index names the new files).
    let again = session(&lake).await.unwrap();
    assert_eq!(run(&again, "SELECT count(*) FROM vista").await, ["1198"]);

    // WITH NO DATA: the table, its columns, no rows; the default location is under the lake.
    assert_eq!(
        run(&s, "CREATE TABLE vazia AS SELECT codigo_negociacao, preco_ultimo_negocio FROM vista WITH NO DATA").await,
        ["0"]
    );
    assert_eq!(
        run(&s, "DESCRIBE vazia").await,
        ["codigo_negociacao|string||false", "preco_ultimo_negocio|decimal(13,2)||false"]
    );
    assert_eq!(run(&s, "SELECT count(*) FROM vazia").await, ["0"]);
    run(&s, "INSERT INTO vazia SELECT codigo_negociacao, preco_ultimo_negocio FROM vista WHERE year = 2023").await;
    assert_eq!(run(&s, "SELECT * FROM vazia").await, ["NOVO3|10.50"]);
    // Again, into the files it has now, and from itself.
    run(&s, "INSERT INTO vazia WITH n AS (SELECT 'NOVO5' AS c, 1 AS p) SELECT c, p FROM n").await;
    run(&s, "INSERT INTO vazia SELECT codigo_negociacao || 'X', preco_ultimo_negocio FROM vazia").await;
    assert_eq!(
        run(&s, "SELECT * FROM vazia ORDER BY 1").await,
        ["NOVO3|10.50", "NOVO3X|10.50", "NOVO5|1.00", "NOVO5X|1.00"]
    );
    assert_eq!(run(&session(&lake).await.unwrap(), "SELECT count(*) FROM vazia").await, ["4"]);
    assert!(dir.path().join("tables/vazia").is_dir());
}

#[tokio::test]
async fn bad_writes_fail_with_athenas_words_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    run(
        &s,
        "CREATE TABLE t WITH (partitioned_by = ARRAY['k']) AS SELECT CAST(1.00 AS DECIMAL(5,2)) AS v, 'a' AS name, 1 AS k",
    )
    .await;
    let before = snapshot(dir.path());
    let fails = |sql: &'static str, expected: &'static str| {
        let s = &s;
        async move {
            let err = execute(s, sql).await.unwrap_err().to_string();
            assert!(err.contains(expected), "{sql}: {err}");
        }
    };
    // 101 partitions in one statement.
    fails(
        "INSERT INTO t SELECT 1, 'x', CAST(n AS INTEGER) FROM unnest(sequence(1, 101)) AS u(n)",
        "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets",
    )
    .await;
    // A CTAS over a location that holds files.
    fails(
        "CREATE TABLE u WITH (external_location = '${lake}/raw/') AS SELECT 1 AS x",
        "HIVE_PATH_ALREADY_EXISTS: Target directory for table 'default.u' already exists",
    )
    .await;
    fails("CREATE TABLE t AS SELECT 1 AS x", "Table 'awsdatacatalog.default.t' already exists").await;
    fails("CREATE TABLE u WITH (partitioned_by = ARRAY['a']) AS SELECT 1 AS a, 2 AS b", "HIVE_COLUMN_ORDER_MISMATCH")
        .await;
    fails("CREATE TABLE u WITH (format = 'ORC') AS SELECT 1 AS a", "format 'ORC'").await;
    fails("CREATE TABLE u WITH (colour = 'red') AS SELECT 1 AS a", "table property 'colour' does not exist").await;
    fails("CREATE TABLE u WITH (external_location = '/etc/') AS SELECT 1 AS a", "outside the lake").await;
    fails("UNLOAD (SELECT 1 AS a) TO '${lake}/_b3lake/x/'", "holds no table").await;
    // INSERTs the table cannot take.
    fails("INSERT INTO t VALUES (1, 'x')", "Insert query has mismatched column size").await;
    fails(
        "INSERT INTO t VALUES ('x', 'y', 1)",
        "Insert query has mismatched column types: Table: [decimal(5,2), varchar, integer]",
    )
    .await;
    fails("INSERT INTO t (nada) VALUES (1)", "Insert column name does not exist in target table: nada").await;
    fails("INSERT INTO nao_existe VALUES (1)", "Table 'awsdatacatalog.default.nao_existe' does not exist").await;
    fails(
        "INSERT INTO cotacoes_b3_ultima_sessao SELECT * FROM cotacoes_b3_ultima_sessao",
        "Inserting into views is not supported",
    )
    .await;
    // A value that does not fit, after rows that did: nothing of it stays.
    fails(
        "INSERT INTO t VALUES (1, 'a', 2), (12345.67, 'b', 3)",
        "Cannot cast DECIMAL(12, 2) '12345.67' to DECIMAL(5, 2)",
    )
    .await;
    fails("UNLOAD (SELECT 1 AS a) TO '${lake}/raw/' WITH (format = 'JSON')", "HIVE_PATH_ALREADY_EXISTS").await;
    fails("UNLOAD (SELECT 1 AS a) TO '${lake}/x/' WITH (format = 'AVRO')", "format 'AVRO'").await;
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(run(&s, "SELECT CAST(v AS VARCHAR), name, k FROM t").await, ["1.00|a|1"]);
}

#[tokio::test]
async fn unload_writes_parquet_text_and_json_as_athena_does() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    let query = "SELECT codigo_negociacao, preco_ultimo_negocio, numero_negocios, CAST(NULL AS VARCHAR) AS nada \
                 FROM cotacoes_b3_raw WHERE codigo_negociacao IN ('PETR4', 'VALE3') AND tipo_mercado = 10 \
                 ORDER BY codigo_negociacao";
    // TEXTFILE: the delimiter given, NULL as \N, gzip by default.
    assert_eq!(
        run(
            &s,
            &format!("UNLOAD ({query}) TO '${{lake}}/export/texto/' WITH (format = 'TEXTFILE', field_delimiter = '|')")
        )
        .await,
        ["2"]
    );
    let files = files_under(&dir.path().join("export/texto"), ".gz");
    assert_eq!(files.len(), 1);
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&files[0]).unwrap()).read_to_string(&mut text).unwrap();
    let petr4 =
        run(&s, "SELECT numero_negocios FROM cotacoes_b3_raw WHERE codigo_negociacao = 'PETR4' AND tipo_mercado = 10")
            .await;
    assert_eq!(text.lines().next().unwrap(), format!("PETR4|32.63|{}|\\N", petr4[0]));
    // JSON: one object a line, numbers as numbers (decimals exact).
    run(&s, &format!("UNLOAD ({query}) TO '${{lake}}/export/json/' WITH (format = 'JSON', compression = 'NONE')"))
        .await;
    let files = files_under(&dir.path().join("export/json"), ".json");
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&files[0]).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["codigo_negociacao"], "PETR4");
    assert_eq!(first["preco_ultimo_negocio"].to_string(), "32.63");
    assert!(first["nada"].is_null());
    // PARQUET (Athena's default), partitioned: the keys are folders, not columns.
    run(
        &s,
        "UNLOAD (SELECT codigo_negociacao, preco_ultimo_negocio, tipo_mercado FROM cotacoes_b3_raw \
         WHERE tipo_mercado IN (10, 20)) TO '${lake}/export/pq/' WITH (partitioned_by = ARRAY['tipo_mercado'])",
    )
    .await;
    let files = files_under(&dir.path().join("export/pq"), ".parquet");
    let folders: Vec<String> =
        files.iter().map(|f| f.parent().unwrap().file_name().unwrap().to_string_lossy().to_string()).collect();
    assert_eq!(folders, ["tipo_mercado=10", "tipo_mercado=20"]);
    let reader = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&files[0]).unwrap()).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(&reader);
    assert_eq!(meta.file_metadata().schema_descr().num_columns(), 2);
    assert!(matches!(meta.row_group(0).column(0).compression(), parquet::basic::Compression::GZIP(_)));
    // Partitioned UNLOADs may add to a location; the files are new, never replaced.
    run(&s, "UNLOAD (SELECT 'X' AS c, 30 AS tipo_mercado) TO '${lake}/export/pq/' WITH (partitioned_by = ARRAY['tipo_mercado'])").await;
    assert_eq!(files_under(&dir.path().join("export/pq"), ".parquet").len(), 3);
    assert!(!dir.path().join("_staging").exists());
}

const PROJECTED_RAW: &str = "CREATE EXTERNAL TABLE raw_proj (codigo_negociacao string, preco_ultimo_negocio decimal(13,2), \
    tipo_mercado int) PARTITIONED BY (year int, month int, day int) STORED AS PARQUET LOCATION '${lake}/raw/' \
    TBLPROPERTIES ('projection.enabled'='true', \
    'projection.year.type'='integer', 'projection.year.range'='2020,2030', \
    'projection.month.type'='integer', 'projection.month.range'='1,12', 'projection.month.digits'='2', \
    'projection.day.type'='integer', 'projection.day.range'='1,31', 'projection.day.digits'='2', \
    'storage.location.template'='${lake}/raw/year=${year}/month=${month}/day=${day}/')";

#[tokio::test]
async fn projected_tables_compute_their_partitions_from_their_properties() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    run(&s, PROJECTED_RAW).await;
    // No MSCK REPAIR, no ADD PARTITION: the day is found from the properties, one folder read.
    let petr4 = "SELECT CAST(preco_ultimo_negocio AS VARCHAR) FROM raw_proj \
                 WHERE year = 2022 AND month = 2 AND day = 4 AND codigo_negociacao = 'PETR4' AND tipo_mercado = 10";
    let done = execute(&s, petr4).await.unwrap();
    assert_eq!((crate::common::strings(&done.batches), done.scanned.files), (vec!["32.63".to_string()], 1));
    assert_eq!(run(&s, "SELECT count(*) FROM raw_proj").await, run(&s, "SELECT count(*) FROM cotacoes_b3_raw").await);
    // Outside the range: nothing, and nothing read.
    let outside = execute(&s, "SELECT count(*) FROM raw_proj WHERE year = 2019").await.unwrap();
    assert_eq!((crate::common::strings(&outside.batches), outside.scanned.files), (vec!["0".to_string()], 0));
    // Partitions registered in the catalog are ignored, as Athena ignores Glue's.
    run(&s, "ALTER TABLE raw_proj ADD PARTITION (year=2022, month=2, day=5) LOCATION '${lake}/raw/year=2022/month=02/day=04/'")
        .await;
    assert_eq!(run(&s, "SELECT count(*) FROM raw_proj WHERE day = 5").await, ["0"]);

    // date, enum and injected columns over folders UNLOAD writes.
    run(
        &s,
        "UNLOAD (SELECT codigo_negociacao, preco_ultimo_negocio, CAST(data_pregao AS VARCHAR) AS dt FROM cotacoes_b3_raw \
         WHERE tipo_mercado = 10) TO '${lake}/por_data/' WITH (partitioned_by = ARRAY['dt'])",
    )
    .await;
    run(
        &s,
        "CREATE EXTERNAL TABLE por_data (codigo_negociacao string, preco_ultimo_negocio decimal(13,2)) \
         PARTITIONED BY (dt string) STORED AS PARQUET LOCATION '${lake}/por_data/' TBLPROPERTIES ('projection.enabled'='true', \
         'projection.dt.type'='date', 'projection.dt.format'='yyyy-MM-dd', 'projection.dt.range'='2022-01-01,NOW')",
    )
    .await;
    assert_eq!(run(&s, "SELECT count(*) FROM por_data WHERE dt = '2022-02-04'").await, ["1196"]);
    assert_eq!(run(&s, "SELECT count(*) FROM por_data").await, ["1196"]);
    assert_eq!(run(&s, "SELECT count(*) FROM por_data WHERE dt = '2021-12-31'").await, ["0"], "before the range");
    run(
        &s,
        "UNLOAD (SELECT preco_ultimo_negocio, codigo_negociacao FROM cotacoes_b3_raw WHERE tipo_mercado = 10 \
         AND codigo_negociacao IN ('PETR4', 'VALE3', 'ITUB4')) TO '${lake}/por_ticker/' \
         WITH (partitioned_by = ARRAY['codigo_negociacao'])",
    )
    .await;
    run(
        &s,
        "CREATE EXTERNAL TABLE por_ticker_enum (preco_ultimo_negocio decimal(13,2)) PARTITIONED BY (codigo_negociacao string) \
         STORED AS PARQUET LOCATION '${lake}/por_ticker/' TBLPROPERTIES ('projection.enabled'='true', \
         'projection.codigo_negociacao.type'='enum', 'projection.codigo_negociacao.values'='PETR4,VALE3')",
    )
    .await;
    assert_eq!(run(&s, "SELECT codigo_negociacao FROM por_ticker_enum ORDER BY 1").await, ["PETR4", "VALE3"]);
    run(
        &s,
        "CREATE EXTERNAL TABLE por_ticker (preco_ultimo_negocio decimal(13,2)) PARTITIONED BY (codigo_negociacao string) \
         STORED AS PARQUET LOCATION '${lake}/por_ticker/' TBLPROPERTIES ('projection.enabled'='true', \
         'projection.codigo_negociacao.type'='injected', \
         'storage.location.template'='${lake}/por_ticker/codigo_negociacao=${codigo_negociacao}')",
    )
    .await;
    assert_eq!(
        run(&s, "SELECT CAST(preco_ultimo_negocio AS VARCHAR) FROM por_ticker WHERE codigo_negociacao IN ('ITUB4', 'NADA3')").await,
        run(&s, "SELECT CAST(preco_ultimo_negocio AS VARCHAR) FROM cotacoes_b3_raw WHERE codigo_negociacao = 'ITUB4' AND tipo_mercado = 10").await
    );
    for sql in ["SELECT count(*) FROM por_ticker", "SELECT count(*) FROM por_ticker WHERE codigo_negociacao LIKE 'P%'"]
    {
        let err = execute(&s, sql).await.unwrap_err().to_string();
        assert!(
            err.contains(
                "CONSTRAINT_VIOLATION: For the injected projected partition column codigo_negociacao, the WHERE clause \
                 must contain only static equality conditions, and at least one such condition must be present."
            ),
            "{sql}: {err}"
        );
    }
    // A column without its projection settings is Athena's error, given when the table is made.
    let err = execute(
        &s,
        "CREATE EXTERNAL TABLE incompleta (a int) PARTITIONED BY (x int) STORED AS PARQUET LOCATION '${lake}/inc/' \
         TBLPROPERTIES ('projection.enabled'='true')",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("missing projection configuration: [x]"), "{err}");
    assert!(execute(&s, "SELECT * FROM incompleta").await.is_err(), "no table was made");
}

#[test]
fn a_projected_sync_gives_glue_the_days_as_properties_and_comes_back() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake = rt.block_on(real_day_lake(dir.path()));
    let path = dir.path().to_str().unwrap();
    let db = format!("proj_{}", uuid::Uuid::new_v4().simple());
    let out = cli(&["catalog", "sync", "--lake", path, "--database", &db, "--projection"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let client = rt.block_on(crate::trigger::glue());
    let raw = rt.block_on(client.get_table().database_name(&db).name("cotacoes_b3_raw").send()).unwrap().table.unwrap();
    let params = raw.parameters.unwrap();
    assert_eq!(params.get("projection.enabled").map(String::as_str), Some("true"));
    assert_eq!(params.get("projection.month.digits").map(String::as_str), Some("2"));
    assert_eq!(
        params.get("storage.location.template").cloned(),
        Some(format!("{}raw/year=${{year}}/month=${{month}}/day=${{day}}/", lake.url()))
    );
    let partitions = rt.block_on(client.get_partitions().database_name(&db).table_name("cotacoes_b3_raw").send());
    assert!(partitions.unwrap().partitions().is_empty(), "no partitions to sync");
    // The day/ticker refined layout keeps its partitions: symbol cannot be projected.
    let refined = rt.block_on(client.get_table().database_name(&db).name("cotacoes_b3_refined").send()).unwrap();
    assert!(!refined.table.unwrap().parameters.unwrap().contains_key("projection.enabled"));
    let partitions = rt.block_on(client.get_partitions().database_name(&db).table_name("cotacoes_b3_refined").send());
    assert_eq!(partitions.unwrap().partitions().len(), 1196);

    // Pulled back: the raw table is projected locally too, and answers the same.
    let before =
        rt.block_on(run(&rt.block_on(session(&lake)).unwrap(), "SELECT count(*) FROM cotacoes_b3_raw WHERE day = 4"));
    let out = cli(&["catalog", "pull", "--lake", path, "--database", &db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = rt.block_on(session(&lake)).unwrap();
    let ddl = rt.block_on(run(&s, "SHOW CREATE TABLE cotacoes_b3_raw")).join("\n");
    assert!(ddl.contains("'projection.enabled'='true'"), "{ddl}");
    assert_eq!(rt.block_on(run(&s, "SELECT count(*) FROM cotacoes_b3_raw WHERE day = 4")), before);
    std::fs::remove_dir_all(dir.path().join("_b3lake/catalog/partitions/cotacoes_b3_raw")).unwrap();
    assert_eq!(rt.block_on(run(&s, "SELECT count(*) FROM cotacoes_b3_raw WHERE day = 4")), before, "no index needed");
}

#[tokio::test]
async fn explain_shows_the_partitions_kept_and_pruned_and_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    let query = "SELECT symbol, preco_fechamento FROM cotacoes_b3_refined \
                 WHERE year = 2022 AND month = 2 AND day = 4 AND symbol IN ('PETR4', 'VALE3')";
    let lines = |rows: Vec<String>| {
        rows.into_iter().filter(|r| r.starts_with("partitions|") || r.starts_with("data scanned|")).collect::<Vec<_>>()
    };
    let plan = run(&s, &format!("EXPLAIN {query}")).await;
    assert!(plan.iter().any(|r| r.starts_with("physical_plan|")), "{plan:?}");
    let files: u64 = ["PETR4", "VALE3"]
        .iter()
        .map(|t| {
            std::fs::metadata(
                dir.path().join(format!("refined/year=2022/month=02/day=04/symbol={t}/part-00000.parquet")),
            )
            .unwrap()
            .len()
        })
        .sum();
    assert_eq!(
        lines(plan),
        [format!(
            "partitions|cotacoes_b3_refined: 2 kept, 1194 pruned of 1196; 2 files, {} in the files",
            b3lake::sql::exec::human_bytes(files)
        )]
    );
    // ANALYZE runs it: the bytes its scans read, as the query itself reports them.
    let ran = execute(&s, query).await.unwrap();
    let analyzed = run(&s, &format!("explain analyze {query};")).await;
    assert!(
        analyzed.iter().any(|r| r.starts_with("Plan with Metrics|") && r.contains("bytes_scanned")),
        "{analyzed:?}"
    );
    let read = b3lake::sql::exec::human_bytes(ran.scanned.bytes);
    let lines = lines(analyzed);
    assert_eq!(lines[0], format!("partitions|cotacoes_b3_refined: 2 kept, 1194 pruned of 1196; 2 files, {read} read"));
    assert!(lines[1].starts_with(&format!("data scanned|{read} in ")), "{lines:?}");
    // A projected table says so; an unpartitioned one too.
    run(&s, PROJECTED_RAW).await;
    let plan = run(&s, "EXPLAIN SELECT count(*) FROM raw_proj WHERE year = 2022 AND month = 2 AND day = 4").await;
    assert!(plan.iter().any(|r| r.starts_with("partitions|raw_proj: 1 kept, projected; 1 file")), "{plan:?}");
}

#[tokio::test]
async fn ctas_buckets_rows_by_hives_hash_and_names_files_as_trino_does() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    run(
        &s,
        "CREATE TABLE baldes WITH (external_location = '${lake}/baldes/', bucketed_by = ARRAY['codigo_negociacao'], \
         bucket_count = 4) AS SELECT codigo_negociacao, preco_ultimo_negocio FROM cotacoes_b3_raw WHERE tipo_mercado = 10",
    )
    .await;
    let files = files_under(&dir.path().join("baldes"), ".parquet");
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    // Hive's bucket of a string (bucketing version 1): 31 * h + byte over its UTF-8 bytes,
    // then (h & Integer.MAX_VALUE) % 4. Worked out by hand: PETR4 76020577 -> 1, VALE3
    // 81434447 -> 3, ITUB4 70003260 -> 0.
    for (ticker, bucket) in [("PETR4", 1), ("VALE3", 3), ("ITUB4", 0)] {
        let file =
            files.iter().find(|f| f.to_string_lossy().ends_with(&format!("_bucket-{bucket:05}.parquet"))).unwrap();
        let batches =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
        assert!(
            crate::common::strings(&batches).iter().any(|r| r.starts_with(&format!("{ticker}|"))),
            "{ticker} in {file:?}"
        );
    }
    let ddl = run(&s, "SHOW CREATE TABLE baldes").await.join("\n");
    assert!(
        ddl.contains("CLUSTERED BY (`codigo_negociacao`) INTO 4 BUCKETS") && ddl.contains("'bucketing_version'='1'"),
        "{ddl}"
    );
    assert_eq!(
        run(&s, "SELECT count(*) FROM baldes").await,
        run(&s, "SELECT count(*) FROM cotacoes_b3_raw WHERE tipo_mercado = 10").await
    );
    let err = execute(&s, "INSERT INTO baldes VALUES ('X', 1)").await.unwrap_err().to_string();
    assert!(err.contains("INSERT INTO is not supported on bucketed tables"), "{err}");
}
