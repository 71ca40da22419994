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

step "event catalogue current (docs/events.md, docs/asyncapi.yaml, docs/events.binpb)"
tsx scripts/events/docs.ts --check

step "supergraph composes and is current"
tsx scripts/compose.ts --check

step "Kubernetes delivery: charts, manifests, image build"
bash scripts/k8s-validate.sh
bash scripts/image-build-check.sh

step "registered operations valid and manifest current"
tsx scripts/operations-manifest.ts --check

step "tests: unit, integration, end-to-end"
mkdir -p .test-output
rm -f .test-output/events-tap.json .test-output/events-tap.ready
# The tap reads every event that reaches the broker during the run (test namespaces are deleted as
# their files finish), so the privacy scan below covers all of them.
tsx scripts/events/privacy-scan.ts tap --report .test-output/events-tap.json \
  --ready .test-output/events-tap.ready 2>.test-output/events-tap.log &
tap_pid=$!
for _ in $(seq 150); do [[ -f .test-output/events-tap.ready ]] && break; sleep 0.2; done
set +e
jest --maxWorkers=2 --ci 2>&1 | tee .test-output/jest.log
status=${PIPESTATUS[0]}
set -e
kill -TERM "$(cat .test-output/events-tap.ready 2>/dev/null)" 2>/dev/null || true
wait "$tap_pid" || true

step "privacy scan of every event of the run"
tsx scripts/events/privacy-scan.ts scan --tap-report .test-output/events-tap.json || status=1

step "personal-data scan of the test logs"
tsx scripts/scan-logs.ts .test-output/jest.log

exit "$status"
