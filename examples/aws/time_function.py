"""Times the function's package as Lambda runs it, on one CPU: the cold start (process start to
its first request for an event) and one invocation (a backfill request: a day's transform, or
a batch of days'), through a Lambda Runtime API served here on 127.0.0.1.

    python3 examples/aws/time_function.py target/lambda/b3lake-lambda/bootstrap.zip LAKE DAY[,DAY...]

LAKE is a lake (a local folder, or s3://...) whose raw table has the days (YYYY-MM-DD), e.g.
made with `b3lake ingest tests/data/COTAHIST_D04022022.TXT --lake LAKE`. B3LAKE_PARALLELISM
(default 1) sets how many days of the batch run at once.
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

package, lake, day = sys.argv[1:4]
binary = os.path.join(tempfile.mkdtemp(), "bootstrap")
with open(binary, "wb") as out:
    out.write(zipfile.ZipFile(package).read("bootstrap"))
os.chmod(binary, 0o755)

marks = {}
done = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if "first_next" in marks:
            done.wait()
            self.send_response(500)
            self.end_headers()
            return
        marks["first_next"] = time.monotonic()
        body = json.dumps({"b3lake": "transform", "days": day.split(",")}).encode()
        self.send_response(200)
        for name, value in [("Lambda-Runtime-Aws-Request-Id", "timing"), ("Lambda-Runtime-Deadline-Ms", "4102444800000"),
                            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:b3lake"),
                            ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        marks["answered"] = time.monotonic()
        marks["answer"] = body.decode()
        self.send_response(202)
        self.end_headers()
        done.set()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
           AWS_LAMBDA_FUNCTION_NAME="b3lake-timing", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="2048",
           AWS_LAMBDA_FUNCTION_VERSION="$LATEST", B3LAKE_LAKE=lake,
           B3LAKE_PARALLELISM=os.environ.get("B3LAKE_PARALLELISM", "1"))
started = time.monotonic()
process = subprocess.Popen(["taskset", "-c", "0", binary], env=env, stderr=subprocess.DEVNULL)
done.wait(timeout=900)
# taskset execs the binary: the same process. Its CPU time so far, user and system.
fields = open(f"/proc/{process.pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
process.kill()
print(f"binary: {os.path.getsize(binary) / 1e6:.1f} MB; package: {os.path.getsize(package) / 1e6:.1f} MB")
print(f"cold start (process start to its first request for an event): {(marks['first_next'] - started) * 1e3:.0f} ms")
print(f"one invocation (transform of {day}), one CPU: {(marks['answered'] - marks['first_next']):.2f} s")
print(f"B3LAKE_PARALLELISM: {env['B3LAKE_PARALLELISM']}; the function's CPU time: {cpu:.2f} s")
print(f"answer: {marks['answer']}")
