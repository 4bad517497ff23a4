#!/usr/bin/env bash
# The eso-emulator's time to bring N ExternalSecrets to Ready from a cold
# start, at ESO's default concurrency of 1 and at 16, and the latency of a
# forced refresh (annotation to updated Secret). Prints a Markdown section
# on stdout (progress on stderr); never fails on a number.
#
#   BENCH_SIZES="20 1000 5000 10000"  the N swept (1,000 is the reference
#                                     of the per-ExternalSecret ratio)
#   BENCH_REPS=3                      rounds; each runs every N and
#                                     concurrency once, in turn
#   BENCH_FORCE_SYNCS=200             forced refreshes per run
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${BENCH_SIZES:-"20 1000 5000 10000"}
reps=${BENCH_REPS:-3}
force_syncs=${BENCH_FORCE_SYNCS:-200}
concurrencies="1 16"

cargo build --release --quiet -p eso-emulator --example bench_reconcile >&2
bin=./target/release/examples/bench_reconcile
results=$(mktemp)
trap 'rm -f "$results"' EXIT

for rep in $(seq 1 "$reps"); do
  for n in $sizes; do
    for c in $concurrencies; do
      echo "round $rep/$reps: $n ExternalSecrets, concurrency $c" >&2
      line=$("$bin" --count "$n" --concurrency "$c" --force-syncs "$force_syncs") || {
        echo "bench_reconcile failed (count $n, concurrency $c)" >&2
        exit 1
      }
      echo "rep=$rep $line" >>"$results"
      echo "  $line" >&2
    done
  done
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "## eso-emulator"
echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(uname -m)), ${cpu:-unknown CPU}."
echo
echo "\`examples/bench_reconcile.rs\` creates N ExternalSecrets (each extracting its own Secrets Manager secret through one SecretStore) on the kube-emulator and aws-emulator (the SecretStore already validated by a controller run before, so that no ExternalSecret waits out the backoff of one reconciled before its store was Ready), starts a watch of the ExternalSecrets, then starts the controller on the system clock and times until the watch has seen every ExternalSecret Ready; then it forces ${force_syncs} refreshes one after another (new value in Secrets Manager, \`force-sync\` annotation) and times each from the annotation to the Secret holding the value. ${reps} rounds, each running every N at concurrency 1 and 16 in turn; times are the median of the rounds (min in brackets), the per-ExternalSecret ratio is taken within each round against N = 1,000 at the same concurrency (min / median over rounds)."
echo
awk -v sizes="$sizes" '
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  if (n == 0) return "nan"
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function minimum(list,   n, a, i, m) {
  n = split(list, a, " "); m = a[1]
  for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
  return m
}
{
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  k = f["count"] SUBSEP f["concurrency"]
  ready[k] = ready[k] " " f["ready_s"]
  p50[k] = p50[k] " " f["force_p50_ms"]
  p99[k] = p99[k] " " f["force_p99_ms"]
  per[f["rep"], f["count"], f["concurrency"]] = f["ready_s"] / f["count"]
  reps[f["rep"]] = 1
}
END {
  nsizes = split(sizes, ns, " ")
  ref = 0
  for (i = 1; i <= nsizes; i++) if (ns[i] == 1000) ref = 1000
  print "| N | concurrency | all Ready (s) | per ExternalSecret (ms) | per-ES ratio to N = 1,000 (min / median) | force-sync p50 (ms) | force-sync p99 (ms) |"
  print "|---:|---:|---:|---:|---:|---:|---:|"
  split("1 16", cs, " ")
  for (ci = 1; ci <= 2; ci++) for (i = 1; i <= nsizes; i++) {
    n = ns[i]; c = cs[ci]; k = n SUBSEP c
    ratios = ""
    if (ref) for (r in reps) if ((r, ref, c) in per && (r, n, c) in per) ratios = ratios " " per[r, n, c] / per[r, ref, c]
    med = median(ready[k])
    rtext = (ratios == "") ? "n/a" : sprintf("%.2f / %.2f", minimum(ratios), median(ratios))
    printf "| %d | %d | %.2f (%.2f) | %.3f | %s | %.1f | %.1f |\n", n, c, med, minimum(ready[k]), med / n * 1000, rtext, median(p50[k]), median(p99[k])
    if (c == 1) { readyc1[n] = med; ratioc1[n] = (ratios == "") ? "" : median(ratios) }
  }
  print ""
  print "| goal | measured | status |"
  print "|---|---|---|"
  worst = ""; worst_n = 0
  for (i = 1; i <= nsizes; i++) if (ns[i] > 1000 && ratioc1[ns[i]] != "" && (worst == "" || ratioc1[ns[i]] + 0 > worst + 0)) { worst = ratioc1[ns[i]]; worst_n = ns[i] }
  if (worst == "") print "| time to Ready linear in N at concurrency 1 (per-ES time at every N > 1,000 within 1.5x that at 1,000) | not measured (needs N = 1,000 and a larger N) | NOT met |"
  else printf "| time to Ready linear in N at concurrency 1 (per-ES time at every N > 1,000 within 1.5x that at 1,000) | worst median ratio %.2f (N = %d) | %s |\n", worst, worst_n, (worst + 0 <= 1.5) ? "met" : "NOT met"
  if (5000 in readyc1) printf "| 5,000 ExternalSecrets to Ready < 10 s at concurrency 1 | %.2f s | %s |\n", readyc1[5000], (readyc1[5000] + 0 < 10) ? "met" : "NOT met"
  else print "| 5,000 ExternalSecrets to Ready < 10 s at concurrency 1 | not measured (N = 5,000 not in BENCH_SIZES) | NOT met |"
}' "$results"
