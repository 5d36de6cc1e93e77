#!/usr/bin/env bash
# Starts a local PostgreSQL for tsml's tests and benchmarks; safe to run again.
#
# Installs PostgreSQL (Debian package) when missing, creates and starts the `main` cluster,
# creates role tsml/tsml (LOGIN, CREATEDB) and databases tsml_test and tsml_bench, then prints
# one line to stdout:  postgresql://tsml:tsml@127.0.0.1:PORT/tsml_test
# Everything else goes to stderr. Needs root (re-runs itself with sudo otherwise).
set -euo pipefail

log() { echo "start_postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (sudo not found)"
  log "re-running with sudo"
  exec sudo -- "$0" "$@"
fi

cd /  # runuser as postgres cannot read the caller's folder

readonly ROLE=tsml
readonly PASSWORD=tsml
readonly DATABASES=(tsml_test tsml_bench)

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q postgresql >&2; then
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q postgresql >&2 || die "apt-get install postgresql failed"
  fi
  command -v pg_ctlcluster >/dev/null 2>&1 || die "pg_ctlcluster still missing after install"
fi

# The newest installed major version.
version=""
if [[ -d /etc/postgresql ]]; then
  version="$(ls -1 /etc/postgresql | grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)"
fi
if [[ -z "${version}" && -d /usr/lib/postgresql ]]; then
  version="$(ls -1 /usr/lib/postgresql | grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)"
fi
[[ -n "${version}" ]] || die "no PostgreSQL version found in /etc/postgresql or /usr/lib/postgresql"

if [[ ! -f "/etc/postgresql/${version}/main/postgresql.conf" ]]; then
  log "creating cluster ${version}/main"
  pg_createcluster "${version}" main >&2 || die "pg_createcluster ${version} main failed"
fi

if ! pg_ctlcluster "${version}" main status >/dev/null 2>&1; then
  log "starting cluster ${version}/main"
  pg_ctlcluster "${version}" main start >&2 || die "pg_ctlcluster ${version} main start failed \
(see /var/log/postgresql/postgresql-${version}-main.log)"
fi

port="$(pg_lsclusters -h | awk -v v="${version}" '$1 == v && $2 == "main" { print $3 }')"
[[ "${port}" =~ ^[0-9]+$ ]] || die "cannot read the port of cluster ${version}/main"

ready=0
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "${port}" -t 1; then
    ready=1
    break
  fi
  sleep 0.5
done
[[ "${ready}" -eq 1 ]] || die "server on 127.0.0.1:${port} not ready after 30 s"

psql_admin() {
  runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "${port}" -d postgres "$@"
}

if [[ "$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'")" != "1" ]]; then
  log "creating role ${ROLE}"
  psql_admin -c "CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}'" >&2 \
    || die "CREATE ROLE ${ROLE} failed"
else
  # Keep the known password and privileges even if someone changed them.
  psql_admin -c "ALTER ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${PASSWORD}'" >&2 \
    || die "ALTER ROLE ${ROLE} failed"
fi

for db in "${DATABASES[@]}"; do
  if [[ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '${db}'")" != "1" ]]; then
    log "creating database ${db}"
    psql_admin -c "CREATE DATABASE ${db} OWNER ${ROLE}" >&2 || die "CREATE DATABASE ${db} failed"
  fi
done

echo "postgresql://${ROLE}:${PASSWORD}@127.0.0.1:${port}/tsml_test"
