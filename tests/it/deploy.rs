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
        "ok   staging stack created in sa-east-1 beside the others",
        "ok   prod stack created in sa-east-1 beside the others",
    ] {
        assert!(report.contains(line), "{report}");
    }
    assert!(!report.contains("FAIL"), "{report}");
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
