# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Helpers shared by scripts/*.sh. Source it; do not run it.
#
#   TONARI_ROOT  absolute path of the checkout (scripts/..)
#   VAR_DIR      generated data: $TONARI_VAR_DIR (relative to the checkout) or <checkout>/var
#   VENV         <checkout>/.venv
#   PY           the venv's python

TONARI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
case "${TONARI_VAR_DIR:-var}" in
  /*) VAR_DIR=${TONARI_VAR_DIR} ;;
  *) VAR_DIR=$TONARI_ROOT/${TONARI_VAR_DIR:-var} ;;
esac
VENV=$TONARI_ROOT/.venv
PY=$VENV/bin/python
PG_BIN=${TONARI_PG_BIN:-/usr/lib/postgresql/15/bin}

info() { printf '==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# --- system packages ---------------------------------------------------------------------
# ensure_system_packages postgis|psql|chromium|cjk-fonts|venv ...
# Installs what is missing with apt-get (root only, one `apt-get update`); when not root,
# stops with one line naming the exact command to run.
ensure_system_packages() {
  local want pkgs=() names=()
  for want in "$@"; do
    case "$want" in
      postgis)
        if [ ! -x "$PG_BIN/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
          pkgs+=(postgresql-15-postgis-3); names+=(PostGIS)
        fi ;;
      chromium)
        if ! command -v chromium >/dev/null 2>&1; then pkgs+=(chromium); names+=(Chromium); fi ;;
      cjk-fonts)
        # Japanese glyphs in the e2e screenshots (Debian's chromium has none): boxes otherwise.
        if [ ! -d /usr/share/fonts/opentype/noto ] || ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then
          pkgs+=(fonts-noto-cjk); names+=("Japanese fonts (Noto CJK)")
        fi ;;
      venv)
        command -v python3 >/dev/null 2>&1 \
          || die "Python 3.11 is missing: run 'sudo apt-get install -y python3 python3-venv' and try again."
        if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
          pkgs+=(python3-venv); names+=("Python venv support")
        fi ;;
      *) die "ensure_system_packages: unknown package '$want'" ;;
    esac
  done
  [ "${#pkgs[@]}" -eq 0 ] && return 0

  local what
  what=$(printf '%s and ' "${names[@]}"); what=${what% and }
  if ! is_root; then
    local verb=is; [ "${#names[@]}" -gt 1 ] && verb=are
    printf "%s %s missing: run 'sudo apt-get install -y %s' and try again.\n" \
      "$what" "$verb" "${pkgs[*]}" >&2
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 || die "$what missing and apt-get is not available: install ${pkgs[*]} by hand."
  info "Installing $what: apt-get install -y ${pkgs[*]}"
  if [ -z "${TONARI_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    export TONARI_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2
}

# --- network helpers ---------------------------------------------------------------------
# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# http_ok URL: true if GET URL answers 2xx (plain http to 127.0.0.1 only; pure bash, no curl).
http_ok() {
  local url=$1 hostport path host port line
  hostport=${url#http://}; path=/${hostport#*/}; hostport=${hostport%%/*}
  host=${hostport%:*}; port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=80
  (
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
    IFS= read -r -t 5 line <&3 || exit 1
    case "$line" in "HTTP/1."?" 2"*) exit 0 ;; *) exit 1 ;; esac
  ) 2>/dev/null
}

# wait_ready URL PID TIMEOUT: poll URL until 2xx; fail early if PID dies.
wait_ready() {
  local url=$1 pid=$2 timeout=$3 start=$SECONDS
  while ! http_ok "$url"; do
    kill -0 "$pid" 2>/dev/null || return 2
    [ $((SECONDS - start)) -ge "$timeout" ] && return 1
    sleep 0.2
  done
}

# start_detached LOGFILE CMD...: start CMD in its own session (so a terminal Ctrl-C reaches
# only us, and we decide how it stops). Sets DETACHED_PID. LOGFILE '-' keeps our stdout.
start_detached() {
  local log=$1; shift
  if [ "$log" = - ]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" </dev/null >>"$log" 2>&1 &
  fi
  DETACHED_PID=$!
}

# stop_detached PID [GRACE]: SIGTERM the process group, wait, then SIGKILL.
stop_detached() {
  local pid=$1 grace=${2:-20} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "process $pid did not stop within ${grace}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# url_with_db URL DBNAME: the same SQLAlchemy/libpq URL pointing at another database.
url_with_db() {
  python3 - "$1" "$2" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit
u = urlsplit(sys.argv[1])
print(urlunsplit(u._replace(path="/" + sys.argv[2])))
EOF
}
