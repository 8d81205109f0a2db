"""Athena's real clients, unchanged, against `b3lake serve`.

Run by tests/it/serve.rs with the clients the test command installs (tests/run.sh):
    python athena_clients.py MODE ENDPOINT
MODE is boto3, history, cli, pyathena, wrangler, signed or read-only. The script asserts what Athena's
API Reference and Trino's rules say (states, errors, paging, how values are spelled) and prints
one JSON object of the rows it read, which the Rust test compares with `b3lake sql`'s.

The lake holds B3's real session of 2022-02-04 in its raw table.
"""

import json
import os
import subprocess
import sys
import time

MODE, ENDPOINT = sys.argv[1], sys.argv[2]
REGION = "us-east-1"
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
PRICES = (
    "SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado, data_pregao "
    "FROM cotacoes_b3_raw WHERE year = 2022 AND codigo_negociacao IN ('PETR4', 'VALE3', 'ITUB4') "
    "ORDER BY codigo_negociacao"
)
# Slow on purpose (a cube of the day's 12,000 rows), to be stopped.
SLOW = "SELECT count(*) FROM cotacoes_b3_raw a CROSS JOIN cotacoes_b3_raw b CROSS JOIN cotacoes_b3_raw c"


def athena(**kw):
    import boto3

    return boto3.client("athena", endpoint_url=ENDPOINT, region_name=REGION, **kw)


