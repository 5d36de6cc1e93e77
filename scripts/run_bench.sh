#!/usr/bin/env bash
# `make bench`: runs the benchmark programs; figures go to bench/results.json.
set -euo pipefail
# XGBoost's OpenMP threads must not spin-wait on a busy machine (see src/main.cc).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [ -z "${TSML_TEST_PG_URL:-}" ]; then
  TSML_TEST_PG_URL=$(scripts/start_postgres.sh)
  export TSML_TEST_PG_URL
fi
command -v wrk > /dev/null || { echo "installing wrk" >&2; ${SUDO:-} apt-get install -y -qq wrk >&2 || apt-get update -qq >&2 && apt-get install -y -qq wrk >&2; }
rm -f bench/results.json
for b in "$BUILD_DIR"/bench/*_bench; do
  echo "== $(basename "$b")" >&2
  "$b" --out bench/results.json
done
echo "results: bench/results.json" >&2
