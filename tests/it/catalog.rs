//! The catalog: Athena DDL as tables with typed partitions, the partition index, the Hive
//! statements, one conformance suite for the local and the Glue backends, and Glue sync
//! through the real aws-sdk-glue against moto.

use std::collections::BTreeSet;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use b3lake::catalog::sync::{self, Change, Scope, SyncOptions};
use b3lake::catalog::{Catalog, Column, Error, GlueCatalog, LocalCatalog, Partition, REFINED, TableDef, ddl};
use b3lake::lake::Lake;
use b3lake::retry::RetryConfig;
use b3lake::sql::{Partitions, execute, session, session_with};
use b3lake::transform::{TransformOptions, transform};
use datafusion::physical_plan::ExecutionPlan;

use crate::common::*;
use crate::trigger::{glue, glue_at, scripted_glue};

/// A lake with the real 2022-02-04 file ingested and transformed.
pub(crate) async fn real_day_lake(dir: &std::path::Path) -> Lake {
    let lake = Lake::open(dir.to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    transform(&lake, &TransformOptions::default()).await.unwrap();
    lake
}

/// Runs `sql` and returns its rows and the Parquet files its scan opened (from the plan's
/// per-file metrics).
async fn rows_and_files(lake: &Lake, sql: &str, partitions: Partitions) -> (Vec<RecordBatch>, BTreeSet<String>) {
    let session = session_with(lake, partitions).await.unwrap();
    let df = session.plan(sql).await.unwrap();
    let task = std::sync::Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await.unwrap();
    let batches = datafusion::physical_plan::collect(plan.clone(), task).await.unwrap();
    fn walk(plan: &dyn ExecutionPlan, out: &mut BTreeSet<String>) {
        for metric in plan.metrics().iter().flat_map(|m| m.iter().cloned().collect::<Vec<_>>()) {
            for label in metric.labels() {
                if label.name() == "filename" {
                    out.insert(label.value().to_string());
                }
            }
        }
        for child in plan.children() {
            walk(child.as_ref(), out);
        }
    }
    let mut files = BTreeSet::new();
    walk(plan.as_ref(), &mut files);
    (batches, files)
}

pub(crate) async fn run(lake_session: &b3lake::sql::Session, sql: &str) -> Vec<String> {
    strings(&execute(lake_session, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).batches)
}

#[tokio::test]
async fn typed_partition_filters_read_only_the_named_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let sql = "SELECT symbol, CAST(preco_fechamento AS VARCHAR), year, month, day FROM cotacoes_b3_refined \
               WHERE year = 2022 AND month = 2 AND day = 4 AND symbol IN ('PETR4', 'VALE3') ORDER BY symbol";
    let expected_files: BTreeSet<String> = ["PETR4", "VALE3"]
        .iter()
        .map(|s| lake.path(&format!("refined/year=2022/month=02/day=04/symbol={s}/part-00000.parquet")).to_string())
        .collect();
    for mode in [Partitions::Index, Partitions::Listing] {
        let (batches, files) = rows_and_files(&lake, sql, mode).await;
        assert_eq!(strings(&batches), ["PETR4|32.63|2022|2|4", "VALE3|87.98|2022|2|4"], "{mode:?}");
        assert_eq!(files, expected_files, "{mode:?}");
    }
    // A month filter alone still reads that month's day (from its companion file, or its
    // 1,196 ticker files when listed); another month reads nothing.
    let month = "SELECT count(*) FROM cotacoes_b3_refined WHERE month = 2";
    let (_, files) = rows_and_files(&lake, month, Partitions::Index).await;
    let companion = lake.path("refined/year=2022/month=02/day=04/_b3lake_day").to_string();
    assert_eq!(files, BTreeSet::from([companion.clone()]));
    assert_eq!(rows_and_files(&lake, month, Partitions::Listing).await.1.len(), 1196);
    // A filter that drops a few tickers reads the companion too, its rows filtered on the keys
    // (the symbol read for the filter, whether or not the query asks for it).
    for (sql, rows) in [
        (
            "SELECT count(*), sum(vol_financeiro_total), min(symbol), max(day) FROM cotacoes_b3_refined WHERE symbol <> 'PETR4'",
            1195,
        ),
        (
            "SELECT count(*), sum(vol_financeiro_total) FROM cotacoes_b3_refined WHERE symbol NOT IN ('PETR4', 'VALE3') AND day = 4",
            1194,
        ),
    ] {
        let (batches, files) = rows_and_files(&lake, sql, Partitions::Index).await;
        assert_eq!(files, BTreeSet::from([companion.clone()]), "{sql}");
        let (listed, listed_files) = rows_and_files(&lake, sql, Partitions::Listing).await;
        assert_eq!(listed_files.len(), rows, "{sql}");
        assert_eq!(strings(&batches), strings(&listed), "{sql}");
        assert!(strings(&batches)[0].starts_with(&format!("{rows}|")), "{sql}");
    }
    let (batches, files) =
        rows_and_files(&lake, "SELECT count(*) FROM cotacoes_b3_refined WHERE month = 3", Partitions::Index).await;
    assert_eq!((strings(&batches), files.len()), (vec!["0".to_string()], 0));
    // Partition keys are typed: arithmetic and comparisons are on integers.
    assert_eq!(
        query_one_i64(&lake, "SELECT max(month * 100 + day) FROM cotacoes_b3_raw WHERE year >= 2022").await,
        204
    );
}

