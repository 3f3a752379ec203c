#!/usr/bin/env bash
# A local Redis Cluster from Debian's redis-server: 3 masters and 3 replicas on loopback ports
# 7101-7106 (QIANFAN_REDIS_CLUSTER_BASE changes the first), joined with redis-cli --cluster create.
#   bash deploy/local/redis-cluster.sh up|down|status|nodes|restart-node PORT
# `nodes` prints the seed list for QIANFAN_REDIS__CLUSTER_NODES. Data lives in $QF_RUN_DIR (no persistence).
set -euo pipefail
QF_COMPONENT=redis-cluster
. "$(dirname "$0")/common.sh"

BASE=${QIANFAN_REDIS_CLUSTER_BASE:-7101}
PORTS=$(seq "$BASE" $((BASE + 5)))
DIR="$QF_RUN_DIR/redis-cluster"

nodes() { local out=""; for p in $(seq "$BASE" $((BASE + 2))); do out="$out${out:+,}127.0.0.1:$p"; done; echo "$out"; }

healthy() { redis-cli -p "$BASE" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
replicas_joined() { [ "$(redis-cli -p "$BASE" cluster nodes 2>/dev/null | grep -c ' slave ')" -ge 3 ]; }

start_node() {
  local p=$1
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" \
    --cluster-node-timeout 3000 --save "" --appendonly no --dir "$DIR/$p" \
    --daemonize yes --pidfile "$QF_RUN_DIR/redis-cluster-$p.pid" --logfile "$DIR/$p/redis.log"
  wait_for 20 "redis node $p" port_open 127.0.0.1 "$p" || fail "node $p did not start; see $DIR/$p/redis.log"
}

# A node killed (kill -9) by a test comes back with its nodes.conf and rejoins, as a replica of whoever
# took over its slots.
restart_node() {
  local p=$1
  pid_alive "redis-cluster-$p" && { say "node $p is running"; return 0; }
  [ -f "$DIR/$p/nodes.conf" ] || fail "node $p was never part of this cluster"
  start_node "$p"
  wait_for 30 "cluster state ok" healthy || fail "the cluster is not ok after restarting $p"
}

up() {
  command -v redis-server >/dev/null || fail "redis-server is not installed: apt-get install -y redis-server"
  if healthy; then say "cluster already up on $BASE-$((BASE + 5))"; return 0; fi
  mkdir -p "$DIR"
  for p in $PORTS; do
    if port_open 127.0.0.1 "$p"; then
      pid_alive "redis-cluster-$p" || fail "port $p is taken by something we did not start; set QIANFAN_REDIS_CLUSTER_BASE"
      continue
    fi
    mkdir -p "$DIR/$p"
    rm -f "$DIR/$p/nodes.conf"
    start_node "$p"
  done
  local addrs=""
  for p in $PORTS; do addrs="$addrs 127.0.0.1:$p"; done
  # shellcheck disable=SC2086
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
    fail "redis-cli --cluster create failed; see $DIR/create.log"
  wait_for 30 "cluster state ok" healthy || fail "the cluster did not reach cluster_state:ok; see $DIR/create.log"
  wait_for 30 "3 replicas joined" replicas_joined || fail "the replicas did not join; see $DIR/create.log"
  say "ready: QIANFAN_REDIS__CLUSTER_NODES=$(nodes)"
}

down() {
  for p in $PORTS; do stop_pid "redis-cluster-$p" 10; done
  rm -rf "$DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if healthy; then say "up: $(nodes)"; else say "down"; exit 1; fi ;;
  nodes) nodes ;;
  restart-node) restart_node "${2:?usage: $0 restart-node PORT}" ;;
  *) echo "usage: $0 up|down|status|nodes|restart-node PORT" >&2; exit 2 ;;
esac
