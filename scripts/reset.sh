#!/usr/bin/env bash
# `make reset`: stop and delete the embedded cluster and everything generated under var/
# (demo credentials, secret key, test logs). .venv, pwa/node_modules and pwa/dist are kept.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TONARI_ROOT"

info "Resetting: deleting the local database cluster and the generated data in ${VAR_DIR#"$TONARI_ROOT"/}/"
bash scripts/pg.sh reset
if [ -e "$VAR_DIR" ]; then
  rm -rf "$VAR_DIR"
  info "Deleted $VAR_DIR. The next 'make run' creates a fresh cluster and demo data."
fi
