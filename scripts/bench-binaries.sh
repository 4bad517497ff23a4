#!/usr/bin/env bash
# What --env binaries costs, as a Markdown table on stdout:
#   - the cold build of the real components (only with --cold: a fresh Go
#     build cache and output directory, so it takes the minutes it takes a
#     new machine; the module cache is kept, downloads are not the point);
#   - the time from starting the harness to every ExternalSecret Ready
#     (`up --env binaries`, then `kubectl wait`);
#   - the wall time of the whole scenario suite on binaries and on embedded.
# Not a gate: nothing here fails on a number. Run it from the repository.
#
# Usage: scripts/bench-binaries.sh [--cold]
#   OPSSIGHT_HARNESS=path  a harness binary already built (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."

cold=0
[ "${1:-}" = "--cold" ] && cold=1
harness="${OPSSIGHT_HARNESS:-target/release/opssight-harness}"
if [ -z "${OPSSIGHT_HARNESS:-}" ]; then
  echo "building the harness (release)..." >&2
  cargo build --release -q -p opssight-harness
fi
scripts/build-real-components.sh >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"; [ -n "${up_pid:-}" ] && kill "$up_pid" 2>/dev/null || true' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cold_build="not measured (pass --cold)"
if [ $cold -eq 1 ]; then
  t0=$(now)
  GOCACHE="$work/gocache" OPSSIGHT_BIN_DIR="$work/bin" scripts/build-real-components.sh >&2
  cold_build="$(elapsed "$t0" "$(now)") s"
fi

# Start to every ExternalSecret Ready.
t0=$(now)
"$harness" up --env binaries > "$work/up.out" 2>"$work/up.err" &
up_pid=$!
for _ in $(seq 1 1200); do
  grep -q '^export AWS_DEFAULT_REGION=' "$work/up.out" && break
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.err" >&2; echo "up --env binaries exited" >&2; exit 1; }
  sleep 0.1
done
kubeconfig="$(sed -n 's/^export KUBECONFIG=//p' "$work/up.out")"
KUBECONFIG="$kubeconfig" kubectl wait --for=condition=Ready externalsecret --all \
  -n opssight-production --timeout=300s >&2
ready="$(elapsed "$t0" "$(now)") s"
kill -TERM "$up_pid"; wait "$up_pid" 2>/dev/null || true; up_pid=""

suite() {
  local t0; t0=$(now)
  "$harness" test --env "$1" --artifacts "$work/artifacts-$1" > "$work/suite-$1.out" 2>&1 \
    || { tail -30 "$work/suite-$1.out" >&2; echo "the suite failed on $1" >&2; exit 1; }
  elapsed "$t0" "$(now)"
}
binaries_wall="$(suite binaries)"
embedded_wall="$(suite embedded)"

cat <<EOF
## --env binaries, measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m))

| what | time |
|---|---|
| cold build of the real components | $cold_build |
| harness start to every ExternalSecret Ready (binaries) | $ready |
| whole scenario suite, binaries | $binaries_wall s |
| whole scenario suite, embedded | $embedded_wall s |
EOF
