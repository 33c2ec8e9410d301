#!/usr/bin/env bash
# Local production-like topology for tests: Citus managed by Patroni (one etcd), HAProxy sending the
# coordinator port to whichever coordinator node Patroni reports as leader, PgBouncer (transaction
# pooling) in front of HAProxy.
#
#   coord1, coord2   coordinator group 0: a primary and a synchronous replica
#   worker1          worker group 1 (one node)
#   worker2          worker group 2 (one node)
#
# Usage: scripts/ha-local.sh [up|down [--purge]|status|urls|start NODE|stop-pooler|start-pooler|
#                             stop-proxy|start-proxy]
#   up       (default) create what is missing and start everything not running; waits until a write
#            through PgBouncer works, then prints three URLs on stdout, one a line:
#            leader direct, HAProxy, PgBouncer.
#   down     stop everything this script started; --purge also deletes the data directory.
#   status   state of each piece; exit 0 only if all are running and a leader answers.
#   urls     print the three URLs (leader direct is looked up in Patroni).
#   start NODE           start one Patroni node (after a test killed it); does not wait.
#   stop-pooler / start-pooler, stop-proxy / start-proxy: stop or start PgBouncer / HAProxy alone.
#
# Exit code 3: a package is missing (patroni, etcd, haproxy, pgbouncer or the citus extension);
# callers treat 3 as "skip". Install: apt-get install -y patroni etcd-server haproxy pgbouncer
#
# Environment:
#   HA_LOCAL_DIR   data root               (default /tmp/citus-ingest-ha)
#   HA_PORT_BASE   first of the ports used (default 9800; uses base+0 .. base+40)
#   PG_CONFIG      pg_config to use        (default pg_config on PATH)
#
# Ports (base 9800): etcd 9800/9801, Patroni REST 9810-9813, PostgreSQL 9820-9823, HAProxy 9830
# (coordinator leader) and 9831 (stats), PgBouncer 9840.
# When run as root, Patroni/PostgreSQL and PgBouncer run as the `postgres` OS user (PostgreSQL and
# PgBouncer refuse root). All diagnostics go to stderr.
set -euo pipefail

ROOT="${HA_LOCAL_DIR:-/tmp/citus-ingest-ha}"
BASE="${HA_PORT_BASE:-9800}"
PG_CONFIG="${PG_CONFIG:-pg_config}"
DB=citus_ha
HOST=127.0.0.1
PG_USER=postgres
SCOPE=citus-ingest-ha
MARKER=".ha-local-root"
PYTHON=/usr/bin/python3 # Debian's, which has psycopg2 (the first python3 on PATH may not)

ETCD_PORT=$((BASE + 0))
ETCD_PEER_PORT=$((BASE + 1))
HAPROXY_PORT=$((BASE + 30))
HAPROXY_STATS_PORT=$((BASE + 31))
PGBOUNCER_PORT=$((BASE + 40))

NODES=(coord1 coord2 worker1 worker2)
declare -A GROUP=([coord1]=0 [coord2]=0 [worker1]=1 [worker2]=2)
declare -A REST=([coord1]=$((BASE + 10)) [coord2]=$((BASE + 11)) [worker1]=$((BASE + 12)) [worker2]=$((BASE + 13)))
declare -A PGPORT=([coord1]=$((BASE + 20)) [coord2]=$((BASE + 21)) [worker1]=$((BASE + 22)) [worker2]=$((BASE + 23)))

