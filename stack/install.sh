#!/usr/bin/env bash
# make install: everything the project needs on a fresh machine, idempotently.
#   - Debian packages for the backing services (only those missing)
#   - npm dependencies, including the pinned Node LTS binary and anvil
#   - kube-apiserver / kube-controller-manager / kubectl (Go module proxy)
#   - fake-gcs-server (Go module proxy) and the Kafka broker jars (Maven Central)
# Build caches live in ~/.cache/model-runner, so the warm path takes seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

# command -> Debian package that provides it
declare -A apt_for=(
  [etcd]=etcd-server [redis-server]=redis-server [clickhouse-server]=clickhouse-server
  [epmd]=erlang-base [openssl]=openssl [curl]=curl [ss]=iproute2 [setpriv]=util-linux
  [mvn]=maven [java]=openjdk-17-jre-headless [make]=make
)
missing=()
for cmd in "${!apt_for[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${apt_for[$cmd]}"); done
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
[[ -n "$(postgres_bin)" ]] || missing+=(postgresql)
[[ -x /usr/bin/time ]] || missing+=(time) # GNU time: make bench measures CPU and peak RSS with it
if ((${#missing[@]})); then
  echo "install: apt packages: ${missing[*]}"
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq >/dev/null || fail install "apt-get update failed; run it by hand as root"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail install "apt-get install ${missing[*]} failed; run it by hand as root"
  # Debian starts some services on install where an init system exists; the stack runs its own.
fi
command -v go >/dev/null || fail install "Go >= 1.25 is required to build kube-apiserver; install it (Debian's golang is too old)"
command -v npm >/dev/null || fail install "npm is required; install Node.js and npm"

# npm: reinstall only when the lock file changed since the last install.
lock_hash="$(md5sum package-lock.json | cut -c1-32)"
if [[ "$(cat node_modules/.install-hash 2>/dev/null)" != "$lock_hash" ]]; then
  echo "install: npm install (from package-lock.json)"
  # npm ci rejects this lock file over optional per-platform binaries (anvil, duckdb)
  # it never needs here; npm install honours the same lock without that check.
  npm install --no-fund --no-audit --loglevel=error >/dev/null || fail install "npm install failed; see the npm log above"
  md5sum package-lock.json | cut -c1-32 >node_modules/.install-hash
fi

# The three slow builds run in parallel, each logging to the cache.
mkdir -p "$CACHE_DIR/logs"
pids=()
for step in kube fake-gcs kafka; do
  bash "$(dirname "$0")/install/$step.sh" >"$CACHE_DIR/logs/install-$step.log" 2>&1 &
  pids+=("$!:$step")
done
status=0
for entry in "${pids[@]}"; do
  if ! wait "${entry%%:*}"; then
    echo "stack: ${entry#*:}: build failed: $(grep -m1 'stack:' "$CACHE_DIR/logs/install-${entry#*:}.log" || tail -n 1 "$CACHE_DIR/logs/install-${entry#*:}.log") (log: $CACHE_DIR/logs/install-${entry#*:}.log)" >&2
    status=1
  fi
done
exit "$status"
