#!/usr/bin/env bash
# Builds the Lambda function's package, named by its content, and prints that name:
# target/lambda/b3lake-lambda-<sha256>.zip. The template's CodeKey takes the name, so a new
# package is a new key, which is what makes CloudFormation update the functions.
#
#   examples/aws/build_function.sh [x86_64|arm64]
#
# cargo-lambda comes from PyPI; it is installed into its own virtual environment
# (target/lambda-tools), since Debian 12, Ubuntu 24.04 and Homebrew refuse `pip install` into
# the system's Python (PEP 668).
#
# cargo-lambda (pip install cargo-lambda) links with zig against an older glibc than this
# machine's, so the binary starts on Lambda's provided.al2023 (glibc 2.34). The function is built
# without the command line's charts, fonts, REPL and Athena client (--no-default-features).
# The script refuses a package that needs a newer glibc or is over Lambda's 50 MB upload limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="${1:-x86_64}"
case "$arch" in
    x86_64) flag=--x86-64 ;;
    arm64) flag=--arm64 ;;
    *) echo "architecture: x86_64 or arm64, not $arch" >&2; exit 2 ;;
esac
if ! command -v cargo-lambda > /dev/null; then
    if [ ! -x target/lambda-tools/bin/cargo-lambda ]; then
        python3 -m venv target/lambda-tools
        target/lambda-tools/bin/pip install --quiet --disable-pip-version-check cargo-lambda
    fi
    export PATH="$PWD/target/lambda-tools/bin:$PATH"
fi
CARGO_TARGET_DIR=target/lambda-build cargo lambda build --release "$flag" --no-default-features --features lambda --bin b3lake-lambda \
    --lambda-dir target/lambda --output-format zip

zip=target/lambda/b3lake-lambda/bootstrap.zip
binary=$(mktemp -d)/bootstrap
python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("bootstrap"))' "$zip" "$binary"
glibc=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
size=$(stat -c %s "$zip")
echo "$zip: $size bytes zipped, $(stat -c %s "$binary") bytes unzipped; needs $glibc"
# provided.al2023 has glibc 2.34.
if [ "$(printf '%s\n' "$glibc" GLIBC_2.34 | sort -V | tail -1)" != GLIBC_2.34 ]; then
    echo "the binary needs $glibc, newer than provided.al2023's GLIBC_2.34" >&2
    exit 1
fi
if [ "$size" -ge 50000000 ]; then
    echo "the package is over Lambda's 50 MB direct upload limit" >&2
    exit 1
fi
named="target/lambda/b3lake-lambda-$(sha256sum "$zip" | cut -c1-16).zip"
cp "$zip" "$named"
echo "$named"
