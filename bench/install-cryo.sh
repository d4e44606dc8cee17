#!/usr/bin/env bash
# The benchmark's peer tool for ingestion: cryo (crates.io cryo_cli 0.3.2), built once into the
# cache. No --locked: its lock file pins an old `time` crate that today's rustc refuses.
set -euo pipefail
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/model-runner}"
CRYO="$CACHE_DIR/cryo/bin/cryo"
if [[ -x "$CRYO" ]]; then
  exit 0
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "install-cryo: cargo is missing (apt-get install cargo, or rustup)" >&2
  exit 1
fi
echo "install-cryo: building cryo_cli 0.3.2 from crates.io into $CACHE_DIR/cryo (about 40 minutes on 2 cores, once)" >&2
cargo install cryo_cli --version 0.3.2 --root "$CACHE_DIR/cryo" -j 1
"$CRYO" --version >&2
