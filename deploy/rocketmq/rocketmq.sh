#!/usr/bin/env bash
# Runs a single-node RocketMQ 5 (namesrv + broker with gRPC proxy in local mode) on loopback.
#   deploy/rocketmq/rocketmq.sh start    resolve jars, start namesrv and broker+proxy, create topics and groups, prove a send
#   deploy/rocketmq/rocketmq.sh stop     stop only the processes this script started (recorded pids)
#   deploy/rocketmq/rocketmq.sh status
# Environment: QIANFAN_CACHE_DIR (jars), QIANFAN_RUN_DIR (store, logs, pids; default /dev/shm/qianfan-order),
#   QIANFAN_RMQ_NAMESRV_PORT (9876), QIANFAN_RMQ_PROXY_PORT (8081), QIANFAN_RMQ_BROKER_PORT (10911).
set -euo pipefail
QF_COMPONENT=rocketmq
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../local/common.sh"

RMQ_VERSION=$(sed -n 's:.*<rocketmq.version>\(.*\)</rocketmq.version>.*:\1:p' "$here/pom.xml")
RMQ_HOME="$QF_CACHE_DIR/rocketmq-$RMQ_VERSION"
RMQ_LIB="$RMQ_HOME/lib"
RMQ_WORK="$QF_RUN_DIR/rocketmq"
NAMESRV_PORT=${QIANFAN_RMQ_NAMESRV_PORT:-9876}
PROXY_PORT=${QIANFAN_RMQ_PROXY_PORT:-8081}
BROKER_PORT=${QIANFAN_RMQ_BROKER_PORT:-10911}
REMOTING_PORT=${QIANFAN_RMQ_PROXY_REMOTING_PORT:-8180}
# The catalog is also created in these namespaces, as resources named <ns>_<name> (internal/mq/names.ts:
# RocketMQ's own <ns>%<name> namespaces do not isolate through the proxy): the test suite uses `qftest`
# (config/test.yaml rocketmq.namespace) so its messages never meet a dev stack's; `qfbench` for
# `npm run bench`; `qfchaos` for the chaos suite (test/chaos).
NAMESPACES=${QIANFAN_RMQ_NAMESPACES:-qftest qfbench qfchaos}

JAVA_OPTS=(-server -XX:ActiveProcessorCount=2 -XX:+UseG1GC
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED
  -Drocketmq.home.dir="$RMQ_HOME" -Duser.home="$RMQ_WORK" -Djava.net.preferIPv4Stack=true
  -cp "$RMQ_LIB/*")

resolve_jars() {
  if [ -f "$RMQ_LIB/.complete" ]; then return 0; fi
  command -v java >/dev/null || fail "java not found: install a JDK 17 (apt-get install -y openjdk-17-jre-headless)"
  command -v mvn  >/dev/null || fail "mvn not found: install Maven (apt-get install -y maven)"
  say "resolving RocketMQ $RMQ_VERSION jars from Maven Central into $RMQ_LIB (first run only)"
  rm -rf "$RMQ_LIB"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$RMQ_LIB" \
    || fail "Maven could not resolve org.apache.rocketmq:rocketmq-proxy:$RMQ_VERSION; check network access to Maven Central and ~/.m2/settings.xml"
  touch "$RMQ_LIB/.complete"
}

check_disk() {
  local use
  use=$(df -P "$RMQ_WORK" | awk 'NR==2 {gsub("%","",$5); print $5}')
  if [ "$use" -ge 85 ]; then
    fail "the filesystem holding $RMQ_WORK is ${use}% full; the broker refuses writes above 90% and deletes commit logs above 85%. Free space or set QIANFAN_RUN_DIR to another filesystem (e.g. /dev/shm/qianfan-order)"
  fi
}

mqadmin() {
  java -Xms64m -Xmx128m "${JAVA_OPTS[@]}" -Drmq.logback.configurationFile=rmq.tools.logback.xml \
    org.apache.rocketmq.tools.command.MQAdminStartup "$@" -n "127.0.0.1:$NAMESRV_PORT" 2>&1
}

