#!/usr/bin/env bash
# Command-line tools the tests use besides the datastores: promtool (Debian package `prometheus`), which
# checks the Prometheus config, the alert rules and every process's /metrics. Installed when missing.
set -euo pipefail
say() { echo "[tools] $*"; }
fail() { echo "[tools] ERROR: $*" >&2; exit 1; }

if ! command -v promtool >/dev/null; then
  say "promtool not found: installing Debian's prometheus package (only promtool is used; its service is not started)"
  [ "$(id -u)" = 0 ] || fail "installing prometheus needs root: run 'sudo apt-get install -y prometheus' and retry"
  apt-get update -qq >/dev/null || fail "apt-get update failed; check access to Debian's package mirror"
  # policy-rc.d 101: the package must not start a Prometheus server on this machine.
  ours=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ours=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null || status=$?
  [ -n "$ours" ] && rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || fail "apt-get install prometheus failed"

  command -v promtool >/dev/null || fail "prometheus installed but no promtool on PATH"
fi
say "promtool $(promtool --version 2>&1 | head -1 | awk '{print $3}')"
