//! The template in examples/aws/: its Glue tables are generated from catalog/, it passes
//! cfn-lint and checkov with every suppression justified, and it deploys to moto's
//! CloudFormation (tests/aws/deploy_to_moto.py reads each resource back through boto3).

use std::path::PathBuf;
use std::process::Command;

use b3lake::catalog::cloudformation;

const TEMPLATE: &str = "examples/aws/template.yaml";

fn template() -> String {
    std::fs::read_to_string(TEMPLATE).unwrap()
}

/// A tool of the test command's tools folder (`B3LAKE_TOOLS`, which tests/run.sh fills).
fn tool(name: &str) -> PathBuf {
    let dir = std::env::var("B3LAKE_TOOLS")
        .expect("B3LAKE_TOOLS is not set: run the tests with tests/run.sh, which installs cfn-lint and checkov");
    let path = PathBuf::from(dir).join(name);
    assert!(path.exists(), "{} is missing: run the tests with tests/run.sh", path.display());
    path
}

#[test]
fn the_templates_glue_tables_are_generated_from_catalog() {
    let text = template();
    let begin = text.find(cloudformation::BEGIN).expect("the template has the generated block");
    let end = text.find(cloudformation::END).expect("the generated block ends") + cloudformation::END.len() + 1;
    let expected = cloudformation::glue_tables(&b3lake::catalog::ddl::builtin()).unwrap();
    assert!(
        text[begin..end] == expected,
        "the template's Glue tables differ from catalog/: run `b3lake catalog cloudformation --update {TEMPLATE}`"
    );
}

#[test]
fn the_template_passes_cfn_lint_and_checkov_and_justifies_each_suppression() {
    let out = Command::new(tool("cfn-lint")).arg(TEMPLATE).output().unwrap();
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(tool("checkov"))
        .args(["--skip-download", "--quiet", "--compact", "--framework", "cloudformation", "-f", TEMPLATE])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && report.contains("Failed checks: 0"), "checkov:\n{report}");

    let parsed: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let mut suppressions = 0;
    for (name, resource) in parsed["Resources"].as_mapping().unwrap() {
        let Some(skips) = resource.get("Metadata").and_then(|m| m.get("checkov")).and_then(|c| c.get("skip")) else {
            continue;
        };
        for skip in skips.as_sequence().unwrap() {
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(comment.split_whitespace().count() >= 10, "{name:?} suppresses {:?} without a reason", skip["id"]);
            suppressions += 1;
        }
    }
    assert!(report.contains(&format!("Skipped checks: {suppressions}")), "checkov skipped other checks:\n{report}");
}

/// A new account's Lambda quota is 10 executions, all of them unreserved: a function that
/// reserves any cannot be created there. Reserving is a parameter's choice, off by default.
#[test]
fn no_function_reserves_concurrency_unless_a_parameter_asks() {
    use serde_yaml::Value;
    let parsed: Value = serde_yaml::from_str(&template()).unwrap();
    let tag = |v: &Value, name: &str| match v {
        Value::Tagged(t) if t.tag == format!("!{name}") => Some(t.value.clone()),
        _ => None,
    };
    let mut functions = 0;
    for (name, resource) in parsed["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Lambda::Function") {
            continue;
        }
        functions += 1;
        let Some(reserved) = resource["Properties"].get("ReservedConcurrentExecutions") else { continue };
        // !If [Condition, !Ref Parameter, !Ref AWS::NoValue]
        let branches = tag(reserved, "If").and_then(|v| v.as_sequence().cloned()).unwrap_or_default();
        let [condition, chosen, otherwise] = branches.as_slice() else {
            panic!("{name:?} reserves concurrency unconditionally: {reserved:?}");
        };
        assert_eq!(tag(otherwise, "Ref").and_then(|v| v.as_str().map(String::from)).as_deref(), Some("AWS::NoValue"));
        let parameter = tag(chosen, "Ref").and_then(|v| v.as_str().map(String::from)).expect("a parameter's value");
        assert_eq!(
            parsed["Parameters"][parameter.as_str()]["Default"].as_u64(),
            Some(0),
            "{parameter} reserves by default"
        );
        // The condition is that parameter being other than 0.
        let defined = &parsed["Conditions"][condition.as_str().unwrap()];
        let equals = tag(defined, "Not")
            .and_then(|v| v.as_sequence().and_then(|s| s.first().cloned()))
            .and_then(|v| tag(&v, "Equals"))
            .and_then(|v| v.as_sequence().cloned())
            .unwrap_or_default();
        assert!(
            matches!(equals.as_slice(), [r, zero] if tag(r, "Ref").and_then(|v| v.as_str().map(String::from)) == Some(parameter.clone()) && zero.as_u64() == Some(0)),
            "{name:?}: condition {condition:?} is not `{parameter} != 0`: {defined:?}"
        );
    }
    assert_eq!(functions, 2, "the template's two functions");
}

