#!/usr/bin/env python3
"""SQL benchmark: the analyst queries of queries/ on b3lake and on DuckDB, side by side.

1. Builds (or reuses) a synthetic year's lake: `b3lake synth` a year, `ingest`, `transform`
   (the refined table in the default symbol layout, ~290,000 partitions).
2. Runs every file of queries/ with variables that fit that year, each run in a fresh process:
   `b3lake sql -f queries/NAME.sql --var ... --format csv` (wall time of the whole process, a
   cold start), and DuckDB on the same Parquet files through
   `read_parquet('<lake>/refined/**/*.parquet', hive_partitioning = true, hive_types = {...})`
   (and the same for raw; the types make the zero-padded `month=06` an integer), timed inside its process from connect to the last row (Python's start-up and the
   import are not counted: DuckDB's side is the favourable one). The SQL is the same text; the
   few Athena functions DuckDB spells differently are rewritten for it (date_format with %Y%m%d
   is strftime; date_add('day', n, d) is d + INTERVAL n DAY).
3. Checks that both answers have the same rows (numbers compared to 4 decimals), and prints
   the medians and the ratio (DuckDB time over b3lake time: above 1, b3lake is faster).
4. With --five-years LAKE (the catalog benchmark's lake), times the one-day, three-ticker query
   there: `b3lake sql -c`, a cold process.

DuckDB lists all ~290,000 files for every query (two minutes and more here), so it runs once
per query by default (--duckdb-runs).

Usage (from the project root, after `cargo build --release`; needs `pip install duckdb`):
    python3 examples/bench/queries_vs_duckdb.py [--runs 3] [--duckdb-runs 1] [--work /tmp/b3lake-sql-bench]
        [--five-years /tmp/b3lake-catalog-bench/lake]
"""

import argparse
import csv
import io
import os
import re
import statistics
import subprocess
import sys
import time

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
YEAR = 2023

DUCKDB_RUNNER = r"""
import sys, time, csv, io
import duckdb
lake, sql = sys.argv[1], sys.stdin.read()
started = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
keys = "year: INTEGER, month: INTEGER, day: INTEGER"
for table, folder, types in [("cotacoes_b3_refined", "refined", keys + ", symbol: VARCHAR"), ("cotacoes_b3_raw", "raw", keys)]:
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{lake}/{folder}/**/*.parquet', "
                f"hive_partitioning = true, hive_types = {{{types}}})")
cur = con.execute(sql)
rows = cur.fetchall()
elapsed = time.perf_counter() - started
out = io.StringIO()
w = csv.writer(out, lineterminator="\n")
w.writerow([d[0] for d in cur.description])
w.writerows(rows)
sys.stdout.write(f"{elapsed}\n" + out.getvalue())
"""


def run(cmd, stdin=None):
    started = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return elapsed, p.stdout, p.stderr


def build(work):
    lake = os.path.join(work, "lake")
    if os.path.exists(os.path.join(lake, "refined")):
        print(f"reusing {lake}")
        return lake
    os.makedirs(work, exist_ok=True)
    txt = os.path.join(work, f"COTAHIST_A{YEAR}.TXT")
    run([B3LAKE, "synth", "--out", txt, "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31", "--seed", str(YEAR)])
    t_ingest, _, _ = run([B3LAKE, "ingest", txt, "--lake", lake])
    t_transform, _, _ = run([B3LAKE, "transform", "--lake", lake])
    os.remove(txt)
    print(f"built {lake}: ingest {t_ingest:.1f} s, transform {t_transform:.1f} s")
    return lake


def b3lake_rows(lake, sql):
    _, out, _ = run([B3LAKE, "sql", "--lake", lake, "--format", "csv", "-c", sql])
    return list(csv.reader(io.StringIO(out)))


def substitute(text, variables):
    defaults = dict(re.findall(r"^--\s*@set\s+(\w+)\s*=\s*(.*?)\s*$", text, re.M))
    defaults.update(variables)
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], text)


def for_duckdb(sql):
    sql = sql.replace("date_format(", "strftime(")
    return re.sub(r"date_add\('day',\s*(-?\d+),\s*(DATE '[^']*')\)", r"(\2 + INTERVAL (\1) DAY)", sql)


