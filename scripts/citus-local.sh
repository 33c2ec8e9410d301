#!/usr/bin/env bash
# Local 3-node Citus cluster (1 coordinator + 2 workers) for tests.
#
# Usage: scripts/citus-local.sh [up|add-worker|down [--purge]|stop-node NODE [MODE]|start-node NODE|status|url]
#   up      (default) create if missing and start the cluster; prints the
#           coordinator URL as the last (only) line on stdout.
#   add-worker  create, start and add a third worker (CITUS_WORKER3_PORT) to
#           a running cluster, as a cluster grows; its shards stay where they
#           are until a rebalance (POST /tables/:name/rebalance). Prints the URL.
#   down    stop all nodes (pg_ctl stop -m fast); --purge also deletes the data.
#   stop-node NODE [MODE]  stop one node (coordinator, worker1, worker2, worker3) with
#           pg_ctl stop -m MODE (fast, the default, or immediate: a crash), as a fault test
#           does; start-node NODE starts it again.
#   status  show each node's state; exit 0 only if all three are running.
#   url     print the coordinator connection string.
#
# Exit code 3: the citus extension is not installed in this PostgreSQL
# (callers treat 3 as "skip").
#
# Environment:
#   CITUS_LOCAL_DIR      data root            (default /tmp/citus-ingest-citus)
#   CITUS_COORD_PORT     coordinator port     (default 9700)
#   CITUS_WORKER1_PORT   worker 1 port        (default 9701)
#   CITUS_WORKER2_PORT   worker 2 port        (default 9702)
#   CITUS_WORKER3_PORT   worker 3 port        (default 9703; add-worker only)
#   PG_CONFIG            pg_config to use     (default pg_config on PATH)
#
# When run as root, initdb/pg_ctl run as the `postgres` OS user and the data
# root is owned by it. All diagnostics go to stderr.
set -euo pipefail

ROOT="${CITUS_LOCAL_DIR:-/tmp/citus-ingest-citus}"
COORD_PORT="${CITUS_COORD_PORT:-9700}"
W1_PORT="${CITUS_WORKER1_PORT:-9701}"
W2_PORT="${CITUS_WORKER2_PORT:-9702}"
W3_PORT="${CITUS_WORKER3_PORT:-9703}"
DB=citus_test
HOST=127.0.0.1
PG_USER=postgres
PG_CONFIG="${PG_CONFIG:-pg_config}"
MARKER=".citus-local-root"

NODES=(coordinator worker1 worker2)
declare -A PORT=([coordinator]="$COORD_PORT" [worker1]="$W1_PORT" [worker2]="$W2_PORT" [worker3]="$W3_PORT")