/// IAM roles and policies, budgets and dashboards are named once per account, not per region:
/// a second region's stack (or environment) must not collide with the first's.
#[test]
fn every_account_wide_name_includes_the_region() {
    use serde_yaml::Value;
    let parsed: Value = serde_yaml::from_str(&template()).unwrap();
    let account_wide = [
        ("AWS::IAM::Role", vec!["RoleName"]),
        ("AWS::IAM::ManagedPolicy", vec!["ManagedPolicyName"]),
        ("AWS::Budgets::Budget", vec!["Budget", "BudgetName"]),
        ("AWS::CloudWatch::Dashboard", vec!["DashboardName"]),
    ];
    let mut named = 0;
    for (name, resource) in parsed["Resources"].as_mapping().unwrap() {
        let Some((_, path)) = account_wide.iter().find(|(t, _)| resource["Type"].as_str() == Some(t)) else {
            continue;
        };
        let value = path.iter().fold(&resource["Properties"], |v, key| &v[*key]);
        let text = match value {
            Value::Tagged(t) if t.tag == "!Sub" => t.value.as_str().unwrap_or_default().to_string(),
            other => panic!("{name:?} has a fixed or no name: {other:?}"),
        };
        assert!(text.contains("${AWS::Region}"), "{name:?} is named {text:?}, the same in every region");
        assert!(text.contains("${Environment}"), "{name:?} is named {text:?}, the same in every environment");
        named += 1;
    }
    assert!(named >= 4, "the three roles and the budget: {named}");
}

/// What a stack deletion or a replacement does to what holds data is a choice written down: the
/// lake is kept; queues and logs, whose contents expire on their own, go with the stack.
#[test]
fn every_stateful_resource_says_what_deletion_and_replacement_do() {
    let parsed: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let stateful = ["AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table"];
    let mut buckets = 0;
    for (name, resource) in parsed["Resources"].as_mapping().unwrap() {
        let kind = resource["Type"].as_str().unwrap();
        if !stateful.contains(&kind) {
            continue;
        }
        let policies = (
            resource.get("DeletionPolicy").and_then(|v| v.as_str()),
            resource.get("UpdateReplacePolicy").and_then(|v| v.as_str()),
        );
        assert!(
            matches!(policies, (Some(_), Some(_))),
            "{name:?} leaves deletion and replacement to defaults: {policies:?}"
        );
        if kind == "AWS::S3::Bucket" {
            assert_eq!(policies, (Some("Retain"), Some("Retain")), "{name:?}: the lake outlives its stack");
            buckets += 1;
        }
    }
    assert_eq!(buckets, 1);
    // A workgroup with query history is deleted only with RecursiveDeleteOption.
    for (name, resource) in parsed["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() == Some("AWS::Athena::WorkGroup") {
            assert_eq!(resource["Properties"]["RecursiveDeleteOption"].as_bool(), Some(true), "{name:?}");
        }
    }
}

