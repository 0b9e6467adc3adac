#!/usr/bin/env bash
# The embedded PostGIS cluster used by `make run` and `make test` when DATABASE_URL is unset.
#
#   scripts/pg.sh start      init if needed, start if not running, wait until ready; prints
#                            `export DATABASE_URL=…`, `export TONARI_MIGRATE_DATABASE_URL=…` and
#                            `export TONARI_PG_STARTED=0|1` on stdout (eval it) and writes the
#                            URLs to var/pg/env
#   scripts/pg.sh stop       fast shutdown (pg_ctl stop -m fast)
#   scripts/pg.sh stop-immediate  a crash on purpose (pg_ctl stop -m immediate: no checkpoint;
#                            recovery replays the WAL at the next start): bench/fault_ingest.py
#   scripts/pg.sh status     running / stopped / not initialised (exit 0 / 3 / 4)
#   scripts/pg.sh url [DB]          the app's DATABASE_URL (role `tonari`, DML only; database `tonari`)
#   scripts/pg.sh migrate-url [DB]  the owner's URL for migrations (role `tonari_owner`)
#   scripts/pg.sh admin-url         URL for the test suite's throwaway databases (the owner: CREATEDB)
#   scripts/pg.sh psql [..]  psql as the cluster superuser over the private socket
#   scripts/pg.sh reset      stop and delete the cluster
#
# Roles (docs/decisions/0002, README "Production notes"): `tonari_owner` owns the databases and
# every table and runs the migrations; `tonari` is what the app signs in as: a member of the
# NOLOGIN group `tonari_app`, to which the migrations grant DML and nothing else.
#
# Layout: var/pg/{data,run,log/postgresql.log,app-password,owner-password,env}. As root the server
# runs as the `postgres` system user (initdb refuses root). Port: TONARI_PG_PORT (default 54329).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGVAR=$VAR_DIR/pg
# The server gets real paths: var/pg may be a symlink into /var/tmp (see ensure_layout).
set_paths() {
  PGREAL=$(readlink -f "$PGVAR" 2>/dev/null || printf '%s' "$PGVAR")
  DATA=$PGREAL/data
  RUN=$PGREAL/run
  LOGDIR=$PGREAL/log
  LOG=$LOGDIR/postgresql.log
  PW_FILE=$PGREAL/app-password
  OWNER_PW_FILE=$PGREAL/owner-password
  ENV_FILE=$PGREAL/env
  # Bumped when bootstrap() learns something new (v2: the owner/app role split; v3: the owner may
  # end the app's sessions), so an existing cluster is brought up to date on its next start.
  BOOT_MARK=$PGREAL/.bootstrapped-v3
}
set_paths
PORT=${TONARI_PG_PORT:-54329}
APP_ROLE=tonari
APP_GROUP=tonari_app
OWNER_ROLE=tonari_owner
APP_DB=tonari
TEMPLATE_DB=tonari_template

# Who runs the server: as root, the owner of an existing data dir or `postgres`; else ourselves.
if is_root; then
  PG_OS_USER=postgres
  if [ -d "$DATA" ]; then
    owner=$(stat -c %U "$DATA")
    [ "$owner" != root ] && PG_OS_USER=$owner
  fi
else
  PG_OS_USER=$(id -un)
fi
SUPERUSER=$PG_OS_USER

as_pg() {
  if is_root; then
    local home
    home=$(getent passwd "$PG_OS_USER" | cut -d: -f6)
    (cd / && runuser -u "$PG_OS_USER" -- env HOME="${home:-/}" "$@")
  else
    "$@"
  fi
}

pg_can_enter() { # DIR: can the server's OS user reach DIR?
  if is_root; then
    runuser -u "$PG_OS_USER" -- test -x "$1" 2>/dev/null
  else
    test -x "$1"
  fi
}

require_pg_user() {
  is_root || return 0
  getent passwd "$PG_OS_USER" >/dev/null \
    || die "the '$PG_OS_USER' system user does not exist (it comes with the postgresql-15 package)."
}

