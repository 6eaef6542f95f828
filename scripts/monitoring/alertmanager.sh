#!/usr/bin/env bash
# Local Alertmanager (Debian's `prometheus-alertmanager` package) with syncctl's routing.
#   alertmanager.sh up|down|status
# Environment: STACK_DIR, ALERTMANAGER_PORT (29193),
#   SYNCCTL_ALERTS_URL (http://127.0.0.1:28701/alerts: the receiver on the daemon's admin listener),
#   SYNCCTL_ADMIN_TOKEN (http.admin.token, sent as Authorization: Bearer; written to a 0600 file).
# Clustering is off (no gossip port is opened).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../stack" && pwd)/lib.sh"

MONITORING_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG_SRC="$REPO_ROOT/monitoring/alertmanager/alertmanager.yml"
ALERTMANAGER_PORT="${ALERTMANAGER_PORT:-29193}"
SYNCCTL_ALERTS_URL="${SYNCCTL_ALERTS_URL:-http://127.0.0.1:28701/alerts}"
HOME_DIR="$STACK_DIR/alertmanager"
DATA="$STACK_DIR/data/alertmanager"
PIDFILE="$STACK_DIR/run/alertmanager.pid"
LOGFILE="$STACK_DIR/logs/alertmanager.log"

# The admin token read through credentials_file: mode 0600, never echoed; empty without a token.
write_token() { (umask 077 && printf '%s' "${SYNCCTL_ADMIN_TOKEN:-}" > "$1"); }

write_config() {
  mkdir -p "$HOME_DIR" "$DATA"
  write_token "$HOME_DIR/syncctl-admin-token"
  [ -n "${SYNCCTL_ADMIN_TOKEN:-}" ] || log "http.admin.token is not set: the daemon mounts no /alerts receiver, so notifications to $SYNCCTL_ALERTS_URL fail until it is"
  sed -e "s#http://127\.0\.0\.1:28701/alerts#$SYNCCTL_ALERTS_URL#" "$CONFIG_SRC" > "$HOME_DIR/alertmanager.yml"
  amtool check-config "$HOME_DIR/alertmanager.yml" >>"$LOGFILE" 2>&1 || die "invalid Alertmanager configuration: see $LOGFILE"
}

ready() { port_open "$ALERTMANAGER_PORT" && { ! command -v curl >/dev/null || curl -sf "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" >/dev/null; }; }

status_json() { status_line alertmanager "$PIDFILE" "$ALERTMANAGER_PORT" ready; }

case "${1:-}" in
  up)
    if pid_alive "$PIDFILE" && port_open "$ALERTMANAGER_PORT"; then log "alertmanager already running (pid $(cat "$PIDFILE"))"; status_json; exit 0; fi
    refuse_taken_port alertmanager "$ALERTMANAGER_PORT" "monitoring.alertmanager.port (SYNCCTL_MONITORING__ALERTMANAGER__PORT)"
    bash "$MONITORING_SCRIPTS/install.sh"
    write_config
    log "starting alertmanager on 127.0.0.1:$ALERTMANAGER_PORT, notifying $SYNCCTL_ALERTS_URL (log: $LOGFILE)"
    launch alertmanager "$PIDFILE" "$LOGFILE" 60 ready -- prometheus-alertmanager --config.file="$HOME_DIR/alertmanager.yml" \
      --storage.path="$DATA" --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address=
    status_json ;;
  down)
    stop_pid "$PIDFILE" alertmanager
    status_json ;;
  status)
    status_json ;;
  *) die "usage: alertmanager.sh up|down|status" ;;
esac
