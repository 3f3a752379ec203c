#!/usr/bin/env bash
# All local infrastructure of the service, in dependency order.
#   deploy/local/infra.sh up      MariaDB + Redis (checked/started), etcd, RocketMQ 5 (namesrv + broker/proxy, topics, groups)
#   deploy/local/infra.sh down    stops etcd and RocketMQ if this project started them (MariaDB and Redis are left running)
#   deploy/local/infra.sh status
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  up)
    bash "$here/datastores.sh"
    bash "$here/../etcd/etcd.sh" start
    bash "$here/../rocketmq/rocketmq.sh" start ;;
  down)
    bash "$here/../rocketmq/rocketmq.sh" stop
    bash "$here/../etcd/etcd.sh" stop ;;
  status)
    bash "$here/../etcd/etcd.sh" status
    bash "$here/../rocketmq/rocketmq.sh" status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