# Make var/pg a directory the server user can reach. Under a directory it cannot enter (e.g. a
# checkout in /root, mode 700), keep the real files in /var/tmp and make var/pg a symlink.
ensure_layout() {
  mkdir -p "$VAR_DIR"
  if [ ! -e "$PGVAR" ] && [ ! -L "$PGVAR" ]; then
    mkdir -m 755 "$PGVAR"
  fi
  if is_root; then
    local real
    real=$(readlink -f "$PGVAR")
    if [ -L "$PGVAR" ] && [ ! -d "$real" ]; then
      install -d -m 700 -o "$PG_OS_USER" -g "$(id -gn "$PG_OS_USER")" "$real"
    fi
    if ! pg_can_enter "$real"; then
      local hash alt
      hash=$(printf '%s' "$TONARI_ROOT" | sha256sum | cut -c1-12)
      alt=/var/tmp/tonari-pg-$hash
      info "The '$PG_OS_USER' user cannot enter $TONARI_ROOT, so the cluster lives in $alt (var/pg links there)."
      if [ -d "$alt" ] && [ -n "$(ls -A "$PGVAR" 2>/dev/null)" ]; then
        die "both $PGVAR and $alt hold data; remove one (make reset deletes both)."
      fi
      if [ ! -d "$alt" ]; then
        if [ -n "$(ls -A "$PGVAR" 2>/dev/null)" ]; then
          mv "$PGVAR" "$alt"
        else
          rmdir "$PGVAR"
          mkdir "$alt"
        fi
      else
        rmdir "$PGVAR"
      fi
      chown "$PG_OS_USER:$(id -gn "$PG_OS_USER")" "$alt"
      chmod 700 "$alt"
      ln -sfn "$alt" "$PGVAR"
      pg_can_enter "$alt" || die "the '$PG_OS_USER' user cannot enter $alt either."
    fi
  fi
  set_paths
  local d
  for d in "$DATA" "$RUN" "$LOGDIR"; do
    if [ ! -d "$d" ]; then
      mkdir -m 700 "$d"
      is_root && chown "$PG_OS_USER:$(id -gn "$PG_OS_USER")" "$d"
    fi
  done
  # The socket path must fit in sun_path (107 bytes).
  local sock=$RUN/.s.PGSQL.$PORT
  [ "${#sock}" -le 107 ] || die "socket path too long (${#sock} > 107 bytes): $sock. Move the checkout to a shorter path or set TONARI_VAR_DIR."
}

initialised() { [ -f "$DATA/PG_VERSION" ]; }

postmaster_pid() { [ -f "$DATA/postmaster.pid" ] && head -n1 "$DATA/postmaster.pid"; }

