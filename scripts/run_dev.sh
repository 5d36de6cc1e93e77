#!/usr/bin/env bash
# `make run`: the service on its embedded defaults (SQLite, var/artifacts, in-process workers),
# with a random JWT secret in var/jwt.secret, demo data on first start, and an admin token.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/tsml
mkdir -p var
if [ ! -s var/jwt.secret ]; then
  (umask 077 && head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/jwt.secret)
fi
chmod 600 var/jwt.secret
export TSML_JWT_SECRET_FILE="$PWD/var/jwt.secret"
export TSML_LISTEN="${TSML_LISTEN:-127.0.0.1:8080}"

if "$BIN" --help 2>/dev/null | grep -q seed-demo && [ ! -f var/travelsense.db ]; then
  echo "seeding the demo data set into var/travelsense.db ..." >&2
  "$BIN" seed-demo >&2
fi

TOKEN=$("$BIN" token --sub 5f0c0ffee0ddba11cafe0001 --role admin \
  --perm ml:train,ml:deploy,ml:monitor,ml:export,ml:predict,ml:admin --ttl 86400)
cat >&2 <<MSG

tsml is starting on http://${TSML_LISTEN}
Admin token (24 h):

  export TOKEN=${TOKEN}

Try:
  curl -s -X POST http://${TSML_LISTEN}/api/ml/training/initiate \\
    -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -d '{"modelType":"churn_prediction","trainingData":{"source":"user_profiles"}}'
  curl -s http://${TSML_LISTEN}/api/ml/training/jobs -H "Authorization: Bearer \$TOKEN"

MSG
exec "$BIN" serve
