#!/usr/bin/env bash
# On a machine without a Docker daemon, `opssight-harness test --env kind`
# (and here no kind or helm either: nothing worth waiting for Docker for)
# fails within 2 s with the no-Docker message and starts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker info >/dev/null 2>&1; then
  echo "kind without Docker: Docker is reachable here, so this check does not apply; skipped"
  exit 0
fi
cargo build --quiet -p opssight-harness
start=$(date +%s%N)
set +e
out=$(./target/debug/opssight-harness test --env kind 2>&1)
code=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$out"
[ "$code" -eq 2 ] || { echo "FAIL: exit code $code, expected 2" >&2; exit 1; }
case "$out" in *"Docker is not reachable"*) ;; *) echo "FAIL: no Docker message" >&2; exit 1 ;; esac
[ "$ms" -lt 2000 ] || { echo "FAIL: took ${ms} ms" >&2; exit 1; }
echo "kind without Docker: failed as expected in ${ms} ms; 1 passed, 0 failed"
