#!/usr/bin/env bash
# Creates 10,000 Secrets through kube-rs while a watch observes them; fails
# unless >= 5,000 objects/s and peak memory < 200 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p kube-emulator --example bench_secrets
./target/release/examples/bench_secrets --check
