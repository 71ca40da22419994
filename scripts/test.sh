#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs dependencies, provisions real PostgreSQL,
# Redis and Kafka (scripts/infra.sh), then runs every check and all three test tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm install` (not `npm ci`): npm 11 drops other platforms' optional packages from the lock,
  # which `npm ci` then reports as out of sync. The lock still pins every version installed here.
  step "npm install"
  npm install --no-audit --no-fund
fi
export PATH="$root/node_modules/.bin:$PATH"
node --version

step "infrastructure (PostgreSQL, Redis, Kafka)"
bash scripts/infra.sh up
# shellcheck disable=SC1091
source .infra.env

step "lint and format"
eslint . --max-warnings 0
prettier --check . --log-level warn

step "typecheck"
tsc -p tsconfig.json --noEmit

step "event contracts (buf lint, generated code current)"
bash scripts/proto.sh --check

step "supergraph composes and is current"
tsx scripts/compose.ts --check

step "tests: unit, integration, end-to-end"
mkdir -p .test-output
set +e
jest --maxWorkers=2 --ci 2>&1 | tee .test-output/jest.log
status=${PIPESTATUS[0]}
set -e

step "personal-data scan of the test logs"
tsx scripts/scan-logs.ts .test-output/jest.log

exit "$status"