/// Deletes in a versioned bucket leave delete markers: where b3lake deletes all day (staging,
/// leases, locks), a lifecycle rule clears them, or every listing there steps over them.
#[test]
fn delete_markers_are_cleared_where_writers_delete_all_day() {
    let parsed: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let rules =
        parsed["Resources"]["LakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"].as_sequence().unwrap();
    for prefix in ["_staging/", "_b3lake/writers/", "_b3lake/readers/", "_b3lake/locks/"] {
        assert!(
            rules.iter().any(|r| r["Prefix"].as_str() == Some(prefix)
                && r["ExpiredObjectDeleteMarker"].as_bool() == Some(true)
                && r["NoncurrentVersionExpiration"]["NoncurrentDays"].as_u64().is_some()),
            "no rule clears the delete markers under {prefix}"
        );
    }
}

/// The budget counts this stack's costs, not the account's; a new package deploys because it
/// has a new name (the same key would leave the functions as they were).
#[test]
fn the_budget_is_the_stacks_and_a_new_package_has_a_new_key() {
    let parsed: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let filters = &parsed["Resources"]["MonthlyBudget"]["Properties"]["Budget"]["CostFilters"]["TagKeyValue"];
    let filter = format!("{filters:?}");
    assert!(filter.contains("aws:cloudformation:stack-name$${AWS::StackName}"), "{filter}");
    let key = &parsed["Parameters"]["CodeKey"];
    assert!(key.get("Default").is_none(), "a default key would be deployed again unchanged");
    assert!(key["AllowedPattern"].as_str().unwrap().contains("[0-9a-f]{16}"));
    let script = std::fs::read_to_string("examples/aws/build_function.sh").unwrap();
    assert!(
        script.contains("b3lake-lambda-$") && script.contains("sha256sum"),
        "build_function.sh names the package by its content"
    );
}