#[tokio::test]
async fn queries_plan_from_the_index_and_msck_repair_updates_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    // A partition written behind the catalog's back: the index does not know it, a listing does.
    let day = dir.path().join("refined/year=2022/month=02/day=04");
    std::fs::create_dir_all(day.join("symbol=ZZZZ9")).unwrap();
    std::fs::copy(day.join("symbol=PETR4/part-00000.parquet"), day.join("symbol=ZZZZ9/part-00000.parquet")).unwrap();
    let count = "SELECT count(*) FROM cotacoes_b3_refined WHERE year = 2022 AND month = 2 AND day = 4";
    let (indexed, _) = rows_and_files(&lake, count, Partitions::Index).await;
    let (listed, _) = rows_and_files(&lake, count, Partitions::Listing).await;
    assert_eq!((strings(&indexed), strings(&listed)), (vec!["1196".into()], vec!["1197".into()]));

    let s = session(&lake).await.unwrap();
    assert_eq!(run(&s, "MSCK REPAIR TABLE cotacoes_b3_refined").await, ["1|0|0|1197"]);
    assert_eq!(query_one_i64(&lake, count).await, 1197);
    // A partition removed from disk leaves the index at the next repair.
    std::fs::remove_dir_all(day.join("symbol=ZZZZ9")).unwrap();
    assert_eq!(run(&s, "MSCK REPAIR TABLE cotacoes_b3_refined;").await, ["0|1|0|1196"]);
    assert_eq!(query_one_i64(&lake, count).await, 1196);
    // A lake without an index (as before there was one) is listed, and indexed by the next write.
    std::fs::remove_dir_all(dir.path().join("_b3lake/catalog/partitions")).unwrap();
    assert_eq!(query_one_i64(&lake, count).await, 1196);
    transform(&lake, &TransformOptions { days: b3lake::transform::Days::All, ..Default::default() }).await.unwrap();
    assert!(dir.path().join("_b3lake/catalog/partitions/cotacoes_b3_refined/year=2022/month=2/day=4.json").exists());
    // The raw table, which only ingest writes, is listed until then.
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw WHERE day = 4").await, 7522);
    // The built-in transform writes exactly the built-in definitions: the catalog is unchanged.
    assert!(!dir.path().join("_b3lake/catalog/catalog.json").exists());
}

