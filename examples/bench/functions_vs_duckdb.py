#!/usr/bin/env python3
"""Dialect functions benchmark: a dozen of Athena's functions over a year's raw table, beside
DuckDB's equivalents in the same run.

1. Builds (or reuses) a synthetic year's raw lake: `b3lake synth` the year, `ingest` (about
   1.8 million records in 248 daily Parquet files).
2. For each function, one query that runs it on every row and folds the result into one value
   (so that printing costs nothing): b3lake runs them all in one process (`b3lake sql -c ...`,
   each statement's own time as it reports it, after a warm-up statement), DuckDB in one
   process too, on a view over the same Parquet files, timed around each query after the same
   warm-up. Both read the files on every run: the function's cost is measured with its scan.
3. A baseline query per engine (the same folds without any function) says what the scan costs.
4. Checks that both engines answer the same, and prints medians and the ratio b3lake / DuckDB
   (below 1.5 is the goal; below 1, b3lake is faster). With --base OLD, the same queries on
   another b3lake build, interleaved, and the ratio new / old.

Usage (from the project root, after `cargo build --release`; needs `pip install duckdb`):
    python3 examples/bench/functions_vs_duckdb.py [--runs 5] [--base /path/to/old/b3lake]
        [--work /tmp/b3lake-fn-bench]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
YEAR = 2023
TABLE = "cotacoes_b3_raw"

# (name, the Athena query, DuckDB's spelling of it). Every query reads the whole table.
QUERIES = [
    ("scan only (baseline)",
     "SELECT max(nome_empresa), max(codigo_negociacao), max(data_pregao) FROM {t}",
     "SELECT max(nome_empresa), max(codigo_negociacao), max(data_pregao) FROM {t}"),
    ("substr",
     "SELECT max(substr(nome_empresa, 2, 5)) FROM {t}",
     "SELECT max(substr(nome_empresa, 2, 5)) FROM {t}"),
    ("strpos",
     "SELECT sum(strpos(nome_empresa, 'A')) FROM {t}",
     "SELECT sum(strpos(nome_empresa, 'A')) FROM {t}"),
    ("concat",
     "SELECT max(concat(codigo_negociacao, '-', nome_empresa)) FROM {t}",
     "SELECT max(concat(codigo_negociacao, '-', nome_empresa)) FROM {t}"),
    ("levenshtein_distance",
     "SELECT sum(levenshtein_distance(codigo_negociacao, 'PETR4')) FROM {t}",
     "SELECT sum(levenshtein(codigo_negociacao, 'PETR4')) FROM {t}"),
    ("regexp_like",
     "SELECT count_if(regexp_like(codigo_negociacao, '^[A-Z]{{4}}11$')) FROM {t}",
     "SELECT count_if(regexp_matches(codigo_negociacao, '^[A-Z]{{4}}11$')) FROM {t}"),
    ("regexp_extract",
     "SELECT max(regexp_extract(codigo_negociacao, '[0-9]+')) FROM {t}",
     "SELECT max(CASE WHEN regexp_matches(codigo_negociacao, '[0-9]+') "
     "THEN regexp_extract(codigo_negociacao, '[0-9]+') END) FROM {t}"),
    ("regexp_replace",
     "SELECT max(regexp_replace(nome_empresa, '[AEIOU]', '*')) FROM {t}",
     "SELECT max(regexp_replace(nome_empresa, '[AEIOU]', '*', 'g')) FROM {t}"),
    ("split + cardinality",
     "SELECT sum(cardinality(split(nome_empresa, ' '))) FROM {t}",
     "SELECT sum(len(string_split(nome_empresa, ' '))) FROM {t}"),
    ("contains",
     "SELECT count_if(contains(ARRAY['PETR4', 'VALE3', 'ITUB4', 'BBDC4'], codigo_negociacao)) FROM {t}",
     "SELECT count_if(list_contains(['PETR4', 'VALE3', 'ITUB4', 'BBDC4'], codigo_negociacao)) FROM {t}"),
    ("array_max",
     "SELECT sum(array_max(ARRAY[preco_abertura, preco_ultimo_negocio, preco_medio])) FROM {t}",
     "SELECT sum(list_max([preco_abertura, preco_ultimo_negocio, preco_medio])) FROM {t}"),
    ("array_position",
     "SELECT sum(array_position(ARRAY['ON', 'PN', 'UNT', 'CI'], trim(especificacao_papel))) FROM {t}",
     "SELECT sum(coalesce(list_position(['ON', 'PN', 'UNT', 'CI'], trim(especificacao_papel)), 0)) FROM {t}"),
    ("json_extract_scalar",
     "SELECT max(json_extract_scalar('{{\"t\": \"' || codigo_negociacao || '\"}}', '$.t')) FROM {t}",
     "SELECT max(json_extract_string('{{\"t\": \"' || codigo_negociacao || '\"}}', '$.t')) FROM {t}"),
    ("date_trunc",
     "SELECT count(DISTINCT date_trunc('week', data_pregao)) FROM {t}",
     "SELECT count(DISTINCT date_trunc('week', data_pregao)) FROM {t}"),
    ("date_add",
     "SELECT max(date_add('month', 1, data_pregao)) FROM {t}",
     "SELECT max(CAST(data_pregao + INTERVAL 1 MONTH AS DATE)) FROM {t}"),
    ("date_format",
     "SELECT max(date_format(data_pregao, '%Y/%m/%d')) FROM {t}",
     "SELECT max(strftime(data_pregao, '%Y/%m/%d')) FROM {t}"),
]

DUCKDB_RUNNER = r"""
import json, sys, time
import duckdb
lake, runs, queries = sys.argv[1], int(sys.argv[2]), json.loads(sys.stdin.read())
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"CREATE VIEW cotacoes_b3_raw AS SELECT * FROM read_parquet('{lake}/raw/**/*.parquet', "
            "hive_partitioning = true, hive_types = {year: INTEGER, month: INTEGER, day: INTEGER})")
