#!/usr/bin/env python3
"""Writers on S3: W processes transforming disjoint days of one lake on an S3-compatible server
at once, each request 20-40 ms away as S3 is from Lambda, for W = 1, 4, 16, 64.

The server is s3s-fs (crates.io), a Rust S3 server over a local folder, chosen because it
honours `If-None-Match: *` and `If-Match` on PUT, which b3lake's leases and locks need (moto
does too, but answers a few hundred requests a second), and stores each object as a file, so a
run's lake is a fresh copy of a base folder and its result is read back as a local lake. Its
listing walks the whole bucket, a thread hop per file, on every request (100 ms for 1,700 files),
so it runs here as s3_server/ beside this file (built by this script): s3s-fs with a listing
that reads only the prefix's folder, which also answers each request a round trip of 20-40 ms
late, as S3 does from Lambda (a delay in the server costs no CPU, where a proxy would take a
core of two), and counts requests. Its folder is in memory (/dev/shm), where creating a file
costs no journal. It still needs ~0.4 ms of CPU a request, which is what fills two cores first.

Each writer is one `b3lake transform --from A --to B --parallelism 1` process on its own
--days-per-writer consecutive days (weak scaling: W writers do W times the days), against a lake
whose refined table already exists, so no writer needs the whole lake. Reported per layout and
W: wall time, days per minute, the ratio to W times one writer's rate, the CPU the writers and
the server used (user+sys over wall, of the machine's cores), requests a second and S3 requests
per day by kind. Every run's
refined days are checked against one local transform of the same days (rows and traded value to
the cent).

Usage (from the project root, after `cargo build --release`; `B3LAKE_BIN` names another binary):
    python3 examples/bench/writers_s3.py [--writers 1,4,16,64] [--days-per-writer 4]
"""

