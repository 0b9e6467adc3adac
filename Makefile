# Tonari — the two commands: `make run` and `make test`. The work is done by scripts/*.sh.
# Each recipe execs its script, so Ctrl-C goes to a script that traps it and cleans up.

.DEFAULT_GOAL := help
.PHONY: help run test test-lint test-py test-pwa test-e2e setup reset db-start db-stop db-status db-psql db-url

help: ## list the targets
	@echo "Tonari — make targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Without DATABASE_URL an embedded PostGIS cluster runs from var/pg (port TONARI_PG_PORT, default 54329)."
	@echo "With DATABASE_URL=postgresql+asyncpg://user:pw@host:port/db (the app's DML-only role) that server is used"
	@echo "instead; TONARI_MIGRATE_DATABASE_URL names its owner role for migrations (README, Production notes)."

run: ## set up, start PostGIS, migrate, seed the demo, serve http://127.0.0.1:8000 (Ctrl-C stops all)
	@exec bash scripts/run.sh

test: ## all tests: lint, pytest, Vitest units, browser end-to-end (real PostGIS)
	@exec bash scripts/test.sh

test-lint: ## only the code checks: ruff (lint + format), mypy, import contracts, the PWA's tsc
	@exec bash scripts/test.sh lint

test-py: ## only pytest
	@exec bash scripts/test.sh pytest

test-pwa: ## only the PWA's Vitest unit tests
	@exec bash scripts/test.sh vitest

test-e2e: ## only the end-to-end browser tests
	@exec bash scripts/test.sh e2e

setup: ## install what run/test need (apt when root, .venv, npm ci, PWA build)
	@exec bash scripts/setup.sh --test

reset: ## delete the local database cluster and generated data in var/
	@exec bash scripts/reset.sh

db-start: ## start the embedded PostGIS cluster (prints DATABASE_URL exports)
	@exec bash scripts/pg.sh start

db-stop: ## stop the embedded PostGIS cluster
	@exec bash scripts/pg.sh stop

db-status: ## show whether the embedded cluster is running
	@bash scripts/pg.sh status || true

db-psql: ## psql into the embedded cluster as superuser
	@exec bash scripts/pg.sh psql

db-url: ## print the app's DATABASE_URL for the embedded cluster (the owner's: scripts/pg.sh migrate-url)
	@exec bash scripts/pg.sh url
