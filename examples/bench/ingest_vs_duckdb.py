#!/usr/bin/env python3
"""Ingest benchmark: b3lake against DuckDB doing the same job, side by side in one run.

The job: one synthetic COTAHIST year (~465 MB, ~1.9 M records) into a Hive-partitioned
(year/month/day) Snappy Parquet lake, every field of record 01 parsed and typed.

DuckDB: read_csv of the file as one VARCHAR column (Latin-1), substr and casts for all 25
fields, then COPY ... TO (FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year, month, day)).

Each tool runs in its own process, so wall time and peak RSS (from wait4) are its own.
Both lakes are checked to hold the same number of rows and the same traded volume.

Usage (from the project root, after `cargo build --release`):
    python3 examples/bench/ingest_vs_duckdb.py [--runs 3] [--work /tmp/b3lake-bench]
Needs `pip install duckdb`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

DUCKDB_JOB = r"""
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
def txt(a, n): return f"NULLIF(trim(substr(line, {a}, {n})), '')"
def num(a, n, t): return f"CAST(substr(line, {a}, {n}) AS {t})"
def dec(a, n, s): return f"CAST(substr(line, {a}, {n - s}) || '.' || substr(line, {a + n - s}, {s}) AS DECIMAL({n}, {s}))"
def date(a): return f"CAST(strptime(NULLIF(substr(line, {a}, 8), '99991231'), '%Y%m%d') AS DATE)"
cols = [
    (date(3), "data_pregao"), (txt(11, 2), "codigo_bdi"), (txt(13, 12), "codigo_negociacao"),
    (num(25, 3, "INTEGER"), "tipo_mercado"), (txt(28, 12), "nome_empresa"), (txt(40, 10), "especificacao_papel"),
    (txt(50, 3), "prazo_dias_termo"), (txt(53, 4), "moeda"),
    (dec(57, 13, 2), "preco_abertura"), (dec(70, 13, 2), "preco_maximo"), (dec(83, 13, 2), "preco_minimo"),
    (dec(96, 13, 2), "preco_medio"), (dec(109, 13, 2), "preco_ultimo_negocio"),
    (dec(122, 13, 2), "preco_melhor_oferta_compra"), (dec(135, 13, 2), "preco_melhor_oferta_venda"),
    (num(148, 5, "INTEGER"), "numero_negocios"), (num(153, 18, "BIGINT"), "quantidade_papeis_negociados"),
    (dec(171, 18, 2), "volume_total_negociado"), (dec(189, 13, 2), "preco_exercicio"),
    (num(202, 1, "INTEGER"), "indicador_correcao"), (date(203), "data_vencimento"),
    (num(211, 7, "INTEGER"), "fator_cotacao"), (dec(218, 13, 6), "preco_exercicio_pontos"),
    (txt(231, 12), "codigo_isin"), (num(243, 3, "INTEGER"), "numero_distribuicao"),
    ("substr(line, 3, 4)", "year"), ("substr(line, 7, 2)", "month"), ("substr(line, 9, 2)", "day"),
]
select = ",\n  ".join(f"{e} AS {n}" for e, n in cols)
con.execute(f'''
COPY (
  SELECT {select}
  FROM read_csv('{src}', columns = {{'line': 'VARCHAR'}}, header = false, delim = '\x01',
                quote = '', escape = '', encoding = 'latin-1', auto_detect = false)
  WHERE substr(line, 1, 2) = '01'
) TO '{out}' (FORMAT PARQUET, COMPRESSION SNAPPY, PARTITION_BY (year, month, day))
''')
"""

CHECK = r"""
import sys, duckdb
r = duckdb.connect().execute(f"SELECT count(*), sum(volume_total_negociado) FROM read_parquet('{sys.argv[1]}/**/*.parquet')").fetchone()
print(r[0], r[1])
"""


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default="/tmp/b3lake-bench")
    ap.add_argument("--bin", default="target/release/b3lake")
    ap.add_argument("--year", default="2023")
    args = ap.parse_args()
    import duckdb  # noqa: F401  (fail early if missing)

    os.makedirs(args.work, exist_ok=True)
    src = os.path.join(args.work, f"COTAHIST_A{args.year}.TXT")
    if not os.path.exists(src):
        subprocess.run([args.bin, "synth", "--out", src, "--from", f"{args.year}-01-01", "--to", f"{args.year}-12-31", "--seed", "1"], check=True)
    size = os.path.getsize(src)
    # Warm the page cache so both read from memory.
    with open(src, "rb") as f:
        while f.read(1 << 24):
            pass

    jobs = {
        "b3lake": lambda out: [args.bin, "ingest", src, "--lake", out],
        "duckdb": lambda out: [sys.executable, "-c", DUCKDB_JOB, src, out],
    }
    results = {name: [] for name in jobs}
    lakes = {}
    for i in range(args.runs):
        for name, cmd in jobs.items():
            out = os.path.join(args.work, f"lake-{name}")
            shutil.rmtree(out, ignore_errors=True)
            results[name].append(run(cmd(out)))
            lakes[name] = os.path.join(out, "raw") if name == "b3lake" else out

    checks = {name: subprocess.run([sys.executable, "-c", CHECK, lake], capture_output=True, text=True, check=True).stdout.strip() for name, lake in lakes.items()}
    if len(set(checks.values())) != 1:
        sys.exit(f"the lakes differ: {checks}")

    print(f"input: {src}, {size / 1e6:.1f} MB; rows and volume in both lakes: {checks['b3lake']}")
    print(f"duckdb {__import__('duckdb').__version__}, {args.runs} runs each, median time, max peak RSS; {os.cpu_count()} cores")
    print(f"| tool | time (s) | MB/s | peak RSS (MiB) |")
    print(f"|---|---|---|---|")
    med = {}
    for name, rs in results.items():
        med[name] = statistics.median(t for t, _ in rs)
        print(f"| {name} | {med[name]:.2f} | {size / 1e6 / med[name]:.0f} | {max(m for _, m in rs):.0f} |")
    print(f"b3lake is {med['duckdb'] / med['b3lake']:.1f}x faster than DuckDB")


if __name__ == "__main__":
    main()
