#!/usr/bin/env bash
# make stack-clean: delete the stack's state (after stack-down); build caches stay.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
rm -rf "$STACK_DIR" "$SHM_DIR"
echo "stack: state removed ($STACK_DIR, $SHM_DIR)"
