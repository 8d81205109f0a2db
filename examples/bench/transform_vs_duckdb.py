#!/usr/bin/env python3
"""Transform benchmark: b3lake against DuckDB doing the same job, side by side in one run.

The job: one synthetic year's raw lake (~250 trading days) to the refined table, one row per
day and spot ticker (~1,150 a day), partitioned year/month/day/symbol (~290,000 folders), plus
the daily summary partitioned year/month/day.

DuckDB runs SQL equivalent to queries/transform/ on read_parquet(raw, hive_partitioning),
materializes the refined rows, and writes both tables with COPY ... (FORMAT PARQUET,
COMPRESSION SNAPPY, PARTITION_BY (...)), the refined table one COPY per trading day (its
fastest way here: one COPY of many days slows down with the number of partitions).

Then, on the lakes just written:
- the incremental run: one new trading day ingested into b3lake's year-sized lake, then
  `b3lake transform` (bookmarks find the day);
- the two refined layouts (b3lake's symbol and compact) queried by both engines, each query
  in a fresh process: a point query (one day, three tickers) and a full-year scan.

Each tool runs in its own process, so wall time and peak RSS (from wait4) are its own.
Both refined tables are checked to hold the same rows and traded value.

Usage (from the project root, after `cargo build --release`):
    python3 examples/bench/transform_vs_duckdb.py [--runs 3] [--work /tmp/b3lake-bench]
Needs `pip install duckdb`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

REFINED_SQL = r"""
WITH a AS (
  SELECT data_pregao, codigo_negociacao, nome_empresa,
    max(fator_cotacao) AS fator_cotacao, min(data_vencimento) AS data_vencimento,
    first(preco_abertura ORDER BY numero_negocios DESC, quantidade_papeis_negociados DESC) AS preco_abertura,
    first(preco_ultimo_negocio ORDER BY numero_negocios DESC, quantidade_papeis_negociados DESC) AS preco_fechamento,
    max(preco_maximo) AS preco_maximo, min(preco_minimo) AS preco_minimo,
    CAST(CAST(sum(volume_total_negociado) AS DECIMAL(34, 10))
      / CAST(nullif(sum(quantidade_papeis_negociados), 0) AS DECIMAL(20, 0)) AS DECIMAL(28, 8)) AS preco_medio_ponderado,
    CAST(sum(volume_total_negociado) AS DECIMAL(28, 2)) AS vol_financeiro_total,
    sum(quantidade_papeis_negociados) AS qtd_acoes_negociadas,
    sum(numero_negocios) AS numero_negocios, count(*) AS registros_agregados
  FROM read_parquet('{raw}/**/*.parquet', hive_partitioning = true)
  WHERE tipo_mercado = 10
  GROUP BY data_pregao, codigo_negociacao, nome_empresa)
SELECT data_pregao, codigo_negociacao, nome_empresa, fator_cotacao, preco_abertura, preco_fechamento,
  preco_maximo, preco_minimo, preco_medio_ponderado, vol_financeiro_total, qtd_acoes_negociadas,
  numero_negocios, registros_agregados,
  isodow(data_pregao) AS dia_semana, quarter(data_pregao) AS trimestre,
  dayofyear(data_pregao) - 1 AS dias_desde_inicio_ano,
  dayofyear(make_date(year(data_pregao), 12, 31)) - dayofyear(data_pregao) AS dias_ate_fim_ano,
  day(data_pregao) <= 5 AS eh_inicio_mes, data_vencimento,
  data_vencimento - data_pregao AS dias_ate_vencimento,
  CAST(preco_fechamento - preco_abertura AS DOUBLE) / CAST(nullif(preco_abertura, 0) AS DOUBLE) * 100 AS variacao_percentual_dia,
  CAST(preco_maximo - preco_minimo AS DOUBLE) / nullif(CAST(preco_medio_ponderado AS DOUBLE) * fator_cotacao, 0) AS volatilidade_relativa,
  strftime(data_pregao, '%Y') AS year, strftime(data_pregao, '%m') AS month, strftime(data_pregao, '%d') AS day,
  codigo_negociacao AS symbol
