#!/usr/bin/env bash
# kube-emulator's costs as stored Secrets grow (N = BENCH_SIZES, default
# "20 1000 10000 50000"): create rate seen by a watch, a limit=1 list,
# paging at 500 a page, a full list's memory, an owner's deletion. Prints a
# Markdown section on stdout (progress on stderr); never fails on a number.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p kube-emulator --example bench_secrets >&2
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "## kube-emulator"
echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(uname -m)), ${cpu:-unknown CPU}."
echo
BENCH_SIZES="${BENCH_SIZES:-20 1000 10000 50000}" ./target/release/examples/bench_secrets
