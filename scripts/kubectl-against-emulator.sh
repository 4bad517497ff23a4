#!/usr/bin/env bash
# Real kubectl (/usr/bin/kubectl, 1.32) against the standalone kube-emulator:
# apply -f (a CRD, then objects of it), apply -k, get (printer columns),
# get -o yaml / jsonpath, describe, annotate --overwrite, label, patch --type
# merge, wait --for=condition=Ready, delete (and delete namespace), and
# get --watch showing a change; the typed generators, which send protobuf:
# create namespace|secret generic|configmap|serviceaccount; the system
# namespaces. Fails on any failing command or wrong output. Secret values are
# never printed: only key names and lengths.
#
# With --kubeconfig FILE the same commands run against that server instead
# (.ci/run points it at the real kube-apiserver of `up --env binaries`): what
# passes on the emulator and fails there is a difference of the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
[ -x "$KUBECTL" ] || KUBECTL=$(command -v kubectl) || { echo "kubectl not found" >&2; exit 1; }
target=""
case "${1:-}" in
  --kubeconfig) target=${2:?--kubeconfig needs a file}; [ -r "$target" ] || { echo "$target: cannot read" >&2; exit 2; } ;;
  "") ;;
  *) echo "usage: $0 [--kubeconfig FILE]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  jobs -p | xargs -r kill 2>/dev/null || true
  # On a server of its own nothing is left; on another, what this made goes.
  if [ -n "$target" ]; then
    "$KUBECTL" delete namespace demo gen --ignore-not-found --wait=false >/dev/null 2>&1 || true
    "$KUBECTL" delete crd widgets.example.test --ignore-not-found >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "$target" ]; then
  export KUBECONFIG="$target"
  server=$("$KUBECTL" config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  echo "against $server"
  "$KUBECTL" create namespace demo >/dev/null
else
  cargo build --quiet -p kube-emulator --bin kube-emulator
  server=kube-emulator
  ./target/debug/kube-emulator --kubeconfig "$work/kubeconfig" --namespace demo >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q serving "$work/err" 2>/dev/null && break; sleep 0.1; done
  grep -q serving "$work/err" || { echo "kube-emulator did not start within 10s" >&2; cat "$work/err" >&2; exit 1; }
  export KUBECONFIG="$work/kubeconfig"
fi
k() { "$KUBECTL" --cache-dir "$work/cache" "$@"; }

passed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
expect() { # expect DESCRIPTION EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then echo "FAIL: $1: expected [$2], got [$3]" >&2; exit 1; fi
  ok "$1"
}
contains() { # contains DESCRIPTION NEEDLE HAYSTACK
  case "$3" in *"$2"*) ok "$1" ;; *) echo "FAIL: $1: [$2] not in:" >&2; echo "$3" >&2; exit 1 ;; esac
}

# Discovery with an empty cache: kubectl 1.30+ asks /api and /apis for the
# aggregated documents (apidiscovery.k8s.io/v2), and a server that answers
# them spares it one request per group version.
discovery=$("$KUBECTL" --cache-dir "$work/fresh-cache" get ns default -v=6 2>&1 >/dev/null \
  | grep -oE 'GET https?://[^ ]+' | sed -E 's|GET https?://[^/]+||; s|\?.*||' | grep -vE '/namespaces' | tr '\n' ' ' | sed 's/ $//')
expect "discovery is aggregated: two requests" "/api /apis" "$discovery"
expect "get ns default" "default Active" "$(k get ns default -o jsonpath='{.metadata.name} {.status.phase}')"
expect "the system namespaces exist" "default kube-node-lease kube-public kube-system" \
  "$(k get ns -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}' | tr ' ' '\n' | grep -xE 'default|kube-.*' | tr '\n' ' ' | sed 's/ $//')"
contains "create namespace (protobuf)" "namespace/gen created" "$(k create namespace gen)"
expect "the created namespace is Active" "Active" "$(k get ns gen -o jsonpath='{.status.phase}')"
contains "create secret generic --from-literal (protobuf)" "secret/creds created" \
  "$(k create secret generic creds -n gen --from-literal=username=alice --from-literal=password=not-shown-123)"
# Key names (jsonpath cannot list keys alone) and decoded lengths only, never the values.
expect "the secret's keys and type" "password username Opaque" \
  "$(k get secret creds -n gen -o go-template='{{range $k, $v := .data}}{{$k}} {{end}}{{.type}}')"
len_of() { k get secret creds -n gen -o jsonpath="{.data.$1}" | base64 -d | wc -c | tr -d ' '; }
expect "the secret's value lengths" "13 5" "$(len_of password) $(len_of username)"
contains "create configmap --from-literal (protobuf)" "configmap/settings created" \
  "$(k create configmap settings -n gen --from-literal=mode=fast --from-literal=level=3)"
expect "the configmap's data" "3 fast" "$(k get configmap settings -n gen -o jsonpath='{.data.level} {.data.mode}')"
contains "create serviceaccount (protobuf)" "serviceaccount/robot created" "$(k create serviceaccount robot -n gen)"
expect "the serviceaccount" "robot gen" "$(k get serviceaccount robot -n gen -o jsonpath='{.metadata.name} {.metadata.namespace}')"
if k create configmap settings -n gen --from-literal=mode=slow >"$work/dup" 2>&1; then
  echo "FAIL: a second create of the same configmap was accepted" >&2; exit 1
