#!/usr/bin/env bash
# Runs once, on the first start of the `db` container (docker-entrypoint-initdb.d), after the
# image's 10_postgis.sh. Creates the two roles Tonari runs with (README, "Production notes"):
#   tonari_owner  owns $POSTGRES_DB and every table in it, runs the migrations; CREATEDB so the
#                 test suite can make throwaway databases from `tonari_template`
#   tonari        the app's login: a member of the NOLOGIN group `tonari_app`, to which the
#                 migrations grant DML only. NOT a superuser (superusers bypass row-level security)
# and the PostGIS template database `tonari_template` that the test suite clones.
# The entrypoint may source this file, so it sets no shell options and does not exit.

psql -v ON_ERROR_STOP=1 -v pw="${TONARI_DB_PASSWORD:-tonari}" -v owner_pw="${TONARI_OWNER_PASSWORD:-tonari_owner}" \
  -v appdb="${POSTGRES_DB:-tonari}" --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
SELECT 'CREATE ROLE tonari_app NOLOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tonari_app') \gexec
ALTER ROLE tonari_app WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE ROLE tonari_owner LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tonari_owner') \gexec
ALTER ROLE tonari_owner WITH LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_pw';
SELECT 'CREATE ROLE tonari LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tonari') \gexec
ALTER ROLE tonari WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'pw';
GRANT tonari_app TO tonari;
ALTER DATABASE :"appdb" OWNER TO tonari_owner;
SELECT 'CREATE DATABASE tonari_template OWNER tonari_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tonari_template') \gexec
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
