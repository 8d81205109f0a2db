#!/usr/bin/env bash
# Runs every test. S3 tests need an S3 server: this installs moto from PyPI, starts it on
# 127.0.0.1, points the AWS SDK and object_store at it, runs `cargo test` (with the Lambda
# function's feature), and stops it. The AWS template's tests need cfn-lint and checkov, and the
# workflow's check-jsonschema and zizmor, installed into target/tools; Athena's clients, which
# the server's tests run, into target/clients.
# The report test renders the HTML report in headless Chromium: Debian's package, installed
# here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium > /dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends chromium > /dev/null 2>&1 ||
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium > /dev/null; }
fi

python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'
# The template's linters (and boto3 for its deployment to moto), apart from moto's packages.
if [ ! -x target/tools/bin/checkov ]; then
    python3 -m venv target/tools
    target/tools/bin/pip install --quiet --disable-pip-version-check 'checkov==3.3.30' 'cfn-lint==1.58.0'
fi
# The GitHub Actions workflow's linters: its schema, and zizmor's security audits (offline).
if [ ! -x target/tools/bin/zizmor ]; then
    target/tools/bin/pip install --quiet --disable-pip-version-check 'zizmor==1.33.1' 'check-jsonschema==0.39.0'
fi
export B3LAKE_TOOLS="$PWD/target/tools/bin"
# Athena's clients, run unchanged against `b3lake serve`: boto3, the AWS CLI, PyAthena (with
# SQLAlchemy and pandas) and awswrangler, and Jupyter with Plotly for the example notebook,
# apart from the linters' packages.
if [ ! -x target/clients/bin/jupyter ]; then
    python3 -m venv target/clients
    target/clients/bin/pip install --quiet --disable-pip-version-check 'awscli==1.46.2' \
        'pyathena[sqlalchemy,pandas,arrow]==4.2.1' 'awswrangler==3.17.1' \
        'nbconvert==7.17.2' 'nbclient==0.11.0' 'ipykernel==7.4.0' 'plotly==7.1.0'
fi
export B3LAKE_CLIENTS="$PWD/target/clients/bin"
# dbt-athena in a folder of its own (its pins differ). dbt-core 1.12's parser package is built
# by downloading from GitHub, which a registries-only network refuses: 1.11 has none.
if [ ! -x target/dbt/bin/dbt ]; then
    python3 -m venv target/dbt
    target/dbt/bin/pip install --quiet --disable-pip-version-check 'dbt-core==1.11.16' 'dbt-athena==1.11.1'
fi
export B3LAKE_DBT="$PWD/target/dbt/bin"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
# The least-privilege test records the requests the function's handlers make.
MOTO_RECORDER_FILEPATH="$PWD/target/moto_recording" python3 -m moto.server -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("moto did not start; see target/moto.log")
PY

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
cargo test --locked --features lambda "$@"
