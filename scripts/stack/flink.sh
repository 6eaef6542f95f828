#!/usr/bin/env bash
# Apache Flink 2.3.0 session cluster (JobManager + one TaskManager) and the SQL Gateway, from
# pinned Maven Central jars (flink/pom.xml; recipe: shared stack.md §2-§9, docs/flink.md).
#   flink.sh fetch|up|down|status
# Environment: STACK_DIR, FLINK_REST_PORT (28081, JobManager REST), FLINK_GATEWAY_PORT (28082,
#   SQL Gateway REST), FLINK_RPC_PORT (26123), FLINK_TASK_SLOTS (4),
#   FLINK_CHECKPOINT_INTERVAL (5s), FLINK_CHECKPOINT_DIR (file://$STACK_DIR/data/flink/checkpoints).
# `up` starts whatever of the three JVMs is missing (JM first, then TM, then gateway: on 2 cores
# starting them together doubles the start time), so it also restarts a killed TaskManager.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

FLINK_REST_PORT="${FLINK_REST_PORT:-28081}"
FLINK_GATEWAY_PORT="${FLINK_GATEWAY_PORT:-28082}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-26123}"
FLINK_TASK_SLOTS="${FLINK_TASK_SLOTS:-4}"
FLINK_CHECKPOINT_INTERVAL="${FLINK_CHECKPOINT_INTERVAL:-5s}"
DATA="$STACK_DIR/data/flink"
FLINK_CHECKPOINT_DIR="${FLINK_CHECKPOINT_DIR:-file://$DATA/checkpoints}"
FLINK_SAVEPOINT_DIR="${FLINK_SAVEPOINT_DIR:-file://$DATA/savepoints}"
POM="$SCRIPTS_DIR/flink/pom.xml"
HOME_DIR="$STACK_DIR/flink"
FLINK_VERSION="$(pom_property "$POM" flink.version)"
[[ -n "$FLINK_VERSION" ]] || die "flink.version missing from $POM"
JARS="$HOME_DIR/$FLINK_VERSION/jars"
CONF="$HOME_DIR/conf"
JM_PID="$STACK_DIR/run/flink-jobmanager.pid"
TM_PID="$STACK_DIR/run/flink-taskmanager.pid"
GW_PID="$STACK_DIR/run/flink-gateway.pid"
REST="http://127.0.0.1:$FLINK_REST_PORT"
GATEWAY="http://127.0.0.1:$FLINK_GATEWAY_PORT"

# Flink's shipped env.java.default-opts.all: needed on Java 17 (Kryo, Pekko, the planner's codegen).
JOPTS=(--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED)

write_config() {
  mkdir -p "$CONF" "$HOME_DIR/tmp" "$DATA/checkpoints" "$DATA/savepoints"
  # Sizes for a 2-core machine that also runs Kafka, Connect, PostgreSQL and Redis: ~1.1 GB RSS in total.
  cat > "$CONF/config.yaml.new" <<YAML
jobmanager:
  rpc: { address: 127.0.0.1, port: $FLINK_RPC_PORT }
  bind-host: 127.0.0.1
  memory: { process: { size: 768m } }
taskmanager:
  bind-host: 127.0.0.1
  host: 127.0.0.1
  numberOfTaskSlots: $FLINK_TASK_SLOTS
  memory: { process: { size: 1280m } }
rest:
  address: 127.0.0.1
  bind-address: 127.0.0.1
  port: $FLINK_REST_PORT
parallelism:
  default: 1
# a dead TaskManager is noticed in seconds, not the default 50 s
heartbeat:
  interval: 2s
  timeout: 15s
restart-strategy:
  type: exponential-delay
  exponential-delay: { initial-backoff: 1s, max-backoff: 10s, backoff-multiplier: 2.0, attempts-before-reset-backoff: 1000 }
execution:
  target: remote            # the gateway submits to rest.address:rest.port
  checkpointing:
    interval: $FLINK_CHECKPOINT_INTERVAL
    dir: $FLINK_CHECKPOINT_DIR
    savepoint-dir: $FLINK_SAVEPOINT_DIR
    num-retained: 3
    # keep the last checkpoint of a cancelled job, so a resubmitted job can restore from it
    externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
io:
  tmp:
    dirs: $HOME_DIR/tmp
sql-gateway:
  endpoint:
    rest:
      address: 127.0.0.1
      bind-address: 127.0.0.1
      port: $FLINK_GATEWAY_PORT
      bind-port: $FLINK_GATEWAY_PORT   # explicit, else it falls back to rest.bind-port
YAML
  mv "$CONF/config.yaml.new" "$CONF/config.yaml"
  cat > "$CONF/log4j.properties" <<'PROPS'
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
PROPS
}