# Running = the pid in postmaster.pid is alive and is a postmaster working in *this* data dir
# (a postmaster chdirs to its data dir), so a pid recycled after a crash does not count.
running() {
  local pid real
  pid=$(postmaster_pid 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  real=$(readlink -f "$DATA")
  [ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" = "$real" ]
}

running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null; }

# After a crash: drop the stale lock files and any orphaned backends still attached to the data
# dir (they would keep the old shared memory segment busy).
clear_stale() {
  local real p pids=()
  real=$(readlink -f "$DATA")
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
    [ "$(readlink -f "$p/cwd" 2>/dev/null)" = "$real" ] && pids+=("${p#/proc/}")
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    warn "stopping ${#pids[@]} orphaned PostgreSQL process(es) of a crashed cluster: ${pids[*]}"
    kill -QUIT "${pids[@]}" 2>/dev/null || true
    sleep 1
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  if [ -f "$DATA/postmaster.pid" ]; then
    info "Removing stale postmaster.pid (the cluster was not shut down cleanly)."
    rm -f "$DATA/postmaster.pid"
  fi
  rm -f "$RUN"/.s.PGSQL.*
}

do_initdb() {
  if [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
    warn "$DATA holds an unfinished initdb; starting it over."
    find "$DATA" -mindepth 1 -delete
  fi
  local locale=C.UTF-8
  locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || locale=C
  info "Creating the embedded PostGIS cluster in $DATA (runs as '$PG_OS_USER')"
  as_pg "$PG_BIN/initdb" -D "$DATA" -U "$SUPERUSER" --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale="$locale" --no-instructions >"$LOGDIR/initdb.log" 2>&1 \
    || { cat "$LOGDIR/initdb.log" >&2; die "initdb failed (log: $LOGDIR/initdb.log)"; }
  rm -f "$BOOT_MARK"
}

superuser_psql() { # psql as the superuser over the private socket; extra args passed through
  as_pg "$PG_BIN/psql" -X -q -h "$RUN" -p "$(running_port)" -U "$SUPERUSER" "$@"
}

# A password file's content, created (32 random alphanumerics, mode 600) if missing.
password_in() {
  local file=$1 pw
  if [ ! -s "$file" ]; then
    pw=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32)
    (umask 077 && printf '%s\n' "$pw" >"$file.tmp" && mv "$file.tmp" "$file")
  fi
  cat "$file"
}

# Idempotent: the owner role (owns the databases and tables, runs migrations), the app's group
# role and the app's login role (DML only; not a superuser: superusers bypass row-level
# security), the app database and a PostGIS template database the owner may clone. A cluster
# made before the split (where `tonari` owned everything) has its objects handed to the owner.
bootstrap() {
  local pw owner_pw db
  pw=$(password_in "$PW_FILE")
  owner_pw=$(password_in "$OWNER_PW_FILE")
  info "Creating roles '$OWNER_ROLE' and '$APP_ROLE', databases '$APP_DB' and '$TEMPLATE_DB' (with PostGIS)"
  superuser_psql -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
\\set pw '$pw'
\\set owner_pw '$owner_pw'
SELECT 'CREATE ROLE $APP_GROUP NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_GROUP') \\gexec
ALTER ROLE $APP_GROUP WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE ROLE $OWNER_ROLE LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$OWNER_ROLE') \\gexec
ALTER ROLE $OWNER_ROLE WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_pw';
SELECT 'CREATE ROLE $APP_ROLE LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') \\gexec
ALTER ROLE $APP_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'pw';
GRANT $APP_GROUP TO $APP_ROLE;
-- The test suites drop their throwaway databases WITH (FORCE): a session an app server left
-- behind (one killed on purpose by a resilience test) must not keep the drop from happening.
GRANT pg_signal_backend TO $OWNER_ROLE;
SELECT 'CREATE DATABASE $TEMPLATE_DB OWNER $OWNER_ROLE' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$TEMPLATE_DB') \\gexec
\\c $TEMPLATE_DB
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis;
-- Lets the bounding-box operator && use the GiST index under row-level security (docs/decisions/0005).
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
\\c postgres
ALTER DATABASE $TEMPLATE_DB IS_TEMPLATE true;
SELECT 'CREATE DATABASE $APP_DB OWNER $OWNER_ROLE TEMPLATE $TEMPLATE_DB' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$APP_DB') \\gexec
\\c $APP_DB
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis;
-- Lets the bounding-box operator && use the GiST index under row-level security (docs/decisions/0005).
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
SQL
  # Before the split the app role owned the databases and every table in them (the demo's, the
  # benches', leftovers of interrupted test runs): hand them all to the owner.
  for db in $(superuser_psql -d postgres -At -c "SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template1'"); do
    superuser_psql -d "$db" -v ON_ERROR_STOP=1 -c "REASSIGN OWNED BY $APP_ROLE TO $OWNER_ROLE" >/dev/null
  done
  rm -f "$PGREAL/.bootstrapped"  # the mark before v2
  touch "$BOOT_MARK"
}

# role_url ROLE PASSWORD_FILE [DB]: a SQLAlchemy URL for ROLE on the running cluster.
role_url() {
  [ -s "$2" ] || die "the cluster has no password for '$1' yet: run 'scripts/pg.sh start' first."
  local port=$PORT
  running && port=$(running_port)
  printf 'postgresql+asyncpg://%s:%s@127.0.0.1:%s/%s\n' "$1" "$(cat "$2")" "$port" "${3:-$APP_DB}"
}

app_url() { role_url "$APP_ROLE" "$PW_FILE" "${1:-}"; }
owner_url() { role_url "$OWNER_ROLE" "$OWNER_PW_FILE" "${1:-}"; }

