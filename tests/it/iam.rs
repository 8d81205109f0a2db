//! Least privilege, verified: the AWS calls the function's handlers make against moto (its
//! request recorder), mapped to IAM actions and resources, against the roles of the template.
//! Clean runs, and the paths they do not take: an index shard emptied, Glue's table behind the
//! lake's columns, the compact layout's projected table, each function killed mid-run and the
//! other one recovering what it left, and an analyst querying the S3 lake directly and through
//! Athena (against the template's analyst policy).

use b3lake::catalog::{Catalog, GlueCatalog};
use b3lake::frontend::lambda::handle;
use serde_json::{Value, json};

use crate::common::{DAY_2022, cli, data, stderr};
use crate::crash::Proxy;
use crate::lambda::{b3_mirror, bucket_lake, config, list, mirror_config, raw_key};
use crate::trigger::event;

/// One call as IAM sees it: `s3:GetObject` on `arn:aws:s3:::bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Call {
    pub action: String,
    pub resource: String,
}

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("run the tests with tests/run.sh, which starts moto")
}

async fn recorder(verb: &str) -> String {
    let url = format!("{}/moto-api/recorder/{verb}", endpoint());
    let response = reqwest::Client::new().post(&url).send().await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.text().await.unwrap()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

/// The IAM action and resource of each recorded request to `bucket` or naming `database`.
fn calls(recording: &str, bucket: &str, database: &str) -> Vec<Call> {
    use base64::Engine;
    let mut out = Vec::new();
    // One JSON object a request; moto's threads may append two before their newlines.
    for entry in serde_json::Deserializer::from_str(recording).into_iter::<Value>() {
        let entry = entry.expect("moto's recording is JSON");
        let headers = &entry["headers"];
        let header = |name: &str| {
            headers
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let body = match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
            (Some(b), Some(true)) => base64::engine::general_purpose::STANDARD.decode(b).unwrap(),
            (Some(b), _) => b.as_bytes().to_vec(),
            _ => vec![],
        };
        let method = entry["method"].as_str().unwrap();
        let url = url::Url::parse(entry["url"].as_str().unwrap()).unwrap();
        if let Some(target) = header("X-Amz-Target") {
            let (service, operation) = target.split_once('.').unwrap();
            if service == "AmazonAthena" {
                // Each query's calls name its workgroup's ARN; this test's queries run in one.
                let resource = format!("arn:aws:athena:us-east-1:123456789012:workgroup/{WORKGROUP}");
                out.push(Call { action: format!("athena:{operation}"), resource });
                continue;
            }
            let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            // GetDatabase names the database `Name`; GetTable names the table so.
            let (db, table) = match operation {
                "GetDatabase" | "CreateDatabase" => {
                    (body["Name"].as_str().or(body["DatabaseInput"]["Name"].as_str()), None)
                }
                "GetTable" | "DeleteTable" => (body["DatabaseName"].as_str(), body["Name"].as_str()),
                _ => {
                    (body["DatabaseName"].as_str(), body["TableName"].as_str().or(body["TableInput"]["Name"].as_str()))
                }
            };
            let db = db.unwrap_or_default();
            if service == "AWSGlue" && db == database {
                // IAM checks a table's call against its database's ARN too.
                let action = format!("glue:{operation}");
                out.push(Call {
                    action: action.clone(),
                    resource: format!("arn:aws:glue:us-east-1:123456789012:database/{db}"),
                });
                if let Some(t) = table {
                    out.push(Call { action, resource: format!("arn:aws:glue:us-east-1:123456789012:table/{db}/{t}") });
                }
            }
            continue;
        }
        let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy().into_owned();
        let Some(rest) = path.strip_prefix(&format!("/{bucket}")) else { continue };
        let key = rest.trim_start_matches('/');
        let query = url.query().unwrap_or_default();
        let object = |key: &str| format!("arn:aws:s3:::{bucket}/{key}");
        let push = |out: &mut Vec<Call>, action: &str, resource: String| {
            out.push(Call { action: format!("s3:{action}"), resource })
        };
        match (method, key.is_empty()) {
            ("GET", true) => {
                let prefix = query_param(query, "prefix").unwrap_or_default();
                push(&mut out, "ListBucket", format!("arn:aws:s3:::{bucket} prefix {prefix}"));
            }
            ("POST", true) if query_param(query, "delete").is_some() => {
                let xml = String::from_utf8(body).unwrap();
                let doc = roxmltree::Document::parse(&xml).unwrap();
                for k in doc.descendants().filter(|n| n.has_tag_name("Key")) {
                    push(&mut out, "DeleteObject", object(k.text().unwrap_or_default()));
                }
            }
            ("GET" | "HEAD", false) => push(&mut out, "GetObject", object(key)),
            ("PUT" | "POST", false) => {
                if let Some(source) = header("x-amz-copy-source") {
                    let source = percent_encoding::percent_decode_str(source).decode_utf8_lossy().into_owned();
                    let source =
                        source.trim_start_matches('/').strip_prefix(&format!("{bucket}/")).unwrap().to_string();
                    push(&mut out, "GetObject", object(&source));
                }
                push(&mut out, "PutObject", object(key));
            }
            ("DELETE", false) if query_param(query, "uploadId").is_some() => {
                push(&mut out, "AbortMultipartUpload", object(key))
            }
            ("DELETE", false) => push(&mut out, "DeleteObject", object(key)),
            other => panic!("an S3 request this test cannot map to IAM: {other:?} {url}"),
        }
    }
    out
}

/// The template's Athena workgroup for the environment `dev`.
const WORKGROUP: &str = "b3lake-dev";

/// Records the calls `run` makes, sorted, each once. moto keeps one recording: one at a time.
async fn record<F: std::future::Future<Output = ()>>(bucket: &str, database: &str, run: F) -> Vec<Call> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    recorder("reset-recording").await;
    recorder("start-recording").await;
    run.await;
    recorder("stop-recording").await;
    let mut calls = calls(&recorder("download-recording").await, bucket, database);
    calls.sort();
    calls.dedup();
    calls
}