write_configs() {
  mkdir -p "$RMQ_WORK/store" "$RMQ_WORK/logs"
  # The index is small (1,000 entries per file, a new file every few hundred keyed messages) on purpose:
  # measured here, a production-size one (2,000,000 entries, 500,000 slots; 42 MB per file in tmpfs) cost
  # the broker 3x the CPU per message with 100 keys (733-913 µs against 255), and made the flash-sale
  # drain slower, not faster.
  cat > "$RMQ_WORK/broker.conf" <<CONF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
namesrvAddr=127.0.0.1:$NAMESRV_PORT
storePathRootDir=$RMQ_WORK/store
storePathCommitLog=$RMQ_WORK/store/commitlog
mappedFileSizeCommitLog=104857600
mappedFileSizeConsumeQueue=300000
maxIndexNum=1000
maxHashSlotNum=4000
autoCreateTopicEnable=false
autoCreateSubscriptionGroup=true
transactionTimeOut=3000
transactionCheckInterval=5000
transactionCheckMax=15
deleteWhen=04
fileReservedTime=24
diskMaxUsedSpaceRatio=90
CONF
  cat > "$RMQ_WORK/rmq-proxy.json" <<CONF
{"rocketMQClusterName":"DefaultCluster","grpcServerPort":$PROXY_PORT,"remotingListenPort":$REMOTING_PORT,
 "grpcShutdownTimeSeconds":3,"minInvisibleTimeMillsForRecv":1000,"namesrvAddr":"127.0.0.1:$NAMESRV_PORT"}
CONF
}

# log_says NAME LOG TEXT -> 0 once LOG contains TEXT; exits the script at once if NAME's process died
log_says() {
  pid_alive "$1" || { tail -30 "$2" >&2; fail "$1 exited during start-up (log above)"; }
  grep -q "$3" "$2"
}

start_namesrv() {
  if pid_alive namesrv; then say "namesrv already running (pid $(cat "$QF_RUN_DIR/namesrv.pid"))"; return 0; fi
  if port_open 127.0.0.1 "$NAMESRV_PORT"; then fail "port $NAMESRV_PORT is taken by a process this script did not start; stop it or set QIANFAN_RMQ_NAMESRV_PORT"; fi
  say "starting namesrv on 127.0.0.1:$NAMESRV_PORT (log $RMQ_WORK/logs/namesrv.out)"
  setsid nohup java -Xms128m -Xmx256m "${JAVA_OPTS[@]}" -Drmq.logback.configurationFile=rmq.namesrv.logback.xml \
    org.apache.rocketmq.namesrv.NamesrvStartup </dev/null >"$RMQ_WORK/logs/namesrv.out" 2>&1 &
  echo $! > "$QF_RUN_DIR/namesrv.pid"
  wait_for 60 "namesrv" log_says namesrv "$RMQ_WORK/logs/namesrv.out" "boot success" \
    || { tail -20 "$RMQ_WORK/logs/namesrv.out" >&2; fail "namesrv did not report 'boot success' in 60 s (log above)"; }
}

start_proxy() {
  if pid_alive broker; then say "broker+proxy already running (pid $(cat "$QF_RUN_DIR/broker.pid"))"; return 0; fi
  for p in "$PROXY_PORT" "$BROKER_PORT" "$((BROKER_PORT + 1))" "$((BROKER_PORT - 2))" "$REMOTING_PORT"; do
    if port_open 127.0.0.1 "$p"; then fail "port $p is taken by a process this script did not start; stop it or choose other ports (QIANFAN_RMQ_*_PORT)"; fi
  done
  say "starting broker+proxy (local mode): gRPC proxy 127.0.0.1:$PROXY_PORT, broker 127.0.0.1:$BROKER_PORT (log $RMQ_WORK/logs/broker.out)"
  setsid nohup java -Xms512m -Xmx768m -XX:MaxDirectMemorySize=512m "${JAVA_OPTS[@]}" \
    -Drmq.logback.configurationFile=rmq.proxy.logback.xml \
    org.apache.rocketmq.proxy.ProxyStartup -pm local -n "127.0.0.1:$NAMESRV_PORT" \
    -bc "$RMQ_WORK/broker.conf" -pc "$RMQ_WORK/rmq-proxy.json" </dev/null >"$RMQ_WORK/logs/broker.out" 2>&1 &
  echo $! > "$QF_RUN_DIR/broker.pid"
  wait_for 120 "broker+proxy" log_says broker "$RMQ_WORK/logs/broker.out" "rocketmq-proxy startup successfully" \
    || { tail -30 "$RMQ_WORK/logs/broker.out" >&2; fail "broker+proxy did not report startup in 120 s (log above; broker logs under $RMQ_WORK/logs/rocketmqlogs)"; }
}

# admin_apply topic NAME TYPE | admin_apply dlqtopic NAME | admin_apply group NAME ORDERLY RETRIES
admin_apply() {
  case "$1" in
    topic)
      local extra=(); [ "$3" != NORMAL ] && extra=(-a "+message.type=$3")
      mqadmin updateTopic -b "127.0.0.1:$BROKER_PORT" -t "$2" -r 4 -w 4 "${extra[@]}" ;;
    dlqtopic)
      # The broker creates a group's %DLQ% topic write-only on first use; created readable here so the
      # service's DLQ reader can copy dead messages into its dead-letter table.
      mqadmin updateTopic -b "127.0.0.1:$BROKER_PORT" -t "$2" -r 1 -w 1 -p 6 ;;
    group)
      # The consumer sets each retry's delay itself (internal/mq/topics.ts retryBackoff); this policy covers
      # redeliveries nobody delayed (a consumer that died). After RETRIES redeliveries -> %DLQ%<group>.
      mqadmin updateSubGroup -b "127.0.0.1:$BROKER_PORT" -g "$2" -o "$3" -r "$4" \
        -p '{"type":"EXPONENTIAL","exponentialRetryPolicy":{"initial":1000,"max":10000,"multiplier":2}}' ;;
  esac
}

