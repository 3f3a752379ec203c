#!/usr/bin/env bash
# Makes sure MariaDB/MySQL and Redis answer on loopback, starting installed-but-stopped servers,
# and creates the databases the service uses.
#   deploy/local/datastores.sh [DATABASE ...]     (default: qianfan_order qianfan_order_test)
# Environment: QIANFAN_MYSQL_HOST/PORT/USER/PASSWORD (127.0.0.1/3306/root/empty), QIANFAN_REDIS_PORT (6379).
set -euo pipefail
QF_COMPONENT=datastores
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

MYSQL_HOST=${QIANFAN_MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${QIANFAN_MYSQL_PORT:-3306}
MYSQL_USER=${QIANFAN_MYSQL_USER:-root}
REDIS_PORT=${QIANFAN_REDIS_PORT:-6379}
mysql_cli() { MYSQL_PWD="${QIANFAN_MYSQL_PASSWORD:-}" mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" --batch --skip-column-names "$@"; }

ensure_mysql() {
  command -v mysql >/dev/null || fail "no mysql client: apt-get install -y mariadb-client (or mariadb-server for a local server)"
  if ! port_open "$MYSQL_HOST" "$MYSQL_PORT"; then
    [ "$MYSQL_HOST" = 127.0.0.1 ] || fail "MySQL at $MYSQL_HOST:$MYSQL_PORT does not answer and is not local; start it or fix QIANFAN_MYSQL_HOST"
    [ -x /usr/sbin/mariadbd ] || fail "nothing answers on 127.0.0.1:$MYSQL_PORT and MariaDB is not installed: apt-get install -y mariadb-server"
    say "MariaDB installed but not answering on $MYSQL_PORT: starting /usr/sbin/mariadbd"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for 60 "MariaDB on 127.0.0.1:$MYSQL_PORT" port_open 127.0.0.1 "$MYSQL_PORT" || fail "MariaDB did not open port $MYSQL_PORT in 60 s; see /var/log/mysql/error.log"
  fi
  local version; version=$(mysql_cli -e 'SELECT VERSION()' 2>&1) \
    || fail "cannot log in to MySQL at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER: $version (set QIANFAN_MYSQL_USER/QIANFAN_MYSQL_PASSWORD)"
  say "MySQL $version answers on $MYSQL_HOST:$MYSQL_PORT"
  local db
  for db in "$@"; do
    mysql_cli -e "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" \
      || fail "could not create database $db"
    say "database $db ready"
  done
}

ensure_redis() {
  if ! port_open 127.0.0.1 "$REDIS_PORT"; then
    command -v redis-server >/dev/null || fail "nothing answers on 127.0.0.1:$REDIS_PORT and redis-server is not installed: apt-get install -y redis-server"
    say "Redis installed but not answering on $REDIS_PORT: starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for 30 "Redis on 127.0.0.1:$REDIS_PORT" port_open 127.0.0.1 "$REDIS_PORT" || fail "Redis did not open port $REDIS_PORT in 30 s; see /var/log/redis/ci.log"
  fi
  local pong; pong=$(redis-cli -p "$REDIS_PORT" ping 2>&1) || true
  [ "$pong" = PONG ] || fail "Redis on 127.0.0.1:$REDIS_PORT answered '$pong' to PING"
  say "Redis answers on 127.0.0.1:$REDIS_PORT"
}

[ $# -gt 0 ] || set -- qianfan_order qianfan_order_test
ensure_mysql "$@"
ensure_redis
