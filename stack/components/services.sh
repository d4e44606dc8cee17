# Backing services: PostgreSQL, Redis, RabbitMQ (+ epmd), Kafka (KRaft), ClickHouse,
# fake-gcs-server and anvil. Each binds to 127.0.0.1 on a non-default port.

# --- PostgreSQL ---------------------------------------------------------------
postgres_start() {
  local bin; bin="$(postgres_bin)"
  [[ -x "$bin/postgres" ]] || fail postgres "PostgreSQL server not found; run 'make install' (apt-get install postgresql)"
  # tmpfs keeps it fast and avoids parent directories the postgres user cannot enter.
  local data="$SHM_DIR/postgres"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data" && chmod 700 "$data"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$SHM_DIR/postgres"
    echo "$POSTGRES_PASSWORD" >"$SHM_DIR/pgpass" && chmod 644 "$SHM_DIR/pgpass"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$SHM_DIR/pgpass" >>"$LOG_DIR/postgres.log" 2>&1 || fail postgres "initdb failed; see $LOG_DIR/postgres.log"
    rm -f "$SHM_DIR/pgpass"
  fi
  ln -sfn "$data" "$STACK_DIR/postgres-data"
  mkdir -p "$SHM_DIR/pgsock" && { [[ "$(id -u)" != 0 ]] || chown postgres:postgres "$SHM_DIR/pgsock"; }
  local as_user=()
  [[ "$(id -u)" == 0 ]] && as_user=(setpriv --reuid=postgres --regid=postgres --init-groups)
  spawn postgres "${as_user[@]}" "$bin/postgres" -D "$data" -p "$POSTGRES_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$SHM_DIR/pgsock" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200
}
postgres_ready() { "$(postgres_bin)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"; }
postgres_version() { "$(postgres_bin)/postgres" --version | awk '{ print $3 }'; }
postgres_address() { echo "postgres://postgres@127.0.0.1:$POSTGRES_PORT/postgres"; }

