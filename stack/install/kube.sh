#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from the Go module proxy.
# Neither Debian nor npm ships them, and `go install pkg@version` cannot build
# k8s.io/kubernetes (its go.mod replaces every staging module with a local path),
# so we generate a tiny wrapper module that requires k8s.io/kubernetes and
# replaces each staging module with the matching published v0.x version.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

KUBE_VERSION="${KUBE_VERSION:-v1.35.4}"
staging_version="v0.${KUBE_VERSION#v1.}"
bin_dir="$CACHE_DIR/kube/$KUBE_VERSION/bin"
wrapper="$CACHE_DIR/kube/$KUBE_VERSION/wrapper"

if [[ -x "$bin_dir/kube-apiserver" && -x "$bin_dir/kube-controller-manager" && -x "$bin_dir/kubectl" ]]; then
  exit 0
fi
command -v go >/dev/null || fail kube "Go is not installed; install Go >= 1.25 (https://go.dev/dl is not reachable here: use the machine's Go)"

mkdir -p "$wrapper" "$bin_dir"
cd "$wrapper"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

mod_file="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$mod_file" ]] || fail kube "could not download k8s.io/kubernetes@$KUBE_VERSION from the Go module proxy"

{
  echo "module model-runner.local/kube-build"
  echo
  grep -E '^go [0-9]' "$mod_file"
  # A dependency's godebug line is ignored by Go, so the wrapper must carry it itself.
  grep -E '^godebug ' "$mod_file" || true
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  grep -E '=> \./staging/src/' "$mod_file" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy >/dev/null 2>&1 || go mod tidy
for cmd in kube-apiserver kube-controller-manager kubectl; do
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION")" \
    -o "$bin_dir/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
  mv "$bin_dir/$cmd.tmp" "$bin_dir/$cmd"
done