# memory_params <jm|tm>: the JVM flags (line 1) and -D dynamic properties (line 2) that bin/jobmanager.sh
# and bin/taskmanager.sh would compute, from BashJavaUtils (inside flink-runtime), cached per config.
memory_params() {
  local role="$1" sum cache
  sum="$(cat "$CONF/config.yaml" "$JARS/.stamp" | sha256sum | cut -c1-16)"
  cache="$CONF/$role.params.$sum"
  if [[ ! -s "$cache" ]]; then
    local cmd=GET_JM_RESOURCE_PARAMS; [[ "$role" == tm ]] && cmd=GET_TM_RESOURCE_PARAMS
    rm -f "$CONF/$role".params.*
    java -cp "$JARS/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$cmd" --configDir "$CONF" 2>/dev/null \
      | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://' | tail -2 > "$cache.tmp" || true
    [[ "$(wc -l < "$cache.tmp")" -eq 2 ]] || die "BashJavaUtils could not compute the $role memory settings from $CONF/config.yaml"
    mv "$cache.tmp" "$cache"
  fi
  cat "$cache"
}

# start_jvm <pidfile> <log name> <java args...>: launches one JVM detached in a session of its own
# (lib.sh spawn), records its pid (env execs java: the pid is the JVM's).
start_jvm() {
  local pidfile="$1" name="$2"; shift 2
  spawn "$pidfile" "$STACK_DIR/logs/$name.log" env -C "$HOME_DIR" FLINK_CONF_DIR="$CONF" java "${JOPTS[@]}" \
    -Dlog4j.configurationFile="file:$CONF/log4j.properties" -Dlog.file="$STACK_DIR/logs/$name.log" -cp "$JARS/*" "$@"
}

jm_ready() { curl -sf --max-time 2 "$REST/overview" >/dev/null 2>&1; }
gw_ready() { curl -sf --max-time 2 "$GATEWAY/v1/info" >/dev/null 2>&1; }
# taskmanager_ids: the ids of the TaskManagers registered at the JobManager, one per line.
taskmanager_ids() { curl -sf --max-time 2 "$REST/taskmanagers" 2>/dev/null | grep -o '"id":"[^"]*"' | cut -d'"' -f4 || true; }
tm_listed() { [[ -n "$(taskmanager_ids)" ]]; }
# new_tm_registered <ids before>: a TaskManager not in the list is registered (a killed TM stays listed until its heartbeat times out).
new_tm_registered() { local id; for id in $(taskmanager_ids); do [[ " $1 " == *" $id "* ]] || return 0; done; return 1; }

# fail <pidfile> <log name> <message>: shows the log tail, stops the JVM and exits.
fail() { tail -20 "$STACK_DIR/logs/$2.log" >&2 || true; stop_pid "$1" "$2"; die "$3: see $STACK_DIR/logs/$2.log"; }