log() { printf 'ha-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- requirements ------------------------------------------------------------
require_packages() {
  local missing=() pkglibdir sharedir
  [[ -x /usr/bin/patroni && -x /usr/bin/patronictl ]] || missing+=(patroni)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
  command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || missing+=(pgbouncer)
  if ! command -v "$PG_CONFIG" >/dev/null 2>&1 \
    || ! pkglibdir="$("$PG_CONFIG" --pkglibdir 2>/dev/null)" \
    || ! sharedir="$("$PG_CONFIG" --sharedir 2>/dev/null)" \
    || [[ ! -f "$pkglibdir/citus.so" || ! -f "$sharedir/extension/citus.control" ]]; then
    missing+=(citus)
  fi
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "HA stack not started: missing ${missing[*]} (apt-get install -y patroni etcd-server haproxy pgbouncer; citus from ../shared/citus)" >&2
    exit 3
  fi
  BINDIR="$("$PG_CONFIG" --bindir)"
  HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
  PGBOUNCER="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
}

# as_pg, psql_node and lock_stack.
# shellcheck source=scripts/lib/pg-local.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pg-local.sh"
PSQL_CONNECT_TIMEOUT=5
PSQL_PGOPTIONS=
lock() { lock_stack ha-local 300; }

# --- process helpers -----------------------------------------------------------
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
pid_of() { [[ -f "$ROOT/run/$1.pid" ]] && head -n1 "$ROOT/run/$1.pid" 2>/dev/null || true; }
running() { pid_alive "$(pid_of "$1")"; }

# Starts a long-running program detached (own session, lock fd closed), as `user` (root: as is),
# writing its pid to run/<name>.pid.
spawn() {
  local name="$1" user="$2"; shift 2
  local logfile="$ROOT/$name.log" pidfile="$ROOT/run/$name.pid"
  local cmd
  cmd="$(printf '%q ' "$@")"
  if [[ "$user" != root && "$(id -u)" -eq 0 ]]; then
    (cd / && runuser -u "$user" -- bash -c "setsid $cmd >>$(printf %q "$logfile") 2>&1 </dev/null & echo \$! >$(printf %q "$pidfile")") 9>&-
  else
    (cd / && bash -c "setsid $cmd >>$(printf %q "$logfile") 2>&1 </dev/null & echo \$! >$(printf %q "$pidfile")") 9>&-
  fi
}

# Sends `sig` to a process started by spawn and waits up to `secs` for it to exit.
stop_pid() {
  local name="$1" sig="$2" secs="$3" pid i
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then log "$name: still running after ${secs}s, killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  fi
  rm -f "$ROOT/run/$name.pid"
}

wait_for() {
  local what="$1" secs="$2"; shift 2
  local i
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $what (logs in $ROOT)"
}

http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }

# --- configuration -------------------------------------------------------------
write_patroni_conf() {
  local node="$1" conf="$ROOT/$1.yml"
  cat >"$conf" <<EOF
# Managed by scripts/ha-local.sh; rewritten on every 'up'.
scope: $SCOPE
namespace: /citus-ingest/
name: $node
log:
  level: WARNING
citus:
  group: ${GROUP[$node]}
  database: $DB
restapi:
  listen: $HOST:${REST[$node]}
  connect_address: $HOST:${REST[$node]}
etcd3:
  hosts: $HOST:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 5
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 200
        shared_buffers: 64MB
        work_mem: 8MB
        maintenance_work_mem: 64MB
        max_wal_size: 1GB
        wal_keep_size: 256MB
        max_worker_processes: 16
        citus.enable_statistics_collection: 'off'
        log_min_messages: warning
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth: trust
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - local replication all trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: $HOST:${PGPORT[$node]}
  connect_address: $HOST:${PGPORT[$node]}
  data_dir: $ROOT/$node
  bin_dir: $BINDIR
  pgpass: $ROOT/run/$node.pgpass
  authentication:
    superuser:
      username: $PG_USER
      password: ha-local-postgres
    replication:
      username: $PG_USER
      password: ha-local-postgres
  parameters:
    unix_socket_directories: '$ROOT/run'
    log_line_prefix: '%m [%p] $node '
  basebackup:
    - checkpoint: fast
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - local replication all trust
    - host replication all 127.0.0.1/32 trust
tags:
  nofailover: false
  noloadbalance: false
EOF
  chmod 0600 "$conf"
  if [[ "$(id -u)" -eq 0 ]]; then chown "$PG_USER:" "$conf"; fi
}

