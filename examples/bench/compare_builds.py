#!/usr/bin/env python3
"""Two builds of b3lake side by side: ingest, transform and queries, runs interleaved.

For a change that should leave speed alone (a build profile, a dependency's features, a
refactor): both binaries do the same work on the same synthetic year, alternating which goes
first, so that the machine's drift hits both. Prints each binary's median and the ratio.

The work, on one synthetic year (2023, seed 1; ~454 MB of COTAHIST):
  - ingest of the year into a fresh lake;
  - transform of the year into the compact layout, then queries of queries/ on it: a day's
    top 10, its first ticker's year, the whole year's monthly value per ticker;
  - with --symbol-runs N (default 1; each takes about a minute): transform into the symbol
    layout (one folder per day and ticker) and a day's top 10 on it.

Usage (from the project root):
    python3 examples/bench/compare_builds.py --base /path/to/old/b3lake --new target/release/b3lake [--runs 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

YEAR = 2023
DAY = "2023-06-15"


def timed(cmd):
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return elapsed, p.stdout


def query(binary, lake, name, **variables):
    var_args = [a for k, v in variables.items() for a in ("--var", f"{k}={v}")]
    return timed([binary, "sql", "--lake", lake, "--format", "csv", "-f", f"queries/{name}", *var_args])


def compact_work(binary, lake, txt, record):
    shutil.rmtree(lake, ignore_errors=True)
    record("ingest, one year", timed([binary, "ingest", txt, "--lake", lake])[0])
    record("transform, compact layout", timed([binary, "transform", "--lake", lake, "--all", "--layout", "compact"])[0])
    elapsed, top = query(binary, lake, "top10_valor_negociado.sql", day=DAY)
    record("query: top 10 of a day (compact)", elapsed)
    symbol = top.splitlines()[1].split(",")[0]
    elapsed, history = query(binary, lake, "historico_ticker.sql", symbol=symbol, **{"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"})
    record("query: the day's top ticker over the year (compact)", elapsed)
    elapsed, monthly = query(binary, lake, "valor_mensal_por_ticker.sql", year=str(YEAR))
    record("query: monthly value per ticker, whole year (compact)", elapsed)
    answers = [top, history, monthly]
    return answers


def symbol_work(binary, lake, record):
    record("transform, symbol layout", timed([binary, "transform", "--lake", lake, "--all", "--layout", "symbol"])[0])
    elapsed, out = query(binary, lake, "top10_valor_negociado.sql", day=DAY)
    record("query: top 10 of a day (symbol)", elapsed)
    return [out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the b3lake binary to compare against")
    ap.add_argument("--new", required=True, help="the b3lake binary under test")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--symbol-runs", type=int, default=1)
    ap.add_argument("--work", default="/tmp/b3lake-builds")
    ap.add_argument(
        "--answers-may-differ",
        action="store_true",
        help="a change meant to alter answers (SQL semantics): report which differ instead of stopping",
    )
    args = ap.parse_args()
    binaries = {"base": os.path.abspath(args.base), "new": os.path.abspath(args.new)}
    os.makedirs(args.work, exist_ok=True)
    txt = os.path.join(args.work, f"COTAHIST_A{YEAR}.TXT")
    if not os.path.exists(txt):
        timed([binaries["new"], "synth", "--out", txt, "--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31", "--seed", "1"])
    times = {}

    def recorder(label):
        return lambda work, t: times.setdefault(work, {}).setdefault(label, []).append(t)

    for run in range(max(args.runs, args.symbol_runs)):
        order = ["base", "new"] if run % 2 == 0 else ["new", "base"]
        answers = {}
        for label in order:
            lake = os.path.join(args.work, f"lake-{label}")
            if run < args.runs:
                answers[label] = compact_work(binaries[label], lake, txt, recorder(label))
            if run < args.symbol_runs:
                answers[label] = answers.get(label, []) + symbol_work(binaries[label], lake, recorder(label))
        if answers["base"] != answers["new"]:
            if not args.answers_may_differ:
                sys.exit("the two builds answered differently")
            differing = [i for i, (b, n) in enumerate(zip(answers["base"], answers["new"])) if b != n]
            print(f"run {run + 1}: answers {differing} differ (allowed)", file=sys.stderr)
        print(f"run {run + 1} done", file=sys.stderr)

    print(f"| work | base (s) | new (s) | new / base |")
    print(f"|---|---:|---:|---:|")
    for work in times:
        base, new = statistics.median(times[work]["base"]), statistics.median(times[work]["new"])
        print(f"| {work} | {base:.3f} | {new:.3f} | {new / base:.3f} |")


if __name__ == "__main__":
    main()
