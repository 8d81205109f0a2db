#!/usr/bin/env python3
"""`b3lake serve` benchmark: Athena's API on loopback, through the clients people use.

1. Builds a lake of one synthetic month (`b3lake synth`, `ingest`), unless --lake names one.
2. Starts `b3lake serve` on it, and moto's server (whose Athena accepts the same calls but runs
   no SQL: the floor of a Python emulator), both on 127.0.0.1.
3. Round trip of a point query through boto3 (StartQueryExecution, GetQueryExecution until it
   ends, polled without pause, GetQueryResults): median and p90 over --runs, against each.
   moto's server answers only AWS JSON 1.1, which botocore spoke for Athena until its model
   moved to REST-JSON: that comparison runs with moto's own Python (an older botocore, JSON
   1.1) against both servers; the clients' botocore (REST-JSON) runs against b3lake alone.
4. Paging: every row of a large result into PyAthena's Cursor (GetQueryResults, 1,000 rows a
   page): rows per second.
5. Load: --clients threads, each with its own boto3 client, run --queries mixed queries each
   (a point query, an aggregate, a failing query, a query stopped while it runs, a CTAS and
   its DROP); every answer must equal the same query's serial answer; p50/p99 latency and the
   server's peak RSS (VmHWM).

Usage (from the project root, after `cargo build --release`; the clients from tests/run.sh):
    target/clients/bin/python examples/bench/serve.py [--runs 200] [--clients 20] [--queries 50]
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
# A spot ticker of the lake, found when the lake is (--ticker); a point query reads its day.
TICKER = os.environ.get("B3LAKE_BENCH_TICKER", "PETR4")
POINT_SQL = (
    "SELECT preco_ultimo_negocio FROM cotacoes_b3_raw "
    "WHERE year = 2024 AND month = 1 AND day = 15 AND codigo_negociacao = '{ticker}'"
)
POINT = POINT_SQL.format(ticker=TICKER)
AGGREGATE = (
    "SELECT codigo_negociacao, sum(volume_total_negociado) AS v FROM cotacoes_b3_raw "
    "WHERE tipo_mercado = 10 GROUP BY codigo_negociacao ORDER BY v DESC LIMIT 5"
)
FAILING = "SELECT * FROM no_such_table"
SLOW = "SELECT count(*) FROM cotacoes_b3_raw a CROSS JOIN cotacoes_b3_raw b"
LARGE = "SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado, data_pregao FROM cotacoes_b3_raw"


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def build_lake(work):
    lake = os.path.join(work, "lake")
    cotahist = os.path.join(work, "COTAHIST_M012024.TXT")
    run([B3LAKE, "synth", "--out", cotahist, "--from", "2024-01-01", "--to", "2024-01-31"])
    run([B3LAKE, "ingest", "--lake", lake, cotahist])
    return lake


def client(endpoint):
    return boto3.client(
        "athena", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )


def round_trip(c, sql):
    """Start, poll without pause until it ends, first page of results; (seconds, state, rows)."""
    started = time.perf_counter()
    qid = c.start_query_execution(QueryString=sql, WorkGroup="primary")["QueryExecutionId"]
    while True:
        state = c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
    rows = None
    if state == "SUCCEEDED":
        rows = [[d.get("VarCharValue") for d in r["Data"]] for r in c.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]]
    return time.perf_counter() - started, state, rows


def timed_round_trips(endpoint, runs):
    c = client(endpoint)
    for _ in range(10):
        round_trip(c, POINT)
    times = [round_trip(c, POINT)[0] * 1000 for _ in range(runs)]
    return statistics.median(times), quantile(times, 0.9)


def round_trips_with(python, endpoint, runs):
    """Round trips measured by another Python (another botocore) running this script."""
    out = run([python, os.path.abspath(__file__), "--round-trip", endpoint, "--runs", str(runs)])
    median, p90 = map(float, out.split())
    return median, p90


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    global POINT, TICKER
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--kinds", default="point,point,aggregate,failing,cancelled,ctas", help="the mix of the load")
    ap.add_argument("--round-trip", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.round_trip:
        print(*timed_round_trips(args.round_trip, args.runs))
        return
    work = tempfile.mkdtemp(prefix="b3lake-serve-bench-")
    lake = args.lake or build_lake(work)

    serve_port, moto_port = port(), port()
    server = subprocess.Popen(
        [B3LAKE, "serve", "--lake", lake, "--listen", f"127.0.0.1:{serve_port}", "--output", os.path.join(work, "results")],
        stderr=subprocess.PIPE,
    )
    server.stderr.readline()
    moto = subprocess.Popen(
        # moto as tests/run.sh installs it, beside the clients' packages.
        [os.environ.get("B3LAKE_MOTO_PYTHON", "python3"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{moto_port}/moto-api/", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    else:
        sys.exit("moto did not start: pip install 'moto[server]' (or set B3LAKE_MOTO_PYTHON)")
    try:
        b3 = client(f"http://127.0.0.1:{serve_port}")
        floor = client(f"http://127.0.0.1:{moto_port}")
        first = "SELECT min(codigo_negociacao) FROM cotacoes_b3_raw WHERE tipo_mercado = 10 AND year = 2024 AND day = 15"
        TICKER = round_trip(b3, first)[2][1][0]
        POINT = POINT_SQL.format(ticker=TICKER)
        os.environ["B3LAKE_BENCH_TICKER"] = TICKER
        print(f"lake: {lake}\n")

        import botocore

        moto_python = os.environ.get("B3LAKE_MOTO_PYTHON", "python3")
        old = run([moto_python, "-c", "import botocore; print(botocore.__version__)"]).strip()
        print(f"## Round trip of a point query (boto3: start, poll, results), {args.runs} runs")
        rows = [
            (f"b3lake serve, botocore {old} (JSON 1.1)", round_trips_with(moto_python, b3._endpoint.host, args.runs)),
            (f"moto (no SQL), botocore {old} (JSON 1.1)", round_trips_with(moto_python, floor._endpoint.host, args.runs)),
            (f"b3lake serve, botocore {botocore.__version__} (REST-JSON)", timed_round_trips(b3._endpoint.host, args.runs)),
        ]
        for name, (median, p90) in rows:
            print(f"{name:48} median {median:6.2f} ms   p90 {p90:6.2f} ms")
        _, state, rows = round_trip(b3, POINT)
        print(f"(b3lake's answer: {state} {rows})\n")

        print("## Paging a large result into PyAthena's Cursor")
        from pyathena import connect

        cursor = connect(
            region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{serve_port}", work_group="primary",
            aws_access_key_id="bench", aws_secret_access_key="bench", poll_interval=0.01,
        ).cursor()
        cursor.execute(LARGE)
        started = time.perf_counter()
        fetched = cursor.fetchall()
        elapsed = time.perf_counter() - started
        print(f"{len(fetched):,} rows in {elapsed:.2f} s: {len(fetched) / elapsed:,.0f} rows/s\n")

        print(f"## Load: {args.clients} clients x {args.queries} mixed queries")
        serial = {sql: round_trip(b3, sql)[1:] for sql in (POINT, AGGREGATE, FAILING)}
        latencies, errors, lock = [], [], threading.Lock()

        def worker(n):
            c = client(f"http://127.0.0.1:{serve_port}")
            rng = random.Random(n)
            for i in range(args.queries):
                kind = rng.choice(args.kinds.split(","))
                started = time.perf_counter()
                try:
                    if kind in ("point", "aggregate", "failing"):
                        sql = {"point": POINT, "aggregate": AGGREGATE, "failing": FAILING}[kind]
                        _, state, rows = round_trip(c, sql)
                        if (state, rows) != serial[sql]:
                            raise AssertionError(f"{kind}: {state} {rows} != {serial[sql]}")
                    elif kind == "cancelled":
                        qid = c.start_query_execution(QueryString=SLOW)["QueryExecutionId"]
                        c.stop_query_execution(QueryExecutionId=qid)
                        while True:
                            state = c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
                            if state not in ("QUEUED", "RUNNING"):
                                break
                        if state != "CANCELLED":
                            raise AssertionError(f"stopped query ended {state}")
                    else:
                        table = f"load_{n}_{i}"
                        _, state, _ = round_trip(c, f"CREATE TABLE {table} AS SELECT * FROM cotacoes_b3_raw WHERE codigo_negociacao = '{TICKER}'")
                        _, count_state, rows = round_trip(c, f"SELECT count(*) FROM {table}")
                        _, drop_state, _ = round_trip(c, f"DROP TABLE {table}")
                        days = serial.setdefault("days", round_trip(b3, f"SELECT count(*) FROM cotacoes_b3_raw WHERE codigo_negociacao = '{TICKER}'")[2])
                        if (state, count_state, drop_state, rows) != ("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", days):
                            raise AssertionError(f"ctas: {state} {count_state} {drop_state} {rows} != {days}")
                except Exception as e:
                    with lock:
                        errors.append(f"client {n} query {i} ({kind}): {e}")
                with lock:
                    latencies.append((kind, (time.perf_counter() - started) * 1000))

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        all_ms = [ms for _, ms in latencies]
        print(f"{len(latencies)} queries in {wall:.1f} s, {len(errors)} unexpected errors")
        print(f"latency: p50 {quantile(all_ms, 0.5):.1f} ms, p99 {quantile(all_ms, 0.99):.1f} ms")
        for kind in ("point", "aggregate", "failing", "cancelled", "ctas"):
            ms = [m for k, m in latencies if k == kind]
            if ms:
                print(f"  {kind:10} {len(ms):4} queries, p50 {quantile(ms, 0.5):7.1f} ms, p99 {quantile(ms, 0.99):7.1f} ms")
        print(f"server's peak RSS: {peak_rss_mb(server.pid):.0f} MB")
        for e in errors[:10]:
            print(e)
        if errors:
            sys.exit(1)
    finally:
        server.terminate()
        moto.terminate()


if __name__ == "__main__":
    main()
