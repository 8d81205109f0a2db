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

/// `n` CTEs, each reading the one before twice: 2^n rows from a 1 KB statement.
fn doubling(n: usize) -> String {
    let mut ctes = vec!["a0 AS (SELECT 1 AS x)".to_string()];
    ctes.extend((1..=n).map(|i| format!("a{i} AS (SELECT x FROM a{} UNION ALL SELECT x FROM a{})", i - 1, i - 1)));
    format!("WITH {} SELECT count(*) FROM a{n}", ctes.join(", "))
}

#[tokio::test]
async fn plans_that_expand_exponentially_are_refused_before_planning() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    assert_eq!(run(&s, &doubling(8)).await, ["256"]);
    let started = std::time::Instant::now();
    for n in [22, 60] {
        let err = execute(&s, &doubling(n)).await.unwrap_err().to_string();
        assert!(err.contains("statement too large to plan"), "{err}");
    }
    // Refused from the statement's text, not after building the plan (which took minutes).
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    // Views that double the same way: refused when made, and the lake's others still plan.
    run(&s, "CREATE VIEW w0 AS SELECT 1 AS x").await;
    let mut refused = None;
    for i in 1..=20 {
        let sql = format!("CREATE VIEW w{i} AS SELECT x FROM w{} UNION ALL SELECT x FROM w{}", i - 1, i - 1);
        if let Err(e) = execute(&s, &sql).await {
            refused = Some((i, e.to_string()));
            break;
        }
    }
    let (at, err) = refused.expect("a doubling view is refused");
    assert!(err.contains("statement too large to plan") && at > 8, "w{at}: {err}");
    let last = format!("SELECT count(*) FROM w{}", at - 1);
    assert_eq!(run(&session(&lake).await.unwrap(), &last).await, [(1u64 << (at - 1)).to_string()]);
}

#[tokio::test]
async fn a_view_that_reads_itself_is_refused_when_made() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let s = session(&lake).await.unwrap();
    run(&s, "CREATE VIEW v1 AS SELECT 1 AS x").await;
    run(&s, "CREATE VIEW v2 AS SELECT x FROM v1").await;
    for sql in ["CREATE OR REPLACE VIEW v1 AS SELECT * FROM v1", "CREATE OR REPLACE VIEW v1 AS SELECT x FROM v2"] {
        let err = execute(&s, sql).await.unwrap_err().to_string();
        assert!(err.contains("View 'awsdatacatalog.default.v1' cannot be created: it reads itself"), "{sql}: {err}");
    }
    // Both still read as they were, in this session and a new one.
    assert_eq!(run(&s, "SELECT x FROM v2").await, ["1"]);
    assert_eq!(run(&session(&lake).await.unwrap(), "SELECT x FROM v2").await, ["1"]);
    // Its own name as a column or a string is not a read of itself.
    run(&s, "CREATE OR REPLACE VIEW v1 AS SELECT 'v1' AS v1, 2 AS x").await;
    assert_eq!(run(&session(&lake).await.unwrap(), "SELECT x FROM v2").await, ["2"]);
}

#[tokio::test]
async fn files_changed_behind_the_index_are_named_until_msck_repair_reads_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let day = dir.path().join("refined/year=2022/month=02/day=04");
    let file = |symbol: &str| day.join(format!("symbol={symbol}/part-00000.parquet"));
    // Two tickers whose files have the same size, and one of another size.
    let mut by_size: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for entry in std::fs::read_dir(&day).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(symbol) = name.strip_prefix("symbol=") {
            by_size.entry(std::fs::metadata(file(symbol)).unwrap().len()).or_default().push(symbol.to_string());
        }
    }
    let same = by_size.values().find(|s| s.len() >= 2).expect("two files of one size");
    let (a, b) = (same[0].clone(), same[1].clone());
    let other =
        by_size.iter().find(|(size, _)| **size != std::fs::metadata(file(&a)).unwrap().len()).unwrap().1[0].clone();
    let s = session(&lake).await.unwrap();

    // Another tool replaces a file with one of another size, and removes one.
    std::fs::copy(file(&a), file(&other)).unwrap();
    let removed = same.iter().find(|s| **s != a && **s != b).cloned().unwrap_or_else(|| b.clone());
    std::fs::remove_file(file(&removed)).unwrap();
    for symbol in [&other, &removed] {
        let err = execute(&s, &format!("SELECT * FROM cotacoes_b3_refined WHERE symbol = '{symbol}'"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("symbol={symbol}/part-00000.parquet"))
                && err.contains("MSCK REPAIR TABLE cotacoes_b3_refined indexes its folders again"),
            "{err}"
        );
    }
    // One of the same size: the index cannot tell, until MSCK REPAIR reads the folders again.
    std::fs::copy(file(&a), file(&b)).unwrap();
    run(&s, "MSCK REPAIR TABLE cotacoes_b3_refined").await;
    // Ticker scans, whole-day scans and a listing now agree on every file's rows.
    let mut expected: Vec<String> = [&a, &b, &other].iter().map(|symbol| format!("{symbol}|{a}")).collect();
    expected.sort();
    let by_symbol = format!(
        "SELECT symbol, codigo_negociacao FROM cotacoes_b3_refined WHERE symbol IN ('{a}', '{b}', '{other}') ORDER BY 1"
    );
    let whole_day =
        format!("SELECT symbol, codigo_negociacao FROM cotacoes_b3_refined WHERE codigo_negociacao = '{a}' ORDER BY 1");
    for sql in [&by_symbol, &whole_day] {
        assert_eq!(both(&lake, sql).await, (expected.clone(), expected.clone()), "{sql}");
    }
    let count = "SELECT count(*) FROM cotacoes_b3_refined";
    let (indexed, listed) = both(&lake, count).await;
    assert_eq!((indexed, listed), (vec!["1195".to_string()], vec!["1195".to_string()]));
}

#[tokio::test]
async fn views_nest_at_most_max_view_depth_deep_and_only_what_a_statement_reads_is_planned() {
    use b3lake::catalog::{LocalCatalog, ViewDef};
    use b3lake::sql::session::MAX_VIEW_DEPTH;
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    // A chain c0 <- c1 <- ... one deeper than allowed, stored as CREATE VIEW stores views.
    let catalog = LocalCatalog::new(&lake);
    catalog.put_view(&ViewDef::new("c1", "SELECT 1 AS x", "default"), false).await.unwrap();
    for i in 2..=MAX_VIEW_DEPTH + 1 {
        let view = ViewDef::new(&format!("c{i}"), &format!("SELECT x FROM c{}", i - 1), "default");
        catalog.put_view(&view, false).await.unwrap();
    }
    let s = session(&lake).await.unwrap();
    // A statement that reads none of them plans none of them.
    let started = std::time::Instant::now();
    assert_eq!(run(&s, "SELECT 1").await, ["1"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(run(&s, &format!("SELECT x FROM c{MAX_VIEW_DEPTH}")).await, ["1"]);
    let err = execute(&s, &format!("SELECT x FROM c{}", MAX_VIEW_DEPTH + 1)).await.unwrap_err().to_string();
    assert!(err.contains(&format!("views nested more than {MAX_VIEW_DEPTH} deep")), "{err}");
}