#[tokio::test]
async fn hive_statements_persist_in_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    assert_eq!(
        run(&s, "SHOW TABLES").await,
        [
            "carteira_b3_raw",
            "cotacoes_b3_membros_indice",
            "cotacoes_b3_mercado_vista",
            "cotacoes_b3_raw",
            "cotacoes_b3_refined",
            "cotacoes_b3_resumo_diario",
            "cotacoes_b3_ultima_sessao"
        ]
    );
    let described = run(&s, "DESCRIBE cotacoes_b3_refined").await;
    assert!(described.contains(&"preco_abertura|decimal(13,2)||false".to_string()), "{described:?}");
    assert!(
        described.contains(&"symbol|string||true".to_string()) && described.contains(&"month|int||true".to_string())
    );
    let ddl = run(&s, "SHOW CREATE TABLE cotacoes_b3_refined").await.join("\n");
    assert!(ddl.contains(&format!("LOCATION '{}refined/'", lake.url())) && ddl.contains("PARTITIONED BY"), "{ddl}");
    assert_eq!(run(&s, "SHOW PARTITIONS cotacoes_b3_raw").await, ["year=2022/month=2/day=4"]);

    // A new table over the raw files: no partitions until they are added or repaired, as in Athena.
    run(
        &s,
        "CREATE EXTERNAL TABLE spot (codigo_negociacao string, preco_ultimo_negocio decimal(13,2), tipo_mercado int) \
             PARTITIONED BY (year int, month int, day int) STORED AS PARQUET LOCATION '${lake}/raw/' \
             TBLPROPERTIES ('classification'='parquet')",
    )
    .await;
    let petr4 = "SELECT CAST(preco_ultimo_negocio AS VARCHAR) FROM spot WHERE codigo_negociacao = 'PETR4' AND tipo_mercado = 10";
    assert!(run(&s, petr4).await.is_empty());
    assert_eq!(run(&s, "MSCK REPAIR TABLE spot").await, ["1|0|0|1"]);
    assert_eq!(run(&s, petr4).await, ["32.63"]);
    // Persisted: a new session (a new process) sees the table and its partitions.
    let again = session(&lake).await.unwrap();
    assert_eq!(run(&again, petr4).await, ["32.63"]);
    run(&again, "ALTER TABLE spot DROP PARTITION (year=2022, month=2, day=4)").await;
    assert!(run(&again, petr4).await.is_empty());
    run(
        &again,
        "ALTER TABLE spot ADD PARTITION (year=2022, month=2, day=4) LOCATION '${lake}/raw/year=2022/month=02/day=04/'",
    )
    .await;
    assert_eq!(run(&again, petr4).await, ["32.63"]);
    assert_eq!(run(&again, "SHOW PARTITIONS spot").await, ["year=2022/month=2/day=4"]);
    let err =
        execute(&again, "ALTER TABLE spot ADD PARTITION (year=2022, month=2, day=4)").await.unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    run(&again, "ALTER TABLE spot ADD IF NOT EXISTS PARTITION (year=2022, month=2, day=4)").await;
    let err = execute(&again, "ALTER TABLE spot ADD PARTITION (year=2022, month=2)").await.unwrap_err().to_string();
    assert!(err.contains("partitioned by (year, month, day)"), "{err}");
    let err = execute(&again, "CREATE EXTERNAL TABLE spot (a int) STORED AS PARQUET LOCATION '${lake}/x/'")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    run(&again, "DROP TABLE spot").await;
    assert!(execute(&again, "SELECT * FROM spot").await.is_err());
    assert!(!run(&session(&lake).await.unwrap(), "SHOW TABLES").await.contains(&"spot".to_string()));
    run(&again, "DROP TABLE IF EXISTS spot").await;
    let err = execute(&again, "DROP TABLE spot").await.unwrap_err().to_string();
    assert!(err.contains("spot does not exist"), "{err}");
    // The raw files are the raw table's still.
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522);
}

