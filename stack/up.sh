#!/usr/bin/env bash
# make stack-up: start every component of the local stack, idempotently.
# A component that already runs (by its PID file) is reused. If any component
# fails, everything this invocation started is stopped again, so a failed start
# never leaves a half-started stack behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/components.sh"

mkdir -p "$STACK_DIR" "$PID_DIR" "$LOG_DIR" "$SHM_DIR"
require_command stack curl
require_command stack ss
require_command stack setsid

# Preflight: every port a component that is not running yet will need must be free,
# so a conflict stops the run before anything starts.
for name in "${STACK_COMPONENTS[@]}"; do
  component_running "$name" && continue
  for var in ${STACK_PORTS[$name]}; do require_port "$name" "$var"; done
done

started=()
on_fail() {
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do stop_component "${started[$i]}" 10; done
  ((${#started[@]} == 0)) || echo "stack: stopped what this run had started: ${started[*]}" >&2
}

declare -A began
launch() { # start a component unless it already runs
  local name="$1" fn="${1//-/_}"
  if component_running "$name"; then
    began[$name]=""
    return
  fi
  began[$name]="$(now)"
  started+=("$name")
  "${fn}_start"
}
await() { # wait for readiness and report the time it took
  local name="$1" fn="${1//-/_}" timeout="${2:-60}"
  wait_until "$name" "$timeout" "${fn}_ready"
  if [[ -n "${began[$name]}" ]]; then
    printf '  %-24s started in %s\n' "$name" "$(elapsed_since "${began[$name]}")"
  else
    printf '  %-24s already running (pid %s)\n' "$name" "$(pid_of "$name")"
  fi
}

total="$(now)"
echo "stack: starting in $STACK_DIR"
# The slow starters (JVM, BEAM) go first and warm up while the rest start.
launch kafka
launch epmd; await epmd 10
launch rabbitmq
launch etcd; await etcd 30
launch kube-apiserver; await kube-apiserver 120
launch kube-controller-manager
for name in postgres redis clickhouse gcs anvil; do launch "$name"; done
for name in postgres redis clickhouse gcs anvil; do await "$name" 60; done
await kube-controller-manager 60
launch pod-runner; await pod-runner 60
await rabbitmq 90
await kafka 120
write_stack_env
echo "stack: ready in $(elapsed_since "$total"); endpoints in $STACK_DIR/env"
