#!/usr/bin/env bash
# `make run`: set up, start the embedded PostGIS (unless DATABASE_URL is set), migrate, seed the
# demo, and serve on http://127.0.0.1:8000 in the foreground. Ctrl-C stops the server and the
# database cluster this script started.
#
# Environment: DATABASE_URL (use that server, start no cluster; the app's DML-only role) and
# TONARI_MIGRATE_DATABASE_URL (the owner role that runs the migrations; README, "Production
# notes"), TONARI_PG_PORT (cluster port, default 54329), TONARI_HOST / TONARI_PORT (bind address,
# default 127.0.0.1:8000).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TONARI_ROOT"

t_start=$SECONDS
HOST=${TONARI_HOST:-127.0.0.1}
PORT=${TONARI_PORT:-8000}
BASE_URL="http://$HOST:$PORT"
[ "$HOST" = 0.0.0.0 ] && BASE_URL="http://127.0.0.1:$PORT"
export TONARI_VAR_DIR=$VAR_DIR
export TONARI_PUBLIC_URL=${TONARI_PUBLIC_URL:-$BASE_URL}
CREDENTIALS=${VAR_DIR#"$TONARI_ROOT"/}/demo-credentials.json  # relative when under the checkout (cwd)

server_pid=
pwa_pid=
pg_pid=
pg_started=0
seed_out=

cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP # a second Ctrl-C must not leave the cluster half-stopped
  if [ -n "$server_pid" ]; then
    stop_detached "$server_pid" 20
    server_pid=
  fi
  if [ -n "$pwa_pid" ]; then
    stop_detached "$pwa_pid" 5
    pwa_pid=
  fi
  if [ -n "$pg_pid" ]; then
    wait "$pg_pid" 2>/dev/null || true # a cluster still starting: let it, then stop it
  fi
  if [ "$pg_started" = 1 ]; then
    bash scripts/pg.sh stop || rc=1
  fi
  [ -n "$seed_out" ] && rm -f "$seed_out"
  exit "$rc"
}
# Ctrl-C / SIGTERM: a clean stop is a normal end (exit 0, so make prints no "Error 130").
on_signal() {
  printf '\n' >&2
  info "Stopping…"
  exit 0
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# The PWA (npm ci, build) is set up in the background while Python, the database, the
# migrations and the seed go ahead; the server starts once both are done.
bash scripts/setup.sh --run --only system
pwa_log=$VAR_DIR/setup-pwa.log
: >"$pwa_log"
rm -f "$VAR_DIR/.setup-pwa.seconds"
start_detached "$pwa_log" bash -c 'start=$SECONDS; bash scripts/setup.sh --run --only pwa && echo "$((SECONDS - start))" >"$0"' "$VAR_DIR/.setup-pwa.seconds"
pwa_pid=$DETACHED_PID
# The embedded cluster starts (initdb the first time) while pip runs: it needs no Python.
if [ -z "${DATABASE_URL:-}" ]; then
  # Stop it on the way out only if it was not already running (someone else's, e.g. make test).
  bash scripts/pg.sh status >/dev/null 2>&1 || pg_started=1
  pg_env_file=$VAR_DIR/.pg-start.env
  rm -f "$pg_env_file"
  bash scripts/pg.sh start >"$pg_env_file" &
  pg_pid=$!
fi
bash scripts/setup.sh --run --only python

if [ -n "${DATABASE_URL:-}" ]; then
  info "Using DATABASE_URL from the environment (no embedded cluster)."
  [ -n "${TONARI_MIGRATE_DATABASE_URL:-}" ] \
    || warn "TONARI_MIGRATE_DATABASE_URL is not set: migrating as the app's role, which then owns its tables (README, Production notes)."
else
  wait "$pg_pid" || { pg_pid=; die "starting the embedded PostGIS failed (log: var/pg/log/postgresql.log)"; }
  pg_pid=
  eval "$(cat "$pg_env_file")"
  rm -f "$pg_env_file"
  pg_started=$TONARI_PG_STARTED
  export DATABASE_URL
fi

if port_in_use "$PORT"; then
  die "port $PORT is already in use: stop the other program, or run e.g. TONARI_PORT=8001 make run"
fi

info "Migrating the database (as the owner role)"
"$PY" -m server.cli migrate
owner_url=${TONARI_MIGRATE_DATABASE_URL:-}
unset TONARI_MIGRATE_DATABASE_URL  # from here on only the app's role: seeding and serving

info "Seeding demo data (idempotent)"
seed_out=$(mktemp)
if ! "$PY" -m server.cli seed --credentials "$CREDENTIALS" >"$seed_out" 2>&1; then
  cat "$seed_out" >&2
  die "seeding failed"
fi
# The seed loads thousands of rows: plan the first screens with statistics that know it (as the owner).
TONARI_MIGRATE_DATABASE_URL=$owner_url "$PY" -m server.cli analyze

if kill -0 "$pwa_pid" 2>/dev/null; then
  info "Waiting for the PWA build (in the background since the start)"
fi
if ! wait "$pwa_pid"; then
  pwa_pid=
  cat "$pwa_log" >&2
  die "setting up the PWA failed (log: $pwa_log)"
fi
pwa_pid=
[ -s "$VAR_DIR/.setup-pwa.seconds" ] && note "PWA set up in $(cat "$VAR_DIR/.setup-pwa.seconds") s (npm ci and build where needed), beside the rest"

info "Starting the server"
start_detached - "$PY" -m server.cli serve --host "$HOST" --port "$PORT"
server_pid=$DETACHED_PID

if wait_ready "$BASE_URL/health/ready" "$server_pid" 90; then
  :
else
  rc=$?
  if [ "$rc" = 2 ]; then
    wait "$server_pid" && srv_rc=0 || srv_rc=$?
    server_pid=
    die "the server exited (status $srv_rc) before it was ready"
  fi
  die "the server did not answer $BASE_URL/health/ready within 90 s"
fi

{
  echo
  echo "--------------------------------------------------------------"
  cat "$seed_out"
  echo
  echo "  Tonari is ready: $BASE_URL   (started in $((SECONDS - t_start)) s)"
  echo "  Ctrl-C stops the server and the database."
  echo "--------------------------------------------------------------"
  echo
} >&2
rm -f "$seed_out"
seed_out=

# Wait for the server; a trapped signal interrupts `wait`, the trap then cleans up.
set +e
wait "$server_pid"
rc=$?
set -e
server_pid=
if [ "$rc" -ne 0 ]; then
  die "the server stopped unexpectedly (status $rc)"
fi
