#!/usr/bin/env bash
# Shared helpers of the stack scripts: jar fetching (cached), pid files, readiness waits.
# Every script takes its settings from the environment (set by `syncctl stack`, src/stack/):
#   STACK_DIR   absolute directory for jars, data, logs and pid files (default: <repo>/.stack)
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"

log() { echo "[stack] $*" >&2; }
die() { echo "[stack] ERROR: $*" >&2; exit 1; }

# fetch_jars <name> <pom> <dest dir>: copies the pom's runtime dependencies into <dest dir> once.
# A stamp with the pom's checksum makes a second run a no-op (no network, no Maven).
fetch_jars() {
  local name="$1" pom="$2" dest="$3"
  local sum; sum="$(sha256sum "$pom" | cut -c1-16)"
  if [[ -f "$dest/.stamp" && "$(cat "$dest/.stamp")" == "$sum" ]]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch the $name jars: apt-get install maven"
  command -v java >/dev/null || die "Java 17 is required: apt-get install openjdk-17-jre-headless"
  log "fetching $name jars from Maven Central (cached in ~/.m2 and $dest)"
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dest.tmp" -DincludeScope=runtime >&2 \
    || die "mvn could not fetch the $name jars (see output above)"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "$sum" > "$dest/.stamp"
}

# pid_alive <pidfile>: true when the pid file names a live process.
pid_alive() {
  local f="$1"
  [[ -f "$f" ]] || return 1
  local pid; pid="$(cat "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# port_open <port>: true when something accepts TCP connections on 127.0.0.1:<port>.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for <seconds> <description> <command...>: polls the command until it succeeds.
wait_for() {
  local secs="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@"; do
    if (( $(date +%s) >= deadline )); then return 1; fi
    sleep 0.2
  done
}

# stop_pid <pidfile> <name>: SIGTERM, wait up to 20 s, then SIGKILL; removes the pid file.
stop_pid() {
  local f="$1" name="$2"
  if ! pid_alive "$f"; then rm -f "$f"; return 0; fi
  local pid; pid="$(cat "$f")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$f"
}
