#!/usr/bin/env bash
# make stack-down: stop exactly what stack-up started, by PID, in reverse order.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/components.sh"

for ((i = ${#STACK_COMPONENTS[@]} - 1; i >= 0; i--)); do
  name="${STACK_COMPONENTS[$i]}"
  if component_running "$name"; then
    stop_component "$name" 30
    echo "  stopped $name"
  else
    rm -f "$PID_DIR/$name.pid"
  fi
done
# Extra processes started by tests or demos through the stack (e.g. the local pod runner).
for pidfile in "$PID_DIR"/*.pid; do
  [[ -e "$pidfile" ]] || continue
  name="$(basename "$pidfile" .pid)"
  stop_component "$name" 30
  echo "  stopped $name"
done
rm -f "$STACK_DIR/env"
echo "stack: down"
