#!/usr/bin/env bash
# aws-emulator against moto_server over raw HTTP/1.1 (pre-signed SigV4
# requests replayed over keep-alive connections), sweeping the number of
# secrets: GetSecretValue latency, a four-operation mix at 1 and 16
# connections, ListSecrets pages, CreateSecret while seeding; emulator and moto
# in alternating pairs. Prints a Markdown section on stdout (progress on
# stderr); judges the goals of issue 17 but never fails on a number, and is
# not run in CI.
#
#   BENCH_SIZES="20 200" scripts/bench-aws-emulator.sh   # a quick smoke run
#
# Also BENCH_ROUNDS (pairs per size, default 5) and BENCH_WINDOW_MS (per
# phase, default 1000). Needs moto: pip install "moto[server]".
#
# BENCH_INSTRUCTIONS=1 counts instead of timing: the emulator under
# callgrind (valgrind), a fixed load of the mix at 16 connections, and the
# server's instructions per request at each of BENCH_SIZES (default
# "20 10000"; BENCH_REQUESTS, default 16000). A shared machine's load
# changes rates, not these counts: compare versions of the request path
# with them. Needs valgrind, not moto.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=./target/release/examples/bench_against_moto
if [ -n "${BENCH_INSTRUCTIONS:-}" ]; then
  command -v valgrind >/dev/null && command -v callgrind_control >/dev/null || {
    echo "valgrind not found: apt-get install valgrind" >&2
    exit 1
  }
  cargo build --release --quiet -p aws-emulator --example bench_against_moto
  # callgrind's files (counts and function names, no data), removed however this ends.
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  trap 'exit 130' INT TERM
  BENCH_CALLGRIND_DIR=$dir "$bench" instructions
  exit
fi
command -v moto_server >/dev/null || {
  echo "moto_server not found: pip install \"moto[server]\"" >&2
  exit 1
}
cargo build --release --quiet -p aws-emulator --example bench_against_moto
# Server on core 0, client on core 1, when there are two cores to pin to.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  BENCH_SERVER_CPU=0 exec taskset -c 1 "$bench"
fi
exec "$bench"
