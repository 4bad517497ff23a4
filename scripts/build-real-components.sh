#!/usr/bin/env bash
# Builds the real components that `--env binaries` runs, from their
# published Go modules (pinned by scripts/real-components/*/go.mod and
# go.sum), into the user's cache directory, one file per component and
# version, skipping what is already there:
#
#   external-secrets-v0.20.4        ESO's controller (github.com/external-secrets/external-secrets)
#   kube-apiserver-v1.34.4          k8s.io/kubernetes/cmd/kube-apiserver
#   kube-controller-manager-v1.34.4 k8s.io/kubernetes/cmd/kube-controller-manager
#   etcd-v3.6.4                     go.etcd.io/etcd/server/v3 (etcdmain), Kubernetes 1.34's etcd
#   helm-v3.18.6                    helm.sh/helm/v3/cmd/helm (renders ESO's chart)
#   eso-v0.20.4/crds.yaml           ESO's CRDs, from the same module version
#   eso-v0.20.4/chart.yaml          ESO's chart rendered by `helm template`
#   components.json                 what was built, read by the harness and `doctor`
#
# (Debian's etcd-server 3.4 is not enough: kube-apiserver 1.34 needs etcd's
# progress notifications of 3.5+, see real-components/etcd/go.mod.)
#
# Usage: scripts/build-real-components.sh [--check]
#   --check  only say what is built and what is missing (exit 1 if anything is)
# Environment: OPSSIGHT_BIN_DIR overrides the output directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
modules="$here/real-components"
out="${OPSSIGHT_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin}"

ESO_VERSION=v0.20.4
K8S_VERSION=v1.34.4
HELM_VERSION=v3.18.6
ETCD_VERSION=v3.6.4
ESO_MODULE=github.com/external-secrets/external-secrets

say() { printf '[build-real-components] %s\n' "$*"; }
fail() {
  printf 'build-real-components: %s\n' "$*" >&2
  printf 'build-real-components: the scenarios still run without these: --env embedded (the default)\n' >&2
  exit 2
}

targets=(
  "external-secrets-$ESO_VERSION"
  "kube-apiserver-$K8S_VERSION"
  "kube-controller-manager-$K8S_VERSION"
  "etcd-$ETCD_VERSION"
  "helm-$HELM_VERSION"
  "eso-$ESO_VERSION/crds.yaml"
  "eso-$ESO_VERSION/chart.yaml"
)

if [ "${1:-}" = "--check" ]; then
  missing=0
  for t in "${targets[@]}"; do
    if [ -s "$out/$t" ]; then say "built: $out/$t"; else say "missing: $out/$t"; missing=1; fi
  done
  exit $missing
fi

command -v go >/dev/null || fail "Go is not installed (needed once, to build kube-apiserver, kube-controller-manager and ESO from their Go modules)"

mkdir -p "$out" "$out/eso-$ESO_VERSION"
# The module and build caches are Go's own (GOMODCACHE, GOCACHE): a second
# run downloads and compiles nothing.
export GOFLAGS="-mod=readonly -trimpath"
export CGO_ENABLED=0
# go.sum pins every module; a module it lacks is an error, not a fetch.
export GONOSUMDB="" GOSUMDB="${GOSUMDB:-sum.golang.org}"

probe_proxy() {
  local dir="$1" mod="$2"
  (cd "$dir" && go mod download "$mod") >/dev/null 2>"$out/.probe.err" || {
    cat "$out/.probe.err" >&2
    fail "the Go module proxy did not serve $mod ($(go env GOPROXY)); is it reachable?"
  }
  rm -f "$out/.probe.err"
}

# Kubernetes stamps its version at link time (its hack/lib/version.sh);
# without it /version would say v0.0.0-master.
k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"

# build DIR PACKAGE OUTPUT [LDFLAGS]: go build from one pinning module,
# written to a temporary name and renamed, so a broken build never leaves a
# half file.
build() {
  local dir="$1" pkg="$2" dest="$out/$3" ldflags="${4:-}"
  if [ -x "$dest" ]; then say "up to date: $3"; return; fi
  say "building $3 from $pkg (minutes on a cold cache)..."
  local start=$SECONDS
  (cd "$dir" && go build -ldflags="$ldflags" -o "$dest.tmp.$$" "$pkg") || { rm -f "$dest.tmp.$$"; fail "go build $pkg failed"; }
  mv "$dest.tmp.$$" "$dest"
  say "built $3 in $((SECONDS - start)) s"
}

