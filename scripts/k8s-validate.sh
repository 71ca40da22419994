#!/usr/bin/env bash
# Proves the Kubernetes delivery without a cluster: lints the charts, renders them for every environment,
# validates the renders against the Kubernetes 1.30 API schemas (and KEDA's CRD) offline, lints them, and
# checks that values.schema.json and the chart's own guards refuse bad values.
#
#   scripts/k8s-validate.sh [--keep]        (--keep: leave the renders in the printed directory)
#
# Tools come from scripts/k8s-tools.sh (built once, then cached). What runs, in order:
#   1. helm lint --strict: the service chart alone, the platform chart with each values file
#   2. helm template: the platform for dev and production; kustomize build: both cluster overlays
#   3. values that must be refused: schema violations and guard failures, each with its expected message
#   4. kubectl-validate --version 1.30 --local-crds k8s/crds: every render and overlay
#   5. kube-score on the platform renders, flags and reasons in k8s/lint/kube-score*.args
# test/k8s/*.spec.ts (jest) then reads the same renders for the policy-level assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
[[ ${1:-} == --keep ]] && keep=1

KUBE_VERSION=1.30.0
ENVIRONMENTS=(dev production)
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

bash scripts/k8s-tools.sh >/dev/null
BIN=$(bash scripts/k8s-tools.sh --print-bin)
helm=$BIN/helm kubectl_validate=$BIN/kubectl-validate kube_score=$BIN/kube-score kustomize=$BIN/kustomize

out=$(mktemp -d "${TMPDIR:-/tmp}/vtv-k8s-validate.XXXXXX")
if [[ $keep == 1 ]]; then trap 'echo "renders kept in $out"' EXIT; else trap 'rm -rf "$out"' EXIT; fi

# helm prints a notice for the linked service chart (charts/vtv-platform/charts/vtv-service); it is expected.
quiet_helm() { "$helm" "$@" 2> >(grep -v 'found symbolic link in path' >&2); }

step "helm lint --strict"
quiet_helm lint --strict --kube-version "$KUBE_VERSION" charts/vtv-service --set global.kafka.brokers=kafka:9092
for env in "${ENVIRONMENTS[@]}"; do
  quiet_helm lint --strict --kube-version "$KUBE_VERSION" charts/vtv-platform -f "charts/vtv-platform/values-$env.yaml"
done

step "render: helm template (platform) and kustomize build (cluster overlays)"
for env in "${ENVIRONMENTS[@]}"; do
  quiet_helm template vtv charts/vtv-platform --namespace vtv --kube-version "$KUBE_VERSION" \
    -f "charts/vtv-platform/values-$env.yaml" >"$out/platform-$env.yaml"
  "$kustomize" build "k8s/overlays/$env" >"$out/cluster-$env.yaml"
  printf '  %-10s platform: %s objects (%s)   cluster overlay: %s objects\n' "$env" \
    "$(grep -c '^kind:' "$out/platform-$env.yaml")" \
    "$(grep '^kind:' "$out/platform-$env.yaml" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $3; sep=", "}')" \
    "$(grep -c '^kind:' "$out/cluster-$env.yaml")"
done

step "values that must be refused"
# <expected message> <helm --set arguments…>: rendering must fail with that message.
must_refuse() {
  local expected=$1 log=$out/refused.log
  shift
  # helm itself, not quiet_helm: its stderr filter is a process substitution bash does not wait for, so
  # the message could reach the log after the grep below has read it (seen on a loaded machine).
  if "$helm" template vtv charts/vtv-platform --kube-version "$KUBE_VERSION" \
    -f charts/vtv-platform/values-production.yaml "$@" >/dev/null 2>"$log"; then
    fail "accepted: $*"
  fi
  grep -qF -- "$expected" "$log" || { cat "$log" >&2; fail "refused without '$expected': $*"; }
  printf '  refused  %-62s %s\n' "$*" "($expected)"
}
must_refuse "at '/replicaCount': got string, want integer" --set vouchers.replicaCount=two
must_refuse "at '/global/environment': value must be one of" --set global.environment=staging
must_refuse "additional properties 'voucher' not allowed" --set voucher.replicaCount=3
must_refuse "additional properties 'replicas' not allowed" --set training.replicas=3
must_refuse "at '/gateway/role': value must be 'gateway'" --set gateway.role=subgraph
must_refuse "at '/resources/limits/memory'" --set vouchers.resources.limits.memory=lots
must_refuse "at '/kafkaScaling/maxReplicas'" --set vouchers.kafkaScaling.maxReplicas=0
must_refuse "exceeds 12, the most partitions" --set vouchers.kafkaScaling.maxReplicas=13
must_refuse "a KEDA ScaledObject owns its own HPA" --set vouchers.autoscaling.enabled=true
must_refuse "is shorter than preStop" --set gateway.shutdown.terminationGracePeriodSeconds=20
must_refuse "exceed database.connectionBudget" --set vouchers.database.poolSize=50

step "kubectl-validate (Kubernetes $KUBE_VERSION schemas, KEDA ScaledObject CRD from k8s/crds)"
"$kubectl_validate" --version "${KUBE_VERSION%.*}" --local-crds k8s/crds "$out"/platform-*.yaml "$out"/cluster-*.yaml

step "kube-score (k8s/lint/kube-score*.args)"
score_args() { sed 's/#.*//' "$1" | xargs; }
for env in "${ENVIRONMENTS[@]}"; do
  # shellcheck disable=SC2046
  if ! "$kube_score" score $(score_args k8s/lint/kube-score.args) $(score_args "k8s/lint/kube-score.$env.args") \
    "$out/platform-$env.yaml" >"$out/kube-score-$env.txt"; then
    grep -v '^\[OK\]\|^\[SKIPPED\]' "$out/kube-score-$env.txt" >&2
    fail "kube-score found problems in the $env render"
  fi
  printf '  %-10s %s checks OK, %s skipped (ignored tests and not-applicable ones), 0 warnings, 0 critical\n' "$env" \
    "$(grep -c '^\[OK\]' "$out/kube-score-$env.txt")" "$(grep -c '^\[SKIPPED\]' "$out/kube-score-$env.txt")"
done

step "Kubernetes delivery validated in $(($(date +%s) - started)) s"
