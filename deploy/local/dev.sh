#!/usr/bin/env bash
# The start command: provisions local infrastructure, migrates, seeds demo data and runs the four
# long-running processes (restful, service, consumer, job) under one supervisor with prefixed logs.
# The fifth, the operator CLI (script/), is what migrates and seeds here: `npx qianfan-order --help`.
# Ctrl-C stops the processes; etcd and RocketMQ run detached (their own session) and keep running until
# `bash deploy/local/infra.sh down`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. deploy/local/npm-deps.sh
npm_deps "$root"

bash deploy/local/infra.sh up
# QIANFAN_DEV_REDIS_CLUSTER=1: every process on a local 3-master Redis Cluster instead of the one Redis.
redis_mode="one Redis at 127.0.0.1:6379"
if [ "${QIANFAN_DEV_REDIS_CLUSTER:-0}" = 1 ]; then
  bash deploy/local/redis-cluster.sh up
  QIANFAN_REDIS__CLUSTER_NODES=$(bash deploy/local/redis-cluster.sh nodes)
  export QIANFAN_REDIS__CLUSTER_NODES
  redis_mode="Redis Cluster $QIANFAN_REDIS__CLUSTER_NODES ('bash deploy/local/redis-cluster.sh down' stops it)"
fi
export QIANFAN_CONFIG=${QIANFAN_CONFIG:-config/default.yaml}
node bin/qianfan-order.js migrate
node bin/qianfan-order.js seed

node deploy/local/supervise.mjs restful service consumer job &
sup=$!
trap 'kill -TERM $sup 2>/dev/null; wait $sup' INT TERM

ready() { curl -fs -o /dev/null "http://127.0.0.1:$1/readyz"; }
for port in 8888 9101 9102 9103; do
  for _ in $(seq 1 120); do ready $port && break; sleep 0.5; done
  ready $port || { echo "[dev] ERROR: nothing ready on port $port after 60 s (see the logs above)" >&2; kill -TERM $sup; wait $sup; exit 1; }
done
token=$(node bin/qianfan-order.js token --user 1001 --roles user --ttl 7d)
admin=$(node bin/qianfan-order.js token --user 9001 --roles user,admin --ttl 7d)
cat <<MSG

  qianfan-order is up (config: $QIANFAN_CONFIG)
    HTTP API       http://127.0.0.1:8888/v1      docs http://127.0.0.1:8888/docs   OpenAPI /openapi.json
    gRPC           127.0.0.1:9000  (qianfan.order.v1.OrderService, grpc.health.v1.Health; service token: dev-service-token)
    Redis          $redis_mode
    readiness      :8888/readyz  :9101/readyz (service)  :9102/readyz (consumer)  :9103/readyz (job)
    metrics        :9100/metrics (restful)  :9101, :9102, :9103 /metrics
    demo user JWT  $token
    admin JWT      $admin
  Ctrl-C stops the processes; 'bash deploy/local/infra.sh down' stops etcd and RocketMQ.

MSG
wait $sup
