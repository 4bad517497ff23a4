#!/usr/bin/env bash
# Installs the tools the kind environment drives, in the versions its
# preflight pins (harness/opssight-harness/src/env/preflight.rs), each
# checked against a pinned SHA-256 before it is put in place:
#   kind v0.30.0, helm v3.18.6, kubectl v1.33.4
# for linux-amd64, linux-arm64, darwin-arm64 and darwin-amd64.
# Usage: scripts/install-tools.sh [DIR]     (default: ~/.local/opssight-harness/bin)
# Then: export PATH="DIR:$PATH". Docker itself is not installed here.
# OPSSIGHT_TOOLS_PLATFORM=<os>-<arch> installs another platform's binaries
# (for a VM or a container with another architecture).
#
# Where the checksums come from (each the project's own published value):
#   kind:    the kind-<platform>.sha256sum files of kind's v0.30.0 release
#            (the same values pinned by several unrelated public projects).
#   helm:    the checksums listed in Helm's v3.18.6 release notes
#            (get.helm.sh/helm-v3.18.6-<platform>.tar.gz.sha256sum).
#   kubectl: dl.k8s.io/release/v1.33.4/bin/<os>/<arch>/kubectl.sha256, as
#            pinned identically by several public projects; not read from
#            dl.k8s.io itself here. A mismatch stops the script before
#            anything is installed.
set -euo pipefail

KIND_VERSION=v0.30.0
HELM_VERSION=v3.18.6
KUBECTL_VERSION=v1.33.4

dir="${1:-$HOME/.local/opssight-harness/bin}"
platform="${OPSSIGHT_TOOLS_PLATFORM:-}"
if [ -z "$platform" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-amd64 ;;
    Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
    Darwin-arm64) platform=darwin-arm64 ;;
    Darwin-x86_64) platform=darwin-amd64 ;;
    *) platform="unknown ($(uname -s)-$(uname -m))" ;;
  esac
fi

case "$platform" in
  linux-amd64)
    KIND_SHA256=517ab7fc89ddeed5fa65abf71530d90648d9638ef0c4cde22c2c11f8097b8889
    HELM_SHA256=3f43c0aa57243852dd542493a0f54f1396c0bc8ec7296bbb2c01e802010819ce
    KUBECTL_SHA256=c2ba72c115d524b72aaee9aab8df8b876e1596889d2f3f27d68405262ce86ca1
    ;;
  linux-arm64)
    KIND_SHA256=7ea2de9d2d190022ed4a8a4e3ac0636c8a455e460b9a13ccf19f15d07f4f00eb
    HELM_SHA256=5b8e00b6709caab466cbbb0bc29ee09059b8dc9417991dd04b497530e49b1737
    KUBECTL_SHA256=76cd7a2aa59571519b68c3943521404cbce55dafb7d8866f8d0ea2995b396eef
    ;;
  darwin-arm64)
    KIND_SHA256=ceaf40df1d1551c481fb50e3deb5c3deecad5fd599df5469626b70ddf52a1518
    HELM_SHA256=48e30d236a1f334c6acb78501be5a851eaa2a267fefeb1131b6484eb2f9f30d7
    KUBECTL_SHA256=a44662db083fdd1b19ce55ba77eb64d51206310bbae90df90eb5d9e30ea54603
    ;;
  darwin-amd64)
    KIND_SHA256=4f0b6e3b88bdc66d922c08469f05ef507d4903dd236e6319199bb9c868eed274
    HELM_SHA256=80cad0470e38cf25731cdead7c32dfbeb887bc177bd6fa01e31b065722f8f06b
    KUBECTL_SHA256=4b39b8bb12e78ce801b39c9ec50421e3d6e144d8e3f113cd18e6d61709b8c73b
    ;;
  *)
    echo "install-tools.sh: no pinned checksums for $platform (pinned: linux-amd64, linux-arm64, darwin-arm64, darwin-amd64); install kind 0.30, helm 3.18 to 4.x and kubectl 1.32 to 1.34 by hand" >&2
    exit 2
    ;;
esac
os="${platform%-*}"
arch="${platform#*-}"

KIND_URL="https://github.com/kubernetes-sigs/kind/releases/download/$KIND_VERSION/kind-$platform"
HELM_URL="https://get.helm.sh/helm-$HELM_VERSION-$platform.tar.gz"
KUBECTL_URL="https://dl.k8s.io/release/$KUBECTL_VERSION/bin/$os/$arch/kubectl"

# macOS has shasum, not sha256sum.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"

# download NAME URL SHA256 -> $work/NAME, or exit naming the mismatch.
download() {
  local name="$1" url="$2" want="$3" got
  echo "downloading $name from $url"
  curl -fsSL --retry 3 -o "$work/$name" "$url"
  got="$(sha256 "$work/$name")"
  if [ "$got" != "$want" ]; then
    echo "install-tools.sh: checksum mismatch for $name: expected $want, got $got; nothing installed" >&2
    exit 1
  fi
}

download kind "$KIND_URL" "$KIND_SHA256"
download helm.tar.gz "$HELM_URL" "$HELM_SHA256"
download kubectl "$KUBECTL_URL" "$KUBECTL_SHA256"
tar -xzf "$work/helm.tar.gz" -C "$work" "$platform/helm"

# Only once all three are verified does anything land in DIR.
install -m 0755 "$work/kind" "$dir/kind"
install -m 0755 "$work/$platform/helm" "$dir/helm"
install -m 0755 "$work/kubectl" "$dir/kubectl"
echo "installed kind $KIND_VERSION, helm $HELM_VERSION, kubectl $KUBECTL_VERSION ($platform) in $dir"
echo "add it to PATH: export PATH=\"$dir:\$PATH\""
