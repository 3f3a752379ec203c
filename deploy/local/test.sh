#!/usr/bin/env bash
# The test command: provisions local infrastructure, prepares a fresh test database, runs the static
# checks and every test against real MariaDB, Redis, etcd and RocketMQ.
#   bash deploy/local/test.sh [test files...]      (default: test/*.test.ts, test/fuzz and test/chaos)
# With QIANFAN_REDIS__CLUSTER_NODES set (bash deploy/local/redis-cluster.sh up prints it), the tests and
# the processes they start use that Redis Cluster; test/cluster/ holds the tests that need one.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. deploy/local/npm-deps.sh
npm_deps "$root"

bash deploy/local/infra.sh up
bash deploy/local/tools.sh

export QIANFAN_CONFIG=config/test.yaml
db=$(node --import tsx -e "import('./internal/config/index.js').then(m => console.log(m.loadConfig().mysql.database))")
echo "[test] fresh database $db"
MYSQL_PWD="${QIANFAN_MYSQL__PASSWORD:-}" mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
node bin/qianfan-order.js migrate

echo "[test] typecheck, lint, dependency rule"
npx tsc --noEmit -p tsconfig.json
npx biome check .
npx depcruise --config .dependency-cruiser.cjs restful service consumer job script internal pkg

echo "[test] node --test"
# --test-force-exit: a file whose tests all finished never holds the run open on a leftover handle.
# The timeout bounds each test file and test; the chaos suite runs CHAOS_MINUTES of load (default 1.5)
# plus set-up and settling, so the bound grows with it.
timeout_ms=$(node -e "console.log(Math.max(180000, Math.round((Number(process.env.CHAOS_MINUTES || 1.5) * 60 + 600) * 1000)))")
run_tests() { node --import tsx --test --test-concurrency=1 --test-timeout="$timeout_ms" --test-force-exit --test-reporter=spec "$@"; }
if [ $# -gt 0 ]; then run_tests "$@"; exit 0; fi

run_tests test/*.test.ts test/fuzz/*.test.ts test/chaos/*.test.ts

# The cluster phase: the Redis-facing tests again, on a 3-master Redis Cluster (flash sale, caches, the
# limiter, idempotency, job leases, worker ids, HTTP protection, order streams) plus test/cluster/: failover, scripts,
# and the scale suite (two of every process under the chaos faults).
# QIANFAN_TEST_CLUSTER=0 skips it.
if [ "${QIANFAN_TEST_CLUSTER:-1}" != 0 ] && [ -z "${QIANFAN_REDIS__CLUSTER_NODES:-}" ]; then
  echo "[test] cluster phase: the Redis-facing tests on a Redis Cluster"
  bash deploy/local/redis-cluster.sh up
  QIANFAN_REDIS__CLUSTER_NODES=$(bash deploy/local/redis-cluster.sh nodes)
  export QIANFAN_REDIS__CLUSTER_NODES
  run_tests test/cluster/*.test.ts test/flash-sale.test.ts test/cache-aside.test.ts test/ratelimit.test.ts \
    test/idempotency.test.ts test/worker-claim.test.ts test/webhook-limits.test.ts test/http.test.ts \
    test/operators.test.ts test/audit.test.ts test/order-watch.test.ts test/whole-order.test.ts
fi