/// Grants of the template that the recorded runs cannot show, each with its reason.
const NOT_RECORDED: [(&str, &str, &str); 34] = [
    ("*", "logs:CreateLogStream", "Lambda's runtime writes the function's logs with its role"),
    ("*", "logs:PutLogEvents", "Lambda's runtime writes the function's logs with its role"),
    (
        "*",
        "sqs:SendMessage",
        "Lambda sends a failed asynchronous event to the dead-letter queue with the function's role",
    ),
    ("*", "glue:BatchUpdatePartition", "a day rewritten to another location (a layout change) updates its partitions"),
    (
        "TransformRole",
        "glue:BatchDeletePartition",
        "a day whose tickers changed drops the partitions of the tickers gone",
    ),
    (
        "TransformRole",
        "s3:DeleteObject refined/*",
        "a day rewritten without a ticker it had deletes that ticker's folder",
    ),
    ("TransformRole", "s3:DeleteObject summary/*", "a rewritten day's summary replaces the old file"),
    ("TransformRole", "s3:DeleteObject index_members/*", "a rewritten day's index members replace the old file"),
    (
        "TransformRole",
        "glue:UpdateTable",
        "new transform SQL changes the summary's or the index members' columns as it does the refined table's",
    ),
    ("IngestRole", "s3:DeleteObject refined/*", "undoing a dead transform removes the ticker files it had copied in"),
    ("IngestRole", "s3:DeleteObject summary/*", "undoing a dead transform removes the summary it had written"),
    ("IngestRole", "s3:DeleteObject index_members/*", "undoing a dead transform removes the members it had written"),
    ("IngestRole", "s3:PutObject summary/*", "finishing a dead transform killed while it wrote the day's summary"),
    (
        "IngestRole",
        "s3:PutObject index_members/*",
        "finishing a dead transform killed while it wrote the day's members",
    ),
    ("TransformRole", "s3:DeleteObject raw/*", "undoing a dead ingest's run removes the files it had moved in"),
    ("TransformRole", "s3:DeleteObject raw_ibov/*", "undoing a dead portfolio ingest removes the file it had moved in"),
    ("TransformRole", "s3:PutObject raw_ibov/*", "finishing a dead portfolio ingest's run moves its file in"),
    (
        "AnalystPolicy",
        "s3:GetObject index_members/*",
        "by then the lake has no index members (their portfolio was removed above); read as the other tables",
    ),
    ("AnalystPolicy", "athena:StopQueryExecution", "a query interrupted (Ctrl-C) is stopped in Athena"),
    ("AnalystPolicy", "glue:GetDatabase", ATHENA_ITSELF),
    ("AnalystPolicy", "glue:GetTable", ATHENA_ITSELF),
    ("AnalystPolicy", "glue:GetTables", ATHENA_ITSELF),
    ("AnalystPolicy", "glue:GetPartition", ATHENA_ITSELF),
    ("AnalystPolicy", "glue:GetPartitions", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:GetBucketLocation", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket raw/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket raw_ibov/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket refined/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket summary/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket index_members/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:ListBucket athena-results/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:GetObject athena-results/*", ATHENA_ITSELF),
    ("AnalystPolicy", "s3:PutObject athena-results/*", ATHENA_ITSELF),
    (
        "AnalystPolicy",
        "s3:GetObject _staging/*",
        "a query reads the commit record a writer that died mid-commit left, to skip its days",
    ),
];

