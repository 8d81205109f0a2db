#!/usr/bin/env python3
"""Writers benchmark: one lake transformed by P processes on disjoint days at once, beside one
process transforming the same days P at a time (`--parallelism P`), in both refined layouts.

The lake: a synthetic raw table (`b3lake synth`, ~1,150 spot tickers a day), ingested once and
copied fresh for every run. Each run transforms every raw day:
- `processes P`: P `b3lake transform --from A --to B --parallelism 1` processes started
  together, each on its own contiguous range of days (writers of other days never wait for
  each other; the first to start defines the tables, holding the whole lake for a moment);
- `parallelism P`: one `b3lake transform --parallelism P` process.
Reported: wall time, trading days per second, and the ratio to one process with parallelism 1.
Every run's refined table is checked to hold the same rows and traded value.

Usage (from the project root, after `cargo build --release`; `B3LAKE_BIN` names another binary):
    python3 examples/bench/writers.py [--from 2024-01-01] [--to 2024-12-31] [--processes 1,2,4]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))


def run(args, **kw):
    out = subprocess.run([B3LAKE, *args], capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"{args}: {out.stderr}")
    return out.stdout


def raw_days(lake):
    out = run(["sql", "--lake", lake, "--format", "csv", "-c",
               "SELECT DISTINCT CAST(data_pregao AS VARCHAR) FROM cotacoes_b3_raw ORDER BY 1"])
    return out.split()[1:]


def check(lake):
    return run(["sql", "--lake", lake, "--format", "csv", "-c",
                "SELECT count(*), sum(vol_financeiro_total) FROM cotacoes_b3_refined"]).split()[1]


def fresh(base, work, name):
    lake = os.path.join(work, name)
    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(base, lake)
    return lake


def by_processes(lake, days, p, layout):
    chunks = [days[i * len(days) // p:(i + 1) * len(days) // p] for i in range(p)]
    started = time.monotonic()
    procs = [subprocess.Popen([B3LAKE, "transform", "--lake", lake, "--from", c[0], "--to", c[-1],
                               "--parallelism", "1", "--layout", layout],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in chunks]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(err)
    return time.monotonic() - started


def by_parallelism(lake, p, layout):
    started = time.monotonic()
    run(["transform", "--lake", lake, "--parallelism", str(p), "--layout", layout])
    return time.monotonic() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", default="2024-01-01")
    ap.add_argument("--to", dest="end", default="2024-12-31")
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--layouts", default="symbol,compact")
    ap.add_argument("--work", default="/tmp/b3lake-bench-writers")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.work, "base")
    if not os.path.exists(base):
        synth = os.path.join(a.work, "synth.txt")
        run(["synth", "--out", synth, "--from", a.start, "--to", a.end])
        run(["ingest", synth, "--lake", base])
    days = raw_days(base)
    print(f"{len(days)} trading days ({days[0]} .. {days[-1]}), {os.cpu_count()} cores\n")
    print("| layout | run | P | wall (s) | days/s | vs 1 process |")
    print("|---|---|---|---|---|---|")
    for layout in a.layouts.split(","):
        one = None
        expected = None
        for p in [int(x) for x in a.processes.split(",")]:
            for kind in ["processes", "parallelism"]:
                if kind == "parallelism" and p == 1:
                    continue
                lake = fresh(base, a.work, f"{layout}-{kind}-{p}")
                wall = by_processes(lake, days, p, layout) if kind == "processes" else by_parallelism(lake, p, layout)
                got = check(lake)
                expected = expected or got
                assert got == expected, f"{layout} {kind} {p}: {got} != {expected}"
                one = one or wall
                print(f"| {layout} | {kind} | {p} | {wall:.1f} | {len(days) / wall:.1f} | {one / wall:.2f}x |",
                      flush=True)
                shutil.rmtree(lake)


if __name__ == "__main__":
    main()
