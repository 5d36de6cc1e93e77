# Sourced by run_tests.sh and run_bench.sh: the environment both need.
# XGBoost's OpenMP threads must not spin-wait on a busy machine (see src/main.cc).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR="${BUILD_DIR:-build}"
# A PostgreSQL for the store suites and benchmarks (started when not given).
if [ -z "${TSML_TEST_PG_URL:-}" ]; then
  TSML_TEST_PG_URL=$(scripts/start_postgres.sh)
  export TSML_TEST_PG_URL
fi
