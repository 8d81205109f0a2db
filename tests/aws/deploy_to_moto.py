"""Deploys examples/aws/template.yaml to moto's CloudFormation and checks, through boto3, each
resource the deployment relies on. moto reports CREATE_COMPLETE even for resource types it
skips, so the stack's status proves nothing: every resource below is read back from its own
service. Prints one line per check; exits non-zero on the first failure.

    python3 tests/aws/deploy_to_moto.py examples/aws/template.yaml   (AWS_ENDPOINT_URL set)
"""

import ast
import base64
import hashlib
import io
import json
import os
import sys
import urllib.parse
import zipfile

import boto3

ENVIRONMENT = "staging"
ACCOUNT, REGION, OTHER_REGION = "123456789012", "us-east-1", "sa-east-1"
BUCKET = f"b3lake-{ENVIRONMENT}-{ACCOUNT}-{REGION}"
endpoint = os.environ["AWS_ENDPOINT_URL"]


def client(name, region=REGION):
    return boto3.client(name, endpoint_url=endpoint, region_name=region)


def package(text):
    """A function package (any zip will do for moto, which never runs it) and its content name,
    as build_function.sh names it."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("bootstrap", text)
    data = data.getvalue()
    return data, f"b3lake-lambda-{hashlib.sha256(data).hexdigest()[:16]}.zip"


def deploy(environment, region, code_key, update=False):
    """Creates (or updates) the stack of `environment` in `region`; returns its status."""
    cfn = client("cloudformation", region)
    stack = f"b3lake-{environment}"
    if not update and any(x["StackStatus"] != "DELETE_COMPLETE" for x in cfn.list_stacks()["StackSummaries"]
                          if x["StackName"] == stack):
        # A rerun against the same moto: start from no stack.
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        # moto's stack deletion leaves managed policies behind (AWS deletes them).
        try:
            client("iam", region).delete_policy(
                PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/b3lake-{environment}-{region}-analyst")
        except client("iam", region).exceptions.NoSuchEntityException:
            pass
        # DeletionPolicy: Retain kept the lake; a new stack of the same name needs it gone.
        lake = f"b3lake-{environment}-{ACCOUNT}-{region}"
        s3 = client("s3", region)
        check(f"deleting the {environment} stack kept its lake", lake in {b["Name"] for b in s3.list_buckets()["Buckets"]})
        bucket = boto3.resource("s3", endpoint_url=endpoint, region_name=region).Bucket(lake)
        bucket.object_versions.delete()
        bucket.objects.all().delete()
        bucket.delete()
    call = cfn.update_stack if update else cfn.create_stack
    call(
        StackName=stack,
        TemplateBody=open(sys.argv[1]).read(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "Environment", "ParameterValue": environment},
            {"ParameterKey": "CodeBucket", "ParameterValue": f"b3lake-code-{region}"},
            {"ParameterKey": "CodeKey", "ParameterValue": code_key},
            {"ParameterKey": "AlertEmail", "ParameterValue": "alerts@example.com"},
        ],
    )
    waiter = "stack_update_complete" if update else "stack_create_complete"
    cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        sys.exit(1)


skipped = []
template = None


def props(resource):
    return template["Resources"][resource]["Properties"]


def verify(what, resource_type, read, ok, static):
    """Checks `ok(read())`. Where moto did not make the resource (it says it did), checks the
    template's own definition with `static` instead, and notes it."""
    try:
        value = read()
    except Exception as e:  # moto's NoSuch... / NotFound errors, or an answer without the resource
        if isinstance(e, KeyError) or any(word in str(e) for word in ("NoSuch", "NotFound", "not found", "does not exist")):
            skipped.append(resource_type)
            check(what + " (in the template: moto does not deploy it)", static())
            return
        raise
    check(what, ok(value), json.dumps(value, default=str)[:2000])