/// Why the analyst's grants for Athena's own reads and writes cannot be recorded.
const ATHENA_ITSELF: &str = "Athena reads Glue and the tables, and writes the results, with the caller's rights; \
    moto's Athena runs no query";

/// Glue names the catalog's ARN beside the database's and the table's on every call.
const CATALOG_ARN: &str = "arn:aws:glue:us-east-1:123456789012:catalog";

/// `*` in an IAM pattern matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head) && (0..=text.len() - head.len()).any(|i| glob(tail, &text[head.len() + i..]))
        }
    }
}

/// A template value with its intrinsic functions evaluated for account 123456789012 in
/// us-east-1, environment `dev`, the conditions true.
fn evaluate(value: &serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    let sub = |text: &str| {
        let mut out = text.to_string();
        for (name, value) in [
            ("AWS::Partition", "aws".to_string()),
            ("AWS::Region", "us-east-1".into()),
            ("AWS::AccountId", "123456789012".into()),
            ("Environment", "dev".into()),
        ] {
            out = out.replace(&format!("${{{name}}}"), &value);
        }
        assert!(!out.contains("${"), "a !Sub this test cannot evaluate: {text}");
        Y::String(out)
    };
    match value {
        Y::Tagged(tagged) => match (tagged.tag.to_string().as_str(), &tagged.value) {
            ("!Sub", Y::String(text)) => sub(text),
            ("!If", Y::Sequence(items)) => evaluate(&items[1]),
            ("!GetAtt", Y::String(name)) => Y::String(format!("arn:getatt:{name}")),
            ("!Ref", Y::String(name)) => Y::String(format!("ref:{name}")),
            (tag, _) => panic!("an intrinsic this test cannot evaluate: {tag}"),
        },
        Y::Sequence(items) => Y::Sequence(items.iter().map(evaluate).collect()),
        Y::Mapping(map) => Y::Mapping(map.iter().map(|(k, v)| (k.clone(), evaluate(v))).collect()),
        other => other.clone(),
    }
}

/// One allowed statement: its actions, resources and `s3:prefix` patterns.
#[derive(Debug)]
struct Grant {
    actions: Vec<String>,
    resources: Vec<String>,
    prefixes: Option<Vec<String>>,
}

fn strings(v: &serde_yaml::Value) -> Vec<String> {
    match v {
        serde_yaml::Value::String(s) => vec![s.clone()],
        serde_yaml::Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        other => panic!("not a string or list: {other:?}"),
    }
}

