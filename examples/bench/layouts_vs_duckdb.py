#!/usr/bin/env python3
"""The refined table's two layouts at scale, b3lake beside DuckDB on the same lakes.

The default (symbol) layout keeps a folder per trading day and ticker: a synthetic year is
~296,000 one-row Parquet files. b3lake's queries read a day from its companion file (all the
day's rows, written by the transform beside the ticker folders) while it is current, and the
ticker files otherwise; `--partitions listing` forces the ticker files (what every query read
before companions existed). The compact layout is one file a day.

Measured, each command in a fresh process (wall time and peak RSS from wait4), medians of
--runs, interleaved:
- an aggregate of every year (volume and rows per month) on both layouts, b3lake and DuckDB
  (read_parquet over the same folders, hive_partitioning);
- `b3lake check` and `b3lake report` on one month;
- a year's transform into each layout, beside the file system's own cost of creating the
  symbol layout's folders and files: `tar -xf` of that very tree into an empty folder.

Usage (from the project root, after `cargo build --release`):
    python3 examples/bench/layouts_vs_duckdb.py [--years 2024] [--runs 3] [--work DIR]
    python3 examples/bench/layouts_vs_duckdb.py --years 2020-2024 --runs 1   # five years
Needs `pip install duckdb`.
"""

import argparse
import os
from decimal import Decimal
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transform_vs_duckdb import run  # noqa: E402

