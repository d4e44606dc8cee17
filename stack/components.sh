# The stack's components in start order, their definitions (<name>_start, _ready,
# _version, _address), and the env file that tells clients where they are.
source "$(dirname "${BASH_SOURCE[0]}")/components/kube.sh"
source "$(dirname "${BASH_SOURCE[0]}")/components/podRunner.sh"
source "$(dirname "${BASH_SOURCE[0]}")/components/services.sh"
# The port variables each component listens on (see lib.sh), checked before anything starts.
declare -A STACK_PORTS=(
  [etcd]="ETCD_PORT ETCD_PEER_PORT" [kube-apiserver]=KUBE_APISERVER_PORT
  [kube-controller-manager]=KUBE_CONTROLLER_MANAGER_PORT [pod-runner]=POD_RUNNER_HEALTH_PORT
  [postgres]=POSTGRES_PORT [redis]=REDIS_PORT [epmd]=EPMD_PORT
  [rabbitmq]="RABBITMQ_PORT RABBITMQ_MANAGEMENT_PORT RABBITMQ_DIST_PORT" [kafka]="KAFKA_PORT KAFKA_CONTROLLER_PORT"
  [clickhouse]="CLICKHOUSE_HTTP_PORT CLICKHOUSE_TCP_PORT CLICKHOUSE_INTERSERVER_PORT" [gcs]=GCS_PORT [anvil]=ANVIL_PORT
)
STACK_COMPONENTS=(etcd kube-apiserver kube-controller-manager pod-runner postgres redis epmd rabbitmq kafka clickhouse gcs anvil)

# write_stack_env: the endpoints, and the defaults the deployed operator, its workers and
# the CLI share: LAKE_URL and CLICKHOUSE_DATABASE belong to the chain anvil runs now (see
# anvil_chain_tag), so a new chain never inherits an old chain's lake or markers.
# Written to a temporary file and renamed: a reader never sees half a file.
write_stack_env() {
  local file="$STACK_DIR/env" stack_dir tag
  stack_dir="$(cd "$STACK_DIR" && pwd)"
  tag="$(anvil_chain_tag)" || fail anvil "could not read the genesis block hash from $(anvil_address)"
  cat >"$file.tmp" <<ENV
# Written by 'make stack-up'. Source it: . .stack/env
export KUBECONFIG="$stack_dir/kubeconfig"
export DATABASE_URL="postgres://postgres:$POSTGRES_PASSWORD@127.0.0.1:$POSTGRES_PORT/postgres"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT"
export RABBITMQ_MANAGEMENT_URL="http://guest:guest@127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export CLICKHOUSE_URL="http://default@127.0.0.1:$CLICKHOUSE_HTTP_PORT"
export GCS_ENDPOINT="http://127.0.0.1:$GCS_PORT"
export STORAGE_EMULATOR_HOST="http://127.0.0.1:$GCS_PORT"
export ETH_RPC_URL="http://127.0.0.1:$ANVIL_PORT"
export MODEL_RUNNER_STACK_DIR="$stack_dir"
# Defaults of the deployed operator, its workers and the CLI, for anvil's chain $tag.
export LAKE_URL="$stack_dir/lake/$tag"
export CLICKHOUSE_DATABASE="model_runner_$tag"
ENV
  mv -f "$file.tmp" "$file"
}