/// The statements of a role (its inline policies) or a managed policy of the template.
fn grants(template: &serde_yaml::Value, role: &str) -> Vec<Grant> {
    let properties = &template["Resources"][role]["Properties"];
    let documents: Vec<serde_yaml::Value> = match properties.get("Policies") {
        Some(policies) => {
            evaluate(policies).as_sequence().unwrap().iter().map(|p| p["PolicyDocument"].clone()).collect()
        }
        None => vec![evaluate(&properties["PolicyDocument"])],
    };
    let mut out = Vec::new();
    for document in &documents {
        for statement in document["Statement"].as_sequence().unwrap() {
            assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{role}: {statement:?}");
            let actions = strings(&statement["Action"]);
            let resources = strings(&statement["Resource"]);
            for a in &actions {
                assert!(!a.contains('*'), "{role} grants a wildcard action: {a}");
            }
            for r in &resources {
                assert!(r != "*" && !r.ends_with(":*:*"), "{role} grants on any resource: {r}");
            }
            let prefixes = statement.get("Condition").map(|c| strings(&c["StringLike"]["s3:prefix"]));
            out.push(Grant { actions, resources, prefixes });
        }
    }
    out
}

/// Does `grant` allow `call`?
fn allows(grant: &Grant, call: &Call) -> bool {
    if !grant.actions.contains(&call.action) {
        return false;
    }
    match call.resource.split_once(" prefix ") {
        Some((bucket, prefix)) => {
            grant.resources.iter().any(|r| r == bucket)
                && grant.prefixes.as_ref().is_some_and(|ps| ps.iter().any(|p| glob(p, prefix)))
        }
        None => grant.resources.iter().any(|r| glob(r, &call.resource)),
    }
}

/// Checks both ways: every call is allowed; every grant was used, or is listed with its reason.
fn check_role(template: &serde_yaml::Value, role: &str, calls: &[Call], bucket: &str) -> Vec<String> {
    let grants = grants(template, role);
    let mut problems = Vec::new();
    for call in calls {
        if !grants.iter().any(|g| allows(g, call)) {
            problems
                .push(format!("{role} does not allow a call its function makes: {} {}", call.action, call.resource));
        }
    }
    let excused = |action: &str, what: &str| {
        NOT_RECORDED
            .iter()
            .any(|(r, a, _)| (*r == "*" || *r == role) && (*a == action || *a == format!("{action} {what}")))
    };
    for grant in &grants {
        for action in &grant.actions {
            let mut targets: Vec<(String, Option<String>)> =
                grant.resources.iter().map(|r| (r.clone(), None)).collect();
            if let Some(prefixes) = &grant.prefixes {
                targets = prefixes.iter().map(|p| (grant.resources[0].clone(), Some(p.clone()))).collect();
            }
            for (resource, prefix) in targets {
                if resource == CATALOG_ARN {
                    continue;
                }
                let used = calls.iter().any(|c| {
                    c.action == *action
                        && match (&prefix, c.resource.split_once(" prefix ")) {
                            (Some(p), Some((b, cp))) => b == resource && glob(p, cp),
                            (None, None) => glob(&resource, &c.resource),
                            _ => false,
                        }
                });
                let what = prefix
                    .clone()
                    .unwrap_or_else(|| resource.trim_start_matches(&format!("arn:aws:s3:::{bucket}/")).to_string());
                if !used && !excused(action, &what) {
                    problems.push(format!("{role} grants {action} on {what}, which its function never called"));
                }
            }
        }
    }
    problems
}