# --- Redis --------------------------------------------------------------------
redis_start() {
  require_command redis redis-server
  mkdir -p "$STACK_DIR/redis"
  spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$STACK_DIR/redis" --protected-mode yes
}
redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
redis_version() { redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'; }
redis_address() { echo "redis://127.0.0.1:$REDIS_PORT"; }

# --- RabbitMQ (and its own epmd) ---------------------------------------------
rabbitmq_env() {
  export HOME="$STACK_DIR/rabbitmq/home" ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_NODENAME=model-runner@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$RABBITMQ_PORT" RABBITMQ_DIST_PORT="$RABBITMQ_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$STACK_DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$STACK_DIR/rabbitmq/log"
  export RABBITMQ_CONFIG_FILE="$STACK_DIR/rabbitmq/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$STACK_DIR/rabbitmq/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$STACK_DIR/rabbitmq/enabled_plugins"
  export RABBITMQ_LOGS=- RABBITMQ_PID_FILE="$STACK_DIR/rabbitmq/rabbitmq.pid"
}

epmd_start() {
  require_command epmd epmd
  spawn epmd epmd -address 127.0.0.1 -port "$EPMD_PORT"
}
epmd_ready() { port_listening "$EPMD_PORT"; }
epmd_version() { echo "otp-$(cat /usr/lib/erlang/releases/*/OTP_VERSION 2>/dev/null | head -n 1)"; }
epmd_address() { echo "127.0.0.1:$EPMD_PORT"; }

rabbitmq_start() {
  [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || fail rabbitmq "rabbitmq-server not found; run 'make install' (apt-get install rabbitmq-server)"
  mkdir -p "$STACK_DIR/rabbitmq/home" "$STACK_DIR/rabbitmq/log"
  echo -n "$ERLANG_COOKIE" >"$STACK_DIR/rabbitmq/home/.erlang.cookie"
  chmod 400 "$STACK_DIR/rabbitmq/home/.erlang.cookie"
  cat >"$STACK_DIR/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBITMQ_MANAGEMENT_PORT
vm_memory_high_watermark.relative = 0.2
disk_free_limit.absolute = 256MB
# Queue depth (ready and unacked) in the management API at most about 1 s old, not 5 s: the
# WorkerPool autoscaler reads it. Queues report every second, and the management database
# keeps one sample a second for the last minute (then RabbitMQ's usual 60 s and 20 min).
collect_statistics_interval = 1000
management.sample_retention_policies.global.minute = 1
management.sample_retention_policies.global.hour = 60
management.sample_retention_policies.global.day = 1200
management.sample_retention_policies.basic.minute = 1
management.sample_retention_policies.basic.hour = 60
management.sample_retention_policies.detailed.10 = 1
CONF
  echo '[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].' >"$STACK_DIR/rabbitmq/advanced.config"
  echo '[rabbitmq_management].' >"$STACK_DIR/rabbitmq/enabled_plugins"
  (rabbitmq_env && spawn rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server)
}
rabbitmq_ready() { http_ok -u guest:guest "http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/api/overview"; }
rabbitmq_version() {
  curl -fsS --max-time 2 -u guest:guest "http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT/api/overview" |
    sed -n 's/.*"rabbitmq_version":"\([^"]*\)".*/\1/p'
}
rabbitmq_address() { echo "amqp://127.0.0.1:$RABBITMQ_PORT (management http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT)"; }

# --- Kafka (KRaft, single node) -----------------------------------------------
KAFKA_LIBS="$CACHE_DIR/kafka/$KAFKA_VERSION/libs"
kafka_start() {
  [[ -f "$KAFKA_LIBS/.complete" ]] || fail kafka "broker jars missing in $KAFKA_LIBS; run 'make install' (fetches them from Maven Central)"
  require_command kafka java
  local dir="$STACK_DIR/kafka"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat >"$dir/log4j2.properties" <<'PROPS'
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
PROPS
  local java=(java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$KAFKA_LIBS/*")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    "${java[@]}" kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "$dir/server.properties" \
      >>"$LOG_DIR/kafka.log" 2>&1 || fail kafka "formatting KRaft storage failed; see $LOG_DIR/kafka.log"
  fi
  spawn kafka "${java[@]}" kafka.Kafka "$dir/server.properties"
}
# A fixed, valid (base64url, 16 bytes) cluster id: this is a throwaway single-node cluster.
kafka_cluster_id() { echo "bW9kZWwtcnVubmVyLWxvYw"; }
kafka_ready() { grep -q 'Kafka Server started' "$LOG_DIR/kafka.log" && port_listening "$KAFKA_PORT"; }
kafka_version() { echo "$KAFKA_VERSION"; }
kafka_address() { echo "127.0.0.1:$KAFKA_PORT"; }

# --- ClickHouse ---------------------------------------------------------------
clickhouse_start() {
  require_command clickhouse clickhouse-server
  local dir="$STACK_DIR/clickhouse"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files"
  cat >"$dir/config.xml" <<XML
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CLICKHOUSE_HTTP_PORT</http_port>
  <tcp_port>$CLICKHOUSE_TCP_PORT</tcp_port>
  <interserver_http_port>$CLICKHOUSE_INTERSERVER_PORT</interserver_http_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
XML
  cat >"$dir/users.xml" <<XML
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  spawn clickhouse clickhouse-server --config-file="$dir/config.xml"
}
clickhouse_ready() { [[ "$(curl -fsS --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/ping")" == Ok. ]]; }
clickhouse_version() { curl -fsS --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/?query=SELECT%20version()"; }
clickhouse_address() { echo "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"; }

# --- fake-gcs-server (GCS emulator) -------------------------------------------
GCS_BIN="$CACHE_DIR/fake-gcs/$FAKE_GCS_VERSION/fake-gcs-server"
gcs_start() {
  [[ -x "$GCS_BIN" ]] || fail gcs "fake-gcs-server missing in $(dirname "$GCS_BIN"); run 'make install'"
  mkdir -p "$STACK_DIR/gcs/data"
  spawn gcs "$GCS_BIN" -scheme http -host 127.0.0.1 -port "$GCS_PORT" -backend filesystem \
    -filesystem-root "$STACK_DIR/gcs/data" -external-url "http://127.0.0.1:$GCS_PORT" \
    -public-host "127.0.0.1:$GCS_PORT" -log-level warn
}
gcs_ready() { http_ok "http://127.0.0.1:$GCS_PORT/storage/v1/b"; }
gcs_version() { echo "$FAKE_GCS_VERSION"; }
gcs_address() { echo "http://127.0.0.1:$GCS_PORT"; }

# --- anvil (Ethereum JSON-RPC) ------------------------------------------------
# The npm package ships the binary per platform; run it directly (not through the
# package's node wrapper) so the recorded PID is anvil itself.
anvil_bin() { ls "$REPO_ROOT"/node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -n 1; }
anvil_start() {
  local bin; bin="$(anvil_bin)"
  [[ -x "$bin" ]] || fail anvil "anvil missing; run 'make install' (npm package @foundry-rs/anvil)"
  # Keep the state of the last 5,000 blocks in memory, so eth_call at a batch's last
  # block works while parallel tests mine. Without a limit anvil keeps about 3,600 and
  # spills older states to ~/.foundry (gigabytes per hour of tests) and mines 3x slower.
  spawn anvil "$bin" --host 127.0.0.1 --port "$ANVIL_PORT" --chain-id 31337 --silent \
    --prune-history 5000
}
anvil_ready() {
  curl -fsS --max-time 2 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$ANVIL_PORT" | grep -q result
}
# The chain anvil runs, named by the first 8 hex digits of its genesis block hash. A restarted
# anvil starts a new chain (same block numbers, other blocks) with another genesis hash, so
# what is keyed by this tag (the stack's lake and marker database) starts fresh with it.
anvil_chain_tag() {
  local block tag
  block="$(curl -fsS --max-time 5 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x0",false]}' \
    "http://127.0.0.1:$ANVIL_PORT")" || return 1
  # The block's own "hash" (parentHash, mixHash and the like are other keys).
  tag="$(sed -n 's/.*"hash" *: *"0x\([0-9a-f]\{8\}\)[0-9a-f]\{56\}".*/\1/p' <<<"$block")"
  [[ "$tag" =~ ^[0-9a-f]{8}$ ]] || return 1
  echo "$tag"
}
anvil_version() { "$(anvil_bin)" --version 2>/dev/null | awk 'NR == 1 { print $3 }'; }
anvil_address() { echo "http://127.0.0.1:$ANVIL_PORT"; }
