#!/usr/bin/env bash
# The kube-emulator's kube-rs tests that use only the API (garbage
# collection, finalizers, namespace deletion, watches, selectors and pages,
# patches, generateName and deletecollection, immutability) against the real
# kube-apiserver and kube-controller-manager of `up --env binaries`, each
# test in namespaces of its own (KUBE_RS_TESTS_KUBECONFIG). The same tests
# run against the emulator in `cargo test`; what passes there and fails here
# is a difference of the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${OPSSIGHT_HARNESS:-target/debug/opssight-harness}
[ -x "$harness" ] || cargo build --quiet -p opssight-harness
cargo test --quiet -p kube-emulator --test kube_rs --no-run
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
echo "kube-rs tests against the real kube-apiserver ($kubeconfig)"
KUBE_RS_TESTS_KUBECONFIG="$kubeconfig" cargo test -p kube-emulator --test kube_rs -- \
  gc:: watch::watch_resumes_from_a_resource_version watch::a_label_selected_watch_sees_objects_leave_the_selection \
  verbs::list_with_selectors_and_pages verbs::patches_merge_json_strategic_and_apply \
  verbs::generate_name_delete_and_deletecollection verbs::immutable_secrets_and_bad_data
