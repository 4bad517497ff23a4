#!/usr/bin/env bash
# GetSecretValue through the AWS SDK against aws-emulator and moto_server side
# by side; fails unless the emulator reaches >= 20x moto's throughput and a
# p99 under 2 ms. Needs moto: pip install "moto[server]".
set -euo pipefail
cd "$(dirname "$0")/.."
command -v moto_server >/dev/null || { echo "moto_server not found: pip install \"moto[server]\"" >&2; exit 1; }
cargo build --release --quiet -p aws-emulator --example bench_get_secret_value
./target/release/examples/bench_get_secret_value --check