up_jobmanager() {
  if pid_alive "$JM_PID"; then
    wait_for 90 jobmanager jm_ready || die "the Flink JobManager (pid $(cat "$JM_PID")) runs but $REST does not answer: see $STACK_DIR/logs/flink-jobmanager.log, or run flink.sh down"
    return 0
  fi
  if port_open "$FLINK_REST_PORT"; then die "port $FLINK_REST_PORT is taken by another process: set stack.flink.restPort (SYNCCTL_STACK__FLINK__REST_PORT) to a free port"; fi
  if port_open "$FLINK_RPC_PORT"; then die "port $FLINK_RPC_PORT is taken by another process: set stack.flink.rpcPort (SYNCCTL_STACK__FLINK__RPC_PORT) to a free port"; fi
  memory_params jm >/dev/null
  local p; mapfile -t p < <(memory_params jm)
  log "starting the Flink JobManager on $REST (log: $STACK_DIR/logs/flink-jobmanager.log)"
  local t0; t0=$(date +%s%N)
  # shellcheck disable=SC2086 # the params are word lists by design
  start_jvm "$JM_PID" flink-jobmanager ${p[0]} org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$CONF" ${p[1]}
  wait_for 120 jobmanager jm_ready || fail "$JM_PID" flink-jobmanager "the Flink JobManager did not answer on $REST within 120 s"
  log "jobmanager ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

up_taskmanager() {
  if pid_alive "$TM_PID"; then
    wait_for 90 taskmanager tm_listed || die "the Flink TaskManager (pid $(cat "$TM_PID")) runs but is not registered: see $STACK_DIR/logs/flink-taskmanager.log"
    return 0
  fi
  local before p; before="$(taskmanager_ids | tr '\n' ' ')"
  memory_params tm >/dev/null
  mapfile -t p < <(memory_params tm)
  log "starting the Flink TaskManager (log: $STACK_DIR/logs/flink-taskmanager.log)"
  local t0; t0=$(date +%s%N)
  # shellcheck disable=SC2086
  start_jvm "$TM_PID" flink-taskmanager ${p[0]} org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$CONF" ${p[1]}
  wait_for 120 taskmanager new_tm_registered "$before" || fail "$TM_PID" flink-taskmanager "the Flink TaskManager did not register at the JobManager within 120 s"
  log "taskmanager registered after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

up_gateway() {
  if pid_alive "$GW_PID"; then
    wait_for 90 gateway gw_ready || die "the Flink SQL Gateway (pid $(cat "$GW_PID")) runs but $GATEWAY does not answer: see $STACK_DIR/logs/flink-gateway.log"
    return 0
  fi
  if port_open "$FLINK_GATEWAY_PORT"; then die "port $FLINK_GATEWAY_PORT is taken by another process: set stack.flink.gatewayPort (SYNCCTL_STACK__FLINK__GATEWAY_PORT) to a free port"; fi
  log "starting the Flink SQL Gateway on $GATEWAY (log: $STACK_DIR/logs/flink-gateway.log)"
  local t0; t0=$(date +%s%N)
  start_jvm "$GW_PID" flink-gateway -Xms128m -Xmx384m -XX:+UseG1GC org.apache.flink.table.gateway.SqlGateway
  wait_for 120 gateway gw_ready || fail "$GW_PID" flink-gateway "the Flink SQL Gateway did not answer on $GATEWAY/v1/info within 120 s"
  log "sql gateway ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

status_json() {
  local jm=false tm=false gw=false jmpid=null tmpid=null gwpid=null
  pid_alive "$JM_PID" && { jm=true; jmpid="$(cat "$JM_PID")"; }
  pid_alive "$TM_PID" && { tm=true; tmpid="$(cat "$TM_PID")"; }
  pid_alive "$GW_PID" && { gw=true; gwpid="$(cat "$GW_PID")"; }
  local overview='' tms='' jobs='' info=''
  if jm_ready; then
    overview="$(curl -sf --max-time 3 "$REST/overview" 2>/dev/null || true)"
    tms="$(curl -sf --max-time 3 "$REST/taskmanagers" 2>/dev/null || true)"
    jobs="$(curl -sf --max-time 3 "$REST/jobs/overview" 2>/dev/null || true)"
  fi
  gw_ready && info="$(curl -sf --max-time 3 "$GATEWAY/v1/info" 2>/dev/null || echo '{}')"
  # node is always there (syncctl is a Node program); jq may not be.
  OVERVIEW="$overview" TMS="$tms" JOBS="$jobs" INFO="$info" node -e '
    const [jm, jmpid, tm, tmpid, gw, gwpid, restPort, gwPort, version] = process.argv.slice(1);
    const parse = (s) => { try { return s ? JSON.parse(s) : null; } catch { return null; } };
    const overview = parse(process.env.OVERVIEW), tms = parse(process.env.TMS), jobs = parse(process.env.JOBS), info = parse(process.env.INFO);
    const pid = (p) => (p === "null" ? null : Number(p));
    const taskmanagers = (tms && tms.taskmanagers) || [];
    const jmReady = overview !== null, tmReady = taskmanagers.length > 0, gwReady = info !== null;
    const jobList = ((jobs && jobs.jobs) || []).map((j) => ({ id: j.jid, name: j.name, state: j.state, startTime: j["start-time"], durationMs: j.duration }));
    const running = jobList.filter((j) => j.state === "RUNNING").length;
    const items = [
      { role: "jobmanager", running: jm === "true", pid: pid(jmpid), ready: jmReady, port: Number(restPort) },
      { role: "taskmanager", running: tm === "true", pid: pid(tmpid), ready: tmReady, registered: taskmanagers.length,
        slots: overview ? overview["slots-total"] : null, freeSlots: overview ? overview["slots-available"] : null },
      { role: "gateway", running: gw === "true", pid: pid(gwpid), ready: gwReady, port: Number(gwPort), version: info ? info.version : null },
      { jobs: jobList },
    ];
    const up = [jm, tm, gw].filter((x) => x === "true").length;
    const ready = jmReady && tmReady && gwReady;
    const detail = ready
      ? `Flink ${(info && info.version) || version}: ${taskmanagers.length} TaskManager(s), ${overview["slots-available"]}/${overview["slots-total"]} slots free, ${running} running job(s)`
      : up === 0 ? "stopped" : `partly up: jobmanager ${jmReady ? "ready" : jm === "true" ? "starting" : "down"}, taskmanager ${tmReady ? "ready" : tm === "true" ? "starting" : "down"}, gateway ${gwReady ? "ready" : gw === "true" ? "starting" : "down"}`;
    process.stdout.write(JSON.stringify({ component: "flink", running: up > 0, pid: pid(jmpid), ready, port: Number(gwPort),
      managed: up > 0, detail, items }) + "\n");
  ' "$jm" "$jmpid" "$tm" "$tmpid" "$gw" "$gwpid" "$FLINK_REST_PORT" "$FLINK_GATEWAY_PORT" "$FLINK_VERSION"
}

case "${1:-}" in
  fetch)
    fetch_jars flink "$POM" "$JARS" ;;
  up)
    if pid_alive "$JM_PID" && pid_alive "$TM_PID" && pid_alive "$GW_PID" && jm_ready && gw_ready && tm_listed; then
      log "flink already running (jobmanager pid $(cat "$JM_PID"))"; status_json; exit 0
    fi
    command -v curl >/dev/null || die "curl is required: apt-get install curl"
    fetch_jars flink "$POM" "$JARS"
    write_config
    up_jobmanager
    up_taskmanager
    up_gateway
    status_json ;;
  down)
    # reverse order; running jobs are stopped with the cluster and resume from their last
    # checkpoint only if resubmitted (a session cluster keeps no job store across restarts)
    stop_pid "$GW_PID" flink-gateway
    stop_pid "$TM_PID" flink-taskmanager
    stop_pid "$JM_PID" flink-jobmanager
    status_json ;;
  status)
    status_json ;;
  *) die "usage: flink.sh fetch|up|down|status" ;;
esac