FROM a
"""

SUMMARY_SQL = r"""
SELECT data_pregao, count(*) AS numero_tickers, sum(vol_financeiro_total) AS vol_financeiro_total,
  sum(qtd_acoes_negociadas) AS qtd_acoes_negociadas, sum(numero_negocios) AS numero_negocios,
  count(*) FILTER (WHERE preco_fechamento > preco_abertura) AS altas,
  count(*) FILTER (WHERE preco_fechamento < preco_abertura) AS baixas,
  count(*) FILTER (WHERE preco_fechamento = preco_abertura) AS estaveis,
  arg_max(symbol, variacao_percentual_dia) AS maior_alta, max(variacao_percentual_dia) AS maior_alta_pct,
  arg_min(symbol, variacao_percentual_dia) AS maior_baixa, min(variacao_percentual_dia) AS maior_baixa_pct,
  year, month, day
FROM refined GROUP BY data_pregao, year, month, day
"""

DUCKDB_JOB = r"""
import sys, duckdb
raw, out, refined_sql, summary_sql = sys.argv[1:5]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TEMP TABLE refined AS " + refined_sql.replace("{raw}", raw))
# One COPY per trading day: a single COPY of the whole year slows down with the number of open
# partitions (25,000 partitions of a month took 6x as long as 22 daily COPYs).
days = con.execute("SELECT DISTINCT year, month, day FROM refined ORDER BY ALL").fetchall()
for y, m, d in days:
    con.execute(f"COPY (SELECT * FROM refined WHERE year = '{y}' AND month = '{m}' AND day = '{d}') TO '{out}/refined' "
                "(FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year, month, day, symbol), OVERWRITE_OR_IGNORE true)")
con.execute(f"COPY ({summary_sql}) TO '{out}/summary' (FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year, month, day))")
"""

CHECK = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
r = con.execute(f"SELECT count(*), sum(vol_financeiro_total), count(DISTINCT (data_pregao, codigo_negociacao)) FROM read_parquet('{sys.argv[1]}/**/*.parquet')").fetchone()
print(r[0], r[1], r[2])
"""