cmd_start() {
  ensure_system_packages postgis
  require_pg_user
  mkdir -p "$VAR_DIR"
  exec 9>>"$VAR_DIR/.pg.lock"
  flock 9
  ensure_layout
  initialised || do_initdb
  local ver
  ver=$(cat "$DATA/PG_VERSION")
  [ "$ver" = 15 ] || die "$DATA is a PostgreSQL $ver cluster, expected 15 ('make reset' deletes it)."
  local data_owner
  data_owner=$(stat -c %U "$DATA")
  [ "$data_owner" = "$PG_OS_USER" ] \
    || die "$DATA belongs to '$data_owner'; run as that user (or root), or delete it with 'make reset'."

  local started=0
  if running; then
    local rport
    rport=$(running_port)
    [ "$rport" = "$PORT" ] || note "the cluster is already running on port $rport (not $PORT); using it."
    info "Embedded PostGIS already running on 127.0.0.1:$rport"
  else
    clear_stale
    if port_in_use "$PORT"; then
      die "port $PORT on 127.0.0.1 is taken by another program; choose a free port, e.g. TONARI_PG_PORT=$((PORT + 1)) make run"
    fi
    info "Starting embedded PostGIS on 127.0.0.1:$PORT (log: $LOG)"
    local t0=$SECONDS
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -s \
        -o "-p $PORT -k '$RUN' -c listen_addresses=127.0.0.1" start >&2 9>&-; then
      tail -n 20 "$LOG" >&2 || true
      die "PostgreSQL did not start (log: $LOG)"
    fi
    started=1
    note "up in $((SECONDS - t0)) s"
  fi
  if [ ! -f "$BOOT_MARK" ] || [ ! -s "$PW_FILE" ] || [ ! -s "$OWNER_PW_FILE" ]; then
    bootstrap
  fi
  local url murl
  url=$(app_url)
  murl=$(owner_url)
  (umask 077 && printf 'export DATABASE_URL=%q\nexport TONARI_MIGRATE_DATABASE_URL=%q\n' "$url" "$murl" >"$ENV_FILE")
  printf 'export DATABASE_URL=%q\nexport TONARI_MIGRATE_DATABASE_URL=%q\nexport TONARI_PG_STARTED=%s\n' \
    "$url" "$murl" "$started"
}

cmd_stop() {
  if ! initialised; then
    info "No embedded cluster in $PGVAR."
    return 0
  fi
  if running; then
    info "Stopping embedded PostGIS"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 -s stop >&2
  else
    info "Embedded PostGIS is not running."
  fi
}

cmd_stop_immediate() {
  running || die "the embedded cluster is not running."
  info "Stopping embedded PostGIS immediately (crash recovery at the next start)"
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 60 -s stop >&2
}

cmd_status() {
  if ! initialised; then
    echo "not initialised ($PGVAR)"
    return 4
  fi
  local where=$PGVAR
  [ -L "$PGVAR" ] && where="$PGVAR -> $(readlink -f "$PGVAR")"
  if running; then
    local ready=no
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(running_port)" && ready=yes
    echo "running on 127.0.0.1:$(running_port) (pid $(postmaster_pid), accepting connections: $ready), data in $where"
  else
    echo "stopped, data in $where"
    return 3
  fi
}

cmd_psql() {
  running || die "the embedded cluster is not running: run 'scripts/pg.sh start' first."
  as_pg "$PG_BIN/psql" -X -h "$RUN" -p "$(running_port)" -U "$SUPERUSER" -d "$APP_DB" "$@"
}

cmd_reset() {
  if [ -e "$PGVAR" ] || [ -L "$PGVAR" ]; then
    if initialised && running; then cmd_stop; fi
    local real
    real=$(readlink -f "$PGVAR")
    info "Deleting the embedded cluster in $real"
    [ -L "$PGVAR" ] && rm -f "$PGVAR"
    rm -rf "$real"
  else
    info "No embedded cluster in $PGVAR."
  fi
  rm -f "$VAR_DIR/.pg.lock"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  stop-immediate) cmd_stop_immediate ;;
  status) cmd_status ;;
  url) app_url "${2:-}" ;;
  migrate-url) owner_url "${2:-}" ;;
  admin-url) owner_url ;;
  psql) shift; cmd_psql "$@" ;;
  reset) cmd_reset ;;
  *)
    echo "usage: scripts/pg.sh start|stop|stop-immediate|status|url [db]|migrate-url [db]|admin-url|psql [args]|reset" >&2
    exit 2 ;;
esac
