#!/usr/bin/env python3
"""Athena's writing statements and partition projection, measured: b3lake beside DuckDB.

1. Writing a year of the refined table in the compact layout (one row per day and spot
   ticker, partitioned year/month/day, ~250 partitions) from the raw table:
   - b3lake INSERT INTO: an empty table, then one INSERT per quarter (Athena writes at most
     100 partitions a statement, so a year takes several, as it would in Athena);
   - b3lake CTAS: CREATE TABLE ... AS for the first quarter, INSERT INTO for the others
     (Athena's documented way past the 100-partition limit);
   - DuckDB: one COPY (...) TO ... (FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year,
     month, day)) of the whole year, over read_parquet(raw, hive_partitioning).
   The same query (Trino's and DuckDB's dialects agree on it) runs on both; each tool runs in
   its own process (wall time and peak RSS from wait4); the tables are checked to hold the
   same rows and traded value.
2. A one-day query on the raw table as indexed (the catalog's partition index) and on the
   same folders defined with partition projection, each in a fresh process, interleaved.

Usage (from the project root, after `cargo build --release`):
    python3 examples/bench/statements_vs_duckdb.py [--runs 3] [--work /tmp/b3lake-stmt-bench]
Needs `pip install duckdb`.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transform_vs_duckdb import fresh_lake, run, year_raw  # noqa: E402

SELECT = """
SELECT data_pregao, codigo_negociacao, max(nome_empresa) AS nome_empresa, max(fator_cotacao) AS fator_cotacao,
  max_by(preco_abertura, numero_negocios) AS preco_abertura,
  max_by(preco_ultimo_negocio, numero_negocios) AS preco_fechamento,
  max(preco_maximo) AS preco_maximo, min(preco_minimo) AS preco_minimo,
  CAST(sum(volume_total_negociado) AS DECIMAL(28, 2)) AS vol_financeiro_total,
  sum(quantidade_papeis_negociados) AS qtd_acoes_negociadas, sum(numero_negocios) AS numero_negocios,
  count(*) AS registros_agregados, year, month, day
FROM {raw}
WHERE tipo_mercado = 10 AND {where}
GROUP BY data_pregao, codigo_negociacao, year, month, day
"""

QUARTERS = ["month BETWEEN 1 AND 3", "month BETWEEN 4 AND 6", "month BETWEEN 7 AND 9", "month BETWEEN 10 AND 12"]

DUCKDB_JOB = r"""
import sys, duckdb
select, out = sys.argv[1:3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"COPY ({select}) TO '{out}' (FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year, month, day))")
"""

CHECK = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
r = con.execute(f"SELECT count(*), sum(vol_financeiro_total), count(DISTINCT (data_pregao, codigo_negociacao)) FROM read_parquet('{sys.argv[1]}/**/*.parquet')").fetchone()
print(r[0], r[1], r[2])
"""

