#!/usr/bin/env bash
# make stack-status: each component, its version, address and health.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/components.sh"

printf '%-24s %-8s %-8s %-14s %s\n' COMPONENT PID HEALTH VERSION ADDRESS
unhealthy=0
for name in "${STACK_COMPONENTS[@]}"; do
  fn="${name//-/_}"
  pid="$(pid_of "$name" || true)"
  if ! pid_alive "$pid"; then
    health=stopped; version=-; pid=-; unhealthy=1
  elif "${fn}_ready" >/dev/null 2>&1; then
    health=healthy; version="$("${fn}_version" 2>/dev/null || echo '?')"
  else
    health=starting; version=-; unhealthy=1
  fi
  printf '%-24s %-8s %-8s %-14s %s\n' "$name" "$pid" "$health" "${version:--}" "$("${fn}_address")"
done
exit "$unhealthy"
