#!/usr/bin/env bash
# `make test`: starts PostgreSQL for the store suites, then runs every test with ctest.
set -euo pipefail
# XGBoost's OpenMP threads must not spin-wait on a busy machine (see src/main.cc).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [ -z "${TSML_TEST_PG_URL:-}" ]; then
  TSML_TEST_PG_URL=$(scripts/start_postgres.sh)
  export TSML_TEST_PG_URL
fi
echo "PostgreSQL for tests: ${TSML_TEST_PG_URL%%:*}://...@${TSML_TEST_PG_URL##*@}" >&2
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 300 "$@"
