#!/usr/bin/env bash
# `make bench`: runs the benchmark programs; figures go to bench/results.json.
set -euo pipefail
source "$(dirname "$0")/test_env.sh"
command -v wrk > /dev/null || { echo "installing wrk" >&2; ${SUDO:-} apt-get install -y -qq wrk >&2 || apt-get update -qq >&2 && apt-get install -y -qq wrk >&2; }
rm -f bench/results.json
for b in "$BUILD_DIR"/bench/*_bench; do
  echo "== $(basename "$b")" >&2
  "$b" --out bench/results.json
done
echo "results: bench/results.json" >&2