DUCKDB_QUERY = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
print(con.execute(sys.argv[1]).fetchall()[:3])
"""


def run(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def year_raw(b, work, year):
    """A synthetic year's COTAHIST file and the raw folder of its ingested lake, made once
    under `work` and reused by later runs."""
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, f"COTAHIST_A{year}.TXT")
    if not os.path.exists(src):
        subprocess.run([b, "synth", "--out", src, "--from", f"{year}-01-01", "--to", f"{year}-12-31", "--seed", "1"], check=True)
    raw_lake = os.path.join(work, "raw-lake")
    if not os.path.isdir(os.path.join(raw_lake, "raw")):
        subprocess.run([b, "ingest", src, "--lake", raw_lake], check=True, stdout=subprocess.DEVNULL)
    return src, os.path.join(raw_lake, "raw")


def fresh_lake(work, raw, name):
    """A new lake `work/name` holding a copy of the raw folder."""
    lake = os.path.join(work, name)
    shutil.rmtree(lake, ignore_errors=True)
    os.makedirs(lake)
    shutil.copytree(raw, os.path.join(lake, "raw"))
    return lake


def files_under(path):
    return sum(len(f) for _, _, f in os.walk(path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/b3lake-bench")
    ap.add_argument("--bin", default="target/release/b3lake")
    ap.add_argument("--year", default="2023")
    ap.add_argument("--queries-only", action="store_true", help="reuse the lakes of an earlier run; time the queries")
    args = ap.parse_args()
    import duckdb  # noqa: F401  (fail early if missing)

    b = args.bin
    src, raw = year_raw(b, args.work, args.year)

    def fresh(name):
        return fresh_lake(args.work, raw, name)

    print(f"input: {raw}, the raw lake of a synthetic year ({src})")
    jobs = {
        "b3lake (symbol)": lambda: [b, "transform", "--all", "--lake", fresh("lake-symbol")],
        "b3lake (compact)": lambda: [b, "transform", "--all", "--layout", "compact", "--lake", fresh("lake-compact")],
        "duckdb": lambda: [sys.executable, "-c", DUCKDB_JOB, raw, fresh("lake-duckdb"), REFINED_SQL, SUMMARY_SQL],
    }
    results = {name: [] for name in jobs}
    for _ in range(0 if args.queries_only else args.runs):
        for name, cmd in jobs.items():
            results[name].append(run(cmd()))

    refined = {
        "b3lake (symbol)": os.path.join(args.work, "lake-symbol", "refined"),
        "b3lake (compact)": os.path.join(args.work, "lake-compact", "refined"),
        "duckdb": os.path.join(args.work, "lake-duckdb", "refined"),
    }
    if args.queries_only:
        return queries(args, refined)
    print(f"duckdb {duckdb.__version__}, {args.runs} runs each, median time, max peak RSS; {os.cpu_count()} cores\n")
    print("| raw to refined + summary | time (s) | files written | peak RSS (MiB) |")
    print("|---|---|---|---|")
    med = {}
    for name, rs in results.items():
        med[name] = statistics.median(t for t, _ in rs)
        n = files_under(os.path.dirname(refined[name]))
        print(f"| {name} | {med[name]:.2f} | {n} | {max(m for _, m in rs):.0f} |", flush=True)
    print(f"\nb3lake (symbol layout) is {med['duckdb'] / med['b3lake (symbol)']:.1f}x faster than DuckDB; "
          f"compact layout {med['duckdb'] / med['b3lake (compact)']:.1f}x")

    checks = {n: subprocess.run([sys.executable, "-c", CHECK, p], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1] for n, p in refined.items()}
    if len(set(checks.values())) != 1:
        sys.exit(f"the refined tables differ: {checks}")
    print(f"refined rows, traded value, distinct (day, ticker) keys, the same in all three: {checks['duckdb']}", flush=True)

    # Incremental: one new trading day on the year-sized lake.
    lake = os.path.join(args.work, "lake-symbol")
    nxt = f"{int(args.year) + 1}-01-02"
    day_file = os.path.join(args.work, "COTAHIST_NEXT.TXT")
    subprocess.run([b, "synth", "--out", day_file, "--from", nxt, "--to", nxt, "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([b, "ingest", day_file, "--lake", lake], check=True, stdout=subprocess.DEVNULL)
    inc, _ = run([b, "transform", "--lake", lake])
    noop, _ = run([b, "transform", "--lake", lake])
    print(f"\nincremental: one new day on the year's lake {inc:.2f} s; nothing new {noop:.2f} s")
    queries(args, refined)


def queries(args, refined):
    import duckdb
    b = args.bin
    # Queries on each layout, each in a fresh process; median of --runs.
    y = args.year
    point_where = f"year = {y} AND month = 6 AND day = 15 AND symbol IN ('{{a}}', '{{b}}', '{{c}}')"
    # Three tickers that traded that day.
    con = duckdb.connect()
    day_dir = os.path.join(refined["b3lake (compact)"], f"year={y}", "month=06", "day=15")
    syms = [r[0] for r in con.execute(f"SELECT symbol FROM read_parquet('{day_dir}/*.parquet') ORDER BY vol_financeiro_total DESC LIMIT 3").fetchall()]
    point_where = point_where.format(a=syms[0], b=syms[1], c=syms[2])
    queries = {
        "point (1 day, 3 tickers)": f"SELECT symbol, preco_fechamento, vol_financeiro_total FROM {{t}} WHERE {point_where}",
        "full year (top 10 by traded value)": f"SELECT symbol, sum(vol_financeiro_total) AS v FROM {{t}} WHERE year = {y} GROUP BY symbol ORDER BY v DESC LIMIT 10",
    }
    print("\n| query | layout | b3lake sql -c (s) | DuckDB (s) | ratio |")
    print("|---|---|---|---|---|")
    for qname, q in queries.items():
        for layout in ("symbol", "compact"):
            lake = os.path.join(args.work, f"lake-{layout}")
            files = os.path.join(lake, "refined", "**", "*.parquet")
            duck_table = f"read_parquet('{files}', hive_partitioning = true)"
            tb = statistics.median(run([b, "sql", "--lake", lake, "-c", q.format(t="cotacoes_b3_refined")])[0] for _ in range(args.runs))
            td = statistics.median(run([sys.executable, "-c", DUCKDB_QUERY, q.format(t=duck_table)])[0] for _ in range(args.runs))
            print(f"| {qname} | {layout} | {tb:.3f} | {td:.3f} | {td / tb:.1f}x |")


if __name__ == "__main__":
    main()
