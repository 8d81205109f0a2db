//! Ways a write or read path once lost rows, answered wrongly or crashed, each kept here with
//! the rule that settles it (Hive's and Athena's, or b3lake's own where they say nothing).
//! Every answer is also checked against a listing of the folders, which trusts no index.

use b3lake::lake::Lake;
use b3lake::sql::{Partitions, execute, session, session_with};
use b3lake::transform::{Days, TransformOptions, transform};

use crate::catalog::{real_day_lake, run};
use crate::common::*;

/// `sql`'s rows through the partition index and through a listing of the folders.
async fn both(lake: &Lake, sql: &str) -> (Vec<String>, Vec<String>) {
    let indexed = run(&session(lake).await.unwrap(), sql).await;
    let listed = run(&session_with(lake, Partitions::Listing).await.unwrap(), sql).await;
    (indexed, listed)
}

#[tokio::test]
async fn an_empty_partition_value_is_null_as_hive_writes_and_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    let ctas = "CREATE TABLE t1 WITH (external_location = '${lake}/t1/', partitioned_by = ARRAY['k']) AS \
                SELECT * FROM (VALUES (1, 'a'), (2, ''), (3, CAST(NULL AS VARCHAR))) v(x, k)";
    assert_eq!(run(&s, ctas).await, ["3"]);
    // Hive writes '' and NULL to k=__HIVE_DEFAULT_PARTITION__ and reads both back as NULL.
    let rows = "SELECT x, coalesce(k, 'NULL') FROM t1 ORDER BY x";
    let expected = ["1|a", "2|NULL", "3|NULL"];
    assert_eq!(both(&lake, rows).await, (expected.map(String::from).to_vec(), expected.map(String::from).to_vec()));
    assert_eq!(run(&s, "SHOW PARTITIONS t1").await, ["k=__HIVE_DEFAULT_PARTITION__", "k=a"]);
    assert!(dir.path().join("t1/k=__HIVE_DEFAULT_PARTITION__").is_dir());
    // INSERT's rows join the same partition.
    assert_eq!(run(&s, "INSERT INTO t1 VALUES (4, ''), (5, NULL)").await, ["2"]);
    let count = "SELECT count(*), count(k) FROM t1";
    assert_eq!(both(&lake, count).await, (vec!["5|1".to_string()], vec!["5|1".to_string()]));
    assert_eq!(run(&session(&lake).await.unwrap(), count).await, ["5|1"], "a new process sees the same");
}

#[tokio::test]
async fn equalities_on_keys_of_any_type_find_their_partition() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    for (name, value) in [
        ("d", "CAST(1 AS DOUBLE)"),
        ("r", "CAST(1 AS REAL)"),
        ("ts", "TIMESTAMP '2024-01-02 03:04:05'"),
        ("dec", "CAST(1 AS DECIMAL(5,2))"),
    ] {
        run(&s, &format!("CREATE TABLE {name} WITH (partitioned_by = ARRAY['k']) AS SELECT 1 AS x, {value} AS k"))
            .await;
    }
    // Each filter keeps the one row (Trino compares the values, whatever the folder's text).
    for sql in [
        "SELECT count(*) FROM d WHERE k = 1",
        "SELECT count(*) FROM d WHERE k = 1.0",
        "SELECT count(*) FROM d WHERE k BETWEEN 1 AND 1",
        "SELECT count(*) FROM d WHERE k IN (1, 2)",
        "SELECT count(*) FROM r WHERE k = 1",
        "SELECT count(*) FROM ts WHERE k = TIMESTAMP '2024-01-02 03:04:05'",
        "SELECT count(*) FROM dec WHERE k = 1",
    ] {
        assert_eq!(both(&lake, sql).await, (vec!["1".to_string()], vec!["1".to_string()]), "{sql}");
    }
    // A cast that maps several values to one: every partition whose value casts to 1.
    run(&s, "CREATE TABLE v WITH (partitioned_by = ARRAY['k']) AS SELECT * FROM (VALUES (1, '1'), (2, '01'), (3, ' 1'), (4, '2')) t(x, k)")
        .await;
    for (sql, expected) in [
        ("SELECT count(*) FROM v WHERE CAST(trim(k) AS INTEGER) = 1", "3"),
        ("SELECT count(*) FROM v WHERE k = '1'", "1"),
        ("SELECT count(*) FROM v WHERE k = '01'", "1"),
    ] {
        assert_eq!(both(&lake, sql).await, (vec![expected.to_string()], vec![expected.to_string()]), "{sql}");
    }
}