log() { printf 'citus-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

url() { printf 'postgres://%s@%s:%s/%s\n' "$PG_USER" "$HOST" "$COORD_PORT" "$DB"; }

# --- citus detection ---------------------------------------------------------
require_citus() {
  local pkglibdir sharedir
  if ! command -v "$PG_CONFIG" >/dev/null 2>&1 \
    || ! pkglibdir="$("$PG_CONFIG" --pkglibdir 2>/dev/null)" \
    || ! sharedir="$("$PG_CONFIG" --sharedir 2>/dev/null)" \
    || [[ ! -f "$pkglibdir/citus.so" || ! -f "$sharedir/extension/citus.control" ]]; then
    echo "citus extension not installed in this PostgreSQL; Citus cluster not started" >&2
    exit 3
  fi
  BINDIR="$("$PG_CONFIG" --bindir)"
  [[ -x "$BINDIR/pg_ctl" && -x "$BINDIR/initdb" ]] || die "no initdb/pg_ctl in $BINDIR"
}

# as_pg, psql_node and lock_stack.
# shellcheck source=scripts/lib/pg-local.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pg-local.sh"
lock() { lock_stack citus-local 180; }

# --- node helpers ------------------------------------------------------------
node_dir() { printf '%s/%s' "$ROOT" "$1"; }

# 0 = running, 3 = stopped, 4 = no data dir (pg_ctl status codes)
node_state() {
  local dir; dir="$(node_dir "$1")"
  [[ -f "$dir/PG_VERSION" ]] || return 4
  as_pg "$BINDIR/pg_ctl" -D "$dir" status >/dev/null 2>&1 9>&- && return 0
  return 3
}

write_conf() {
  local node="$1" dir; dir="$(node_dir "$node")"
  local conf="$dir/citus-local.conf"
  local tmp; tmp="$(mktemp "$ROOT/.conf.XXXXXX")"
  cat >"$tmp" <<EOF
# Managed by scripts/citus-local.sh; rewritten on every 'up'.
port = ${PORT[$node]}
listen_addresses = '$HOST'
unix_socket_directories = '$ROOT/run'
shared_preload_libraries = 'citus'
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 128MB
wal_level = logical
max_wal_size = 1GB
citus.enable_statistics_collection = off
log_min_messages = warning
log_line_prefix = '%m [%p] ${node} '
EOF
  cat >"$dir/pg_hba.conf.new" <<EOF
# Managed by scripts/citus-local.sh
local   all          all                 trust
host    all          all  127.0.0.1/32   trust
local   replication  all                 trust
host    replication  all  127.0.0.1/32   trust
EOF
  if [[ "$(id -u)" -eq 0 ]]; then chown "$PG_USER:" "$tmp" "$dir/pg_hba.conf.new"; fi
  chmod 0600 "$tmp" "$dir/pg_hba.conf.new"
  mv -f "$tmp" "$conf"
  mv -f "$dir/pg_hba.conf.new" "$dir/pg_hba.conf"
  if ! grep -q "^include_if_exists = 'citus-local.conf'" "$dir/postgresql.conf"; then
    printf "\ninclude_if_exists = 'citus-local.conf'\n" | as_pg tee -a "$dir/postgresql.conf" >/dev/null
  fi
}

init_node() {
  local node="$1" dir; dir="$(node_dir "$node")"
  if [[ -f "$dir/PG_VERSION" ]]; then return 0; fi
  if [[ -e "$dir" ]]; then
    log "$node: removing incomplete data directory $dir"
    rm -rf -- "$dir"
  fi
  log "$node: initdb $dir"
  as_pg "$BINDIR/initdb" -D "$dir" -U "$PG_USER" -A trust -E UTF8 --locale=C.UTF-8 \
    >"$ROOT/$node.initdb.log" 2>&1 9>&- \
    || { tail -n 20 "$ROOT/$node.initdb.log" >&2; rm -rf -- "$dir"; die "$node: initdb failed"; }
}

start_node() {
  local node="$1" dir; dir="$(node_dir "$node")"
  if node_state "$node"; then return 0; fi
  log "$node: starting on port ${PORT[$node]}"
  # Close the lock fd so the postmaster never inherits (and holds) the lock.
  if ! as_pg "$BINDIR/pg_ctl" -D "$dir" -l "$ROOT/$node.log" -w -t 90 start >&2 9>&-; then
    tail -n 20 "$ROOT/$node.log" >&2 || true
    die "$node: failed to start (port ${PORT[$node]} in use?)"
  fi
}

stop_node() {
  local node="$1" dir; dir="$(node_dir "$node")"
  if node_state "$node"; then
    log "$node: stopping"
    as_pg "$BINDIR/pg_ctl" -D "$dir" -m fast -w -t 90 stop >&2 9>&- || die "$node: failed to stop"
  fi
}

ensure_db_and_extension() {
  local port="$1"
  if [[ "$(psql_node "$port" postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    psql_node "$port" postgres -c "CREATE DATABASE $DB"
  fi
  psql_node "$port" "$DB" -c "CREATE EXTENSION IF NOT EXISTS citus"
}

register_nodes() {
  local cp="$COORD_PORT" p
  if [[ "$(psql_node "$cp" "$DB" -c \
      "SELECT count(*) FROM pg_dist_node WHERE groupid = 0 AND nodename = '$HOST' AND nodeport = $cp")" != 1 ]]; then
    log "coordinator: citus_set_coordinator_host('$HOST', $cp)"
    psql_node "$cp" "$DB" -c "SELECT citus_set_coordinator_host('$HOST', $cp)" >/dev/null
  fi
  for p in "$W1_PORT" "$W2_PORT"; do
    if [[ "$(psql_node "$cp" "$DB" -c \
        "SELECT count(*) FROM pg_dist_node WHERE nodename = '$HOST' AND nodeport = $p")" == 0 ]]; then
      log "coordinator: citus_add_node('$HOST', $p)"
      psql_node "$cp" "$DB" -c "SELECT citus_add_node('$HOST', $p)" >/dev/null
    fi
  done
}

# The nodes of this cluster: the three of `up`, and worker3 once add-worker created it.
all_nodes() {
  printf '%s\n' "${NODES[@]}"
  if [[ -f "$(node_dir worker3)/PG_VERSION" ]]; then echo worker3; fi
}

# --- subcommands -------------------------------------------------------------
cmd_add_worker() {
  require_citus
  lock
  node_state coordinator || die "the cluster is not running: run 'up' first"
  init_node worker3
  write_conf worker3
  start_node worker3
  ensure_db_and_extension "$W3_PORT"
  if [[ "$(psql_node "$COORD_PORT" "$DB" -c \
      "SELECT count(*) FROM pg_dist_node WHERE nodename = '$HOST' AND nodeport = $W3_PORT")" == 0 ]]; then
    log "coordinator: citus_add_node('$HOST', $W3_PORT)"
    psql_node "$COORD_PORT" "$DB" -c "SELECT citus_add_node('$HOST', $W3_PORT)" >/dev/null
  fi
  log "cluster: $(psql_node "$COORD_PORT" "$DB" -c \
    "SELECT count(*) FROM citus_get_active_worker_nodes()") active workers"
  url
}

cmd_up() {
  require_citus
  lock
  mkdir -p "$ROOT"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$PG_USER:" "$ROOT"
    runuser -u "$PG_USER" -- test -w "$ROOT" \
      || die "$ROOT is not writable by the $PG_USER user (choose another CITUS_LOCAL_DIR)"
  fi
  touch "$ROOT/$MARKER"
  as_pg mkdir -p "$ROOT/run"
  local node
  for node in "${NODES[@]}"; do init_node "$node"; write_conf "$node"; done
  if [[ -f "$(node_dir worker3)/PG_VERSION" ]]; then write_conf worker3; fi
  for node in $(all_nodes); do start_node "$node"; done
  # Workers first, so the extension exists on them before they are added.
  ensure_db_and_extension "$W1_PORT"
  ensure_db_and_extension "$W2_PORT"
  ensure_db_and_extension "$COORD_PORT"
  register_nodes
  log "cluster up: $(psql_node "$COORD_PORT" "$DB" -c \
    "SELECT count(*) FROM citus_get_active_worker_nodes()") active workers"
  url
}

cmd_down() {
  local purge=0
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "unknown option for down: $1" ;;
  esac
  # No citus needed to stop or delete; only pg_ctl.
  local have_pgctl=0 node
  BINDIR="$("$PG_CONFIG" --bindir 2>/dev/null || true)"
  if [[ -n "$BINDIR" && -x "$BINDIR/pg_ctl" ]]; then have_pgctl=1; fi
  if [[ $have_pgctl -eq 0 && $purge -eq 0 ]]; then return 0; fi
  lock
  if [[ $have_pgctl -eq 1 ]]; then
    for node in $(all_nodes); do stop_node "$node"; done
  fi
  if [[ $purge -eq 1 && -e "$ROOT" ]]; then
    [[ -f "$ROOT/$MARKER" ]] || die "refusing to delete $ROOT: not created by this script (no $MARKER)"
    log "purging $ROOT"
    rm -rf -- "$ROOT"
  fi
}

# The node a stop-node/start-node names, checked against this cluster's nodes.
known_node() {
  local node="$1"
  [[ -n "$node" ]] || die "name a node: $(all_nodes | tr '\n' ' ')"
  all_nodes | grep -qx -- "$node" || die "no node $node in $ROOT (nodes: $(all_nodes | tr '\n' ' '))"
}

cmd_stop_node() {
  local node="${1:-}" mode="${2:-fast}"
  case "$mode" in fast|immediate) ;; *) die "stop-node mode must be fast or immediate, got $mode" ;; esac
  require_citus
  lock
  known_node "$node"
  if node_state "$node"; then
    log "$node: stopping (-m $mode)"
    as_pg "$BINDIR/pg_ctl" -D "$(node_dir "$node")" -m "$mode" -w -t 90 stop >&2 9>&- || die "$node: failed to stop"
  fi
}

cmd_start_node() {
  require_citus
  lock
  known_node "${1:-}"
  start_node "$1"
}

cmd_status() {
  require_citus
  local node rc all=0
  for node in $(all_nodes); do
    rc=0; node_state "$node" || rc=$?
    case $rc in
      0) echo "$node port ${PORT[$node]}: running" ;;
      3) echo "$node port ${PORT[$node]}: stopped"; all=1 ;;
      *) echo "$node port ${PORT[$node]}: not created"; all=1 ;;
    esac
  done
  if [[ $all -eq 0 ]]; then
    echo "active workers: $(psql_node "$COORD_PORT" "$DB" -c \
      "SELECT string_agg(node_name || ':' || node_port, ' ' ORDER BY node_port) FROM citus_get_active_worker_nodes()" 2>/dev/null || echo '?')"
    echo "url: $(url)"
  fi
  return $all
}

main() {
  local cmd="${1:-up}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up ;;
    add-worker) cmd_add_worker ;;
    down) cmd_down "$@" ;;
    stop-node) cmd_stop_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    status) cmd_status ;;
    url) require_citus; url ;;
    -h|--help|help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) log "unknown command: $cmd (use up|add-worker|down [--purge]|stop-node NODE [MODE]|start-node NODE|status|url)"; exit 2 ;;
  esac
}

main "$@"