/// The dashboard is valid JSON once CloudFormation substitutes it, shows the design's widgets
/// (functions, jobs, S3 storage and requests, Athena), and every b3lake metric it shows is one
/// the code emits (and every one the code emits is on it).
#[test]
fn the_dashboard_shows_the_designs_metrics_and_only_emitted_ones() {
    let parsed: serde_yaml::Value = serde_yaml::from_str(&template()).unwrap();
    let body = match &parsed["Resources"]["Dashboard"]["Properties"]["DashboardBody"] {
        serde_yaml::Value::Tagged(t) if t.tag == "!Sub" => t.value.as_str().unwrap().to_string(),
        other => panic!("the dashboard's body is not a !Sub: {other:?}"),
    };
    let substituted = regex::Regex::new(r"\$\{[A-Za-z:.]+\}").unwrap().replace_all(&body, "x");
    let dashboard: serde_json::Value = serde_json::from_str(&substituted).expect("the dashboard body is JSON");
    let mut shown = std::collections::BTreeSet::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"].as_array().unwrap() {
            if let Some(expression) = metric["expression"].as_str() {
                let name = expression.split("MetricName=\"").nth(1).unwrap().split('"').next().unwrap();
                shown.insert(("AWS/Athena".to_string(), name.to_string()));
            } else {
                let namespace = metric[0].as_str().unwrap().replace("b3lake/x", "b3lake");
                shown.insert((namespace, metric[1].as_str().unwrap().to_string()));
            }
        }
    }
    for (namespace, name) in [
        ("AWS/Lambda", "Duration"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Invocations"),
        ("AWS/S3", "BucketSizeBytes"),
        ("AWS/S3", "AllRequests"),
        ("AWS/Athena", "ProcessedBytes"),
        ("AWS/Athena", "TotalExecutionTime"),
    ] {
        assert!(shown.contains(&(namespace.to_string(), name.to_string())), "no widget shows {namespace} {name}");
    }
    // b3lake's metrics: the names the code passes to telemetry (a quoted name before a Unit).
    let mut emitted = std::collections::BTreeSet::from(["Duration".to_string(), "Failures".to_string()]);
    let pattern = regex::Regex::new(r#"\("([A-Z][A-Za-z]+)",\s*(crate::telemetry::Unit::)?(Count|Bytes)"#).unwrap();
    for file in ["src/transform/job.rs", "src/ingest/mod.rs", "src/ingest/portfolio.rs", "src/frontend/lambda.rs"] {
        let text = std::fs::read_to_string(file).unwrap();
        emitted.extend(pattern.captures_iter(&text).map(|c| c[1].to_string()));
    }
    let on_dashboard: std::collections::BTreeSet<String> =
        shown.iter().filter(|(ns, _)| ns == "b3lake").map(|(_, n)| n.clone()).collect();
    assert!(emitted.contains("MissingDays") && emitted.contains("DaysTransformed"), "{emitted:?}");
    assert_eq!(on_dashboard, emitted, "the dashboard's b3lake metrics against the code's");
}

#[test]
fn the_template_deploys_to_moto() {
    std::env::var("AWS_ENDPOINT_URL").expect("run the tests with tests/run.sh, which starts moto");
    let out = Command::new(tool("python")).args(["tests/aws/deploy_to_moto.py", TEMPLATE]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "ok   stack created",
        "ok   bucket encrypted at rest",
        "ok   transform role grants named actions only",
        "ok   transform function runs the new package",
        "ok   the transform tells the backfill its fan-out",
        "ok   analyst policy",
        "ok   staging stack created in sa-east-1 beside the others",
        "ok   prod stack created in sa-east-1 beside the others",
    ] {
        assert!(report.contains(line), "{report}");
    }
    assert!(!report.contains("FAIL"), "{report}");
}

/// The pipeline: valid against GitHub's workflow schema, clean under zizmor's security audits
/// (actions pinned by hash, no credentials persisted, no injection), tests with `.ci/run`, and
/// deploys only by hand, with an OIDC token instead of stored keys.
#[test]
fn the_workflow_is_valid_secure_and_deploys_only_by_hand_through_oidc() {
    const WORKFLOW: &str = ".github/workflows/ci.yml";
    let out = Command::new(tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.github-workflows", WORKFLOW])
        .output()
        .unwrap();
    assert!(out.status.success(), "check-jsonschema:\n{}", String::from_utf8_lossy(&out.stdout));
    let out = Command::new(tool("zizmor")).args(["--offline", "--no-progress", WORKFLOW]).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.contains("No findings"), "zizmor:\n{report}");

    let workflow: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(WORKFLOW).unwrap()).unwrap();
    let jobs = &workflow["jobs"];
    let steps = |job: &str| format!("{:?}", jobs[job]["steps"]);
    assert!(steps("test").contains(".ci/run"));
    assert!(steps("package").contains("examples/aws/build_function.sh"));
    assert_eq!(jobs["deploy"]["if"].as_str(), Some("github.event_name == 'workflow_dispatch'"));
    assert_eq!(workflow["permissions"]["contents"].as_str(), Some("read"));
    for (name, job) in jobs.as_mapping().unwrap() {
        let oidc = job["permissions"]["id-token"].as_str() == Some("write");
        assert_eq!(oidc, name.as_str() == Some("deploy"), "{name:?}: only the deploy job asks for a token");
    }
    let text = std::fs::read_to_string(WORKFLOW).unwrap();
    assert!(!text.contains("secrets.") && !text.contains("AWS_SECRET_ACCESS_KEY"), "no stored keys");
    assert!(text.contains("AWS_WEB_IDENTITY_TOKEN_FILE") && text.contains("AWS_ROLE_ARN"));
}

/// With the function's binary beside the command line, the README's `cargo run --release -- demo`
/// still needs to know which one to run.
#[test]
fn cargo_run_runs_the_command_line() {
    let out = Command::new(env!("CARGO")).args(["metadata", "--no-deps", "--format-version", "1"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(metadata["packages"][0]["default_run"], "b3lake");
}