con.execute(queries[0]).fetchall()
out = []
for q in queries:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = con.execute(q).fetchall()
        times.append(time.perf_counter() - started)
    out.append({"times": times, "answer": [str(v) for v in rows[0]]})
print(json.dumps(out))
"""


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return p.stdout, p.stderr


def build(work):
    lake = os.path.join(work, "lake")
    if os.path.exists(os.path.join(lake, "raw")):
        print(f"reusing {lake}")
        return lake
    os.makedirs(work, exist_ok=True)
    txt = os.path.join(work, f"COTAHIST_A{YEAR}.TXT")
    run([B3LAKE, "synth", "--out", txt, "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31", "--seed", str(YEAR)])
    run([B3LAKE, "ingest", txt, "--lake", lake])
    os.remove(txt)
    return lake


def b3lake(binary, lake, sql, runs):
    """Each run's time as `b3lake sql` reports it, and the answer, in one process."""
    statements = [QUERIES[0][1].format(t=TABLE)] + [sql] * runs
    out, err = run([binary, "sql", "--lake", lake, "--format", "csv", *[a for s in statements for a in ("-c", s)]])
    times = [float(t) for t in re.findall(r"in ([0-9.]+) s;", err)][1:]
    answer = out.strip().split("\n")[-1]
    return times, answer


def same(a, b):
    a, b = a.split(","), b
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        x, y = x.strip('"'), y
        if x == y:
            continue
        try:
            if abs(float(x) - float(y)) > 1e-6:
                return False
        except ValueError:
            if x.split(" ")[0] != y.split(" ")[0]:  # a date against DuckDB's timestamp
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--base", help="another b3lake build to compare with")
    ap.add_argument("--work", default="/tmp/b3lake-fn-bench")
    args = ap.parse_args()
    lake = build(args.work)
    import json
    duck_queries = [q[2].format(t=TABLE) for q in QUERIES]
    d_out, _ = run([sys.executable, "-c", DUCKDB_RUNNER, lake, str(args.runs)], stdin=json.dumps(duck_queries))
    duck = json.loads(d_out)
    rows, _ = run([B3LAKE, "sql", "--lake", lake, "--format", "csv", "-c", f"SELECT count(*) FROM {TABLE}"])
    print(f"{rows.split()[-1]} rows of {TABLE} ({YEAR}); medians of {args.runs} runs, ms; ratio b3lake / DuckDB")
    head = f"{'function':22} {'b3lake':>8} {'DuckDB':>8} {'ratio':>6}"
    if args.base:
        head += f" {'base':>8} {'new/base':>8}"
    print(head + "  same answer")
    worst = 0.0
    for (name, sql, _), d in zip(QUERIES, duck):
        sql = sql.format(t=TABLE)
        times, answer = b3lake(B3LAKE, lake, sql, args.runs)
        b, dk = statistics.median(times) * 1000, statistics.median(d["times"]) * 1000
        line = f"{name:22} {b:>8.1f} {dk:>8.1f} {b / dk:>6.2f}"
        if args.base:
            base_times, _ = b3lake(args.base, lake, sql, args.runs)
            old = statistics.median(base_times) * 1000
            line += f" {old:>8.1f} {b / old:>8.2f}"
        ok = same(answer, d["answer"])
        print(f"{line}  {'yes' if ok else 'NO: ' + answer + ' vs ' + ','.join(d['answer'])}", flush=True)
        if name != QUERIES[0][0]:
            worst = max(worst, b / dk)
    print(f"worst ratio b3lake / DuckDB: {worst:.2f}")


if __name__ == "__main__":
    main()
