#!/usr/bin/env bash
# Lints the event contracts and generates TypeScript from them. With --check, generates into a
# temporary folder and fails when the committed code differs (stale generated code fails CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=packages/events/src/gen

buf lint
if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  buf generate --template buf.gen.yaml -o "$tmp"
  if ! diff -r "$tmp/$out" "$out" >/dev/null; then
    echo "Generated event code is stale: run 'npm run proto' and commit $out" >&2
    diff -r "$tmp/$out" "$out" | head -20 >&2
    exit 1
  fi
  echo "event code is current"
else
  rm -rf "$out"
  buf generate
  echo "generated $out"
fi
