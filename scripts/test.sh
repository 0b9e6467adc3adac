#!/usr/bin/env bash
# shellcheck disable=SC2317  # the part_* functions and traps are called indirectly
# `make test`: every test suite against a real PostGIS.
#
#   scripts/test.sh [pytest] [vitest] [e2e]      (default: all three, in this order)
#
# Without DATABASE_URL the embedded cluster is started (and stopped at the end if this script
# started it); with DATABASE_URL that server is used, with two roles as in production (README,
# "Production notes"): DATABASE_URL is the app's DML-only role (a member of tonari_app) and
# TONARI_MIGRATE_DATABASE_URL the owner role, which needs CREATEDB and the template database
# `tonari_template` (with PostGIS), since the suites make throwaway databases on it and migrate
# them as the owner.
#
# Environment: PYTEST_ARGS (extra pytest arguments), E2E_ARGS (extra vitest arguments for the e2e run,
# word-split: e.g. a test file), TONARI_E2E_PORT (default 8765).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TONARI_ROOT"

parts=("$@")
[ "${#parts[@]}" -eq 0 ] && parts=(pytest vitest e2e)
for p in "${parts[@]}"; do
  case "$p" in pytest | vitest | e2e) ;; *) die "unknown test part '$p' (pytest, vitest, e2e)" ;; esac
done
has_part() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

E2E_PORT=${TONARI_E2E_PORT:-8765}
TEST_VAR=$VAR_DIR/test
export TONARI_VAR_DIR=$VAR_DIR
t_all=$SECONDS
pg_started=0

cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP # a second Ctrl-C must not leave the cluster half-stopped
  if [ "$pg_started" = 1 ]; then
    bash scripts/pg.sh stop || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'printf "\n" >&2; info "Interrupted."; exit 130' INT TERM HUP

# --- setup and database --------------------------------------------------------------------
if has_part e2e; then bash scripts/setup.sh --test; else bash scripts/setup.sh; fi
mkdir -p "$TEST_VAR"

if [ -n "${DATABASE_URL:-}" ]; then
  info "Testing against DATABASE_URL from the environment."
  [ -n "${TONARI_MIGRATE_DATABASE_URL:-}" ] \
    || die "with DATABASE_URL (the app's role) set, set TONARI_MIGRATE_DATABASE_URL too: the owner role, which may create databases (README, Production notes)."
  admin_url=$TONARI_MIGRATE_DATABASE_URL
  app_url=$DATABASE_URL
else
  bash scripts/pg.sh status >/dev/null 2>&1 || pg_started=1
  pg_env=$(bash scripts/pg.sh start)
  eval "$pg_env"
  pg_started=$TONARI_PG_STARTED
  admin_url=$(bash scripts/pg.sh admin-url)
  app_url=$(bash scripts/pg.sh url)
fi

# db_exec URL SQL: run one statement with asyncpg (from the venv).
db_exec() {
  "$PY" - "$1" "$2" <<'EOF'
import asyncio, sys
import asyncpg

async def main(url: str, sql: str) -> None:
    url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
EOF
}

# --- the parts ----------------------------------------------------------------------------
part_pytest() {
  local rc=0
  # shellcheck disable=SC2086
  TONARI_TEST_ADMIN_URL=$admin_url TONARI_TEST_APP_URL=$app_url "$VENV/bin/pytest" ${PYTEST_ARGS:-} </dev/null || rc=$?
  if [ "$rc" = 5 ]; then
    echo "pytest collected no tests: that is a failure." >&2
  fi
  return "$rc"
}

part_vitest() {
  (cd pwa && npm test --silent </dev/null)
}

# Throwaway database from the template, migrated (as the owner) and seeded; the server (as the
# app's role) on 127.0.0.1:8765; then the browser tests. The EXIT trap stops the server and drops
# the database even on failure.
part_e2e() {
  # Not `local`: e2e_cleanup runs from the subshell's EXIT trap, after this function returned.
  db=tonari_e2e_$$ base=http://127.0.0.1:$E2E_PORT server_pid='' created=0
  log=$TEST_VAR/e2e-server.log
  tmp=$(mktemp -d)
  url=$(url_with_db "$app_url" "$db")
  owner_url=$(url_with_db "$admin_url" "$db")
  e2e_cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$server_pid" ]; then stop_detached "$server_pid" 20; fi
    if [ "$created" = 1 ]; then
      db_exec "$admin_url" "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
        || { warn "could not drop database $db"; rc=1; }
    fi
    rm -rf "$tmp"
    exit "$rc"
  }
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM HUP

  port_in_use "$E2E_PORT" && die "port $E2E_PORT is in use; set TONARI_E2E_PORT to a free port."
  info "e2e: creating database $db from tonari_template"
  created=1
  db_exec "$admin_url" "CREATE DATABASE \"$db\" TEMPLATE tonari_template"
  export DATABASE_URL=$url TONARI_VAR_DIR=$tmp/var TONARI_PUBLIC_URL=$base
  info "e2e: migrate (as the owner) + seed"
  TONARI_MIGRATE_DATABASE_URL=$owner_url "$PY" -m server.cli migrate
  unset TONARI_MIGRATE_DATABASE_URL  # the server and the tests' own servers get the app's role only
  "$PY" -m server.cli seed --credentials "$tmp/credentials.json" >"$tmp/seed.log" 2>&1 \
    || { cat "$tmp/seed.log" >&2; die "e2e: seeding failed"; }
  info "e2e: starting the server on $base (log: ${log#"$TONARI_ROOT"/})"
  : >"$log"
  start_detached "$log" "$PY" -m server.cli serve --host 127.0.0.1 --port "$E2E_PORT"
  server_pid=$DETACHED_PID
  if ! wait_ready "$base/health/ready" "$server_pid" 90; then
    tail -n 40 "$log" >&2
    die "e2e: the server did not become ready at $base/health/ready"
  fi
  info "e2e: npm run test:e2e"
  rc=0
  # The resilience tests start (and kill) a server of their own on the same database: they need
  # what this one was started with. Their second port is E2E_AUX_PORT (default: this port + 10).
  (cd pwa && E2E_BASE_URL=$base E2E_CREDENTIALS=$tmp/credentials.json E2E_DATABASE_URL=$url E2E_PYTHON=$PY \
    E2E_PWA_DIST=${TONARI_PWA_DIST:-$TONARI_ROOT/pwa/dist} E2E_VAR_DIR=$TONARI_VAR_DIR \
    npm run test:e2e --silent -- ${E2E_ARGS:-} </dev/null) || rc=$?
  if [ "$rc" != 0 ]; then
    echo "--- last lines of the e2e server log ($log) ---" >&2
    tail -n 40 "$log" >&2
  fi
  return "$rc"
}

# --- run them all, then a summary -----------------------------------------------------------
summary=()
failed=0
for p in "${parts[@]}"; do
  info "Test part: $p"
  t0=$SECONDS
  set +e
  (set -e; "part_$p")
  rc=$?
  set -e
  dt=$((SECONDS - t0))
  if [ "$rc" = 0 ]; then
    summary+=("$(printf '  PASS  %-7s %4ss' "$p" "$dt")")
  else
    failed=1
    summary+=("$(printf '  FAIL  %-7s %4ss  (exit %s)' "$p" "$dt" "$rc")")
    info "Test part $p FAILED (exit $rc)"
  fi
done

{
  echo
  echo "==> Test summary ($((SECONDS - t_all)) s in all)"
  printf '%s\n' "${summary[@]}"
} >&2
exit "$failed"
