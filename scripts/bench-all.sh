#!/usr/bin/env bash
# Every benchmark, one after the other, into one Markdown file (default
# scripts/benchmarks.md, which the README links): each emulator's sweep over N
# against its reference where one applies, the embedded suite's wall and CPU
# time, the builds and tests, and --env binaries when its components are
# built. Not run in CI and never a gate: the scripts report, they do not fail
# on a number. Takes a long while (moto seeded with 30k secrets, 50k Secrets).
#
# Usage: scripts/bench-all.sh [output.md]
#   BENCH_SIZES="20 200"  a quick smoke run of the sweeps (not for the table)
#   BENCH_COLD=1          bench-builds.sh --cold: the cold builds too (+15 min)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-scripts/benchmarks.md}"
part="$(mktemp)"
trap 'rm -f "$part"' EXIT

{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench-all.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
  echo "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), at commit"
  echo "\`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- harness scripts || echo ' with uncommitted changes')."
  echo "Each section is one script's output; rerun a script to refresh its section."
  [ -n "${BENCH_SIZES:-}" ] && echo "Smoke run: BENCH_SIZES=\"$BENCH_SIZES\", not the issue's sizes."
} > "$out.tmp"

for script in bench-aws-emulator.sh bench-kube-emulator.sh bench-eso-emulator.sh suite-timing.sh bench-builds.sh bench-binaries.sh; do
  if [ "$script" = bench-binaries.sh ] && [ ! -e "${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin/components.json" ]; then
    printf '\n## --env binaries\n\nNot measured: the real components are not built (scripts/build-real-components.sh).\n' >> "$out.tmp"
    continue
  fi
  echo "== scripts/$script" >&2
  args=()
  [ "$script" = bench-builds.sh ] && [ -n "${BENCH_COLD:-}" ] && args=(--cold)
  if "scripts/$script" "${args[@]}" > "$part"; then
    { echo; cat "$part"; } >> "$out.tmp"
  else
    printf '\n## scripts/%s\n\nFAILED (exit %s); see its stderr.\n' "$script" "$?" >> "$out.tmp"
  fi
done
mv "$out.tmp" "$out"
echo "wrote $out" >&2
