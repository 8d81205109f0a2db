#!/usr/bin/env python3
"""Portfolio benchmark: the index portfolio's ingest and its join with the quotes, against
DuckDB doing the same, side by side in one run.

The data: B3's real IBOV answer (tests/data, 92 members) and the real 2022-02-04 session
(tests/data, 7,522 records), both re-dated to each weekday of December 2022 (22 days), so
that every day has quotes and a portfolio.

1. Portfolio ingest, one saved answer per day, each a fresh process: `b3lake ingest-ibov
   --file` (checks, exact DECIMALs, one Parquet file per day) against DuckDB reading the same
   JSON (`read_json`, `unnest`, separators replaced, CAST to the same DECIMALs, `COPY ... TO`
   Snappy Parquet). Both lakes are checked to hold the same rows.
2. The join's cost inside the transform: the month transformed with the built-in SQL (which
   joins each day's members with their quotes) against the same SQL without the join step
   (`--queries` with queries/transform/ minus 05_membros_indice.sql), each on a fresh copy
   of the raw lake.
3. A query of queries/: members by traded value (`membros_indice_por_valor.sql`, one day) and
   weight against traded value over the whole month, in `b3lake sql` and in DuckDB on the
   same Parquet files (hive_partitioning), each a fresh process.

Usage (from the project root, after `cargo build --release`; needs `pip install duckdb`):
    python3 examples/bench/portfolio.py [--runs 3] [--work /tmp/b3lake-portfolio-bench]
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from transform_vs_duckdb import run  # (seconds, peak RSS in MiB) of a command, in its own process

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
ANSWER = "tests/data/GetPortfolioDay_IBOV_pt-br_2022-12-08.json"
SESSION = "tests/data/COTAHIST_D04022022.TXT"

DUCKDB_INGEST = r"""
import sys, time, duckdb
src, out = sys.argv[1], sys.argv[2]
started = time.perf_counter()
con = duckdb.connect()
num = lambda c, t: f"CAST(replace(replace({c}, '.', ''), ',', '.') AS {t})"
con.execute(f'''
COPY (
  SELECT strptime(header.date, '%d/%m/%y')::DATE AS data_carteira, 'IBOV' AS indice,
         r.segment AS segmento, r.cod AS codigo, r.asset AS acao, trim(r.type) AS tipo,
         {num('r.theoricalQty', 'DECIMAL(20,0)')} AS qtd_teorica,
         {num('r.part', 'DECIMAL(9,3)')} AS participacao_pct,
         {num('r.partAcum', 'DECIMAL(9,3)')} AS participacao_acumulada_pct,
         {num('header.theoricalQty', 'DECIMAL(20,0)')} AS qtd_teorica_total,
         {num('header.reductor', 'DECIMAL(28,8)')} AS redutor,
         contains(r.segment || r.cod || r.asset || r.type, chr(65533)) AS texto_substituido,
         'pt-br' AS idioma
  FROM (SELECT header, unnest(results) AS r FROM read_json('{src}'))
) TO '{out}' (FORMAT PARQUET, COMPRESSION SNAPPY)''')
print(time.perf_counter() - started)
"""

DUCKDB_QUERY = r"""
import sys, time, duckdb
started = time.perf_counter()
duckdb.connect().execute(sys.argv[1]).fetchall()
print(time.perf_counter() - started)
"""

BY_VALUE = """
SELECT row_number() OVER (ORDER BY vol_financeiro_total DESC NULLS LAST, codigo_negociacao) AS posicao,
       codigo_negociacao, acao, participacao_pct, vol_financeiro_total,
       round(participacao_volume_pct, 3) AS participacao_volume_pct, numero_negocios, preco_fechamento
FROM {table}
WHERE year = 2022 AND month = 12 AND day = 15 AND indice = 'IBOV'
ORDER BY posicao
"""

MONTH = """
SELECT codigo_negociacao, avg(participacao_volume_pct / CAST(participacao_pct AS DOUBLE)) AS giro_medio,
       sum(vol_financeiro_total) AS valor