def normalize(rows):
    def cell(v):
        if v in ("", "None", "NULL"):
            return ""
        try:
            return f"{float(v):.4f}"
        except ValueError:
            return v
    return sorted(tuple(cell(v) for v in row) for row in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, help="b3lake runs per query")
    ap.add_argument("--duckdb-runs", type=int, default=1, help="DuckDB runs per query (each lists every file)")
    ap.add_argument("--work", default="/tmp/b3lake-sql-bench")
    ap.add_argument("--five-years")
    args = ap.parse_args()
    lake = build(args.work)

    # Variables that fit the synthetic year: a late-June session and the year's most traded ticker.
    day = b3lake_rows(lake, f"SELECT max(data_pregao) FROM cotacoes_b3_resumo_diario WHERE year = {YEAR} AND month = 6")[1][0]
    top = b3lake_rows(lake, f"SELECT symbol FROM cotacoes_b3_refined WHERE year = {YEAR} AND month = 6 AND day = {int(day[8:])} "
                            "ORDER BY vol_financeiro_total DESC LIMIT 1")[1][0]
    variables = {
        "top10_valor_negociado.sql": {"day": day},
        "historico_ticker.sql": {"symbol": top, "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"},
        "maiores_altas_baixas.sql": {"day": day},
        "valor_mensal_por_ticker.sql": {"year": str(YEAR)},
        "media_movel_20.sql": {"symbol": top, "from": f"{YEAR}-06-01", "to": f"{YEAR}-06-30"},
        "opcoes_vencendo.sql": {"day": day, "days": "30"},
        "concentracao_volume.sql": {"day": day},
    }
    queries_dir = os.path.join(os.path.dirname(__file__), "..", "..", "queries")
    print(f"queries/ on one synthetic year ({YEAR}); day {day}, symbol {top}; medians of {args.runs} b3lake and "
          f"{args.duckdb_runs} DuckDB runs, fresh processes")
    print(f"{'query':32} {'rows':>6} {'b3lake s':>9} {'DuckDB s':>9} {'ratio':>6}  same rows")
    for name, values in variables.items():
        path = os.path.join(queries_dir, name)
        text = open(path).read()
        sql = substitute(text, values)
        var_args = [a for k, v in values.items() for a in ("--var", f"{k}={v}")]
        b_times, d_times = [], []
        for _ in range(args.runs):
            t, out, _ = run([B3LAKE, "sql", "--lake", lake, "-f", path, "--format", "csv", *var_args])
            b_times.append(t)
        for _ in range(args.duckdb_runs):
            _, d_out, _ = run([sys.executable, "-c", DUCKDB_RUNNER, lake], stdin=for_duckdb(sql))
            d_elapsed, d_csv = d_out.split("\n", 1)
            d_times.append(float(d_elapsed))
        b_rows = list(csv.reader(io.StringIO(out)))
        d_rows = list(csv.reader(io.StringIO(d_csv)))
        same = normalize(b_rows[1:]) == normalize(d_rows[1:])
        b, d = statistics.median(b_times), statistics.median(d_times)
        print(f"{name:32} {len(b_rows) - 1:>6} {b:>9.3f} {d:>9.3f} {d / b:>5.1f}x  {'yes' if same else 'NO'}", flush=True)
        if not same:
            print("   b3lake:", b_rows[:4], "\n   DuckDB:", d_rows[:4])

    if args.five_years:
        sql = ("SELECT symbol, preco_fechamento, vol_financeiro_total FROM cotacoes_b3_refined "
               "WHERE year = 2022 AND month = 6 AND day = 15 AND symbol IN ('{0}', '{1}', '{2}')")
        names = b3lake_rows(args.five_years, "SELECT symbol FROM cotacoes_b3_refined WHERE year = 2022 AND month = 6 "
                                             "AND day = 15 ORDER BY vol_financeiro_total DESC LIMIT 3")
        sql = sql.format(*(r[0] for r in names[1:4]))
        times = [run([B3LAKE, "sql", "--lake", args.five_years, "-c", sql])[0] for _ in range(max(args.runs, 5))]
        print(f"five years: one day, three tickers, `b3lake sql -c` cold process: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms ({len(times)} runs)")


if __name__ == "__main__":
    main()