fi
contains "a second create is AlreadyExists" "already exists" "$(cat "$work/dup")"
if k patch configmap settings -n gen --type merge -p '{"metadata":null}' >"$work/nometa" 2>&1; then
  echo "FAIL: a merge patch removing metadata was accepted" >&2; exit 1
fi
contains "a merge patch removing metadata is refused" "was undeterminable: name must be provided" "$(cat "$work/nometa")"

cat >"$work/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.test
spec:
  group: example.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, description: How big the widget is.}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
YAML
cat >"$work/widget.yaml" <<'YAML'
apiVersion: example.test/v1
kind: Widget
metadata: {name: w1, namespace: demo}
spec: {size: 3}
YAML
mkdir -p "$work/kustomize"
cat >"$work/kustomize/kustomization.yaml" <<'YAML'
namespace: demo
namePrefix: k-
resources: [widget.yaml]
YAML
cp "$work/widget.yaml" "$work/kustomize/widget.yaml"

contains "apply -f a CRD" "created" "$(k apply -f "$work/crd.yaml")"
contains "the CRD becomes Established" "condition met" \
  "$(k wait --for=condition=Established crd/widgets.example.test --timeout=30s)"
contains "apply -f an object of it" "widget.example.test/w1 created" "$(k apply -f "$work/widget.yaml")"
contains "apply -k a kustomize directory" "widget.example.test/k-w1 created" "$(k apply -k "$work/kustomize")"
contains "apply again is unchanged" "unchanged" "$(k apply -f "$work/widget.yaml")"
out=$(k get widgets -n demo | tr -s ' ')
# The CRD's columns alone: AGE only stands in when a CRD defines none.
contains "get shows the CRD's printer columns" "NAME SIZE READY" "$out"
case "$out" in *AGE*) echo "FAIL: an AGE column beside the CRD's own" >&2; exit 1 ;; esac
contains "get shows the row" "w1 3" "$out"
contains "get -o yaml" "size: 3" "$(k get wd w1 -n demo -o yaml)"
expect "get -o jsonpath" "3" "$(k get widget w1 -n demo -o jsonpath='{.spec.size}')"
k annotate widget w1 -n demo force-sync=1 >/dev/null
contains "annotate --overwrite" "annotated" "$(k annotate widget w1 -n demo force-sync=2 --overwrite)"
expect "the annotation changed" "2" "$(k get widget w1 -n demo -o jsonpath='{.metadata.annotations.force-sync}')"
contains "label" "labeled" "$(k label widget w1 -n demo team=ops)"
contains "patch --type merge" "patched" "$(k patch widget w1 -n demo --type merge -p '{"spec":{"size":4}}')"
expect "the patch applied and generation moved" "4 2" "$(k get widget w1 -n demo -o jsonpath='{.spec.size} {.metadata.generation}')"
if k patch widget w1 -n demo --type merge -p '{"spec":{"size":"big"}}' >"$work/bad" 2>&1; then
  echo "FAIL: a schema violation was accepted" >&2; exit 1
fi
contains "a schema violation is refused naming the field" "spec.size" "$(cat "$work/bad")"
contains "describe" "Size:  4" "$(k describe widget w1 -n demo)"
# A real server publishes a new CRD's schema to OpenAPI a moment after it
# is Established: wait for it (30 s), as a user would retry.
for _ in $(seq 1 60); do k explain widget.spec.size >"$work/explain" 2>&1 && grep -q "How big" "$work/explain" && break; sleep 0.5; done
contains "explain uses the CRD's schema" "How big the widget is." "$(cat "$work/explain")"

k wait --for=condition=Ready widget/w1 -n demo --timeout=20s >"$work/wait" 2>&1 &
waiter=$!
k patch widget w1 -n demo --subresource=status --type merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done"}]}}' >/dev/null
wait "$waiter" || { echo "FAIL: wait --for=condition=Ready" >&2; cat "$work/wait" >&2; exit 1; }
contains "wait --for=condition=Ready" "condition met" "$(cat "$work/wait")"

k get widgets -n demo --watch --output-watch-events >"$work/watch" 2>&1 &
watcher=$!
for _ in $(seq 1 50); do grep -q "w1" "$work/watch" 2>/dev/null && break; sleep 0.1; done
k label widget k-w1 -n demo changed=yes >/dev/null
for _ in $(seq 1 50); do grep -q "MODIFIED" "$work/watch" 2>/dev/null && break; sleep 0.1; done
kill "$watcher" 2>/dev/null || true
contains "get --watch shows the change" "MODIFIED" "$(cat "$work/watch")"

contains "delete" "deleted" "$(k delete widget k-w1 -n demo)"
if k get widget k-w1 -n demo >/dev/null 2>&1; then echo "FAIL: deleted widget still there" >&2; exit 1; fi
ok "the deleted object is gone"
contains "delete namespace" "deleted" "$(k delete namespace demo --wait=true --timeout=20s)"
if k get namespace demo >/dev/null 2>&1; then echo "FAIL: namespace still there" >&2; exit 1; fi
ok "the namespace and its objects are gone"
echo "kubectl against $server: $passed passed, 0 failed"