def wait(client, qid, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        time.sleep(0.02)
    raise AssertionError(f"query {qid} did not end in {timeout} s")


def rows_of(client, qid, page=1000):
    """Every row of a result, with the header row Athena puts first for a SELECT."""
    rows, token, pages = [], None, 0
    while True:
        kw = {"QueryExecutionId": qid, "MaxResults": page}
        if token:
            kw["NextToken"] = token
        answer = client.get_query_results(**kw)
        pages += 1
        for row in answer["ResultSet"]["Rows"]:
            rows.append([cell.get("VarCharValue") for cell in row["Data"]])
        token = answer.get("NextToken")
        if not token:
            return rows, answer, pages


def run(client, sql, **kw):
    qid = client.start_query_execution(QueryString=sql, **kw)["QueryExecutionId"]
    return qid, wait(client, qid)


def error_code(call):
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    raise AssertionError("the call did not fail")


def boto3_mode():
    c = athena()
    out = {}
    qid, e = run(c, PRICES, QueryExecutionContext={"Database": "default", "Catalog": "AwsDataCatalog"})
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert (e["StatementType"], e["SubstatementType"]) == ("DML", "SELECT"), e
    assert e["Statistics"]["DataScannedInBytes"] > 0, e["Statistics"]
    assert e["ResultConfiguration"]["OutputLocation"].endswith(f"/{qid}.csv"), e["ResultConfiguration"]
    rows, answer, _ = rows_of(c, qid)
    info = answer["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert rows[0] == [i["Name"] for i in info], "a SELECT's first row repeats the column names"
    assert [(i["Type"], i["Precision"], i["Scale"]) for i in info] == [
        ("varchar", 2147483647, 0),
        ("decimal", 13, 2),
        ("decimal", 18, 2),
        ("date", 0, 0),
    ], info
    out["prices"] = rows[1:]
    stats = c.get_query_runtime_statistics(QueryExecutionId=qid)["QueryRuntimeStatistics"]
    assert stats["Rows"]["OutputRows"] == 3, stats

    # Values as Athena spells them: NULL has no VarCharValue, '' has an empty one.
    types_sql = (
        "SELECT CAST(NULL AS varchar) AS n, '' AS e, 'a\"b,c' AS q, DECIMAL '32.63' AS d, "
        "DATE '2022-02-04' AS dt, TIMESTAMP '2022-02-04 10:15:30.123' AS ts, ARRAY[1, 2] AS a, "
        "MAP(ARRAY['a'], ARRAY[1]) AS m, true AS b, 1.5e0 AS dbl, CAST(7 AS integer) AS i"
    )
    qid, e = run(c, types_sql)
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    answer = c.get_query_results(QueryExecutionId=qid)
    data = answer["ResultSet"]["Rows"][1]["Data"]
    assert data[0] == {}, data[0]
    assert [d.get("VarCharValue") for d in data[1:]] == [
        "",
        'a"b,c',
        "32.63",
        "2022-02-04",
        "2022-02-04 10:15:30.123",
        "[1, 2]",
        "{a=1}",
        "true",
        "1.5",
        "7",
    ], data
    types = [(i["Name"], i["Type"]) for i in answer["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert types == [
        ("n", "varchar"),
        ("e", "varchar"),
        ("q", "varchar"),
        ("d", "decimal"),
        ("dt", "date"),
        ("ts", "timestamp"),
        ("a", "array"),
        ("m", "map"),
        ("b", "boolean"),
        ("dbl", "double"),
        ("i", "integer"),
    ], types

    # Paging: the header once, every row once, pages of at most MaxResults.
    qid, e = run(c, "SELECT codigo_negociacao FROM cotacoes_b3_raw WHERE year = 2022 ORDER BY 1")
    rows, _, pages = rows_of(c, qid, page=1000)
    assert rows[0] == ["codigo_negociacao"] and "codigo_negociacao" not in [r[0] for r in rows[1:]]
    out["paged"] = {"rows": len(rows) - 1, "pages": pages}
    code, _ = error_code(lambda: c.get_query_results(QueryExecutionId=qid, MaxResults=1001))
    assert code == "InvalidRequestException", code

    # Failures: as states with Athena's reasons, and as errors of the calls.
    qid, e = run(c, "SELECT * FROM no_such_table")
    assert e["Status"]["State"] == "FAILED", e["Status"]
    assert e["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND"), e["Status"]
    assert e["Status"]["AthenaError"]["ErrorCategory"] == 2, e["Status"]
    code, message = error_code(lambda: c.get_query_results(QueryExecutionId=qid))
    assert code == "InvalidRequestException", (code, message)
    code, _ = error_code(lambda: c.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000"))
    assert code == "InvalidRequestException", code
    code, _ = error_code(lambda: c.start_query_execution(QueryString="SELECT 1", WorkGroup="nope"))
    assert code == "InvalidRequestException", code
    code, _ = error_code(lambda: c.start_query_execution(QueryString="SELECT '" + "x" * 262_144 + "'"))
    assert code == "InvalidRequestException", code

    # Idempotency and parameters.
    token = "b3lake-test-token-0123456789-0123456789"
    a = c.start_query_execution(QueryString="SELECT 1", ClientRequestToken=token)["QueryExecutionId"]
    b = c.start_query_execution(QueryString="SELECT 1", ClientRequestToken=token)["QueryExecutionId"]
    assert a == b, (a, b)
    sql = "SELECT preco_ultimo_negocio FROM cotacoes_b3_raw WHERE codigo_negociacao = ? AND year = ?"
    qid, e = run(c, sql, ExecutionParameters=["'PETR4'", "2022"])
    assert e["ExecutionParameters"] == ["'PETR4'", "2022"], e
    out["parameter"] = rows_of(c, qid)[0][1:]
    qid, e = run(c, sql, ExecutionParameters=["'PETR4'"])
    assert e["Status"]["State"] == "FAILED" and "parameters" in e["Status"]["StateChangeReason"], e["Status"]

    # Prepared statements, by the API and in SQL.
    c.create_prepared_statement(StatementName="price", WorkGroup="primary", QueryStatement=sql, Description="a close")
    got = c.get_prepared_statement(StatementName="price", WorkGroup="primary")["PreparedStatement"]
    assert got["QueryStatement"] == sql and got["Description"] == "a close", got
    names = [p["StatementName"] for p in c.list_prepared_statements(WorkGroup="primary")["PreparedStatements"]]
    assert names == ["price"], names
    qid, e = run(c, "EXECUTE price USING 'VALE3', 2022")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    out["prepared"] = rows_of(c, qid)[0][1:]
    c.update_prepared_statement(
        StatementName="price", WorkGroup="primary", QueryStatement=sql.replace("preco_ultimo_negocio", "preco_abertura")
    )
    qid, e = run(c, "EXECUTE price USING 'VALE3', 2022")
    out["prepared_updated"] = rows_of(c, qid)[0][1:]
    c.delete_prepared_statement(StatementName="price", WorkGroup="primary")
    code, _ = error_code(lambda: c.get_prepared_statement(StatementName="price", WorkGroup="primary"))
    assert code == "ResourceNotFoundException", code
    qid, e = run(c, "PREPARE again FROM SELECT ? + 1")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    qid, e = run(c, "EXECUTE again USING 41")
    assert rows_of(c, qid)[0][1:] == [["42"]]
    run(c, "DEALLOCATE PREPARE again")
    assert c.list_prepared_statements(WorkGroup="primary")["PreparedStatements"] == []

    # Catalog calls.
    assert [w["Name"] for w in c.list_work_groups()["WorkGroups"]] == ["primary"]
    output = c.get_work_group(WorkGroup="primary")["WorkGroup"]["Configuration"]["ResultConfiguration"]
    assert output["OutputLocation"], output
    assert [d["CatalogName"] for d in c.list_data_catalogs()["DataCatalogsSummary"]] == ["AwsDataCatalog"]
    assert c.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
    assert [d["Name"] for d in c.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]] == ["default"]
    assert c.get_database(CatalogName="AwsDataCatalog", DatabaseName="default")["Database"]["Name"] == "default"
    raw = c.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default", TableName="cotacoes_b3_raw")
    raw = raw["TableMetadata"]
    columns = {col["Name"]: col["Type"] for col in raw["Columns"]}
    assert columns["preco_ultimo_negocio"] == "decimal(13,2)" and columns["codigo_negociacao"] == "string", columns
    assert [(k["Name"], k["Type"]) for k in raw["PartitionKeys"]] == [("year", "int"), ("month", "int"), ("day", "int")]
    tables = c.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default", Expression="cotacoes*raw")
    assert [t["Name"] for t in tables["TableMetadataList"]] == ["cotacoes_b3_raw"], tables
    paginator = c.get_paginator("list_table_metadata")
    pages = list(paginator.paginate(CatalogName="AwsDataCatalog", DatabaseName="default", PaginationConfig={"PageSize": 2}))
    out["tables"] = sorted(t["Name"] for p in pages for t in p["TableMetadataList"])
    code, _ = error_code(lambda: c.get_database(CatalogName="AwsDataCatalog", DatabaseName="nope"))
    assert code in ("MetadataException", "ResourceNotFoundException"), code

    # DDL and CTAS: a table made, read, and dropped.
    qid, e = run(c, "CREATE TABLE petr AS SELECT codigo_negociacao, preco_ultimo_negocio FROM cotacoes_b3_raw "
                    "WHERE codigo_negociacao LIKE 'PETR%' AND year = 2022")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    assert (e["StatementType"], e["SubstatementType"]) == ("DDL", "CREATE_TABLE_AS_SELECT"), e
    ctas = c.get_query_results(QueryExecutionId=qid)
    out["ctas_rows"] = ctas["UpdateCount"]
    qid, e = run(c, "SELECT count(*) FROM petr")
    out["ctas_count"] = rows_of(c, qid)[0][1][0]
    qid, e = run(c, "SHOW TABLES")
    assert e["StatementType"] == "UTILITY" and e["ResultConfiguration"]["OutputLocation"].endswith(".txt"), e
    shown = [r[0] for r in rows_of(c, qid)[0]]
    assert "petr" in shown and "tab_name" not in shown, shown
    qid, e = run(c, "DROP TABLE petr")
    assert e["Status"]["State"] == "SUCCEEDED" and e["StatementType"] == "DDL", e

    # Queued beyond the server's --max-concurrent (2 in the test), and stopped.
    slow = [c.start_query_execution(QueryString=SLOW)["QueryExecutionId"] for _ in range(3)]
    deadline = time.time() + 30
    while time.time() < deadline:
        states = [c.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Status"]["State"] for q in slow]
        if states == ["RUNNING", "RUNNING", "QUEUED"]:
            break
        time.sleep(0.05)
    assert states == ["RUNNING", "RUNNING", "QUEUED"], states
    for q in slow:
        c.stop_query_execution(QueryExecutionId=q)
    for q in slow:
        assert wait(c, q)["Status"]["State"] == "CANCELLED"
    # The slots are free again: a query runs at once.
    qid, e = run(c, "SELECT 1")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]

    # Listing and batches.
    ids = []
    for page in c.get_paginator("list_query_executions").paginate(WorkGroup="primary"):
        ids += page["QueryExecutionIds"]
    assert ids[0] == qid and set(slow) <= set(ids), "newest first"
    batch = c.batch_get_query_execution(QueryExecutionIds=[qid, "00000000-0000-0000-0000-000000000001"])
    assert [x["QueryExecutionId"] for x in batch["QueryExecutions"]] == [qid]
    assert len(batch["UnprocessedQueryExecutionIds"]) == 1, batch
    out["history_id"] = out_id = run(c, PRICES)[0]
    out["history_rows"] = rows_of(c, out_id)[0][1:]
    print(json.dumps(out))


def history_mode():
    """After a restart: the earlier query is still there, with its results."""
    c = athena()
    qid = sys.argv[3]
    e = c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert e["Status"]["State"] == "SUCCEEDED" and e["Query"] == PRICES, e
    assert qid in c.list_query_executions()["QueryExecutionIds"]
    print(json.dumps({"rows": rows_of(c, qid)[0][1:]}))


def cli_mode():
    env = dict(os.environ, AWS_ENDPOINT_URL_ATHENA=ENDPOINT, AWS_DEFAULT_REGION=REGION)
    aws = [os.path.join(os.path.dirname(sys.executable), "aws"), "athena", "--output", "json"]

    def call(*args):
        done = subprocess.run(aws + list(args), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    qid = call("start-query-execution", "--query-string", PRICES)["QueryExecutionId"]
    for _ in range(600):
        state = call("get-query-execution", "--query-execution-id", qid)["QueryExecution"]["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    assert state == "SUCCEEDED", state
    # The CLI pages by itself (its --max-items and --page-size).
    answer = call("get-query-results", "--query-execution-id", qid, "--page-size", "2")
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in answer["ResultSet"]["Rows"]]
    print(json.dumps({"prices": rows[1:]}))


def pyathena_mode():
    from pyathena import connect
    from pyathena.pandas.cursor import PandasCursor

    staging = sys.argv[3] if len(sys.argv) > 3 else None
    kw = dict(region_name=REGION, endpoint_url=ENDPOINT, work_group="primary", schema_name="default")
    if staging:
        kw["s3_staging_dir"] = staging
    out = {}
    cursor = connect(**kw).cursor()
    cursor.execute(PRICES)
    assert [d[0] for d in cursor.description] == [
        "codigo_negociacao", "preco_ultimo_negocio", "volume_total_negociado", "data_pregao"
    ], cursor.description
    assert [d[1] for d in cursor.description] == ["varchar", "decimal", "decimal", "date"], cursor.description
    first = cursor.fetchone()
    rest = cursor.fetchmany(1) + cursor.fetchall()
    # PyAthena types the strings: Decimal for decimal, date for date.
    out["cursor"] = [[str(v) for v in row] for row in [first] + rest]
    cursor.execute(
        "SELECT preco_ultimo_negocio FROM cotacoes_b3_raw WHERE codigo_negociacao = %(ticker)s AND year = 2022",
        {"ticker": "PETR4"},
    )
    out["cursor_parameter"] = [str(v) for v in cursor.fetchone()]
    cursor.execute("SELECT codigo_negociacao FROM cotacoes_b3_raw WHERE year = 2022")
    out["cursor_count"] = len(cursor.fetchall())
    # A JSON column is typed `json`, which PyAthena's converter parses.
    cursor.execute("""SELECT json_parse('{"a": [1, 2]}') AS j, CAST(ARRAY[1] AS JSON) AS k""")
    out["cursor_json"] = list(cursor.fetchone())

    import pandas as pd
    import sqlalchemy

    url = f"awsathena+rest://:@athena.{REGION}.amazonaws.com:443/default?work_group=primary&endpoint_url={ENDPOINT}"
    if staging:
        url += f"&s3_staging_dir={staging}"
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        frame = pd.read_sql(sqlalchemy.text(PRICES), connection, coerce_float=False)
    out["sqlalchemy"] = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    if staging:
        # It reads the CSV Athena wrote from S3 itself. (ArrowCursor reads it through pyarrow's
        # S3 client, which takes no endpoint from the environment: it reaches AWS's S3 only.)
        frame = connect(cursor_class=PandasCursor, **kw).cursor().execute(PRICES).as_pandas()
        # PyAthena reads a date column as pandas' datetime64.
        frame["data_pregao"] = frame["data_pregao"].dt.date
        out["pandas"] = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    print(json.dumps(out))


def wrangler_mode():
    """awswrangler, with Athena and Glue at the server and S3 where the lake is."""
    os.environ["AWS_ENDPOINT_URL_ATHENA"] = ENDPOINT
    os.environ["AWS_ENDPOINT_URL_GLUE"] = ENDPOINT
    import awswrangler as wr

    unload_to = sys.argv[3]
    out = {}

    def cells(frame):
        return [[str(v) for v in row] for row in frame.itertuples(index=False)]

    out["csv"] = cells(wr.athena.read_sql_query(PRICES, database="default", ctas_approach=False))
    out["ctas"] = cells(wr.athena.read_sql_query(PRICES, database="default", ctas_approach=True))
    out["unload"] = cells(
        wr.athena.read_sql_query(PRICES, database="default", ctas_approach=False, unload_approach=True, s3_output=unload_to)
    )
    qid = wr.athena.start_query_execution(PRICES, database="default", wait=True)["QueryExecutionId"]
    out["results"] = cells(wr.athena.get_query_results(query_execution_id=qid))
    # The CTAS's temporary table, deleted through Glue, is gone from the lake's catalog too.
    out["tables"] = [[t["Name"]] for t in wr.catalog.get_tables(database="default")]
    # Glue's answer for a table that is not there, which awswrangler takes as "nothing to delete".
    assert wr.catalog.delete_table_if_exists(database="default", table="no_such_table") is False
    print(json.dumps(out))


def signed_mode():
    """A server with a key: the right key passes, another key or secret does not."""
    key, secret = sys.argv[3], sys.argv[4]
    ok = athena(aws_access_key_id=key, aws_secret_access_key=secret)
    qid, e = run(ok, "SELECT 1")
    assert e["Status"]["State"] == "SUCCEEDED", e["Status"]
    wrong_key = athena(aws_access_key_id="AKIAOTHER", aws_secret_access_key=secret)
    assert error_code(lambda: wrong_key.list_work_groups())[0] == "UnrecognizedClientException"
    wrong_secret = athena(aws_access_key_id=key, aws_secret_access_key="not-the-secret")
    assert error_code(lambda: wrong_secret.list_work_groups())[0] == "InvalidSignatureException"
    print(json.dumps({"ok": True}))


def read_only_mode():
    c = athena()
    for sql in ("CREATE TABLE t AS SELECT 1 AS x", "INSERT INTO cotacoes_b3_raw SELECT * FROM cotacoes_b3_raw",
                "DROP TABLE cotacoes_b3_raw", "MSCK REPAIR TABLE cotacoes_b3_raw"):
        code, _ = error_code(lambda: c.start_query_execution(QueryString=sql))
        assert code == "AccessDeniedException", (sql, code)
    qid, e = run(c, PRICES)
    print(json.dumps({"prices": rows_of(c, qid)[0][1:]}))


{
    "boto3": boto3_mode,
    "history": history_mode,
    "cli": cli_mode,
    "pyathena": pyathena_mode,
    "signed": signed_mode,
    "wrangler": wrangler_mode,
    "read-only": read_only_mode,
}[MODE]()