PROJECTED = """CREATE EXTERNAL TABLE raw_projetada (
  data_pregao date, codigo_negociacao string, tipo_mercado int, preco_ultimo_negocio decimal(13,2),
  volume_total_negociado decimal(18,2))
PARTITIONED BY (year int, month int, day int)
STORED AS PARQUET LOCATION '${lake}/raw/'
TBLPROPERTIES ('projection.enabled'='true',
  'projection.year.type'='integer', 'projection.year.range'='1986,2100',
  'projection.month.type'='integer', 'projection.month.range'='1,12', 'projection.month.digits'='2',
  'projection.day.type'='integer', 'projection.day.range'='1,31', 'projection.day.digits'='2',
  'storage.location.template'='${lake}/raw/year=${year}/month=${month}/day=${day}/')"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--point-runs", type=int, default=15)
    ap.add_argument("--work", default="/tmp/b3lake-stmt-bench")
    ap.add_argument("--bin", default="target/release/b3lake")
    ap.add_argument("--year", default="2023")
    args = ap.parse_args()
    import duckdb

    b, y = args.bin, args.year
    _, raw = year_raw(b, args.work, y)

    def fresh(name):
        return fresh_lake(args.work, raw, name)

    def quarter(i):
        return SELECT.format(raw="cotacoes_b3_raw", where=f"year = {y} AND {QUARTERS[i]}")

    columns = ("data_pregao date, codigo_negociacao string, nome_empresa string, fator_cotacao int, "
               "preco_abertura decimal(13,2), preco_fechamento decimal(13,2), preco_maximo decimal(13,2), "
               "preco_minimo decimal(13,2), vol_financeiro_total decimal(28,2), qtd_acoes_negociadas bigint, "
               "numero_negocios bigint, registros_agregados bigint")
    insert_script = (
        f"CREATE EXTERNAL TABLE refinada ({columns}) PARTITIONED BY (year int, month int, day int) "
        "STORED AS PARQUET LOCATION '${lake}/refinada/' TBLPROPERTIES ('parquet.compression'='SNAPPY');\n"
        + "".join(f"INSERT INTO refinada {quarter(i)};\n" for i in range(4)))
    ctas_script = (
        "CREATE TABLE refinada WITH (format = 'PARQUET', write_compression = 'SNAPPY', "
        "external_location = '${lake}/refinada/', partitioned_by = ARRAY['year', 'month', 'day']) AS "
        + quarter(0) + ";\n" + "".join(f"INSERT INTO refinada {quarter(i)};\n" for i in range(1, 4)))
    scripts = {}
    for name, text in (("insert", insert_script), ("ctas", ctas_script)):
        scripts[name] = os.path.join(args.work, f"{name}.sql")
        with open(scripts[name], "w") as f:
            f.write(text)
    duck_select = SELECT.format(raw=f"read_parquet('{raw}/**/*.parquet', hive_partitioning = true)",
                                where=f"year = {y}")
    jobs = {
        "b3lake INSERT INTO (4 statements)": ("lake-insert", lambda lake: [b, "sql", "--lake", lake, "-f", scripts["insert"]]),
        "b3lake CTAS + 3 INSERT INTO": ("lake-ctas", lambda lake: [b, "sql", "--lake", lake, "-f", scripts["ctas"]]),
        "DuckDB COPY ... PARTITION_BY": ("lake-duckdb", lambda lake: [sys.executable, "-c", DUCKDB_JOB, duck_select, os.path.join(lake, "refinada")]),
    }
    results = {name: [] for name in jobs}
    for _ in range(args.runs):
        for name, (folder, cmd) in jobs.items():
            results[name].append(run(cmd(fresh(folder))))
    print(f"duckdb {duckdb.__version__}, {args.runs} runs each, median time, max peak RSS; {os.cpu_count()} cores\n")
    print("| a year of the compact refined table from raw | time (s) | files | peak RSS (MiB) | DuckDB / this |")
    print("|---|---|---|---|---|")
    med = {n: statistics.median(t for t, _ in rs) for n, rs in results.items()}
    duck = med["DuckDB COPY ... PARTITION_BY"]
    for name, rs in results.items():
        out = os.path.join(args.work, jobs[name][0], "refinada")
        files = sum(len(f) for _, _, f in os.walk(out))
        print(f"| {name} | {med[name]:.2f} | {files} | {max(m for _, m in rs):.0f} | {duck / med[name]:.2f} |")
    checks = {n: subprocess.run([sys.executable, "-c", CHECK, os.path.join(args.work, f, "refinada")],
                                capture_output=True, text=True, check=True).stdout.strip() for n, (f, _) in jobs.items()}
    if len(set(checks.values())) != 1:
        sys.exit(f"the tables differ: {checks}")
    print(f"\nrows, traded value, distinct (day, ticker): the same in all three: {checks['DuckDB COPY ... PARTITION_BY']}")

    # A one-day query, indexed against projected, on the same folders.
    lake = os.path.join(args.work, "lake-insert")
    subprocess.run([b, "sql", "--lake", lake, "-c", PROJECTED], check=True, stdout=subprocess.DEVNULL)
    # The day's three most traded spot tickers (the synthetic tickers are not the real ones).
    day = os.path.join(raw, f"year={y}", "month=06", "day=15")
    top = duckdb.connect().execute(
        f"SELECT codigo_negociacao FROM read_parquet('{day}/*.parquet') WHERE tipo_mercado = 10 "
        "ORDER BY volume_total_negociado DESC LIMIT 3").fetchall()
    tickers = "(" + ", ".join(f"'{t[0]}'" for t in top) + ")"
    query = ("SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado FROM {t} "
             f"WHERE year = {y} AND month = 6 AND day = 15 AND tipo_mercado = 10 AND codigo_negociacao IN {tickers}")
    times = {"indexed": [], "projected": []}
    for _ in range(args.point_runs):
        for kind, table in (("indexed", "cotacoes_b3_raw"), ("projected", "raw_projetada")):
            times[kind].append(run([b, "sql", "--lake", lake, "-c", query.format(t=table)])[0])
    ti, tp = statistics.median(times["indexed"]), statistics.median(times["projected"])
    print(f"\none day's query on the raw table (three tickers: {tickers}), {args.point_runs} cold processes each, "
          "interleaved, median: "
          f"indexed {ti * 1000:.1f} ms, projected {tp * 1000:.1f} ms (projected / indexed = {tp / ti:.2f})")


if __name__ == "__main__":
    main()