FROM {table}
WHERE year = 2022 AND month = 12 AND negociado AND participacao_pct > 0
GROUP BY codigo_negociacao ORDER BY giro_medio DESC
"""


def run_capturing(cmd):
    """Runs cmd; returns (seconds, peak RSS in MiB, its standard output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024, out


def output(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def weekdays():
    day = datetime.date(2022, 12, 1)
    while day.month == 12:
        if day.weekday() < 5:
            yield day
        day += datetime.timedelta(days=1)


def prepare(work):
    """Day files and answers for every weekday of December 2022."""
    quotes, answers = os.path.join(work, "quotes"), os.path.join(work, "answers")
    os.makedirs(quotes)
    os.makedirs(answers)
    session = open(SESSION, "rb").read().split(b"\n")
    answer = json.load(open(ANSWER, encoding="utf-8"))
    days = list(weekdays())
    for day in days:
        stamp = day.strftime("%Y%m%d").encode()
        lines = [line[:2] + stamp + line[10:] if line.startswith(b"01") else line for line in session]
        open(os.path.join(quotes, f"COTAHIST_D{day:%d%m%Y}.TXT"), "wb").write(b"\n".join(lines))
        answer["header"]["date"] = day.strftime("%d/%m/%y")
        with open(os.path.join(answers, f"{day}.json"), "w", encoding="utf-8") as f:
            json.dump(answer, f, ensure_ascii=False)
    return quotes, answers, days


def median_of(runs, cmd):
    results = [run(cmd) for _ in range(runs)]
    return statistics.median(t for t, _ in results), max(r for _, r in results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/b3lake-portfolio-bench")
    args = ap.parse_args()
    import duckdb

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    quotes, answers, days = prepare(args.work)
    print(f"b3lake {output([B3LAKE, '--version']).split()[-1]}, duckdb {duckdb.__version__}; "
          f"{len(days)} days; {os.cpu_count()} cores; median of {args.runs} runs\n")

    # 1. Portfolio ingest, a fresh process per day.
    raw = os.path.join(args.work, "raw-lake")
    run([B3LAKE, "ingest", quotes, "--lake", raw])
    b3 = os.path.join(args.work, "lake-b3lake")
    duck = os.path.join(args.work, "lake-duckdb")
    shutil.copytree(raw, b3)
    times = {"b3lake": [], "duckdb": []}
    rss = {"b3lake": 0.0, "duckdb": 0.0}
    duckdb_work = []  # DuckDB's own time, without starting Python and importing duckdb
    for _ in range(args.runs):
        for day in days:
            src = os.path.join(answers, f"{day}.json")
            t, r = run([B3LAKE, "ingest-ibov", "--file", src, "--date", str(day), "--lake", b3])
            times["b3lake"].append(t)
            rss["b3lake"] = max(rss["b3lake"], r)
            out = os.path.join(duck, f"raw_ibov/year={day.year}/month={day.month:02}/day={day.day:02}")
            os.makedirs(out, exist_ok=True)
            t, r, inside = run_capturing(
                [sys.executable, "-c", DUCKDB_INGEST, src, os.path.join(out, f"carteira_{day:%Y%m%d}.parquet")])
            times["duckdb"].append(t)
            duckdb_work.append(float(inside))
            rss["duckdb"] = max(rss["duckdb"], r)
    check = ("SELECT count(*), sum(participacao_pct), sum(qtd_teorica), sum(redutor), "
             "sum(CASE WHEN texto_substituido THEN 1 ELSE 0 END), count(DISTINCT data_carteira) "
             "FROM read_parquet('{}/raw_ibov/**/*.parquet')")
    same = [duckdb.sql(check.format(lake)).fetchall() for lake in (b3, duck)]
    assert same[0] == same[1], same
    med = {k: statistics.median(v) for k, v in times.items()}
    print("| portfolio ingest, one answer (92 members) | time (ms) | peak RSS (MiB) |\n|---|---|---|")
    for k in med:
        print(f"| {k} | {med[k] * 1000:.1f} | {rss[k]:.0f} |")
    work = statistics.median(duckdb_work)
    print(f"\nb3lake (whole process) {med['duckdb'] / med['b3lake']:.1f}x DuckDB's process; DuckDB's query alone "
          f"(connect, read, COPY; no Python start-up) {work * 1000:.1f} ms, {work / med['b3lake']:.1f}x b3lake's "
          f"whole process; both lakes: {same[0]}\n", flush=True)

    # 2. The join's cost in the transform.
    no_join = os.path.join(args.work, "queries-without-join")
    shutil.copytree("queries/transform", no_join)
    os.remove(os.path.join(no_join, "05_membros_indice.sql"))
    results = {"with the join": [], "without": []}
    variants = [("with the join", []), ("without", ["--queries", no_join])]
    for i in range(args.runs):
        for name, extra in variants[i % 2:] + variants[:i % 2]:  # alternate which runs first
            lake = os.path.join(args.work, "transform-lake")
            shutil.rmtree(lake, ignore_errors=True)
            shutil.copytree(b3, lake)
            results[name].append(run([B3LAKE, "transform", "--all", "--lake", lake, *extra])[0])
    lake_joined = os.path.join(args.work, "joined-lake")
    shutil.copytree(b3, lake_joined)
    run([B3LAKE, "transform", "--all", "--lake", lake_joined])
    t_with, t_without = statistics.median(results["with the join"]), statistics.median(results["without"])
    print(f"| transform of {len(days)} days | time (s) |\n|---|---|")
    print(f"| with the index join | {t_with:.2f} |\n| without (queries/transform/ minus 05) | {t_without:.2f} |")
    members = output([B3LAKE, "sql", "--lake", lake_joined, "--format", "csv", "-c",
                      "SELECT count(*) FROM cotacoes_b3_membros_indice"]).split()[-1]
    print(f"\nthe join adds {(t_with - t_without) / len(days) * 1000:.0f} ms a day "
          f"({(t_with / t_without - 1) * 100:.0f}%), writing {members} member rows\n", flush=True)

    # 3. Queries over the members table, each engine in a fresh process.
    parquet = f"read_parquet('{lake_joined}/index_members/**/*.parquet', hive_partitioning = true)"
    print("| query | b3lake sql, process (s) | DuckDB, process (s) | ratio | DuckDB, query alone (s) | ratio |\n"
          "|---|---|---|---|---|---|")
    for name, sql in (("members by traded value, one day", BY_VALUE), ("weight against value, the month", MONTH)):
        ours = median_of(args.runs, [B3LAKE, "sql", "--lake", lake_joined, "--format", "csv", "-c",
                                     sql.format(table="cotacoes_b3_membros_indice")])[0]
        runs = [run_capturing([sys.executable, "-c", DUCKDB_QUERY, sql.format(table=parquet)]) for _ in range(args.runs)]
        theirs = statistics.median(t for t, _, _ in runs)
        alone = statistics.median(float(out) for _, _, out in runs)
        print(f"| {name} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.1f}x | {alone:.3f} | {alone / ours:.1f}x |")


if __name__ == "__main__":
    main()
