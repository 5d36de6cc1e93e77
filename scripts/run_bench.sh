#!/usr/bin/env bash
# `make bench`: runs the benchmark programs; figures go to bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [ -z "${TSML_TEST_PG_URL:-}" ]; then
  TSML_TEST_PG_URL=$(scripts/start_postgres.sh)
  export TSML_TEST_PG_URL
fi
rm -f bench/results.json
for b in "$BUILD_DIR"/bench/*_bench; do
  echo "== $(basename "$b")" >&2
  "$b" --out bench/results.json
done
echo "results: bench/results.json" >&2
