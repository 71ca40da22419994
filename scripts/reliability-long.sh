#!/usr/bin/env bash
# The long reliability run (not part of `npm test`): the property and fuzz tests of test/reliability with
# many more cases, against the real infrastructure of scripts/infra.sh. See docs/reliability.md.
#   bash scripts/reliability-long.sh            # defaults below
#   MODEL_RUNS=2000 FUZZ_GENERATED=50000 bash scripts/reliability-long.sh
#   SUSTAINED_SECONDS=1800 KAFKA_OUTAGE_SECONDS=300 bash scripts/reliability-long.sh
# SUSTAINED_SECONDS: the mixed load through the gateway (sustained-load.e2e.spec.ts; SUSTAINED_CONCURRENCY
# clients). KAFKA_OUTAGE_SECONDS: how long Kafka is unreachable over the network (kafka-outage.int.spec.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/infra.sh up
# shellcheck disable=SC1091
source .infra.env
export MODEL_RUNS=${MODEL_RUNS:-500}
export MODEL_CONCURRENT_RUNS=${MODEL_CONCURRENT_RUNS:-100}
export FUZZ_GENERATED=${FUZZ_GENERATED:-20000}
export FUZZ_MUTATED=${FUZZ_MUTATED:-20000}
export SUSTAINED_SECONDS=${SUSTAINED_SECONDS:-600}
export SUSTAINED_CONCURRENCY=${SUSTAINED_CONCURRENCY:-16}
export KAFKA_OUTAGE_SECONDS=${KAFKA_OUTAGE_SECONDS:-90}
# The fuzz seed is printed; replay a failure with FUZZ_SEED=<seed>.
RELIABILITY_TIMEOUT_MS=${RELIABILITY_TIMEOUT_MS:-7200000} jest --runInBand --ci test/reliability --selectProjects integration e2e
