#!/usr/bin/env bash
# The kube-emulator's kube-rs tests that use only the API (garbage
# collection, finalizers, namespace deletion, watches, selectors and pages,
# paging through writes and across namespaces, a Table's pages,
# patches, generateName and deletecollection, immutability, Secret types)
# against the real kube-apiserver and kube-controller-manager of `up --env
# binaries` (scripts/real-apiserver.sh), each test in namespaces of its own
# (KUBE_RS_TESTS_KUBECONFIG). The same tests run against the emulator in
# `cargo test`; what passes there and fails here is a difference of the
# emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --quiet -p kube-emulator --test kube_rs --no-run
. scripts/real-apiserver.sh
start_real_apiserver
echo "kube-rs tests against the real kube-apiserver"
KUBE_RS_TESTS_KUBECONFIG="$kubeconfig" cargo test -p kube-emulator --test kube_rs -- \
  gc:: lists:: watch::watch_resumes_from_a_resource_version watch::a_label_selected_watch_sees_objects_leave_the_selection \
  verbs::list_with_selectors_and_pages verbs::patches_merge_json_strategic_and_apply \
  verbs::generate_name_delete_and_deletecollection verbs::immutable_secrets_and_bad_data \
  verbs::secret_types_require_their_keys
