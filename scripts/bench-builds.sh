#!/usr/bin/env bash
# What building and testing the workspace costs, as a Markdown section on
# stdout (progress on stderr):
#   - `cargo test --workspace` once the build is warm: wall time and its
#     slowest test binaries;
#   - each member built alone after the workspace build: how many crates
#     cargo compiles again (goal: only the member itself, thanks to
#     harness/workspace-hack);
#   - whether `cargo nextest run` can list and run the workspace's tests;
#   - with --cold, the cold release build and the cold test build in a fresh
#     target directory (the minutes a new machine spends).
# Not a gate: nothing here fails on a number. Run it from the repository.
#
# Usage: scripts/bench-builds.sh [--cold | --cold-test]
#   --cold-test times only the cold test build.
set -euo pipefail
cd "$(dirname "$0")/.."

cold=0
case "${1:-}" in
  --cold) cold=1 ;;
  --cold-test) cold=2 ;;
  "") ;;
  *) echo "usage: $0 [--cold | --cold-test]" >&2; exit 2 ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
met() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }

echo "warming the test build..." >&2
cargo test --workspace --no-run -q 2>&1 | tail -3 >&2

# One warm `cargo test --workspace`: "wall rc slowest" into the named
# variables. $1 is a label for stderr, the rest are env assignments.
warm_test() {
  local label="$1"; shift
  echo "cargo test --workspace (warm, $label)..." >&2
  local t0 rc=0
  t0=$(now)
  env "$@" cargo test --workspace --no-fail-fast > "$work/test.log" 2>&1 || rc=$?
  test_wall="$(elapsed "$t0" "$(now)")"
  test_rc=$rc
  [ "$rc" = 0 ] || { tail -40 "$work/test.log" >&2; echo "cargo test --workspace failed (rc $rc); timing kept" >&2; }
  # "Running tests/x.rs (target/debug/deps/x-hash)" then "... finished in 1.23s".
  slowest="$(awk '/^ *Running /{bin=$2} /finished in/{sub(/s$/,"",$NF); printf "%s %s\n", $NF, bin}' "$work/test.log" \
    | sort -rn | head -5 | awk '{printf "%s (%s s), ", $2, $1}' | sed 's/, $//')"
}

# As on a machine without Go (the README's command): the binaries tests
# find no components in an empty OPSSIGHT_BIN_DIR and skip.
mkdir -p "$work/no-components"
warm_test "without the real components" OPSSIGHT_BIN_DIR="$work/no-components"
without_wall=$test_wall without_rc=$test_rc without_slowest=$slowest
under_60=$(awk -v w="$without_wall" 'BEGIN { print (w < 60) ? 1 : 0 }')
bin_dir="${OPSSIGHT_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin}"
with_row="| \`cargo test --workspace\`, warm, with the real components | not measured: none in $bin_dir (scripts/build-real-components.sh) | (the binaries tests run real control planes) |"
if [ -f "$bin_dir/components.json" ]; then
  warm_test "with the real components"
  with_row="| \`cargo test --workspace\`, warm, with the real components built | $test_wall s (rc $test_rc); slowest: $slowest | (the binaries tests run real control planes) |"
fi

echo "each member alone after the workspace build..." >&2
cargo build --workspace --all-targets -q
rebuilds=""
all_alone=1
members=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["packages"])))')
for m in $members; do
  # A crate that is not fresh and is not a workspace member was rebuilt for
  # this selection's features.
  n=$(cargo build -p "$m" --all-targets --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
n=0
for l in sys.stdin:
    try: m=json.loads(l)
    except ValueError: continue
    if m.get("reason")=="compiler-artifact" and not m.get("fresh") and "path+file" not in m["package_id"]: n+=1
print(n)')
  rebuilds="$rebuilds| \`cargo build -p $m --all-targets\` | $n |
"
  [ "$n" = 0 ] || all_alone=0
done

nextest="not installed (\`cargo install --locked cargo-nextest\`)"
nextest_ok=0
if cargo nextest --version >/dev/null 2>&1; then
  if listed=$(cargo nextest list --workspace --message-format oneline 2>"$work/nextest.err" | wc -l); then
    nextest="lists $listed tests"
    if cargo nextest run -p opssight-harness --test features > "$work/nextest-run.log" 2>&1; then
      nextest="$nextest; runs the scenario suite (the \`features\` target) as one test"
      nextest_ok=1
    else
      nextest="$nextest; FAILED to run the features target"
    fi
  else
    nextest="FAILED to list: $(head -3 "$work/nextest.err")"
  fi
fi

cold_release="not measured (pass --cold)"
cold_test="not measured (pass --cold)"
if [ $cold -ne 0 ]; then
  echo "cold builds in a fresh target directory (many minutes)..." >&2
fi
if [ $cold -eq 1 ]; then
  t0=$(now); CARGO_TARGET_DIR="$work/cold-release" cargo build --release -q; cold_release="$(elapsed "$t0" "$(now)") s"
  rm -rf "$work/cold-release"
fi
if [ $cold -ne 0 ]; then
  t0=$(now); CARGO_TARGET_DIR="$work/cold-test" cargo test --workspace --no-run -q 2>/dev/null; cold_test="$(elapsed "$t0" "$(now)") s"
  rm -rf "$work/cold-test"
fi

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
cat <<EOF
## builds and tests

Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), ${cpu:-unknown CPU}.
\`cargo test --workspace\` after \`cargo test --workspace --no-run\` (debug, warm), once with the real components hidden
(an empty \`OPSSIGHT_BIN_DIR\`: the README's command on a machine without Go, the binaries tests skip) and once with them when built;
each member then built alone with \`--message-format=json\`, counting the third-party crates cargo
compiled again; \`cargo nextest\` if installed.

| what | measured | goal |
|---|---|---|
| \`cargo test --workspace\`, warm, without the real components | $without_wall s (rc $without_rc); slowest: $without_slowest | < 60 s: $(met "$under_60") |
$with_row
| a member built alone after the workspace build | third-party crates compiled again, below | none: $(met "$all_alone") |
| \`cargo nextest\` | $nextest | works: $(met "$nextest_ok") |
| cold \`cargo build --release\` | $cold_release | stated in the README |
| cold \`cargo test --workspace --no-run\` | $cold_test | stated in the README |

| build | third-party crates compiled again |
|---|---|
$rebuilds
EOF
