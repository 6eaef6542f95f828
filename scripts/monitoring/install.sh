#!/usr/bin/env bash
# Installs Prometheus, promtool, Alertmanager and amtool from Debian's packages
# (`prometheus`, `prometheus-alertmanager`) when any of them is missing. Idempotent and
# silent when everything is there already. The packages' maintainer scripts would start
# daemons on the default ports 9090/9093; syncctl runs its own instances on its own ports
# (scripts/monitoring/prometheus.sh, alertmanager.sh), so service starts are refused
# during the install (policy-rc.d) and anything the packages left running is stopped.
set -euo pipefail

log() { echo "[monitoring] $*" >&2; }
die() { echo "[monitoring] ERROR: $*" >&2; exit 1; }

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if (( ${#missing[@]} == 0 )); then exit 0; fi
# de-duplicate
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${pkgs[*]} with your system's package manager"
SUDO=()
if (( EUID != 0 )); then
  command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo) to install ${pkgs[*]}"
  SUDO=(sudo -n)
fi

# Refuse service starts during the install unless a policy is already in place.
POLICY=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e "$POLICY" ]]; then
  printf '#!/bin/sh\n# added by syncctl scripts/monitoring/install.sh for the duration of an install\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  added_policy=true
fi
cleanup() { if $added_policy; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT

log "installing ${pkgs[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
APT_LOG="$(mktemp -t syncctl-monitoring-apt.XXXXXX)"
if ! "${SUDO[@]}" apt-get update -qq >"$APT_LOG" 2>&1; then tail -20 "$APT_LOG" >&2; die "apt-get update failed (log: $APT_LOG)"; fi
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$APT_LOG" 2>&1; then
  tail -20 "$APT_LOG" >&2; die "apt-get install ${pkgs[*]} failed (log: $APT_LOG)"
fi
rm -f "$APT_LOG"

# Whatever the packages may have started (init scripts, a daemon launched by postinst)
# must not stay on the default ports: syncctl's instances use their own.
for svc in prometheus prometheus-alertmanager; do
  if [[ -x "/etc/init.d/$svc" ]]; then "${SUDO[@]}" "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
  command -v pgrep >/dev/null 2>&1 || continue
  for pid in $(pgrep -x "$svc" 2>/dev/null || true); do
    # Only daemons run by the packages' system user, never one the project started itself.
    owner="$(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ')"
    if [[ "$owner" == "prometheus" ]]; then log "stopping $svc (pid $pid) started by the package"; "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true; fi
  done
done

for tool in prometheus promtool prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is still missing after installing ${pkgs[*]}"
done
log "installed: $(prometheus --version 2>&1 | head -1); $(prometheus-alertmanager --version 2>&1 | head -1)"
