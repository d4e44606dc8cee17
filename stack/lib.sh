# Shared helpers for the local stack scripts. Sourced, not executed.
# Every server binds to 127.0.0.1 on a non-default port, keeps its state under
# .stack/ and is tracked by a PID file, so stack-down stops exactly what stack-up
# started and nothing else.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
CACHE_DIR="${MODEL_RUNNER_CACHE:-$HOME/.cache/model-runner}"
PID_DIR="$STACK_DIR/pids"
LOG_DIR="$STACK_DIR/logs"
# Fast, disposable storage (etcd, Postgres) lives on tmpfs; .stack/ links to it.
# Keyed by the checkout path so two clones never share a data directory.
SHM_DIR="/dev/shm/model-runner-$(printf '%s' "$STACK_DIR" | md5sum | cut -c1-10)"

KUBE_VERSION="${KUBE_VERSION:-v1.35.4}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
FAKE_GCS_VERSION="${FAKE_GCS_VERSION:-v1.56.1}"

# Ports: all non-default so the stack never collides with a developer's own services.
ETCD_PORT="${ETCD_PORT:-32379}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-32380}"
KUBE_APISERVER_PORT="${KUBE_APISERVER_PORT:-36443}"
KUBE_CONTROLLER_MANAGER_PORT="${KUBE_CONTROLLER_MANAGER_PORT:-30257}"
POSTGRES_PORT="${POSTGRES_PORT:-35432}"
REDIS_PORT="${REDIS_PORT:-36379}"
RABBITMQ_PORT="${RABBITMQ_PORT:-35672}"
RABBITMQ_MANAGEMENT_PORT="${RABBITMQ_MANAGEMENT_PORT:-35673}"
RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-35674}"
EPMD_PORT="${EPMD_PORT:-34369}"
KAFKA_PORT="${KAFKA_PORT:-39092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-39093}"
CLICKHOUSE_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-38123}"
CLICKHOUSE_TCP_PORT="${CLICKHOUSE_TCP_PORT:-39000}"
CLICKHOUSE_INTERSERVER_PORT="${CLICKHOUSE_INTERSERVER_PORT:-39009}"
GCS_PORT="${GCS_PORT:-34443}"
ANVIL_PORT="${ANVIL_PORT:-38545}"

POSTGRES_PASSWORD="model-runner"
ERLANG_COOKIE="model-runner-local-stack"

# fail COMPONENT MESSAGE: one line naming the component and what to do, then exit.
# A script may define on_fail to roll back what it started before exiting.
fail() {
  echo "stack: $1: $2" >&2
  if declare -F on_fail >/dev/null; then on_fail; fi
  exit 1
}

now() { date +%s.%N; }
elapsed_since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

pid_of() { [[ -f "$PID_DIR/$1.pid" ]] && cat "$PID_DIR/$1.pid"; }

# A process counts as alive only if it exists and is not a zombie: this
# machine's init reaps slowly, so kill -0 alone would lie.
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

component_running() { pid_alive "$(pid_of "$1")"; }

port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# require_port COMPONENT VAR: refuse to start on a port someone else holds.
require_port() {
  local port="${!2}"
  if port_listening "$port"; then
    fail "$1" "port $port on 127.0.0.1 is already in use by another process; free it or set $2 to another port"
  fi
}

require_command() {
  command -v "$2" >/dev/null 2>&1 || fail "$1" "'$2' not found; run 'make install' to install the stack's tools"
}

# spawn COMPONENT CMD...: run CMD in its own session, log to .stack/logs, record its PID.
spawn() {
  local name="$1"; shift
  mkdir -p "$PID_DIR" "$LOG_DIR"
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
}

# wait_until COMPONENT TIMEOUT_SECONDS CHECK...: poll CHECK until it passes; fail
# fast (with the log's last line) if the process dies, and never wait forever.
wait_until() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! component_running "$name"; then
      fail "$name" "exited during start-up: $(tail -n 1 "$LOG_DIR/$name.log" 2>/dev/null | cut -c1-300) (full log: $LOG_DIR/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      fail "$name" "not ready after ${timeout}s; see $LOG_DIR/$name.log"
    fi
    sleep 0.2
  done
}

# stop_component NAME [GRACE_SECONDS]: SIGTERM the recorded PID, SIGKILL after the grace period.
stop_component() {
  local name="$1" grace="${2:-20}" pid
  pid="$(pid_of "$name")" || true
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    while pid_alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$PID_DIR/$name.pid"
}

http_ok() { curl -fsS --max-time 2 -o /dev/null "$@"; }

as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi
}

postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