/// The calls each of the function's jobs makes, recorded on moto, against its role.
#[tokio::test]
async fn the_roles_allow_exactly_what_the_handlers_call() {
    // The template's names for the environment `dev` of account 123456789012 in us-east-1.
    let bucket = "b3lake-dev-123456789012-us-east-1";
    let database = "b3lake_dev";
    let lake = bucket_lake(bucket).await;
    for key in list(&lake).await {
        object_store::ObjectStoreExt::delete(lake.store().as_ref(), &key.into()).await.unwrap();
    }
    // The template defines the Glue database and tables from catalog/; here, the same.
    let glue = GlueCatalog::new(b3lake::aws::glue_client().await, database, &format!("s3://{bucket}"));
    glue.prepare().await.unwrap();
    for def in b3lake::catalog::ddl::builtin() {
        let _ = glue.drop_table(&def.name).await;
        glue.create_table(&def).await.unwrap();
    }

    let mirror = b3_mirror();
    let cache = tempfile::tempdir().unwrap();
    let ingest_config = mirror_config(bucket, &mirror, cache.path(), &[("B3LAKE_GLUE_DATABASE", database)]);
    let transform_config = config(bucket, &[("B3LAKE_GLUE_DATABASE", database)]);
    let tick = json!({"b3lake": "ingest", "time": "2022-12-09T00:00:00Z"});
    let portfolio_key = "raw_ibov/year%3D2022/month%3D12/day%3D08/carteira_20221208.parquet";
    let delivery: Value = serde_json::from_str(&event(bucket, &[&raw_key("2022-12-08"), portfolio_key])).unwrap();
    let backfill: Value = json!({"b3lake": "transform", "days": ["2022-12-08"]});

    let ingest_day = json!({"b3lake": "ingest", "day": "2022-12-08"});
    let mut ingest = record(bucket, database, async {
        handle(&tick, &ingest_config).await.unwrap();
        // Again, by name: the day is replaced.
        handle(&ingest_day, &ingest_config).await.unwrap();
    })
    .await;
    let mut transform = record(bucket, database, async {
        handle(&delivery, &transform_config).await.unwrap();
        handle(&backfill, &transform_config).await.unwrap();
        // The backfill state machine's list of days.
        handle(&json!({"b3lake": "days", "from": "2022-12-01", "to": "2022-12-31"}), &transform_config).await.unwrap();
    })
    .await;
    assert!(ingest.iter().any(|c| c.action == "s3:PutObject") && transform.iter().any(|c| c.action == "s3:PutObject"));

    // The paths a clean run does not take. A day's portfolio removed: its index members go, and
    // with them the day's shard of their partition index.
    let portfolio = lake.path("raw_ibov/year=2022/month=12/day=08/carteira_20221208.parquet");
    object_store::ObjectStoreExt::delete(lake.store().as_ref(), &portfolio).await.unwrap();
    let shard = "_b3lake/catalog/partitions/cotacoes_b3_membros_indice/year=2022/month=12/day=8.json";
    let removal = record(bucket, database, async {
        handle(&backfill, &transform_config).await.unwrap();
    })
    .await;
    assert!(removal.iter().any(|c| c.action == "s3:DeleteObject" && c.resource.ends_with(shard)), "{removal:?}");
    transform.extend(removal);

    // Glue's refined table lost a column (the lake's transform SQL gained one): the transform's
    // sync updates the table.
    let client = b3lake::aws::glue_client().await;
    let table = client.get_table().database_name(database).name("cotacoes_b3_refined").send().await.unwrap();
    let table = table.table.unwrap();
    let mut descriptor = table.storage_descriptor.clone().unwrap();
    descriptor.columns.as_mut().unwrap().pop();
    let input = aws_sdk_glue::types::TableInput::builder()
        .name(table.name)
        .set_partition_keys(table.partition_keys)
        .set_parameters(table.parameters)
        .set_table_type(table.table_type)
        .storage_descriptor(descriptor)
        .build()
        .unwrap();
    client.update_table().database_name(database).table_input(input).send().await.unwrap();
    let schema = record(bucket, database, async {
        handle(&backfill, &transform_config).await.unwrap();
    })
    .await;
    assert!(schema.iter().any(|c| c.action == "glue:UpdateTable"), "{schema:?}");
    transform.extend(schema);

    // The compact layout with partition projection (ProjectedRefined=true): the lake in that
    // layout (its owner ran `transform --all --layout compact`), and Glue's refined table as
    // a `catalog sync` from before left it. The function's next transform updates the table.
    let s3_lake = format!("s3://{bucket}");
    let out = cli(&["transform", "--lake", &s3_lake, "--all", "--layout", "compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let refined = b3lake::catalog::ddl::builtin().into_iter().find(|d| d.name == "cotacoes_b3_refined").unwrap();
    glue.drop_table(&refined.name).await.unwrap();
    glue.create_table(&refined).await.unwrap();
    let projected_config = config(bucket, &[("B3LAKE_GLUE_DATABASE", database), ("B3LAKE_LAYOUT", "compact")]);
    let projected = record(bucket, database, async {
        handle(&backfill, &projected_config).await.unwrap();
    })
    .await;
    assert!(projected.iter().any(|c| c.action == "glue:UpdateTable"), "{projected:?}");
    transform.extend(projected);

    // Crash recovery: each function killed two thirds into its run (a SIGKILL before that
    // changing request, counted by a clean run first), then the other one runs and finishes
    // or undoes what the dead run left.
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let killed_at_two_thirds = |args: Vec<String>| {
        let (_, total) = Proxy::start(0).run(&args);
        let (killed, _) = Proxy::start(total * 2 / 3).run(&args);
        assert!(killed, "{args:?} was killed at request {} of {total}", total * 2 / 3);
    };
    // The leases of dead runs, which the other function's recovery removes.
    let leases =
        || async { list(&lake).await.into_iter().filter(|k| k.starts_with("_b3lake/writers/")).collect::<Vec<_>>() };
    killed_at_two_thirds(args(&["transform", "--lake", &s3_lake, "--day", "2022-12-08"]));
    let dead = leases().await;
    assert!(!dead.is_empty(), "the killed transform left its lease");
    let after_transform = record(bucket, database, async {
        handle(&ingest_day, &ingest_config).await.unwrap();
    })
    .await;
    ingest.extend(after_transform);
    let left = leases().await;
    assert!(dead.iter().all(|l| !left.contains(l)), "the ingest recovered the dead transform: {dead:?} {left:?}");
    // The same in the day/ticker layout, where a run copies each ticker's file into place.
    let out = cli(&["transform", "--lake", &s3_lake, "--all", "--layout", "symbol"]);
    assert!(out.status.success(), "{}", stderr(&out));
    killed_at_two_thirds(args(&["transform", "--lake", &s3_lake, "--day", "2022-12-08"]));
    let dead = leases().await;
    assert!(!dead.is_empty(), "the killed transform left its lease");
    let after_symbol = record(bucket, database, async {
        handle(&ingest_day, &ingest_config).await.unwrap();
    })
    .await;
    ingest.extend(after_symbol);
    let left = leases().await;
    assert!(dead.iter().all(|l| !left.contains(l)), "the ingest recovered the dead transform: {dead:?} {left:?}");
    killed_at_two_thirds(args(&["ingest", data(DAY_2022).to_str().unwrap(), "--lake", &s3_lake]));
    let dead = leases().await;
    assert!(!dead.is_empty(), "the killed ingest left its lease");
    let event_0204: Value = serde_json::from_str(&event(bucket, &[&raw_key("2022-02-04")])).unwrap();
    let after_ingest = record(bucket, database, async {
        handle(&event_0204, &transform_config).await.unwrap();
    })
    .await;
    transform.extend(after_ingest);
    let left = leases().await;
    assert!(dead.iter().all(|l| !left.contains(l)), "the transform recovered the dead ingest: {dead:?} {left:?}");
    ingest.sort();
    ingest.dedup();
    transform.sort();
    transform.dedup();

    // An analyst: the lake read directly from S3 (with reader leases), and through Athena.
    let athena = aws_sdk_athena::Client::new(&aws_config::load_from_env().await);
    let _ = athena.create_work_group().name(WORKGROUP).send().await;
    let query = "SELECT count(*) FROM cotacoes_b3_refined WHERE year = 2022 AND month = 12 AND day = 8";
    let analyst = record(bucket, database, async {
        for table in [
            "cotacoes_b3_raw",
            "cotacoes_b3_refined",
            "cotacoes_b3_resumo_diario",
            "carteira_b3_raw",
            "cotacoes_b3_membros_indice",
        ] {
            let out =
                cli(&["sql", "--lake", &s3_lake, "-c", &format!("SELECT count(*) FROM {table} WHERE year = 2022")]);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let out = cli(&["sql", "--engine", "athena", "--database", database, "--workgroup", WORKGROUP, "-c", query]);
        assert!(out.status.success(), "{}", stderr(&out));
    })
    .await;
    assert!(analyst.iter().any(|c| c.action == "athena:StartQueryExecution"), "{analyst:?}");
    assert!(analyst.iter().any(|c| c.resource.contains("_b3lake/readers/")), "{analyst:?}");

    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string("examples/aws/template.yaml").unwrap()).unwrap();
    let mut problems = check_role(&template, "IngestRole", &ingest, bucket);
    problems.extend(check_role(&template, "TransformRole", &transform, bucket));
    problems.extend(check_role(&template, "AnalystPolicy", &analyst, bucket));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