/// One suite, every backend: what a catalog must do.
async fn conformance(catalog: &dyn Catalog) {
    let def = TableDef::parse(
        "CREATE EXTERNAL TABLE conformance_t (`a` int, `b` decimal(13,2) COMMENT 'price', `c` string, `d` date, `e` boolean) \
         PARTITIONED BY (`year` int, `month` int, `sym` string) STORED AS PARQUET LOCATION '${lake}/conformance/' \
         TBLPROPERTIES ('classification'='parquet')",
        "conformance",
    )
    .unwrap();
    let name = "conformance_t";
    assert_eq!(catalog.table(name).await.unwrap(), None);
    catalog.prepare().await.unwrap();
    catalog.create_table(&def).await.unwrap();
    assert_eq!(catalog.table(name).await.unwrap().as_ref(), Some(&def), "{}", catalog.describe());
    assert!(catalog.tables().await.unwrap().contains(&name.to_string()));
    assert!(matches!(catalog.create_table(&def).await, Err(Error::TableExists(_))));

    let mut wider = def.clone();
    wider.columns.push(Column::new("f", DataType::Float64));
    wider.columns.push(Column::new("g", DataType::Int64));
    catalog.update_table(&wider).await.unwrap();
    assert_eq!(catalog.table(name).await.unwrap().unwrap().columns, wider.columns);

    let p = |y: i32, m: u32, s: &str| Partition {
        values: vec![y.to_string(), m.to_string(), s.to_string()],
        location: format!("conformance/year={y}/month={m:02}/sym={s}"),
        files: vec![],
    };
    let strip = |v: Vec<Partition>| v.into_iter().map(|p| (p.values, p.location)).collect::<Vec<_>>();
    let parts = vec![p(2022, 1, "A"), p(2022, 2, "B"), p(2023, 1, "A")];
    catalog.add_partitions(&wider, &parts).await.unwrap();
    assert_eq!(strip(catalog.partitions(&wider, &[]).await.unwrap()), strip(parts.clone()));
    assert_eq!(strip(catalog.partitions(&wider, &["2022".into()]).await.unwrap()), strip(parts[..2].to_vec()));
    assert_eq!(
        strip(catalog.partitions(&wider, &["2022".into(), "2".into()]).await.unwrap()),
        strip(parts[1..2].to_vec())
    );
    assert!(catalog.add_partitions(&wider, &parts[..1]).await.is_err(), "{}: adding twice", catalog.describe());

    let moved = Partition { location: "conformance/moved".into(), ..parts[0].clone() };
    catalog.update_partitions(&wider, std::slice::from_ref(&moved)).await.unwrap();
    catalog.drop_partitions(&wider, &[parts[1].values.clone()]).await.unwrap();
    assert_eq!(strip(catalog.partitions(&wider, &[]).await.unwrap()), strip(vec![moved, parts[2].clone()]));

    catalog.drop_table(name).await.unwrap();
    assert_eq!(catalog.table(name).await.unwrap(), None);
    assert!(matches!(catalog.drop_table(name).await, Err(Error::TableNotFound(_))));
}

#[tokio::test]
async fn conformance_local() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    conformance(&LocalCatalog::new(&lake)).await;
}

#[tokio::test]
async fn conformance_glue_on_moto() {
    conformance(&GlueCatalog::new(glue().await, "conformance", "s3://conformance-bucket/lake")).await;
}

