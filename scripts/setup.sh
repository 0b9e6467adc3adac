#!/usr/bin/env bash
# Shared setup for `make run` and `make test`; every step is skipped when already done.
#
#   scripts/setup.sh [--test] [--run] [--only system|python|pwa]
#
# 1. system packages (apt-get, only when missing and only as root): PostGIS 15 when no
#    DATABASE_URL is given, python3-venv if needed, and with --test Chromium and Japanese fonts
# 2. .venv + `pip install -e '.[dev]'` (again only when pyproject.toml changed); with --run only
#    what the app needs, `pip install -e .` (`make run`: the dev tools are a third of the install)
# 3. pwa: `npm ci` (again only when package-lock.json changed), `npm run build` (again only
#    when a file under pwa/ other than tests, e2e/ and coverage, or vocab/vocabulary.json, is newer
#    than the last build)
# --only runs one part: `make run` sets up the PWA in the background while Python, the database
# and the seed go ahead (scripts/run.sh). Each part has its own lock, so parts run side by side
# and the same part never twice at once.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_test=0
want_dev=1
only=
while [ $# -gt 0 ]; do
  case "$1" in
    --test) want_test=1 ;;
    --run) want_dev=0 ;;
    --only)
      [ $# -ge 2 ] || die "usage: scripts/setup.sh [--test] [--run] [--only system|python|pwa]"
      only=$2; shift ;;
    *) die "usage: scripts/setup.sh [--test] [--run] [--only system|python|pwa]" ;;
  esac
  shift
done
case "$only" in '' | system | python | pwa) ;; *) die "--only takes system, python or pwa" ;; esac
part() { [ -z "$only" ] || [ "$only" = "$1" ]; }

cd "$TONARI_ROOT"
mkdir -p "$VAR_DIR"
# One setup of each part at a time (make run and make test may start together).
lock() {
  exec 8>>"$VAR_DIR/.setup-$1.lock"
  flock 8
}

# --- 1. system packages --------------------------------------------------------------------
if part system; then
lock system
pkgs=(venv)
[ -z "${DATABASE_URL:-}" ] && pkgs+=(postgis)
[ "$want_test" = 1 ] && pkgs+=(chromium cjk-fonts)
ensure_system_packages "${pkgs[@]}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  die "Node.js (>= 20.19) and npm are missing: install Node.js 20 LTS from https://nodejs.org and try again."
fi
node_version=$(node -p 'process.versions.node')
IFS=. read -r node_major node_minor _ <<<"$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  die "Node.js $node_version is too old: the PWA build (Vite 8) needs Node.js >= 20.19."
fi
fi

sha() { sha256sum "$1" | cut -c1-64; }

# --- 2. Python -----------------------------------------------------------------------------
if part python; then
lock python
if [ ! -x "$PY" ] || ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  info "Creating the Python virtualenv in .venv"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
fi
# The stamp: pyproject.toml's hash and what was installed ("dev" includes what "run" needs).
py_stamp=$VENV/.tonari-pyproject.sha256
read -r stamp_sha stamp_extras <"$py_stamp" 2>/dev/null || true
want_extras=run
[ "$want_dev" = 1 ] && want_extras=dev
if [ "${stamp_sha:-}" != "$(sha pyproject.toml)" ] || { [ "$want_extras" = dev ] && [ "${stamp_extras:-dev}" != dev ]; }; then
  target=.
  [ "$want_extras" = dev ] && target='.[dev]'
  info "Installing Python dependencies: pip install -e '$target' (first time takes a minute)"
  rm -f "$py_stamp"
  "$VENV/bin/pip" install --disable-pip-version-check -q -e "$target" >&2
  printf '%s %s\n' "$(sha pyproject.toml)" "$want_extras" >"$py_stamp"
fi
fi

# --- 3. PWA --------------------------------------------------------------------------------
part pwa || exit 0
lock pwa
if [ ! -f pwa/package.json ]; then
  warn "pwa/package.json not found: skipping the PWA."
  exit 0
fi
npm_stamp=pwa/node_modules/.tonari-lock.sha256
if [ ! -d pwa/node_modules ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$(sha pwa/package-lock.json)" ]; then
  info "Installing PWA dependencies: npm ci"
  (cd pwa && npm ci --no-audit --no-fund --loglevel=error) >&2
  mkdir -p pwa/node_modules
  sha pwa/package-lock.json >"$npm_stamp"
fi

build_stamp=pwa/node_modules/.tonari-build.stamp
need_build=0
if [ ! -f pwa/dist/index.html ] || [ ! -f "$build_stamp" ]; then
  need_build=1
elif [ -n "$(find pwa vocab/vocabulary.json \( -path pwa/node_modules -o -path pwa/dist -o -path pwa/e2e -o -path pwa/dev-dist -o -name coverage \) -prune \
    -o -type f ! -name '*.test.*' ! -name '*.tsbuildinfo' -newer "$build_stamp" -print -quit)" ]; then
  need_build=1
fi
if [ "$need_build" = 1 ]; then
  info "Building the PWA: npm run build"
  # Stamp the start time: a file edited during the build triggers the next rebuild.
  touch "$build_stamp.new"
  (cd pwa && npm run build --silent) >&2
  mv "$build_stamp.new" "$build_stamp"
fi
