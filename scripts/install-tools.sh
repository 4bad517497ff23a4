#!/usr/bin/env bash
# Installs the tools the kind environment drives, in the versions its
# preflight expects, each checked against a pinned SHA-256 before it is put
# in place:
#   kind v0.29.0, helm v3.18.6, kubectl v1.32.4   (linux-amd64)
# Usage: scripts/install-tools.sh [DIR]     (default: ~/.local/opssight-harness/bin)
# Then: export PATH="DIR:$PATH". Docker itself is not installed here.
set -euo pipefail

dir="${1:-$HOME/.local/opssight-harness/bin}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install-tools.sh: only linux-amd64 has pinned checksums here; install kind 0.29, helm 3.18 and kubectl 1.32 by hand" >&2; exit 2 ;;
esac

KIND_URL=https://github.com/kubernetes-sigs/kind/releases/download/v0.29.0/kind-linux-amd64
KIND_SHA256=c72eda46430f065fb45c5f70e7c957cc9209402ef309294821978677c8fb3284
HELM_URL=https://get.helm.sh/helm-v3.18.6-linux-amd64.tar.gz
HELM_SHA256=3f43c0aa57243852dd542493a0f54f1396c0bc8ec7296bbb2c01e802010819ce
KUBECTL_URL=https://dl.k8s.io/release/v1.32.4/bin/linux/amd64/kubectl
KUBECTL_SHA256=10d739e9af8a59c9e7a730a2445916e04bc9cbb44bc79d22ce460cd329fa076c

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"

# download NAME URL SHA256 -> $work/NAME, or exit naming the mismatch.
download() {
  local name="$1" url="$2" want="$3" got
  echo "downloading $name from $url"
  curl -fsSL --retry 3 -o "$work/$name" "$url"
  got="$(sha256sum "$work/$name" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "install-tools.sh: checksum mismatch for $name: expected $want, got $got; nothing installed" >&2
    exit 1
  fi
}

download kind "$KIND_URL" "$KIND_SHA256"
download helm.tar.gz "$HELM_URL" "$HELM_SHA256"
download kubectl "$KUBECTL_URL" "$KUBECTL_SHA256"
tar -xzf "$work/helm.tar.gz" -C "$work" linux-amd64/helm

# Only once all three are verified does anything land in DIR.
install -m 0755 "$work/kind" "$dir/kind"
install -m 0755 "$work/linux-amd64/helm" "$dir/helm"
install -m 0755 "$work/kubectl" "$dir/kubectl"
echo "installed kind v0.29.0, helm v3.18.6, kubectl v1.32.4 in $dir"
echo "add it to PATH: export PATH=\"$dir:\$PATH\""
