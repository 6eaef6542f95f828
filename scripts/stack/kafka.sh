#!/usr/bin/env bash
# Single-node Kafka (KRaft broker + controller) from pinned Maven Central jars.
#   kafka.sh fetch|up|down|status
# Environment: STACK_DIR, KAFKA_PORT (29092), KAFKA_CONTROLLER_PORT (29093), KAFKA_HEAP_MB (512).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

KAFKA_PORT="${KAFKA_PORT:-29092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-29093}"
KAFKA_HEAP_MB="${KAFKA_HEAP_MB:-512}"
HOME_DIR="$STACK_DIR/kafka"
POM="$SCRIPTS_DIR/kafka/pom.xml"
KAFKA_VERSION="$(pom_property "$POM" kafka.version)"
[[ -n "$KAFKA_VERSION" ]] || die "kafka.version missing from $POM"
JARS="$HOME_DIR/$KAFKA_VERSION/jars"
DATA="$STACK_DIR/data/kafka"
PIDFILE="$STACK_DIR/run/kafka.pid"
LOGFILE="$STACK_DIR/logs/kafka.log"

write_config() {
  mkdir -p "$HOME_DIR" "$DATA"
  cat > "$HOME_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.partitions=1
auto.create.topics.enable=true
delete.topic.enable=true
log.dirs=$DATA
log.retention.hours=168
PROPS
  cat > "$HOME_DIR/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.ak.name = org.apache.kafka
logger.ak.level = WARN
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
PROPS
}

ready() { port_open "$KAFKA_PORT"; }
status_json() { status_line kafka "$PIDFILE" "$KAFKA_PORT" ready; }

case "${1:-}" in
  fetch)
    fetch_jars kafka "$POM" "$JARS" ;;
  up)
    if pid_alive "$PIDFILE" && port_open "$KAFKA_PORT"; then log "kafka already running (pid $(cat "$PIDFILE"))"; status_json; exit 0; fi
    refuse_taken_port kafka "$KAFKA_PORT" "stack.kafka.port (SYNCCTL_STACK__KAFKA__PORT)"
    fetch_jars kafka "$POM" "$JARS"
    write_config
    if [[ ! -f "$DATA/meta.properties" ]]; then
      log "formatting KRaft storage in $DATA"
      uuid="$(java -cp "$JARS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
      java -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$JARS/*" kafka.tools.StorageTool \
        format -t "$uuid" -c "$HOME_DIR/server.properties" --standalone >>"$LOGFILE" 2>&1 \
        || die "formatting Kafka storage failed: see $LOGFILE"
    fi
    log "starting kafka on 127.0.0.1:$KAFKA_PORT (log: $LOGFILE)"
    launch kafka "$PIDFILE" "$LOGFILE" 60 ready -- java -Xms128m -Xmx"${KAFKA_HEAP_MB}"m -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$HOME_DIR/log4j2.properties" -cp "$JARS/*" kafka.Kafka "$HOME_DIR/server.properties"
    status_json ;;
  down)
    stop_pid "$PIDFILE" kafka
    status_json ;;
  status)
    status_json ;;
  *) die "usage: kafka.sh fetch|up|down|status" ;;
esac
