#!/usr/bin/env bash
# Installs the Kubernetes tools the validation needs, built from source with `go install` from the Go
# module proxy at pinned versions, into a cache directory. Idempotent: a tool already built at its pinned
# version (read from the binary's own build info) is skipped, so a second run takes about a second.
#
#   scripts/k8s-tools.sh                  install what is missing; print the bin directory last
#   scripts/k8s-tools.sh --print-bin      print the bin directory only
#   scripts/k8s-tools.sh --vendor-crds    re-vendor k8s/crds/keda-scaledobjects.yaml from KEDA_VERSION
#
# Bin directory: $VTV_TOOLS_BIN, else /var/lib/vtv-tools/bin when writable, else ~/.cache/vtv-tools/bin.
# The first build takes several minutes on two cores (helm and kubectl-validate pull in client-go);
# Go's module and build caches make rebuilds after a version bump much faster.
#
# kube-linter is not among them: its module host (golang.stackrox.io) is not reachable through the Go
# module proxy from these machines, so kube-score (same family of checks, documented exclusions in
# k8s/lint/) lints the rendered manifests instead.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
KUBECTL_VALIDATE_VERSION=v0.0.4
KUBE_SCORE_VERSION=v1.20.0
KUSTOMIZE_VERSION=v5.8.2 # v5.8.3 needs Go 1.27
KEDA_VERSION=v2.21.0     # only for --vendor-crds

# tool name | module (as in the binary's build info) | package to install | version
TOOLS=(
  "helm|helm.sh/helm/v3|helm.sh/helm/v3/cmd/helm|$HELM_VERSION"
  "kubectl-validate|sigs.k8s.io/kubectl-validate|sigs.k8s.io/kubectl-validate|$KUBECTL_VALIDATE_VERSION"
  "kube-score|github.com/zegl/kube-score|github.com/zegl/kube-score/cmd/kube-score|$KUBE_SCORE_VERSION"
  "kustomize|sigs.k8s.io/kustomize/kustomize/v5|sigs.k8s.io/kustomize/kustomize/v5|$KUSTOMIZE_VERSION"
)

bin_dir() {
  if [[ -n ${VTV_TOOLS_BIN:-} ]]; then
    echo "$VTV_TOOLS_BIN"
  elif mkdir -p /var/lib/vtv-tools/bin 2>/dev/null && [[ -w /var/lib/vtv-tools/bin ]]; then
    echo /var/lib/vtv-tools/bin
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/vtv-tools/bin"
  fi
}
BIN=$(bin_dir)

# The version of module $2 that binary $1 was built from, or nothing.
built_version() {
  [[ -x $1 ]] || return 0
  go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

vendor_crds() {
  local dir src out=k8s/crds/keda-scaledobjects.yaml
  dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  src="$dir/config/crd/bases/keda.sh_scaledobjects.yaml"
  [[ -f $src ]] || { echo "k8s-tools: $src not found" >&2; exit 1; }
  {
    printf '# Vendored, unmodified apart from this header and Prettier'"'"'s formatting, from the Go module\n'
    printf '# github.com/kedacore/keda/v2@%s (config/crd/bases/keda.sh_scaledobjects.yaml, sha256 %s).\n' \
      "$KEDA_VERSION" "$(sha256sum "$src" | cut -d' ' -f1)"
    printf '# Used offline by scripts/k8s-validate.sh (kubectl-validate --local-crds). Refresh: scripts/k8s-tools.sh --vendor-crds\n'
    cat "$src"
  } >"$out"
  node_modules/.bin/prettier --write "$out" >/dev/null
  echo "vendored $out from keda $KEDA_VERSION"
}

case ${1:-} in
  --print-bin) echo "$BIN"; exit 0 ;;
  --vendor-crds) vendor_crds; exit 0 ;;
  "") ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac

command -v go >/dev/null || { echo "k8s-tools: Go is required (go install builds the tools)" >&2; exit 1; }
mkdir -p "$BIN"
export GOBIN=$BIN GOTOOLCHAIN=local GOFLAGS=-mod=mod
started=$(date +%s)
pids=() names=()
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name module pkg version <<<"$entry"
  have=$(built_version "$BIN/$name" "$module")
  if [[ $have == "$version" ]]; then
    echo "$name $version: cached"
    continue
  fi
  echo "$name $version: building${have:+ (was $have)} …"
  # Two builds at a time at most: they share Go's build cache and the machine has two cores.
  if [[ ${#pids[@]} -ge 2 ]]; then
    wait "${pids[0]}" || { echo "k8s-tools: building ${names[0]} failed (log: $BIN/.${names[0]}.log)" >&2; exit 1; }
    pids=("${pids[@]:1}") names=("${names[@]:1}")
  fi
  go install -ldflags='-s -w' "$pkg@$version" >"$BIN/.$name.log" 2>&1 &
  pids+=("$!") names+=("$name")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "k8s-tools: building ${names[$i]} failed (log: $BIN/.${names[$i]}.log)" >&2; exit 1; }
done
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name module _ version <<<"$entry"
  [[ $(built_version "$BIN/$name" "$module") == "$version" ]] ||
    { echo "k8s-tools: $BIN/$name is not $module $version" >&2; exit 1; }
done
echo "tools ready in $(($(date +%s) - started)) s"
echo "$BIN"