DUCKDB_QUERY = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
print(con.execute(sys.argv[1]).fetchall())
"""

AGGREGATE = ("SELECT year, month, sum(vol_financeiro_total) AS volume, count(*) AS linhas FROM {t} "
             "GROUP BY year, month ORDER BY year, month")


def raw_lake(b, work, years):
    """One raw lake holding every year asked for, made once and reused."""
    lake = os.path.join(work, f"raw-{years[0]}-{years[-1]}")
    if os.path.isdir(os.path.join(lake, "raw")):
        return lake
    for y in years:
        src = os.path.join(work, f"COTAHIST_A{y}.TXT")
        if not os.path.exists(src):
            subprocess.run([b, "synth", "--out", src, "--from", f"{y}-01-01", "--to", f"{y}-12-31", "--seed", str(y)],
                           check=True, stdout=subprocess.DEVNULL)
        subprocess.run([b, "ingest", src, "--lake", lake], check=True, stdout=subprocess.DEVNULL)
        os.remove(src)
    return lake


def copy_raw(raw, lake):
    shutil.rmtree(lake, ignore_errors=True)
    os.makedirs(lake)
    shutil.copytree(os.path.join(raw, "raw"), os.path.join(lake, "raw"))


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def b3lake_rows(b, lake, sql, *extra):
    out = subprocess.run([b, "sql", "--lake", lake, "--format", "csv", *extra, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split(",")) for line in out.strip().splitlines()[1:]]


def duckdb_rows(sql):
    out = subprocess.run([sys.executable, "-c", DUCKDB_QUERY, sql], check=True, capture_output=True, text=True).stdout
    return [tuple(str(v) for v in r) for r in eval(out)]  # noqa: S307 (our own process's repr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", default="2024", help="a year or a range, 2020-2024")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/b3lake-bench-layouts")
    ap.add_argument("--bin", default="target/release/b3lake")
    ap.add_argument("--files", choices=["auto", "yes", "no"], default="auto",
                    help="also time the scans that open every ticker file (b3lake --partitions listing, "
                         "DuckDB on the symbol layout); auto: for one year only (five years need over 20 GB)")
    args = ap.parse_args()
    import duckdb

    b = os.path.abspath(args.bin)
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))
    os.makedirs(args.work, exist_ok=True)
    raw = raw_lake(b, args.work, years)
    lakes = {layout: os.path.join(args.work, f"lake-{layout}") for layout in ("symbol", "compact")}
    for layout, lake in lakes.items():
        if not os.path.isdir(os.path.join(lake, "refined")):
            copy_raw(raw, lake)
            subprocess.run([b, "transform", "--lake", lake, "--layout", layout], check=True, stdout=subprocess.DEVNULL)
    files = {layout: sum(len(f) for _, _, f in os.walk(os.path.join(lake, "refined"))) for layout, lake in lakes.items()}
    print(f"{len(years)} synthetic year(s) {years[0]}..{years[-1]}; refined files: {files}; duckdb {duckdb.__version__}; "
          f"{os.cpu_count()} cores; {args.runs} runs, medians, max peak RSS\n")

    # 1. Aggregates over every year, both layouts, both engines; the answers must agree.
    every_file = args.files == "yes" or (args.files == "auto" and len(years) == 1)
    glob = {layout: os.path.join(lake, "refined", "**", "*.parquet") for layout, lake in lakes.items()}
    duck = {layout: f"read_parquet('{g}', hive_partitioning = true)" for layout, g in glob.items()}
    table = "cotacoes_b3_refined"
    commands = {
        "b3lake, symbol layout (companions)": [b, "sql", "--lake", lakes["symbol"], "-c", AGGREGATE.format(t=table)],
        "b3lake, compact layout": [b, "sql", "--lake", lakes["compact"], "-c", AGGREGATE.format(t=table)],
        "DuckDB, compact layout": [sys.executable, "-c", DUCKDB_QUERY, AGGREGATE.format(t=duck["compact"])],
    }
    if every_file:
        commands["b3lake, symbol layout, ticker files (--partitions listing)"] = [
            b, "sql", "--lake", lakes["symbol"], "--partitions", "listing", "-c", AGGREGATE.format(t=table)]
        commands["DuckDB, symbol layout"] = [sys.executable, "-c", DUCKDB_QUERY, AGGREGATE.format(t=duck["symbol"])]
    answers = {
        "b3lake symbol": b3lake_rows(b, lakes["symbol"], AGGREGATE.format(t=table)),
        "b3lake compact": b3lake_rows(b, lakes["compact"], AGGREGATE.format(t=table)),
        "duckdb compact": duckdb_rows(AGGREGATE.format(t=duck["compact"])),
    }
    canon = {k: [(int(y), int(m), Decimal(v), int(n)) for y, m, v, n in rows] for k, rows in answers.items()}
    if len({repr(v) for v in canon.values()}) != 1:
        sys.exit(f"the answers differ: {canon}")
    print(f"volume and rows per month agree in b3lake (both layouts) and DuckDB: {len(canon['duckdb compact'])} months\n")
    timed = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            timed[name].append(run(cmd))
    print(f"| volume per month, {len(years)} year(s) | time (s) | peak RSS (MiB) | DuckDB compact / this |")
    print("|---|---|---|---|")
    med = {n: statistics.median(t for t, _ in r) for n, r in timed.items()}
    for name, rs in timed.items():
        print(f"| {name} | {med[name]:.2f} | {max(m for _, m in rs):.0f} | {med['DuckDB, compact layout'] / med[name]:.2f} |")

    # 2. Checks and the report on one month (June of the last year).
    y = years[-1]
    month = sorted(d for d in os.listdir(os.path.join(raw, "raw", f"year={y}", "month=06")))
    days = [f"{y}-06-{d.split('=')[1]}" for d in month]
    check = [b, "check", "--lake", lakes["symbol"]] + [a for d in days for a in ("--day", d)]
    report = [b, "report", "--lake", lakes["symbol"], "--from", f"{y}-06-01", "--to", f"{y}-06-30",
              "--out", os.path.join(args.work, "report.html")]
    work = {"b3lake check, one month (symbol layout)": check, "b3lake report, one month (symbol layout)": report}
    print(f"\n| a month ({len(days)} days) | time (s) | peak RSS (MiB) |")
    print("|---|---|---|")
    for name, cmd in work.items():
        rs = [run(cmd) for _ in range(args.runs)]
        print(f"| {name} | {statistics.median(t for t, _ in rs):.2f} | {max(m for _, m in rs):.0f} |")

    # 3. A year's transform into each layout, and the file system's floor for the symbol one.
    one = os.path.join(args.work, "transform")
    tree = os.path.join(args.work, "refined.tar")
    span = ["--from", f"{y}-01-01", "--to", f"{y}-12-31"]
    jobs = {
        "b3lake transform, symbol layout": lambda: (copy_raw(raw, one), [b, "transform", "--lake", one, *span])[1],
        "b3lake transform, compact layout": lambda: (copy_raw(raw, one), [b, "transform", "--lake", one, "--layout", "compact", *span])[1],
        "tar -xf of the symbol layout's refined tree (floor)": lambda: ["tar", "-xf", tree, "-C", fresh(os.path.join(args.work, "untar"))],
    }
    timed = {name: [] for name in jobs}
    for i in range(args.runs):
        for name, job in jobs.items():
            if name.startswith("tar") and not os.path.exists(tree):
                continue
            cmd = job()
            subprocess.run(["sync"], check=True)
            timed[name].append(run(cmd))
            if name.endswith("symbol layout") and not os.path.exists(tree):
                subprocess.run(["tar", "-cf", tree, "-C", one, "refined"], check=True)
    floor = statistics.median(t for t, _ in timed["tar -xf of the symbol layout's refined tree (floor)"])
    ticker_files = sum(len(f) for _, _, f in os.walk(os.path.join(args.work, "untar", "refined")))
    print(f"\n| a year's transform ({y}; symbol layout: {ticker_files} files) | time (s) | peak RSS (MiB) | this / floor |")
    print("|---|---|---|---|")
    for name, rs in timed.items():
        t = statistics.median(t for t, _ in rs)
        print(f"| {name} | {t:.2f} | {max(m for _, m in rs):.0f} | {t / floor:.2f} |")
    shutil.rmtree(one, ignore_errors=True)
    shutil.rmtree(os.path.join(args.work, "untar"), ignore_errors=True)


if __name__ == "__main__":
    main()