say "Go $(go version | awk '{print $3}'), output $out"
probe_proxy "$modules/eso" "$ESO_MODULE@$ESO_VERSION"
build "$modules/eso" "$ESO_MODULE" "external-secrets-$ESO_VERSION"
build "$modules/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "kube-apiserver-$K8S_VERSION" "$k8s_ldflags"
build "$modules/kubernetes" k8s.io/kubernetes/cmd/kube-controller-manager "kube-controller-manager-$K8S_VERSION" "$k8s_ldflags"
build "$modules/etcd" . "etcd-$ETCD_VERSION"
build "$modules/helm" helm.sh/helm/v3/cmd/helm "helm-$HELM_VERSION"

# ESO's CRDs and chart come from the very module version the controller was
# built from (Go's module cache), never from a copy of ours.
eso_src="$(cd "$modules/eso" && go list -m -f '{{.Dir}}' "$ESO_MODULE")"
[ -d "$eso_src/deploy/charts/external-secrets" ] || fail "ESO's module at $eso_src has no deploy/charts/external-secrets"
crds="$out/eso-$ESO_VERSION/crds.yaml"
if [ ! -s "$crds" ]; then
  cp "$eso_src/deploy/crds/bundle.yaml" "$crds.tmp.$$" && mv "$crds.tmp.$$" "$crds"
  say "ESO's CRDs: $crds"
fi
chart="$out/eso-$ESO_VERSION/chart.yaml"
if [ ! -s "$chart" ]; then
  # The chart depends on bitwarden-sdk-server (off unless
  # bitwarden-sdk-server.enabled), which helm insists on finding in charts/
  # and which lives in a registry we cannot reach: render a copy without
  # that dependency.
  chart_src="$(mktemp -d)"
  cp -r "$eso_src/deploy/charts/external-secrets/." "$chart_src/"
  chmod -R u+w "$chart_src"
  rm -f "$chart_src/Chart.lock"
  awk '/^dependencies:/ {skip=1; next} skip && /^[^ -]/ {skip=0} !skip' \
    "$eso_src/deploy/charts/external-secrets/Chart.yaml" > "$chart_src/Chart.yaml"
  # As the runbook installs it (namespace external-secrets-system); CRDs
  # apart (above), the webhook and cert controller off: the harness runs
  # the controller alone (see the README's "--env binaries").
  "$out/helm-$HELM_VERSION" template external-secrets "$chart_src" \
    --namespace external-secrets-system \
    --set installCRDs=false --set webhook.create=false --set certController.create=false \
    > "$chart.tmp.$$" || { rm -rf "$chart.tmp.$$" "$chart_src"; fail "helm template of ESO's chart failed"; }
  rm -rf "$chart_src"
  mv "$chart.tmp.$$" "$chart"
  say "ESO's chart, rendered: $chart"
fi

cat > "$out/components.json.tmp.$$" <<EOF
{
  "schema_version": 1,
  "external-secrets": { "version": "$ESO_VERSION", "module": "$ESO_MODULE", "path": "$out/external-secrets-$ESO_VERSION",
    "crds": "$crds", "chart": "$chart",
    "note": "ESO v2.9.0 (the Helm chart's version) cannot be built from the Go module proxy: its go.mod replaces 61 nested modules with local directories and the proxy serves neither the v2.9.0 commit nor its nested modules as pseudo-versions; $ESO_VERSION is the newest tag whose go.mod has no local replaces" },
  "kube-apiserver": { "version": "$K8S_VERSION", "module": "k8s.io/kubernetes", "path": "$out/kube-apiserver-$K8S_VERSION" },
  "kube-controller-manager": { "version": "$K8S_VERSION", "module": "k8s.io/kubernetes", "path": "$out/kube-controller-manager-$K8S_VERSION" },
  "helm": { "version": "$HELM_VERSION", "module": "helm.sh/helm/v3", "path": "$out/helm-$HELM_VERSION" },
  "etcd": { "version": "$ETCD_VERSION", "module": "go.etcd.io/etcd/server/v3", "path": "$out/etcd-$ETCD_VERSION" }
}
EOF
mv "$out/components.json.tmp.$$" "$out/components.json"
say "done: $out/components.json"
