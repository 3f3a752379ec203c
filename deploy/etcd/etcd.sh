#!/usr/bin/env bash
# Runs a single etcd node on loopback with its data under the run dir.
#   deploy/etcd/etcd.sh start | stop | status
# Environment: QIANFAN_ETCD_PORT (2379), QIANFAN_ETCD_PEER_PORT (2380), QIANFAN_RUN_DIR.
set -euo pipefail
QF_COMPONENT=etcd
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../local/common.sh"

PORT=${QIANFAN_ETCD_PORT:-2379}
PEER_PORT=${QIANFAN_ETCD_PEER_PORT:-2380}
DATA="$QF_RUN_DIR/etcd"

install_etcd() {
  command -v etcd >/dev/null && return 0
  say "etcd not found: installing Debian's etcd-server"
  [ "$(id -u)" = 0 ] || fail "installing etcd-server needs root: run 'sudo apt-get install -y etcd-server' and retry"
  apt-get update -qq >/dev/null || fail "apt-get update failed; check access to Debian's package mirror"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null || fail "apt-get install etcd-server failed"
  command -v etcd >/dev/null || fail "etcd-server installed but no etcd binary on PATH"
}

healthy() { curl -fsS "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

start() {
  install_etcd
  if pid_alive etcd; then say "already running (pid $(cat "$QF_RUN_DIR/etcd.pid"))"; return 0; fi
  if port_open 127.0.0.1 "$PORT"; then
    if healthy; then say "an etcd this script did not start already answers on 127.0.0.1:$PORT; using it"; return 0; fi
    fail "port $PORT is taken by something that is not a healthy etcd; stop it or set QIANFAN_ETCD_PORT"
  fi
  mkdir -p "$DATA"
  say "starting etcd $(etcd --version | head -1 | awk '{print $3}') on 127.0.0.1:$PORT (data $DATA, log $QF_RUN_DIR/etcd.log)"
  # Debian's etcd 3.4 reads ETCD_* variables from the environment; clear any so flags decide.
  env $(env | grep -o '^ETCD_[A-Z_]*' | sed 's/^/-u /') \
    setsid nohup etcd --name qianfan-local --data-dir "$DATA" \
      --listen-client-urls "http://127.0.0.1:$PORT" --advertise-client-urls "http://127.0.0.1:$PORT" \
      --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
      --initial-cluster "qianfan-local=http://127.0.0.1:$PEER_PORT" --auto-compaction-retention 1 \
      </dev/null >"$QF_RUN_DIR/etcd.log" 2>&1 &
  echo $! > "$QF_RUN_DIR/etcd.pid"
  wait_for 30 "etcd on 127.0.0.1:$PORT" etcd_ready || { tail -20 "$QF_RUN_DIR/etcd.log" >&2; fail "etcd did not become healthy in 30 s (log above)"; }
}

etcd_ready() {
  pid_alive etcd || { tail -20 "$QF_RUN_DIR/etcd.log" >&2; fail "etcd exited during start-up (log above)"; }
  healthy
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid etcd 10 ;;
  status) if pid_alive etcd; then say "running (pid $(cat "$QF_RUN_DIR/etcd.pid"))"; else say "stopped"; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
