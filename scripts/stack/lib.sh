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

# pom_property <pom> <name>: the value of <name> in the pom (its <properties>), e.g. the pinned version.
pom_property() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -1; }

# fetch_jars <name> <pom> <dest dir>: copies the pom's runtime dependencies into <dest dir> once.
# A stamp with the pom's checksum makes a second run a no-op (no network, no Maven); a changed pom
# fetches again. Callers name <dest dir> after the pinned version (<component>/<version>/jars), so
# two versions never share a folder: a new pin fetches next to the old one, which a worker
# started by the old scripts may still be running from (remove old version folders by hand).
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

# running <pid>: true when the process exists and is not a zombie (a process this script launched
# and killed stays a zombie until the script exits: it is gone all the same).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  local state; state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [[ "$state" != Z* ]]
}

# pid_alive <pidfile>: true when the pid file names a live process.
pid_alive() {
  local f="$1"
  [[ -f "$f" ]] || return 1
  local pid; pid="$(cat "$f")"
  [[ -n "$pid" ]] && running "$pid"
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
  for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
  if running "$pid"; then
    log "$name did not stop in 20 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
  fi
  rm -f "$f"
}

# status_line <component> <pidfile> <port> <ready command...>: one JSON line of a managed process
# (what `syncctl stack status` reads): running = its pid file names a live process; ready = the command succeeds.
status_line() {
  local component="$1" f="$2" port="$3"; shift 3
  local running=false pid=null ready=false
  if pid_alive "$f"; then running=true; pid="$(cat "$f")"; fi
  if "$@"; then ready=true; fi
  printf '{"component":"%s","running":%s,"pid":%s,"ready":%s,"port":%s,"managed":%s}\n' \
    "$component" "$running" "$pid" "$ready" "$port" "$running"
}

# refuse_taken_port <name> <port> <setting>: dies when another process holds the port.
refuse_taken_port() {
  if port_open "$2"; then die "port $2 is taken by another process: set $3 to a free port"; fi
}

# spawn <pidfile> <logfile> <command...>: starts the command detached from the caller: in a session
# of its own (setsid: a Ctrl-C in the caller's terminal, or the terminal closing, never reaches it),
# stdin from /dev/null, output appended to the log. The pid file names the process itself (the
# wrapper shell writes its own pid, then execs the command), not setsid or a wrapper.
spawn() {
  local f="$1" logfile="$2"; shift 2
  command -v setsid >/dev/null || die "setsid (util-linux) is required to start the stack's processes: apt-get install util-linux"
  rm -f "$f"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$f" "$@" </dev/null >>"$logfile" 2>&1 &
  # the pid file appears as soon as the wrapper runs (a few ms); wait for it so that stop_pid finds it
  wait_for 10 "pid file $f" test -s "$f" || die "could not start $*: no pid file after 10 s"
}

# launch <name> <pidfile> <logfile> <seconds> <ready command> -- <command...>: spawns the command
# (see spawn) and waits until the ready command succeeds; on timeout prints the log's tail,
# stops the process and dies.
launch() {
  local name="$1" f="$2" logfile="$3" secs="$4" ready="$5"; shift 5
  [[ "${1:-}" == "--" ]] && shift
  spawn "$f" "$logfile" "$@"
  if ! wait_for "$secs" "$name" "$ready"; then
    tail -20 "$logfile" >&2 || true
    stop_pid "$f" "$name"
    die "$name did not become ready within $secs s: see $logfile"
  fi
}