#[tokio::test]
async fn inserts_into_projected_tables_land_where_the_projection_reads() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    run(
        &s,
        "CREATE EXTERNAL TABLE pd (x int) PARTITIONED BY (k int) STORED AS PARQUET LOCATION '${lake}/pd/' \
         TBLPROPERTIES ('projection.enabled'='true', 'projection.k.type'='integer', 'projection.k.range'='0,99', \
         'projection.k.digits'='2')",
    )
    .await;
    assert_eq!(run(&s, "INSERT INTO pd VALUES (1, 5), (2, 42)").await, ["2"]);
    assert_eq!(run(&s, "SELECT x, k FROM pd ORDER BY x").await, ["1|5", "2|42"]);
    // The folder the projection computes: two digits.
    assert!(dir.path().join("pd/k=05").is_dir() && !dir.path().join("pd/k=5").exists());

    run(
        &s,
        "CREATE EXTERNAL TABLE pt (x int) PARTITIONED BY (k int, c string) STORED AS PARQUET LOCATION '${lake}/pt/' \
         TBLPROPERTIES ('projection.enabled'='true', 'projection.k.type'='integer', 'projection.k.range'='0,99', \
         'projection.c.type'='enum', 'projection.c.values'='a,b', \
         'storage.location.template'='${lake}/pt/custom/${c}/${k}/')",
    )
    .await;
    assert_eq!(run(&s, "INSERT INTO pt VALUES (1, 5, 'a'), (2, 42, 'b')").await, ["2"]);
    assert_eq!(run(&s, "SELECT x, k, c FROM pt ORDER BY x").await, ["1|5|a", "2|42|b"]);
    assert!(dir.path().join("pt/custom/a/5").is_dir());
    // Rows the projection would never read are refused, and nothing is written.
    let before = snapshot(dir.path());
    for (sql, expected) in [
        ("INSERT INTO pd VALUES (3, 100)", "k = 100 lies outside its projection.range 0,99"),
        ("INSERT INTO pt VALUES (3, 1, 'z')", "c = z is not one of its projection.values"),
        ("INSERT INTO pt VALUES (3, NULL, 'a')", "k is NULL or empty"),
    ] {
        let err = execute(&s, sql).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{sql}: {err}");
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn projection_properties_that_cannot_work_are_refused_when_the_table_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    let table = |name: &str, properties: &str| {
        format!(
            "CREATE EXTERNAL TABLE {name} (x int) PARTITIONED BY (k int) STORED AS PARQUET LOCATION '${{lake}}/{name}/' \
             TBLPROPERTIES ('projection.enabled'='true', 'projection.k.type'='integer', {properties})"
        )
    };
    for digits in ["65536", "0", "-1", "x"] {
        let sql = table("pd", &format!("'projection.k.range'='0,9', 'projection.k.digits'='{digits}'"));
        let err = execute(&s, &sql).await.unwrap_err().to_string();
        assert!(err.contains(&format!("projection.k.digits \"{digits}\" is not a number of digits")), "{err}");
    }
    assert!(execute(&s, "SELECT * FROM pd").await.is_err(), "no table was made");
    // A range too wide to enumerate: refused when a query would have to, not answered 0.
    run(&s, &table("wide", "'projection.k.range'='0,9223372036854775807'")).await;
    run(&s, "INSERT INTO wide VALUES (1, 5)").await;
    assert_eq!(run(&s, "SELECT count(*) FROM wide WHERE k = 5").await, ["1"]);
    for sql in ["SELECT count(*) FROM wide", "SELECT count(*) FROM wide WHERE k < 10"] {
        let err = execute(&s, sql).await.unwrap_err().to_string();
        assert!(err.contains("k takes 9223372036854775808 values, more than 1000000"), "{sql}: {err}");
    }
    run(&s, &table("negative", "'projection.k.range'='-9223372036854775808,9223372036854775807'")).await;
    let err = execute(&s, "SELECT count(*) FROM negative").await.unwrap_err().to_string();
    assert!(err.contains("k takes 18446744073709551616 values"), "{err}");
}

#[tokio::test]
async fn an_insert_into_a_table_never_indexed_succeeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    let insert = "INSERT INTO cotacoes_b3_resumo_diario (data_pregao, numero_tickers, year, month, day) \
                  VALUES (DATE '2024-01-02', 5, 2024, 1, 2)";
    assert_eq!(run(&s, insert).await, ["1"]);
    let count = "SELECT count(*) FROM cotacoes_b3_resumo_diario";
    assert_eq!(both(&lake, count).await, (vec!["1".to_string()], vec!["1".to_string()]));
    // Every INSERT adds its rows: a second one, a second row.
    assert_eq!(run(&s, insert).await, ["1"]);
    assert_eq!(both(&lake, count).await, (vec!["2".to_string()], vec!["2".to_string()]));
}

#[tokio::test]
async fn a_day_an_insert_wrote_is_replaced_whole_by_the_transform() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    let count = "SELECT count(*) FROM cotacoes_b3_refined";
    let (clean, _) = both(&lake, count).await;
    run(
        &s,
        "INSERT INTO cotacoes_b3_refined (data_pregao, codigo_negociacao, year, month, day, symbol) \
         VALUES (DATE '2022-02-04', 'XXXX3', 2022, 2, 4, 'XXXX3')",
    )
    .await;
    // The day's one folder, spelled as the transform spells it.
    assert!(dir.path().join("refined/year=2022/month=02/day=04/symbol=XXXX3").is_dir());
    assert!(!dir.path().join("refined/year=2022/month=2").exists());
    let opts = TransformOptions { days: Days::Only(vec!["2022-02-04".parse().unwrap()]), ..Default::default() };
    transform(&lake, &opts).await.unwrap();
    assert_eq!(both(&lake, count).await, (clean.clone(), clean));
}
