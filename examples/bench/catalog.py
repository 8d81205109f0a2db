#!/usr/bin/env python3
"""Catalog benchmark: the partition index against listing, and a Glue sync at scale.

1. Builds a synthetic lake one year at a time (`b3lake synth`, `ingest`, `transform`; the
   refined table in the default symbol layout, ~1,150 partitions a trading day).
2. After the first year and after the fifth, times one-day queries in fresh processes
   (`b3lake sql -c`, so every run is a cold start of the binary; the OS file cache is warm),
   with the partitions from the catalog's index (`--partitions index`, the default) and from
   listing the folders (`--partitions listing`): planning alone (`EXPLAIN`), and answering.
3. After the first year, syncs the lake's catalog to a Glue Data Catalog served by moto on
   127.0.0.1 (`b3lake catalog sync`): API calls and time, then the no-op re-sync (which
   compares only the days changed since the last sync), then a `--full` re-sync (which lists
   every partition in Glue).

Usage (from the project root, after `cargo build --release`; needs `pip install 'moto[server]'`):
    python3 examples/bench/catalog.py [--years 5] [--runs 3] [--work /tmp/b3lake-catalog-bench]
    python3 examples/bench/catalog.py --measure-only   # the queries again, on the lake built before
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
FIRST_YEAR = 2019


def run(cmd, env=None):
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return elapsed, p.stdout, p.stderr


def count_partitions(lake):
    n = 0
    for root, dirs, _ in os.walk(os.path.join(lake, "refined")):
        if os.path.basename(root).startswith("day="):
            n += len(dirs)
            dirs[:] = []
    return n


def add_year(work, lake, year):
    txt = os.path.join(work, f"COTAHIST_A{year}.TXT")
    run([B3LAKE, "synth", "--out", txt, "--from", f"{year}-01-01", "--to", f"{year}-12-31", "--seed", str(year)])
    t_ingest, _, _ = run([B3LAKE, "ingest", txt, "--lake", lake])
    t_transform, _, _ = run([B3LAKE, "transform", "--lake", lake])
    os.remove(txt)
    print(f"  {year}: ingest {t_ingest:.1f} s, transform {t_transform:.1f} s", flush=True)


def queries(lake, year):
    day = f"year = {year} AND month = 6 AND day = 14"
    folder = os.path.join(lake, "refined", f"year={year}", "month=06", "day=14")
    symbols = sorted(d.split("=", 1)[1] for d in os.listdir(folder))
    three = ", ".join(f"'{s}'" for s in (symbols[0], symbols[len(symbols) // 2], symbols[-1]))
    return {
        "one day, three tickers": f"SELECT symbol, preco_fechamento FROM cotacoes_b3_refined WHERE {day} "
        f"AND symbol IN ({three})",
        "one day, top 10 by traded value": f"SELECT symbol, vol_financeiro_total FROM cotacoes_b3_refined WHERE {day} "
        "ORDER BY vol_financeiro_total DESC LIMIT 10",
    }


def time_queries(lake, year, runs):
    rows = []
    for name, sql in queries(lake, year).items():
        for mode in ("index", "listing"):
            plan = statistics.median(run([B3LAKE, "sql", "--lake", lake, "--partitions", mode, "-c", "EXPLAIN " + sql])[0] for _ in range(runs))
            answer = statistics.median(run([B3LAKE, "sql", "--lake", lake, "--partitions", mode, "-c", sql])[0] for _ in range(runs))
            rows.append((name, mode, plan, answer))
    for name in queries(lake, year):
        i = [r for r in rows if r[0] == name and r[1] == "index"][0]
        l = [r for r in rows if r[0] == name and r[1] == "listing"][0]
        print(f"  {name}: plan {i[2]:.3f} s (index) vs {l[2]:.3f} s (listing), "
              f"answer {i[3]:.3f} s vs {l[3]:.3f} s ({l[3] / i[3]:.1f}x)", flush=True)
    return rows


def moto():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "moto-catalog-bench.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except Exception:
            time.sleep(0.2)
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ALLOW_HTTP="true",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true")
    return proc, env


def sync(lake, full):
    proc, env = moto()
    try:
        first, out, _ = run([B3LAKE, "catalog", "sync", "--lake", lake, "--database", "bench"], env)
        calls = re.search(r"(\d+) Glue API calls", out)
        print(f"  first sync: {first:.1f} s, {calls.group(1) if calls else '?'} API calls", flush=True)
        print("   " + out.strip().replace("\n", "\n   "), flush=True)
        again, out, _ = run([B3LAKE, "catalog", "sync", "--lake", lake, "--database", "bench"], env)
        print(f"  no-op re-sync: {again:.1f} s: {' '.join(out.split())}", flush=True)
        if full:
            again, out, _ = run([B3LAKE, "catalog", "sync", "--lake", lake, "--database", "bench", "--full"], env)
            print(f"  no-op re-sync --full: {again:.1f} s: {' '.join(out.split())}", flush=True)
    finally:
        proc.terminate()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/b3lake-catalog-bench")
    ap.add_argument("--no-sync", action="store_true")
    ap.add_argument("--no-full-sync", action="store_true", help="skip the --full re-sync (minutes on moto)")
    ap.add_argument("--measure-only", action="store_true", help="time the queries on the lake already built")
    args = ap.parse_args()
    lake = os.path.join(args.work, "lake")
    if args.measure_only:
        print(f"{args.years} years, {count_partitions(lake):,} refined partitions:", flush=True)
        time_queries(lake, FIRST_YEAR + args.years - 1, args.runs)
        return
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    print(f"building year {FIRST_YEAR}", flush=True)
    add_year(args.work, lake, FIRST_YEAR)
    print(f"1 year, {count_partitions(lake):,} refined partitions:", flush=True)
    time_queries(lake, FIRST_YEAR, args.runs)
    if not args.no_sync:
        print("Glue sync (moto on 127.0.0.1), 1 year:", flush=True)
        sync(lake, not args.no_full_sync)
    for year in range(FIRST_YEAR + 1, FIRST_YEAR + args.years):
        add_year(args.work, lake, year)
    print(f"{args.years} years, {count_partitions(lake):,} refined partitions:", flush=True)
    time_queries(lake, FIRST_YEAR + args.years - 1, args.runs)


if __name__ == "__main__":
    main()
