#!/usr/bin/env bash
# scripts/kubectl-against-emulator.sh's kubectl commands against the real
# kube-apiserver: `opssight-harness up --env binaries` brings up the real
# control plane (its components built by scripts/build-real-components.sh),
# the script runs with its kubeconfig, and the control plane is stopped
# (SIGTERM: every process and file of it goes) however the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${OPSSIGHT_HARNESS:-target/debug/opssight-harness}
[ -x "$harness" ] || cargo build --quiet -p opssight-harness
# `up` prints the run's credentials: they stay in a 0700 directory.
work=$(umask 077 && mktemp -d)
up_pid=""
cleanup() {
  if [ -n "$up_pid" ]; then kill -TERM "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM HUP

(umask 077 && exec "$harness" up --env binaries >"$work/up.out" 2>"$work/up.err") &
up_pid=$!
kubeconfig=""
for _ in $(seq 1 240); do   # up to 120 s for the control plane
  kubeconfig=$(sed -n 's/^export KUBECONFIG=//p' "$work/up.out" 2>/dev/null)
  [ -n "$kubeconfig" ] && break
  kill -0 "$up_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$kubeconfig" ]; then
  echo "up --env binaries did not print its kubeconfig within 120 s:" >&2
  tail -20 "$work/up.err" >&2
  exit 1
fi
scripts/kubectl-against-emulator.sh --kubeconfig "$kubeconfig"
