#!/usr/bin/env bash
# Creates .venv (the export converters' Python environment) and installs
# tools/export/requirements.txt into it. Idempotent: does nothing when the stamp file records
# the same requirements hash. Uses /usr/bin/python3 (Debian's, with venv) when present.
# Environment: TSML_VENV (default .venv), TSML_PYTHON (the base interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${TSML_VENV:-.venv}"
REQ="tools/export/requirements.txt"
STAMP="$VENV/.tsml-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

PY="${TSML_PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
    PY=/usr/bin/python3
  else
    PY="$(command -v python3)"
  fi
fi
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup_python: $PY has no venv/ensurepip; install python3-venv" >&2
  exit 1
fi
# PMML scoring (pypmml) needs a Java runtime.
if ! command -v java >/dev/null 2>&1; then
  echo "setup_python: installing a Java runtime for pypmml" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    default-jre-headless >&2
fi

start=$(date +%s)
echo "setup_python: creating $VENV from $REQ (takes a few minutes the first time)" >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -c \
  'import numpy, sklearn, xgboost, onnx, onnxruntime, pypmml, lxml, torch, tensorflow' >&2
echo "$want" > "$STAMP"
echo "setup_python: ready in $(( $(date +%s) - start )) s, $(du -sh "$VENV" | cut -f1)" >&2
