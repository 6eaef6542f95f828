#!/usr/bin/env bash
# Local Prometheus (Debian's `prometheus` package) with syncctl's rules.
#   prometheus.sh up|down|status
# Environment: STACK_DIR, PROMETHEUS_PORT (29190), ALERTMANAGER_PORT (29193),
#   SYNCCTL_METRICS_TARGET (127.0.0.1:28701: the daemon's admin listener), PROMETHEUS_RETENTION (15d),
#   SYNCCTL_ADMIN_TOKEN (http.admin.token, sent as Authorization: Bearer; written to a 0600 file).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../stack" && pwd)/lib.sh"

MONITORING_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RULES_SRC="$REPO_ROOT/monitoring/prometheus"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-29190}"
ALERTMANAGER_PORT="${ALERTMANAGER_PORT:-29193}"
SYNCCTL_METRICS_TARGET="${SYNCCTL_METRICS_TARGET:-127.0.0.1:28701}"
PROMETHEUS_RETENTION="${PROMETHEUS_RETENTION:-15d}"
HOME_DIR="$STACK_DIR/prometheus"
DATA="$STACK_DIR/data/prometheus"
PIDFILE="$STACK_DIR/run/prometheus.pid"
LOGFILE="$STACK_DIR/logs/prometheus.log"

# The admin token read through credentials_file: mode 0600, never echoed; empty without a token.
write_token() { (umask 077 && printf '%s' "${SYNCCTL_ADMIN_TOKEN:-}" > "$1"); }

# The shipped prometheus.yml with this stack's ports, next to copies of the rule files.
write_config() {
  mkdir -p "$HOME_DIR" "$DATA"
  cp "$RULES_SRC/recording-rules.yml" "$RULES_SRC/alert-rules.yml" "$HOME_DIR/"
  write_token "$HOME_DIR/syncctl-admin-token"
  sed -e "s/127\.0\.0\.1:29193/127.0.0.1:$ALERTMANAGER_PORT/" \
      -e "s/127\.0\.0\.1:28701/$SYNCCTL_METRICS_TARGET/" \
      -e "s/127\.0\.0\.1:29190/127.0.0.1:$PROMETHEUS_PORT/" \
      "$RULES_SRC/prometheus.yml" > "$HOME_DIR/prometheus.yml"
  promtool check config "$HOME_DIR/prometheus.yml" >>"$LOGFILE" 2>&1 || die "invalid Prometheus configuration: see $LOGFILE"
}

ready() { port_open "$PROMETHEUS_PORT" && { ! command -v curl >/dev/null || curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null; }; }

status_json() { status_line prometheus "$PIDFILE" "$PROMETHEUS_PORT" ready; }

case "${1:-}" in
  up)
    if pid_alive "$PIDFILE" && port_open "$PROMETHEUS_PORT"; then log "prometheus already running (pid $(cat "$PIDFILE"))"; status_json; exit 0; fi
    refuse_taken_port prometheus "$PROMETHEUS_PORT" "monitoring.prometheus.port (SYNCCTL_MONITORING__PROMETHEUS__PORT)"
    bash "$MONITORING_SCRIPTS/install.sh"
    write_config
    log "starting prometheus on 127.0.0.1:$PROMETHEUS_PORT, scraping $SYNCCTL_METRICS_TARGET (log: $LOGFILE)"
    launch prometheus "$PIDFILE" "$LOGFILE" 60 ready -- prometheus --config.file="$HOME_DIR/prometheus.yml" \
      --storage.tsdb.path="$DATA" --storage.tsdb.retention.time="$PROMETHEUS_RETENTION" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle
    status_json ;;
  down)
    stop_pid "$PIDFILE" prometheus
    status_json ;;
  status)
    status_json ;;
  *) die "usage: prometheus.sh up|down|status" ;;
esac
