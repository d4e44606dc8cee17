#!/usr/bin/env bash
# Builds fake-gcs-server, the standard GCS emulator, from the Go module proxy.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

FAKE_GCS_VERSION="${FAKE_GCS_VERSION:-v1.56.1}"
bin_dir="$CACHE_DIR/fake-gcs/$FAKE_GCS_VERSION"
[[ -x "$bin_dir/fake-gcs-server" ]] && exit 0
command -v go >/dev/null || fail gcs "Go is not installed; install Go >= 1.24 from Debian or the machine image"
mkdir -p "$bin_dir"
GOBIN="$bin_dir" GOTOOLCHAIN=local go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION" \
  || fail gcs "go install github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION failed; check the Go module proxy"
