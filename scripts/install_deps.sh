#!/usr/bin/env bash
# Installs the Debian packages tsml needs, only those that are missing (idempotent).
# Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config curl
  libboost-dev libboost-system-dev nlohmann-json3-dev libssl-dev libspdlog-dev libfmt-dev
  libcli11-dev libabsl-dev libsqlite3-dev postgresql libpqxx-dev
  libxgboost-dev xgboost libfasttext-dev liblinear-dev libeigen3-dev libpugixml-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libzip-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
