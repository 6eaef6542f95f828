#!/usr/bin/env bash
# Kafka Connect (distributed mode, one worker) + the Debezium PostgreSQL plugin, from pinned
# Maven Central artifacts (connect/pom.xml, connect/plugin/pom.xml; recipe: shared stack.md §1b, docs/erp-cdc.md).
#   connect.sh fetch|up|down|status
# Environment: STACK_DIR, CONNECT_PORT (28083), CONNECT_HEAP_MB (512), KAFKA_BOOTSTRAP (127.0.0.1:29092),
#   CONNECT_GROUP_ID (syncctl-connect), CONNECT_TOPIC_PREFIX (_connect): config/offset/status topics.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

CONNECT_PORT="${CONNECT_PORT:-28083}"
CONNECT_HEAP_MB="${CONNECT_HEAP_MB:-512}"
KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-127.0.0.1:29092}"
CONNECT_GROUP_ID="${CONNECT_GROUP_ID:-syncctl-connect}"
CONNECT_TOPIC_PREFIX="${CONNECT_TOPIC_PREFIX:-_connect}"
POM="$SCRIPTS_DIR/connect/pom.xml"
HOME_DIR="$STACK_DIR/connect"
CONNECT_VERSION="$(pom_property "$POM" connect.version)"
DEBEZIUM_VERSION="$(pom_property "$POM" debezium.version)"
[[ -n "$CONNECT_VERSION" && -n "$DEBEZIUM_VERSION" ]] || die "connect.version or debezium.version missing from $POM"
# One folder per pinned pair: jars and plugin of two versions never mix (see fetch_jars).
RELEASE_DIR="$HOME_DIR/$CONNECT_VERSION-debezium-$DEBEZIUM_VERSION"
JARS="$RELEASE_DIR/jars"
PLUGINS="$RELEASE_DIR/plugins"
PIDFILE="$STACK_DIR/run/connect.pid"
LOGFILE="$STACK_DIR/logs/connect.log"
URL="http://127.0.0.1:$CONNECT_PORT"
PLUGIN_POM="$SCRIPTS_DIR/connect/plugin/pom.xml"
PLUGIN_STAMP="debezium-connector-postgres $DEBEZIUM_VERSION $(sha256sum "$PLUGIN_POM" | cut -c1-16)"

# fetch_plugin: builds the Debezium PostgreSQL plugin folder in $PLUGINS once (connector jar and its
# runtime dependencies, see plugin/pom.xml); the stamp names the version and the plugin pom's checksum.
fetch_plugin() {
  if [[ -f "$PLUGINS/.stamp" && "$(cat "$PLUGINS/.stamp")" == "$PLUGIN_STAMP" ]]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch the Debezium plugin: apt-get install maven"
  log "fetching the Debezium PostgreSQL connector $DEBEZIUM_VERSION from Maven Central (cached in ~/.m2 and $PLUGINS)"
  local folder="$PLUGINS.tmp/debezium-connector-postgres"
  rm -rf "$PLUGINS.tmp" && mkdir -p "$folder"
  mvn -q -B -f "$PLUGIN_POM" dependency:copy-dependencies -Ddebezium.version="$DEBEZIUM_VERSION" -DoutputDirectory="$folder" >&2 \
    || die "mvn could not fetch io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION (see output above)"
  [[ -f "$folder/debezium-connector-postgres-$DEBEZIUM_VERSION.jar" ]] || die "the Debezium plugin folder $folder lacks debezium-connector-postgres-$DEBEZIUM_VERSION.jar"
  rm -rf "$PLUGINS" && mv "$PLUGINS.tmp" "$PLUGINS"
  echo "$PLUGIN_STAMP" > "$PLUGINS/.stamp"
}

write_config() {
  mkdir -p "$HOME_DIR"
  cat > "$HOME_DIR/worker.properties" <<PROPS
bootstrap.servers=$KAFKA_BOOTSTRAP
group.id=$CONNECT_GROUP_ID
config.storage.topic=$CONNECT_TOPIC_PREFIX-configs
offset.storage.topic=$CONNECT_TOPIC_PREFIX-offsets
status.storage.topic=$CONNECT_TOPIC_PREFIX-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=1
status.storage.partitions=1
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
# without these, a NULL in a column with a DEFAULT arrives as the default
key.converter.replace.null.with.default=false
value.converter.replace.null.with.default=false
listeners=http://127.0.0.1:$CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT
plugin.path=$PLUGINS
plugin.discovery=only_scan
# bounds the replay after a crash (default 60 s); consumers dedupe by LSN anyway
offset.flush.interval.ms=1000
# Kafka 4 producers linger 5 ms by default: that is CDC latency for nothing
producer.linger.ms=0
# connectors may tune their own clients (syncctl sets producer.override.batch.size for bulk
# throughput); All is Connect's default since 3.0, stated here so that it stays so
connector.client.config.override.policy=All
PROPS
  cat > "$HOME_DIR/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.common.name = org.apache.kafka.common
logger.common.level = WARN
logger.jetty.name = org.eclipse.jetty
logger.jetty.level = WARN
logger.wst.name = org.apache.kafka.connect.runtime.WorkerSourceTask
logger.wst.level = WARN
logger.rest.name = org.apache.kafka.connect.runtime.rest.RestServer
logger.rest.level = WARN
logger.threads.name = io.debezium.util.Threads
logger.threads.level = WARN
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.typereg.name = io.debezium.connector.postgresql.TypeRegistry
logger.typereg.level = ERROR
logger.measure.name = io.debezium.metrics.stats.MeasurementCollector
logger.measure.level = ERROR
PROPS
}

