#!/usr/bin/env bash
# Runs once, on the first start of the `db` container (docker-entrypoint-initdb.d), after the
# image's 10_postgis.sh. Creates the app role `tonari` (NOT a superuser: superusers bypass
# row-level security) with CREATEDB, makes it the owner of $POSTGRES_DB, and creates the
# PostGIS template database `tonari_template` that the test suite clones.
# The entrypoint may source this file, so it sets no shell options and does not exit.

psql -v ON_ERROR_STOP=1 -v pw="${TONARI_DB_PASSWORD:-tonari}" -v appdb="${POSTGRES_DB:-tonari}" \
  --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
SELECT 'CREATE ROLE tonari LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tonari') \gexec
ALTER ROLE tonari WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'pw';
ALTER DATABASE :"appdb" OWNER TO tonari;
SELECT 'CREATE DATABASE tonari_template OWNER tonari' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tonari_template') \gexec
\c tonari_template
CREATE EXTENSION IF NOT EXISTS postgis;
-- Lets the bounding-box operator && use the GiST index under row-level security (docs/decisions/0005).
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
\c postgres
ALTER DATABASE tonari_template IS_TEMPLATE true;
\c :appdb
CREATE EXTENSION IF NOT EXISTS postgis;
-- Lets the bounding-box operator && use the GiST index under row-level security (docs/decisions/0005).
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
SQL
