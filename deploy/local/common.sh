# Shared helpers for the local-infrastructure scripts. Sourced, not run.
# Everything started here records its pid under $QF_RUN_DIR so stop commands stop only what they started.
QF_CACHE_DIR=${QIANFAN_CACHE_DIR:-$HOME/.cache/qianfan-order}
QF_RUN_DIR=${QIANFAN_RUN_DIR:-/dev/shm/qianfan-order}
mkdir -p "$QF_CACHE_DIR" "$QF_RUN_DIR"

say()  { printf '[%s] %s\n' "${QF_COMPONENT:-local}" "$*"; }
fail() { printf '[%s] ERROR: %s\n' "${QF_COMPONENT:-local}" "$*" >&2; exit 1; }

# port_open HOST PORT -> 0 when something accepts TCP connections there
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for SECONDS DESCRIPTION COMMAND... -> polls COMMAND every 0.5 s
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep 0.5
  done
  say "$what is up"
}

# pid_alive NAME -> 0 when the pid recorded for NAME is running (a zombie left to be reaped is not)
pid_alive() {
  local f="$QF_RUN_DIR/$1.pid" pid state
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
  [ "$state" != Z ]
}

# stop_pid NAME [SECONDS] -> SIGTERM the recorded pid, wait, then SIGKILL
stop_pid() {
  local name=$1 secs=${2:-15} f="$QF_RUN_DIR/$1.pid"
  if ! pid_alive "$name"; then rm -f "$f"; say "$name not running (nothing recorded by us)"; return 0; fi
  local pid; pid=$(cat "$f")
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then say "$name did not stop in ${secs}s, killing"; kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.3
  done
  rm -f "$f"
}
