//! Athena's statements beyond SELECT and the Hive catalog's: views, CTAS, INSERT INTO,
//! UNLOAD, partition projection and EXPLAIN, locally and through Glue (moto).

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