#[tokio::test]
async fn sync_makes_glue_match_and_a_second_sync_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let local = LocalCatalog::new(&lake);
    let client = glue().await;
    let remote = GlueCatalog::new(client.clone(), "sync_real_day", &local.lake_url());

    let plan = sync::sync(&local, &remote, &Scope::All, true).await.unwrap();
    assert_eq!(plan.partition_counts(), (1 + 1196 + 1, 0, 0), "{plan}");
    assert_eq!(plan.changes.iter().filter(|c| matches!(c, Change::CreateTable(_))).count(), 5);
    assert!(remote.tables().await.unwrap().is_empty(), "the dry run changed nothing");

    sync::sync(&local, &remote, &Scope::All, false).await.unwrap();
    for name in local.tables().await.unwrap() {
        assert_eq!(remote.table(&name).await.unwrap(), local.table(&name).await.unwrap(), "{name}");
    }
    // As Athena will read it, straight from the SDK.
    let table = client.get_table().database_name("sync_real_day").name(REFINED).send().await.unwrap().table.unwrap();
    let sd = table.storage_descriptor.unwrap();
    assert_eq!(
        sd.serde_info.unwrap().serialization_library.unwrap(),
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    );
    assert_eq!(sd.input_format.unwrap(), "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat");
    assert_eq!(sd.location.unwrap(), format!("{}refined/", lake.url()));
    let types: Vec<(String, String)> = sd
        .columns
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.r#type.unwrap()))
        .filter(|(n, _)| n.starts_with("preco_"))
        .collect();
    assert_eq!(types[0], ("preco_abertura".into(), "decimal(13,2)".into()));
    assert_eq!(types[4], ("preco_medio_ponderado".into(), "decimal(28,8)".into()));
    let keys: Vec<(String, String)> =
        table.partition_keys.unwrap().into_iter().map(|c| (c.name, c.r#type.unwrap())).collect();
    assert_eq!(
        keys,
        [("year", "int"), ("month", "int"), ("day", "int"), ("symbol", "string")].map(|(a, b)| (a.into(), b.into()))
    );
    assert_eq!(table.parameters.unwrap().get("classification").map(String::as_str), Some("parquet"));
    let petr4 = client
        .get_partition()
        .database_name("sync_real_day")
        .table_name(REFINED)
        .set_partition_values(Some(vec!["2022".into(), "2".into(), "4".into(), "PETR4".into()]))
        .send()
        .await
        .unwrap()
        .partition
        .unwrap();
    let location = petr4.storage_descriptor.unwrap().location.unwrap();
    assert_eq!(location, format!("{}refined/year=2022/month=02/day=04/symbol=PETR4/", lake.url()));
    assert_eq!(remote.partitions(&local.require(REFINED).await.unwrap(), &[]).await.unwrap().len(), 1196);

    let again = sync::sync(&local, &remote, &Scope::All, false).await.unwrap();
    assert!(again.is_empty(), "{again}");
    assert!(again.to_string().starts_with("no changes"));

    // A day removed locally disappears from Glue.
    execute(&session(&lake).await.unwrap(), "ALTER TABLE cotacoes_b3_raw DROP PARTITION (year=2022, month=2, day=4)")
        .await
        .unwrap();
    let plan = sync::sync(&local, &remote, &Scope::All, false).await.unwrap();
    assert_eq!(plan.partition_counts(), (0, 0, 1));
    assert!(remote.partitions(&local.require(ddl::RAW).await.unwrap(), &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_second_glue_sync_compares_only_what_changed_unless_full() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let local = LocalCatalog::new(&lake);
    let client = glue().await;
    let remote = || GlueCatalog::new(client.clone(), "baseline_sync", &local.lake_url());
    let (all, default) = (Scope::All, SyncOptions::default());
    let first = sync::sync_glue(&local, &remote(), &all, default).await.unwrap();
    assert_eq!(first.partition_counts(), (1198, 0, 0));

    // Nothing changed: the tables are read (a call for the database, one per table), no
    // partition is listed.
    let tables = local.tables().await.unwrap().len() as u64;
    let glue = remote();
    assert!(sync::sync_glue(&local, &glue, &all, default).await.unwrap().is_empty());
    assert!(glue.calls() <= 1 + tables, "{} calls", glue.calls());

    // A change behind b3lake's back is found by a full sync only.
    let refined = local.require(REFINED).await.unwrap();
    glue.drop_partitions(&refined, &[vec!["2022".into(), "2".into(), "4".into(), "PETR4".into()]]).await.unwrap();
    assert!(sync::sync_glue(&local, &remote(), &all, default).await.unwrap().is_empty());
    let full = SyncOptions { full: true, ..default };
    assert_eq!(sync::sync_glue(&local, &remote(), &all, full).await.unwrap().partition_counts(), (1, 0, 0));
    assert_eq!(glue.partitions(&refined, &[]).await.unwrap().len(), 1196);

    // A local change is found without a full sync, comparing only its day.
    execute(&session(&lake).await.unwrap(), "ALTER TABLE cotacoes_b3_refined DROP PARTITION (symbol='VALE3')")
        .await
        .unwrap();
    let glue = remote();
    assert_eq!(sync::sync_glue(&local, &glue, &all, default).await.unwrap().partition_counts(), (0, 0, 1));
    assert!(glue.calls() <= 1 + tables + 4, "{} calls", glue.calls());
    assert_eq!(glue.partitions(&refined, &[]).await.unwrap().len(), 1195);
}

#[tokio::test]
async fn ten_thousand_partitions_sync_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let local = LocalCatalog::new(&lake);
    let def = TableDef::parse(
        "CREATE EXTERNAL TABLE many (v bigint) PARTITIONED BY (year int, month int, day int, n int) \
         STORED AS PARQUET LOCATION '${lake}/many/'",
        "many",
    )
    .unwrap();
    local.create_table(&def).await.unwrap();
    let values = (1..=12).flat_map(|m| (1..=28).flat_map(move |d| (0..30).map(move |n| (m, d, n))));
    let mut parts: Vec<Partition> = values
        .take(10_000)
        .map(|(m, d, n)| Partition {
            values: vec!["2020".into(), m.to_string(), d.to_string(), n.to_string()],
            location: format!("many/year=2020/month={m:02}/day={d:02}/n={n}"),
            files: vec![],
        })
        .collect();
    local.add_partitions(&def, &parts).await.unwrap();
    let remote = GlueCatalog::new(glue().await, "ten_thousand", &local.lake_url());
    let scope = Scope::Partitions { tables: vec!["many".into()], prefixes: vec![vec![]] };
    let plan = sync::sync(&local, &remote, &scope, false).await.unwrap();
    assert_eq!(plan.partition_counts(), (10_000, 0, 0));
    // 100 BatchCreatePartition calls, and a handful of others (database, table, listings).
    assert!((100..=110).contains(&remote.calls()), "{} calls", remote.calls());
    assert_eq!(remote.partitions(&def, &[]).await.unwrap().len(), 10_000);

    for p in &mut parts[..5] {
        p.location.push_str("-moved");
    }
    local.update_partitions(&def, &parts[..5]).await.unwrap();
    local.drop_partitions(&def, &[parts[9_999].values.clone()]).await.unwrap();
    let plan = sync::sync(&local, &remote, &scope, false).await.unwrap();
    assert_eq!(plan.partition_counts(), (0, 5, 1), "{plan}");
    assert!(sync::plan(&local, &remote, &scope, None).await.unwrap().is_empty());
}

/// A Glue client on a scripted server, without the SDK's own retries (so only b3lake's count).
fn scripted_client(url: &str) -> aws_sdk_glue::Client {
    let config =
        glue_at(url).config().to_builder().retry_config(aws_sdk_glue::config::retry::RetryConfig::disabled()).build();
    aws_sdk_glue::Client::from_conf(config)
}

#[tokio::test]
async fn glue_throttling_is_retried_with_backoff() {
    let throttled = r#"{"__type":"ThrottlingException","Message":"Rate exceeded"}"#;
    let glue = scripted_glue(vec![(400, throttled), (400, throttled), (200, "{}")]);
    let catalog = GlueCatalog::new(scripted_client(&glue.base), "db", "s3://b/lake")
        .with_retry(RetryConfig::new(4, Duration::from_millis(50)));
    catalog.create_table(&ddl::builtin()[0]).await.unwrap();
    let times = glue.times();
    assert_eq!(times.len(), 3);
    assert!(times[2] - times[1] >= Duration::from_millis(100));
    let glue = scripted_glue(vec![(400, throttled)]);
    let catalog = GlueCatalog::new(scripted_client(&glue.base), "db", "s3://b/lake")
        .with_retry(RetryConfig::new(2, Duration::from_millis(10)));
    let err = catalog.create_table(&ddl::builtin()[0]).await.unwrap_err().to_string();
    assert!(err.contains("ThrottlingException") && err.contains("attempt 2 of 2"), "{err}");
}

#[test]
fn cli_sync_dry_run_ingest_sync_glue_and_pull() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    let out = cli(&["ingest", data(DEMO_2003).to_str().unwrap(), "--lake", lake, "--sync-glue", "cli_catalog"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let client = rt.block_on(glue());
    let raw = rt
        .block_on(client.get_partitions().database_name("cli_catalog").table_name(ddl::RAW).send())
        .unwrap()
        .partitions
        .unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].values(), ["2003", "2", "12"]);
    let out = cli(&["transform", "--lake", lake, "--sync-glue", "cli_catalog"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let refined = rt
        .block_on(client.get_partitions().database_name("cli_catalog").table_name(REFINED).send())
        .unwrap()
        .partitions
        .unwrap();
    let local = rt.block_on(Lake::open(lake)).unwrap();
    let tickers = rt.block_on(query_one_i64(&local, "SELECT count(*) FROM cotacoes_b3_refined"));
    assert!(tickers > 0);
    assert_eq!(refined.len() as i64, tickers);

    let out = cli(&["catalog", "sync", "--lake", lake, "--database", "cli_catalog_dry", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("create table cotacoes_b3_raw") && text.contains("dry run"),
        "{text}"
    );
    assert!(rt.block_on(client.get_tables().database_name("cli_catalog_dry").send()).is_err(), "nothing created");

    let pulled = dir.path().join("pulled");
    let out = cli(&["catalog", "pull", "--lake", lake, "--database", "cli_catalog", "--out", pulled.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(pulled.join("cotacoes_b3_raw.sql")).unwrap();
    assert!(text.contains("LOCATION '${lake}/raw/'"), "{text}");
    assert_eq!(TableDef::parse(&text, "pulled").unwrap(), ddl::builtin()[0]);
}

#[tokio::test]
async fn catalog_statements_never_reach_outside_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(&dir.path().join("lake")).await;
    let s = session(&lake).await.unwrap();
    run(
        &s,
        "CREATE EXTERNAL TABLE spot (codigo_negociacao string) PARTITIONED BY (year int, month int, day int) \
         STORED AS PARQUET LOCATION '${lake}/raw/'",
    )
    .await;
    let root = lake.local_root().unwrap().to_str().unwrap().to_string();
    let before = snapshot(&dir.path().join("lake"));
    for location in [
        "/etc".to_string(),
        "file:///etc/".into(),
        "s3://other/x/".into(),
        "../../../../etc".into(),
        format!("file://{root}/raw/../../"),
        format!("{root}/../outside"),
    ] {
        let sql = format!("ALTER TABLE spot ADD PARTITION (year=2022, month=2, day=4) LOCATION '{location}'");
        let err = execute(&s, &sql).await.unwrap_err().to_string();
        assert!(err.contains("lies outside the lake"), "{location}: {err}");
        let sql = format!("CREATE EXTERNAL TABLE t2 (a int) STORED AS PARQUET LOCATION '{location}'");
        let err = execute(&s, &sql).await.unwrap_err().to_string();
        assert!(err.contains("outside the lake"), "{location}: {err}");
    }
    // DataFusion's own file statements are not run: they would read or write any path.
    let copied = dir.path().join("copied.csv");
    for (sql, expected) in [
        (
            "CREATE OR REPLACE EXTERNAL TABLE h (a varchar) STORED AS CSV LOCATION '/etc/hostname'".to_string(),
            "not one Athena runs",
        ),
        (
            "CREATE UNBOUNDED EXTERNAL TABLE h (a varchar) STORED AS CSV LOCATION '/etc/hostname'".into(),
            "not one Athena runs",
        ),
        (format!("COPY (SELECT 1) TO '{}' STORED AS CSV", copied.display()), "use b3lake sql --output"),
    ] {
        let err = execute(&s, &sql).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{sql}: {err}");
    }
    assert!(!copied.exists());
    assert!(snapshot(&dir.path().join("lake")) == before, "the lake is unchanged");
    assert_eq!(run(&s, "SHOW PARTITIONS spot").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_dropped_built_in_table_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let lake = real_day_lake(dir.path()).await;
    let s = session(&lake).await.unwrap();
    run(&s, "DROP TABLE cotacoes_b3_raw").await;
    assert!(execute(&session(&lake).await.unwrap(), "SELECT count(*) FROM cotacoes_b3_raw").await.is_err());
    // By hand: the table's DDL from catalog/ and MSCK REPAIR, as in Athena.
    let ddl =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/cotacoes_b3_raw.sql"))
            .unwrap();
    let s = session(&lake).await.unwrap();
    run(&s, &ddl).await;
    run(&s, "MSCK REPAIR TABLE cotacoes_b3_raw").await;
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522);
    // Or by the next ingest, which defines it again.
    run(&s, "DROP TABLE cotacoes_b3_raw").await;
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522);
}