broker_registered() { local out; out=$(mqadmin clusterList 2>/dev/null); [[ $out == *broker-a* ]]; }

create_topics() {
  # The store keeps topics and groups; a marker named after the catalog's checksum skips the slow
  # mqadmin round when this store already has exactly this catalog.
  local marker; marker="$RMQ_WORK/store/.catalog-$( (cat "$here/topics.tsv" "$here/groups.tsv"; echo "$NAMESPACES prefix_") | cksum | cut -d' ' -f1)"
  if [ -f "$marker" ] && [ "${1:-}" != force ]; then say "topics and groups of this catalog already created (delete $marker to redo)"; return 0; fi
  wait_for 60 "broker registration" broker_registered || fail "broker-a never registered with the namesrv"
  # mqadmin answers in about a second but its JVM lingers ~5 s on shutdown, so the calls run several at
  # a time; a call that did not say "success" (mqadmin exits 0 regardless) is retried, up to 4 rounds.
  local pending=() spec
  while IFS=$'\t' read -r name type; do
    case "$name" in ''|'#'*) continue;; esac; pending+=("topic $name $type")
    for ns in $NAMESPACES; do pending+=("topic ${ns}_$name $type"); done
  done < "$here/topics.tsv"
  while IFS=$'\t' read -r name orderly retries dlq; do
    case "$name" in ''|'#'*) continue;; esac
    for full in "$name" $(for ns in $NAMESPACES; do echo "${ns}_$name"; done); do
      pending+=("group $full $orderly $retries")
      # A group's DLQ topic is %DLQ%<group>, here %DLQ%<ns>_<group>.
      if [ "$dlq" = true ]; then pending+=("dlqtopic %DLQ%$full" "group $full-dlq false 16"); fi
    done
  done < "$here/groups.tsv"
  local tmp round i; tmp=$(mktemp -d)
  for round in 1 2 3 4; do
    local failed=() start
    # At most 6 JVMs at a time: more starve the broker on 2 cores and mqadmin's calls time out.
    for ((start = 0; start < ${#pending[@]}; start += 6)); do
      local pids=()
      for ((i = start; i < start + 6 && i < ${#pending[@]}; i++)); do
        admin_apply ${pending[$i]} >"$tmp/$i" 2>&1 & pids+=($!)
      done
      for pid in "${pids[@]}"; do wait "$pid" || true; done
      for ((i = start; i < start + 6 && i < ${#pending[@]}; i++)); do
        if grep -q success "$tmp/$i"; then say "${pending[$i]} ready"; else failed+=("${pending[$i]}"); fi
      done
    done
    [ ${#failed[@]} = 0 ] && break
    say "round $round: not yet created: ${failed[*]}"
    pending=("${failed[@]}"); sleep 2
  done
  if [ ${#failed[@]} != 0 ]; then cat "$tmp"/* >&2; rm -rf "$tmp"; fail "could not create: ${failed[*]} (mqadmin output above)"; fi
  rm -rf "$tmp"
  touch "$marker"
}

prove_send() {
  # A real send through the gRPC proxy with the Node client proves the whole path works.
  local root; root=$(cd "$here/../.." && pwd)
  if [ -d "$root/node_modules/rocketmq-client-nodejs" ]; then
    wait_for 60 "a real send through the proxy" \
      node "$here/probe-send.mjs" "127.0.0.1:$PROXY_PORT" \
      || fail "sending a probe message through 127.0.0.1:$PROXY_PORT failed for 60 s; see $RMQ_WORK/logs/rocketmqlogs/proxy.log"
  else
    say "node_modules missing: skipped the probe send (run npm ci first)"
  fi
}

case "${1:-}" in
  start)
    resolve_jars; write_configs; check_disk
    start_namesrv; start_proxy; create_topics; prove_send
    say "ready: namesrv 127.0.0.1:$NAMESRV_PORT, gRPC proxy 127.0.0.1:$PROXY_PORT" ;;
  stop)
    stop_pid broker 30; stop_pid namesrv 15 ;;
  status)
    for n in namesrv broker; do if pid_alive $n; then say "$n running (pid $(cat "$QF_RUN_DIR/$n.pid"))"; else say "$n stopped"; fi; done ;;
  topics)
    create_topics force ;;
  *) echo "usage: $0 start|stop|status|topics" >&2; exit 2 ;;
esac
