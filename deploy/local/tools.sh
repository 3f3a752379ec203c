#!/usr/bin/env bash
# Command-line tools the tests use besides the datastores, installed from Debian's packages when missing:
# promtool (package `prometheus`), which checks the Prometheus config, the alert rules and every process's
# /metrics; nginx, which test/nginx.test.ts runs in front of two restful processes; Chromium, in which
# test/example-page.test.ts opens examples/order-status (headless). No package's service is started
# (policy-rc.d).
set -euo pipefail
say() { echo "[tools] $*"; }
fail() { echo "[tools] ERROR: $*" >&2; exit 1; }
export PATH="$PATH:/usr/sbin"

install_pkg() { # <command> <package>
  command -v "$1" >/dev/null && return 0
  say "$1 not found: installing Debian's $2 package (its service is not started)"
  [ "$(id -u)" = 0 ] || fail "installing $2 needs root: run 'sudo apt-get install -y $2' and retry"
  apt-get update -qq >/dev/null || fail "apt-get update failed; check access to Debian's package mirror"
  # policy-rc.d 101: the package must not start its server on this machine.
  local ours=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ours=1
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null || status=$?
  if [ -n "$ours" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" = 0 ] || fail "apt-get install $2 failed"
  command -v "$1" >/dev/null || fail "$2 installed but no $1 on PATH"
}

install_pkg promtool prometheus
install_pkg nginx nginx
install_pkg chromium chromium
say "promtool $(promtool --version 2>&1 | head -1 | awk '{print $3}'), $(nginx -v 2>&1 | awk '{print $3}'), $(chromium --version 2>/dev/null | awk '{print $2}')"
