#!/usr/bin/env bash
# `make test`: starts PostgreSQL for the store suites, then runs every test with ctest.
set -euo pipefail
source "$(dirname "$0")/test_env.sh"
echo "PostgreSQL for tests: ${TSML_TEST_PG_URL%%:*}://...@${TSML_TEST_PG_URL##*@}" >&2
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 300 "$@"
