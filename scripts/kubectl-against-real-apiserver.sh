#!/usr/bin/env bash
# scripts/kubectl-against-emulator.sh's kubectl commands against the real
# kube-apiserver of `opssight-harness up --env binaries` (scripts/real-apiserver.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/real-apiserver.sh
start_real_apiserver
scripts/kubectl-against-emulator.sh --kubeconfig "$kubeconfig"