import argparse
import base64
import json
import os
import resource
import shutil
import contextlib
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
B3LAKE = os.path.abspath(os.environ.get("B3LAKE_BIN", "target/release/b3lake"))
SERVER = os.path.join(HERE, "s3_server")
KEY = "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(port):
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": KEY, "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def run(args, env=None):
    out = subprocess.run([B3LAKE, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{args}: {out.stderr}")
    return out.stdout


def wait_for(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def per_day(lake, days):
    out = run(["sql", "--lake", lake, "--format", "csv", "-c",
               "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(vol_financeiro_total) "
               f"FROM cotacoes_b3_refined WHERE data_pregao BETWEEN DATE '{days[0]}' AND DATE '{days[-1]}' "
               "GROUP BY 1 ORDER BY 1"])
    return out.split()[1:]


@contextlib.contextmanager
def serve(root, args=()):
    """The S3 server on `root`; its port."""
    port = free_port()
    server = subprocess.Popen([os.path.join(SERVER, "target", "release", "b3lake-bench-s3-server"), root, str(port),
                               KEY, KEY, *args], stdout=subprocess.DEVNULL)
    try:
        wait_for(port)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def drop_bucket(root, bucket):
    """The bucket's folder, and the two files s3s-fs keeps beside it for each object it ever
    held (it never removes them): in memory, those would run out of inodes within a few runs."""
    shutil.rmtree(os.path.join(root, bucket))
    mark = ".bucket-" + base64.urlsafe_b64encode(bucket.encode()).decode().rstrip("=") + "."
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith(mark):
                os.unlink(entry.path)


def cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def writers(bucket, port, days, w, per, layout):
    """W transform processes on the server at `port`; wall seconds and CPU seconds."""
    env = env_for(port)
    chunks = [days[i * per:(i + 1) * per] for i in range(w)]
    before = cpu_of_children()
    started = time.monotonic()
    procs = [subprocess.Popen([B3LAKE, "transform", "--lake", f"s3://{bucket}/lake", "--from", c[0],
                               "--to", c[-1], "--parallelism", "1", "--layout", layout],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
             for c in chunks]
    errors = [err for proc in procs for err in [proc.communicate()[1]] if proc.returncode != 0]
    wall = time.monotonic() - started
    return wall, cpu_of_children() - before, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", default="2024-01-01")
    ap.add_argument("--to", dest="end", default="2024-12-31")
    ap.add_argument("--writers", default="1,4,16,64")
    ap.add_argument("--days-per-writer", type=int, default=4)
    ap.add_argument("--layouts", default="compact,symbol")
    ap.add_argument("--min-ms", type=int, default=20)
    ap.add_argument("--max-ms", type=int, default=40)
    # The server's folder: in memory, where creating a file costs no journal.
    ap.add_argument("--work", default="/dev/shm/b3lake-bench-writers-s3")
    a = ap.parse_args()
    counts = [int(x) for x in a.writers.split(",")]
    shutil.rmtree(a.work, ignore_errors=True)
    root = os.path.join(a.work, "s3")
    os.makedirs(os.path.join(root, "base"))
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(SERVER, "Cargo.toml")],
                   check=True)
    synth = os.path.join(a.work, "synth.txt")
    run(["synth", "--out", synth, "--from", a.start, "--to", a.end])
    with serve(root) as port:
        run(["ingest", synth, "--lake", "s3://base/lake"], env=env_for(port))
    days = run(["sql", "--lake", os.path.join(root, "base", "lake"), "--format", "csv", "-c",
                "SELECT DISTINCT CAST(data_pregao AS VARCHAR) FROM cotacoes_b3_raw ORDER BY 1"]).split()[1:]
    need = max(counts) * a.days_per_writer
    if len(days) < need + 1:
        sys.exit(f"{len(days)} trading days; {need + 1} needed")
    print(f"{len(days)} trading days; W writers transform {a.days_per_writer} days each; "
          f"{a.min_ms}-{a.max_ms} ms a request; {os.cpu_count()} cores\n")
    kinds = ["PUT", "COPY", "GET", "HEAD", "LIST", "DELETE (batch)"]
    print("| layout | writers | days | wall (s) | days/min | vs linear | CPU: writers, server | "
          "requests/s | S3 requests a day: PUT, COPY, GET, HEAD, LIST, batch DELETE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for layout in a.layouts.split(","):
        # The layout's base: its refined table defined by a transform of the last day, which no
        # writer does; the expected days from a local transform of a copy.
        base = f"base-{layout}"
        shutil.copytree(os.path.join(root, "base"), os.path.join(root, base))
        with serve(root) as port:
            run(["transform", "--lake", f"s3://{base}/lake", "--day", days[-1], "--layout", layout],
                env=env_for(port))
        local = os.path.join(a.work, f"local-{layout}")
        shutil.copytree(os.path.join(root, base, "lake"), local)
        run(["transform", "--lake", local, "--from", days[0], "--to", days[need - 1], "--layout", layout])
        one = None
        for w in counts:
            bucket = f"run-{layout}-{w}"
            shutil.copytree(os.path.join(root, base), os.path.join(root, bucket))
            mine = days[:w * a.days_per_writer]
            stats = os.path.join(a.work, f"{bucket}.json")
            latency = ["--latency-ms", f"{a.min_ms}-{a.max_ms}", "--counts", stats, "--prefix", "lake/"]
            before = cpu_of_children()
            with serve(root, latency) as port:
                wall, cpu, errors = writers(bucket, port, days, w, a.days_per_writer, layout)
            server_cpu = cpu_of_children() - before - cpu
            if errors:
                # The machine, not S3, ran out: say so and go on with the next layout.
                last = errors[0].strip().splitlines()[-1]
                print(f"| {layout} | {w} | {len(mine)} | {wall:.1f} | {len(errors)} of {w} writers failed | | "
                      f"{cpu / wall / os.cpu_count():.0%}, {server_cpu / wall / os.cpu_count():.0%} | | |", flush=True)
                print(f"\n{layout}, {w} writers, the first failure: {last[:400]}\n", file=sys.stderr)
                drop_bucket(root, bucket)
                break
            got = per_day(os.path.join(root, bucket, "lake"), mine)
            want = per_day(local, mine)
            assert got == want, f"{layout} W={w}: the refined days differ from a local transform"
            rate = len(mine) / wall * 60
            one = one or rate / w
            with open(stats) as f:
                n = json.load(f)
            total = sum(v for k, v in n.items() if " " not in k or k == "DELETE (batch)")
            by_kind = ", ".join(f"{n.get(k, 0) / len(mine):.0f}" for k in kinds)
            cores = os.cpu_count()
            print(f"| {layout} | {w} | {len(mine)} | {wall:.1f} | {rate:.1f} | {rate / (one * w):.2f} | "
                  f"{cpu / wall / cores:.0%}, {server_cpu / wall / cores:.0%} | {total / wall:.0f} | {by_kind} |",
                  flush=True)
            drop_bucket(root, bucket)


if __name__ == "__main__":
    main()