write_haproxy_conf() {
  cat >"$ROOT/haproxy.cfg" <<EOF
# Managed by scripts/ha-local.sh. The coordinator port goes to the node whose Patroni answers 200 on
# /primary; a node marked down has its sessions shut, so clients reconnect to the new leader.
global
  maxconn 1000
  log stderr format short local0 warning
defaults
  mode tcp
  log global
  retries 2
  timeout connect 4s
  timeout client 60m
  timeout server 60m
  timeout check 2s
listen stats
  mode http
  bind $HOST:$HAPROXY_STATS_PORT
  stats enable
  stats uri /
listen coordinator
  bind $HOST:$HAPROXY_PORT
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
  server coord1 $HOST:${PGPORT[coord1]} maxconn 400 check port ${REST[coord1]}
  server coord2 $HOST:${PGPORT[coord2]} maxconn 400 check port ${REST[coord2]}
EOF
}

write_pgbouncer_conf() {
  cat >"$ROOT/pgbouncer.ini" <<EOF
; Managed by scripts/ha-local.sh: transaction pooling in front of HAProxy.
[databases]
* = host=$HOST port=$HAPROXY_PORT

[pgbouncer]
listen_addr = $HOST
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $ROOT/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 60
reserve_pool_size = 10
server_login_retry = 1
server_connect_timeout = 5
query_wait_timeout = 120
ignore_startup_parameters = extra_float_digits
admin_users = $PG_USER
log_connections = 0
log_disconnections = 0
EOF
  printf '"%s" ""\n' "$PG_USER" >"$ROOT/userlist.txt"
  if [[ "$(id -u)" -eq 0 ]]; then chown "$PG_USER:" "$ROOT/pgbouncer.ini" "$ROOT/userlist.txt"; fi
}

# --- pieces ---------------------------------------------------------------------
start_etcd() {
  running etcd && return 0
  log "etcd: starting on $ETCD_PORT"
  mkdir -p "$ROOT/etcd"
  spawn etcd root etcd --name ha-local --data-dir "$ROOT/etcd" \
    --listen-client-urls "http://$HOST:$ETCD_PORT" --advertise-client-urls "http://$HOST:$ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster "ha-local=http://$HOST:$ETCD_PEER_PORT" --log-level warn \
    --quota-backend-bytes 268435456 --auto-compaction-retention 1h
  wait_for "etcd" 60 http_ok "http://$HOST:$ETCD_PORT/health"
}

start_node() {
  local node="$1"
  running "$node" && return 0
  write_patroni_conf "$node"
  log "$node: starting Patroni (REST ${REST[$node]}, PostgreSQL ${PGPORT[$node]})"
  spawn "$node" "$PG_USER" "$PYTHON" /usr/bin/patroni "$ROOT/$node.yml"
}

start_proxy() {
  running haproxy && return 0
  write_haproxy_conf
  log "haproxy: starting on $HAPROXY_PORT"
  spawn haproxy root "$HAPROXY" -db -f "$ROOT/haproxy.cfg"
}

start_pooler() {
  running pgbouncer && return 0
  write_pgbouncer_conf
  log "pgbouncer: starting on $PGBOUNCER_PORT (transaction mode)"
  rm -f "$ROOT/run/pgbouncer.pid"
  spawn pgbouncer "$PG_USER" "$PGBOUNCER" "$ROOT/pgbouncer.ini"
  wait_for "pgbouncer" 30 bash -c "exec 3<>/dev/tcp/$HOST/$PGBOUNCER_PORT"
}

# Stops a Patroni node: SIGTERM makes Patroni stop its PostgreSQL; a postmaster left behind is stopped.
stop_node() {
  local node="$1" dir="$ROOT/$1"
  if running "$node"; then log "$node: stopping Patroni"; fi
  stop_pid "$node" TERM 60
  if [[ -f "$dir/postmaster.pid" ]] && pid_alive "$(head -n1 "$dir/postmaster.pid")"; then
    log "$node: stopping PostgreSQL left behind"
    as_pg "$BINDIR/pg_ctl" -D "$dir" -m immediate -w -t 60 stop >&2 9>&- || true
  fi
}

leader_port() {
  local node
  for node in coord1 coord2; do
    if curl -fsS -m 2 -o /dev/null "http://$HOST:${REST[$node]}/primary" 2>/dev/null; then
      echo "${PGPORT[$node]}"; return 0
    fi
  done
  return 1
}

