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

#[test]
fn the_template_deploys_to_moto() {
    std::env::var("AWS_ENDPOINT_URL").expect("run the tests with tests/run.sh, which starts moto");
    let out = Command::new(tool("python")).args(["tests/aws/deploy_to_moto.py", TEMPLATE]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    for line in ["ok   stack created", "ok   bucket encrypted at rest", "ok   transform role grants named actions only"]
    {
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
