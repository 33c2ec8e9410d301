# Shared by scripts/citus-local.sh and scripts/ha-local.sh, which source it after setting PG_USER, HOST,
# BINDIR and ROOT and defining die(): running PostgreSQL's tools as the postgres OS user, psql against
# one local node, and the lock that keeps two runs of a script off the same stack.

# Runs a command as PG_USER when root (PostgreSQL refuses to run as root), else as the caller.
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# psql against one node over TCP (trust auth); never reads ~/.psqlrc. PSQL_CONNECT_TIMEOUT: seconds.
# PSQL_PGOPTIONS: startup options (default: notices off); set it empty where the connection may go
# through PgBouncer, which refuses a startup parameter "options" it was not told to ignore.
psql_node() {
  local port="$1" db="$2"; shift 2
  PGCONNECT_TIMEOUT="${PSQL_CONNECT_TIMEOUT:-10}" PGOPTIONS="${PSQL_PGOPTIONS-"-c client_min_messages=warning"}" "$BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h "$HOST" -p "$port" -U "$PG_USER" -d "$db" "$@"
}

# Takes the stack's lock on fd 9 (one lock file per script name and ROOT), waiting up to $2 seconds.
lock_stack() {
  local name="$1" wait="$2" lockfile
  lockfile="/tmp/${name}-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
  # Open for append; if another user owns it (sticky /tmp), a read fd is enough for flock.
  if ! { exec 9>>"$lockfile"; } 2>/dev/null; then
    exec 9<"$lockfile" || die "cannot open lock file $lockfile"
  fi
  chmod 0666 "$lockfile" 2>/dev/null || true
  flock -w "$wait" 9 || die "timed out waiting for lock $lockfile"
}