urls() {
  local lp
  lp="$(leader_port || echo "${PGPORT[coord1]}")"
  printf 'postgres://%s@%s:%s/%s\n' "$PG_USER" "$HOST" "$lp" "$DB"
  printf 'postgres://%s@%s:%s/%s\n' "$PG_USER" "$HOST" "$HAPROXY_PORT" "$DB"
  printf 'postgres://%s@%s:%s/%s\n' "$PG_USER" "$HOST" "$PGBOUNCER_PORT" "$DB"
}

workers_registered() {
  [[ "$(psql_node "$HAPROXY_PORT" "$DB" -c "SELECT count(*) FROM pg_dist_node WHERE groupid > 0 AND isactive")" == 2 ]]
}

sync_standby_ready() {
  curl -fsS -m 2 "http://$HOST:${REST[coord1]}/cluster" 2>/dev/null | grep -q '"role": *"sync_standby"'
}

# --- subcommands -----------------------------------------------------------------
cmd_up() {
  require_packages
  lock
  mkdir -p "$ROOT/run"
  touch "$ROOT/$MARKER"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$PG_USER:" "$ROOT" "$ROOT/run"
    runuser -u "$PG_USER" -- test -w "$ROOT" || die "$ROOT is not writable by the $PG_USER user (choose another HA_LOCAL_DIR)"
  fi
  start_etcd
  local node
  for node in "${NODES[@]}"; do start_node "$node"; done
  start_proxy
  start_pooler
  wait_for "a coordinator leader" 120 leader_port
  wait_for "writes through PgBouncer" 120 psql_node "$PGBOUNCER_PORT" "$DB" -c "SELECT 1"
  wait_for "both worker groups registered" 120 workers_registered
  wait_for "the coordinator's synchronous standby" 180 sync_standby_ready
  log "stack up: leader on $(leader_port), workers $(psql_node "$PGBOUNCER_PORT" "$DB" -c \
    "SELECT string_agg(nodename || ':' || nodeport, ' ' ORDER BY nodeport) FROM pg_dist_node WHERE groupid > 0")"
  urls
}

cmd_down() {
  local purge=0
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "unknown option for down: $1" ;;
  esac
  [[ -d "$ROOT" ]] || return 0
  BINDIR="$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)"
  lock
  stop_pid pgbouncer TERM 15
  stop_pid haproxy TERM 15
  # Replicas first, so the primary is not asked to wait for a synchronous standby that is going away.
  local node
  for node in coord2 coord1 worker1 worker2; do stop_node "$node"; done
  stop_pid etcd TERM 15
  if [[ $purge -eq 1 ]]; then
    [[ -f "$ROOT/$MARKER" ]] || die "refusing to delete $ROOT: not created by this script (no $MARKER)"
    log "purging $ROOT"
    rm -rf -- "$ROOT"
  fi
}

cmd_status() {
  require_packages
  local all=0 name
  for name in etcd "${NODES[@]}" haproxy pgbouncer; do
    if running "$name"; then echo "$name: running (pid $(pid_of "$name"))"; else echo "$name: stopped"; all=1; fi
  done
  if running coord1 || running coord2; then
    curl -fsS -m 3 "http://$HOST:${REST[coord1]}/cluster" 2>/dev/null \
      || curl -fsS -m 3 "http://$HOST:${REST[coord2]}/cluster" 2>/dev/null || true
    echo
  fi
  leader_port >/dev/null || all=1
  if [[ $all -eq 0 ]]; then urls; fi
  return $all
}

main() {
  local cmd="${1:-up}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    urls) require_packages; urls ;;
    start) require_packages; [[ -n "${GROUP[${1:-}]:-}" ]] || die "start needs one of: ${NODES[*]}"; lock; start_node "$1" ;;
    stop-pooler) require_packages; lock; stop_pid pgbouncer TERM 15 ;;
    start-pooler) require_packages; lock; start_pooler ;;
    stop-proxy) require_packages; lock; stop_pid haproxy TERM 15 ;;
    start-proxy) require_packages; lock; start_proxy ;;
    -h|--help|help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) log "unknown command: $cmd"; exit 2 ;;
  esac
}

main "$@"