healthy() { curl -sf --max-time 2 "$URL/health" >/dev/null 2>&1; }

# bootstrap_open: the first broker of $KAFKA_BOOTSTRAP accepts TCP connections.
bootstrap_open() {
  local first="${KAFKA_BOOTSTRAP%%,*}"
  (exec 3<>"/dev/tcp/${first%:*}/${first##*:}") 2>/dev/null
}

status_json() {
  local running=false pid=null ready=false
  if pid_alive "$PIDFILE"; then running=true; pid="$(cat "$PIDFILE")"; fi
  local body='{}' root='{}' plugins='[]'
  if healthy; then
    ready=true
    body="$(curl -sf --max-time 5 "$URL/connectors?expand=status" 2>/dev/null || echo '{}')"
    root="$(curl -sf --max-time 5 "$URL/" 2>/dev/null || echo '{}')"
    plugins="$(curl -sf --max-time 5 "$URL/connector-plugins" 2>/dev/null || echo '[]')"
  elif [[ "$running" == false ]] && port_open "$CONNECT_PORT"; then
    running=true   # something else holds the port
  fi
  # node is always there (syncctl is a Node program); jq may not be.
  CONNECTORS="$body" ROOT="$root" PLUGINS="$plugins" node -e '
    const [running, pid, ready, port, managed, dbz, connectPin] = process.argv.slice(1);
    let connectors = {}, root = {};
    try { connectors = JSON.parse(process.env.CONNECTORS || "{}"); } catch {}
    try { root = JSON.parse(process.env.ROOT || "{}"); } catch {}
    const items = Object.entries(connectors).map(([name, c]) => {
      const s = (c && c.status) || {};
      return {
        connector: name,
        state: (s.connector && s.connector.state) || "UNKNOWN",
        type: s.type,
        tasks: (s.tasks || []).map((t) => ({ id: t.id, state: t.state, ...(t.trace ? { trace: String(t.trace).split("\n")[0] } : {}) })),
      };
    });
    // the versions the worker runs (after a pin changed, an older worker may still be up)
    let plugins = [];
    try { plugins = JSON.parse(process.env.PLUGINS || "[]"); } catch {}
    const pg = plugins.find((p) => p.class === "io.debezium.connector.postgresql.PostgresConnector");
    const runningDbz = pg ? pg.version : "not loaded";
    const stale = ready === "true" && (root.version !== connectPin || runningDbz !== dbz) ? ` (pinned: ${connectPin} + ${dbz}; restart it to upgrade)` : "";
    const detail = ready === "true" ? `Kafka Connect ${root.version || "?"}, Debezium PostgreSQL ${runningDbz}${stale}` : (running === "true" ? "not healthy" : "stopped");
    process.stdout.write(JSON.stringify({ component: "connect", running: running === "true", pid: pid === "null" ? null : Number(pid),
      ready: ready === "true", port: Number(port), managed: managed === "true", detail, items }) + "\n");
  ' "$running" "$pid" "$ready" "$CONNECT_PORT" "$(pid_alive "$PIDFILE" && echo true || echo false)" "$DEBEZIUM_VERSION" "$CONNECT_VERSION"
}

case "${1:-}" in
  fetch)
    fetch_jars connect "$POM" "$JARS"
    fetch_plugin ;;
  up)
    if pid_alive "$PIDFILE"; then
      if wait_for 90 connect healthy; then log "connect already running (pid $(cat "$PIDFILE"))"; status_json; exit 0; fi
      die "connect (pid $(cat "$PIDFILE")) is running but $URL/health did not answer within 90 s: see $LOGFILE, or run connect.sh down"
    fi
    refuse_taken_port connect "$CONNECT_PORT" "stack.connect.port (SYNCCTL_STACK__CONNECT__PORT)"
    bootstrap_open || die "Kafka is not reachable at $KAFKA_BOOTSTRAP: start it first (kafka.sh up / syncctl stack up)"
    fetch_jars connect "$POM" "$JARS"
    fetch_plugin
    write_config
    log "starting kafka connect on $URL against $KAFKA_BOOTSTRAP (log: $LOGFILE)"
    started=$(date +%s%N)
    # Healthy 5 s after a clean start, up to ~10 s after a kill -9 (the group waits for the dead member).
    launch connect "$PIDFILE" "$LOGFILE" 120 healthy -- java -Xms256m -Xmx"${CONNECT_HEAP_MB}"m -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$JARS/*" org.apache.kafka.connect.cli.ConnectDistributed "$HOME_DIR/worker.properties"
    log "kafka connect healthy after $(( ($(date +%s%N) - started) / 1000000 )) ms"
    status_json ;;
  down)
    stop_pid "$PIDFILE" connect
    status_json ;;
  status)
    status_json ;;
  *) die "usage: connect.sh fetch|up|down|status" ;;
esac