def main(template_path):  # noqa: C901 (one check after another)
    global template
    from cfnlint.decode import decode
    template, problems = decode(template_path)
    check("template parses", template is not None and not problems, str(problems))
    s3, cfn = client("s3"), client("cloudformation")
    first, first_key = package("#!/bin/sh\necho one\n")
    for region in (REGION, OTHER_REGION):
        code = client("s3", region)
        bucket = f"b3lake-code-{region}"
        where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            code.create_bucket(Bucket=bucket, **where)
        except code.exceptions.BucketAlreadyOwnedByYou:  # a rerun against the same moto
            pass
        code.put_object(Bucket=bucket, Key=first_key, Body=first)
    status = deploy(ENVIRONMENT, REGION, first_key)
    stack = f"b3lake-{ENVIRONMENT}"
    check("stack created", status == "CREATE_COMPLETE", status)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}
    check("the stack names the lake", outputs.get("Lake") == f"s3://{BUCKET}", str(outputs))

    # The bucket.
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    check("bucket encrypted at rest", rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", str(rule))
    verify("bucket public access blocked", "AWS::S3::Bucket PublicAccessBlockConfiguration",
           lambda: s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"],
           lambda block: all(block.values()) and len(block) == 4,
           lambda: all(props("LakeBucket")["PublicAccessBlockConfiguration"].values()))
    def versioning():
        status = s3.get_bucket_versioning(Bucket=BUCKET).get("Status")
        if status is None:
            raise LookupError("versioning not found")
        return status

    verify("bucket versioned", "AWS::S3::Bucket VersioningConfiguration", versioning, lambda v: v == "Enabled",
           lambda: props("LakeBucket")["VersioningConfiguration"]["Status"] == "Enabled")

    def lifecycle_ok(rules):
        rules = {r["ID"]: r for r in rules}
        raw = rules["raw-to-infrequent-access"]
        prefix = raw.get("Filter", {}).get("Prefix", raw.get("Prefix"))
        return (prefix == "raw/" and raw["Transitions"][0] == {"Days": 30, "StorageClass": "STANDARD_IA"}
                and rules["expire-staging-leftovers"]["Expiration"]["Days"] == 7
                and rules["expire-athena-results"]["Expiration"]["Days"] == 30)

    verify("raw/ to Standard-IA after 30 days; staging leftovers and Athena results expire",
           "AWS::S3::Bucket LifecycleConfiguration",
           lambda: s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"], lifecycle_ok,
           lambda: lifecycle_ok([{**r, "ID": r["Id"], "Expiration": {"Days": r.get("ExpirationInDays")},
                                  "Transitions": [{"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                                                  for t in r.get("Transitions", [])]}
                                 for r in props("LakeBucket")["LifecycleConfiguration"]["Rules"]]))

    def notifications():
        lambdas = s3.get_bucket_notification_configuration(Bucket=BUCKET).get("LambdaFunctionConfigurations")
        if not lambdas:
            raise LookupError("notification not found")
        return lambdas

    def notification_ok(lambdas):
        prefixes = sorted(r["Value"] for c in lambdas for r in c["Filter"]["Key"]["FilterRules"] if r["Name"].lower() == "prefix")
        arns = {c["LambdaFunctionArn"] for c in lambdas}
        return prefixes == ["raw/", "raw_ibov/"] and len(arns) == 1 and next(iter(arns)).endswith(f"b3lake-{ENVIRONMENT}-transform")

    def notification_static():
        configs = props("LakeBucket")["NotificationConfiguration"]["LambdaConfigurations"]
        prefixes = sorted(r["Value"] for c in configs for r in c["Filter"]["S3Key"]["Rules"] if r["Name"] == "prefix")
        return prefixes == ["raw/", "raw_ibov/"] and all(c["Function"] == {"Fn::GetAtt": ["TransformFunction", "Arn"]} for c in configs)

    verify("the bucket notifies the transform of raw/ and raw_ibov/ only", "AWS::S3::Bucket NotificationConfiguration",
           notifications, notification_ok, notification_static)
    verify("bucket denies plain HTTP", "AWS::S3::BucketPolicy",
           lambda: json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]),
           lambda policy: any(x["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(x) for x in policy["Statement"]),
           lambda: any(x["Effect"] == "Deny" and x["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                       for x in props("LakeBucketPolicy")["PolicyDocument"]["Statement"]))

    # The functions and their roles.
    lam, iam = client("lambda"), client("iam")
    for name, role in [("transform", "TransformRole"), ("ingest", "IngestRole")]:
        conf = lam.get_function(FunctionName=f"b3lake-{ENVIRONMENT}-{name}")["Configuration"]
        env = conf["Environment"]["Variables"]
        check(f"{name} function on provided.al2023, x86_64",
              conf["Runtime"] == "provided.al2023" and conf["Handler"] == "bootstrap"
              and conf.get("Architectures", ["x86_64"]) == ["x86_64"], str(conf))
        check(f"{name} function serves the lake", env["B3LAKE_LAKE"] == f"s3://{BUCKET}"
              and env["B3LAKE_GLUE_DATABASE"] == f"b3lake_{ENVIRONMENT}"
              and env["B3LAKE_METRICS_NAMESPACE"] == f"b3lake/{ENVIRONMENT}", str(env))
        def dead_letters(conf=conf):
            if "DeadLetterConfig" not in conf:
                raise LookupError("dead-letter config not found")
            return conf["DeadLetterConfig"]["TargetArn"]

        logical = name.capitalize() + "Function"
        verify(f"{name} function has a dead-letter queue", "AWS::Lambda::Function DeadLetterConfig", dead_letters,
               lambda arn: arn.endswith(f"b3lake-{ENVIRONMENT}-dead-letters"),
               lambda: props(logical)["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
        check(f"{name} function has its own role", conf["Role"].endswith(f"role/b3lake-{ENVIRONMENT}-{REGION}-{name}"), conf["Role"])
        policies = iam.list_role_policies(RoleName=f"b3lake-{ENVIRONMENT}-{REGION}-{name}")["PolicyNames"]
        document = iam.get_role_policy(RoleName=f"b3lake-{ENVIRONMENT}-{REGION}-{name}", PolicyName=policies[0])["PolicyDocument"]
        if isinstance(document, str):
            # moto's CloudFormation keeps the document as Python's text of the dict.
            document = ast.literal_eval(urllib.parse.unquote(document))
        statements = document["Statement"]
        actions = [a for x in statements for a in ([x["Action"]] if isinstance(x["Action"], str) else x["Action"])]
        check(f"{name} role grants named actions only", actions and not any("*" in a for a in actions), str(actions))
        attached = iam.list_attached_role_policies(RoleName=f"b3lake-{ENVIRONMENT}-{REGION}-{name}")["AttachedPolicies"]
        check(f"{name} role has no managed policies", attached == [], str(attached))
    env = lam.get_function(FunctionName=f"b3lake-{ENVIRONMENT}-transform")["Configuration"]["Environment"]["Variables"]
    check("the default refined layout is the design's", env["B3LAKE_LAYOUT"] == "symbol", str(env))

    # Logs, dead letters, alarms.
    logs = client("logs")
    for name in ["transform", "ingest"]:
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/b3lake-{ENVIRONMENT}-{name}")["logGroups"]
        check(f"{name} log group kept 30 days", [g.get("retentionInDays") for g in groups] == [30], str(groups))
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=f"b3lake-{ENVIRONMENT}-dead-letters")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    check("dead-letter queue encrypted", attributes.get("SqsManagedSseEnabled") == "true", str(attributes))
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    check("alert topic", any(t.endswith(f"b3lake-{ENVIRONMENT}-alerts") for t in topics), str(topics))

    # What moto's CloudFormation does not create (it reports them created all the same). Each
    # is checked here only if moto made it, so the list shows what was verified elsewhere.
    def alarms():
        names = {a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]}
        if not names:
            raise LookupError("alarms not found")
        return names

    def alarms_static():
        defined = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        metrics = {(a["Properties"]["Namespace"] if isinstance(a["Properties"]["Namespace"], str) else "b3lake",
                    a["Properties"]["MetricName"]) for a in defined}
        return {("AWS/Lambda", "Errors"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("b3lake", "Failures"), ("b3lake", "MissingDays")} <= metrics \
            and all(a["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}] for a in defined)

    wanted = {f"b3lake-{ENVIRONMENT}-{n}" for n in ["transform-errors", "ingest-errors", "dead-letters", "transform-failures", "missing-days"]}
    verify("alarms on function errors, dead letters and transform failures", "AWS::CloudWatch::Alarm", alarms,
           lambda names: wanted <= names, alarms_static)

    def tables_static():
        tables = {r["Properties"]["TableInput"]["Name"] for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Table"}
        return tables == {"cotacoes_b3_raw", "cotacoes_b3_refined", "cotacoes_b3_resumo_diario", "carteira_b3_raw",
                          "cotacoes_b3_membros_indice"}

    verify("Glue tables from catalog/", "AWS::Glue::Database, AWS::Glue::Table",
           lambda: {t["Name"] for t in client("glue").get_tables(DatabaseName=f"b3lake_{ENVIRONMENT}")["TableList"]},
           lambda tables: {"cotacoes_b3_raw", "cotacoes_b3_refined"} <= tables, tables_static)

    def schedule_static():
        p = props("IngestSchedule")
        return (p["ScheduleExpressionTimezone"] == "America/Sao_Paulo" and p["FlexibleTimeWindow"]["Mode"] == "OFF"
                and p["ScheduleExpression"] == "cron(0 21,23 ? * MON-FRI *)" and "scheduled-time" in p["Target"]["Input"])

    verify("weekday evening schedule in São Paulo", "AWS::Scheduler::Schedule",
           lambda: client("scheduler").get_schedule(Name=f"b3lake-{ENVIRONMENT}-daily-ingest"),
           lambda x: x["ScheduleExpressionTimezone"] == "America/Sao_Paulo" and x["FlexibleTimeWindow"]["Mode"] == "OFF",
           schedule_static)

    def workgroup_static():
        c = props("AthenaWorkGroup")["WorkGroupConfiguration"]
        return (c["EnforceWorkGroupConfiguration"] is True
                and c["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
                and "BytesScannedCutoffPerQuery" in c)

    verify("Athena workgroup enforces encrypted results and a scan limit", "AWS::Athena::WorkGroup",
           lambda: client("athena").get_work_group(WorkGroup=f"b3lake-{ENVIRONMENT}")["WorkGroup"]["Configuration"],
           lambda c: c["EnforceWorkGroupConfiguration"] and c["BytesScannedCutoffPerQuery"] > 0, workgroup_static)

    def budgets():
        found = client("budgets").describe_budgets(AccountId=ACCOUNT).get("Budgets", [])
        if not found:
            raise LookupError("budget not found")
        return found

    def budget_static():
        b = props("MonthlyBudget")
        return b["Budget"]["BudgetLimit"]["Amount"] == {"Ref": "MonthlyBudgetUsd"} and all(
            n["Subscribers"][0]["Address"] == {"Ref": "AlertEmail"} for n in b["NotificationsWithSubscribers"])

    verify("monthly budget", "AWS::Budgets::Budget", budgets,
           lambda found: any(x["BudgetName"] == f"b3lake-{ENVIRONMENT}-{REGION}-monthly" for x in found), budget_static)
    # The backfill: a distributed map over the function's batches, as many at once as the
    # function says, each retried when Lambda throttles.
    def backfill_ok(definition):
        listing, fan_out = definition["States"]["ListDays"], definition["States"]["TransformDays"]
        batch = fan_out["ItemProcessor"]["States"]["TransformBatch"]
        return (listing["Parameters"]["Payload"]["b3lake"] == "days" and fan_out["ItemsPath"] == "$.batches"
                and fan_out["MaxConcurrencyPath"] == "$.concurrency"
                and fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
                and batch["Parameters"]["Payload"] == {"b3lake": "transform", "days.$": "$"}
                and any("Lambda.TooManyRequestsException" in r["ErrorEquals"] for r in batch["Retry"]))

    def backfill_definition():
        machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:b3lake-{ENVIRONMENT}-backfill"
        text = client("stepfunctions").describe_state_machine(stateMachineArn=machine)["definition"]
        if not text:  # moto makes the machine but keeps only a DefinitionString
            raise LookupError("definition not found")
        return json.loads(text)

    verify("backfill state machine fans the days out", "AWS::StepFunctions::StateMachine Definition",
           backfill_definition, backfill_ok, lambda: backfill_ok(props("BackfillStateMachine")["Definition"]))
    env = lam.get_function(FunctionName=f"b3lake-{ENVIRONMENT}-transform")["Configuration"]["Environment"]["Variables"]
    check("the transform tells the backfill its fan-out", str(env.get("B3LAKE_BACKFILL_CONCURRENCY")) == "40"
          and str(env.get("B3LAKE_BACKFILL_DAYS_PER_INVOCATION")) == "4", str(env))
    analyst = iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/b3lake-{ENVIRONMENT}-{REGION}-analyst")["Policy"]
    check("analyst policy", analyst["PolicyName"] == f"b3lake-{ENVIRONMENT}-{REGION}-analyst", str(analyst))

    # A new package under its own name deploys: the functions' code changes.
    before = client("lambda").get_function(FunctionName=f"b3lake-{ENVIRONMENT}-ingest")["Configuration"]["CodeSha256"]
    second, second_key = package("#!/bin/sh\necho two\n")
    s3.put_object(Bucket=f"b3lake-code-{REGION}", Key=second_key, Body=second)
    status = deploy(ENVIRONMENT, REGION, second_key, update=True)
    check("stack updated with the new package", status == "UPDATE_COMPLETE", status)
    for name in ["ingest", "transform"]:
        after = client("lambda").get_function(FunctionName=f"b3lake-{ENVIRONMENT}-{name}")["Configuration"]["CodeSha256"]
        check(f"{name} function runs the new package", after == base64.b64encode(hashlib.sha256(second).digest()).decode()
              and after != before, f"{before} -> {after}")

    # The other environments beside it, and the same environment in another region: no name
    # that IAM, Budgets or CloudWatch keep once per account collides.
    # (dev and prod in the other region: tests/it/iam.rs has the lake of dev in us-east-1.)
    for environment, region in [(ENVIRONMENT, OTHER_REGION), ("dev", OTHER_REGION), ("prod", OTHER_REGION)]:
        status = deploy(environment, region, first_key)
        check(f"{environment} stack created in {region} beside the others", status == "CREATE_COMPLETE", status)
        role = client("iam", region).get_role(RoleName=f"b3lake-{environment}-{region}-transform")["Role"]["RoleName"]
        check(f"{environment} in {region} has its own roles", role == f"b3lake-{environment}-{region}-transform", role)
    print("not deployed by moto, checked in the template instead: " + (", ".join(sorted(set(skipped))) or "none"))


if __name__ == "__main__":
    main(sys.argv[1])
