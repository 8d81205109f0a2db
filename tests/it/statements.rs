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
