#!/bin/sh
# Runs once when the postgres volume is created. The superuser from
# POSTGRES_USER stays for administration. Three roles, none of them superuser:
# - thetavue_owner owns the database and its tables; only `migrate` (the
#   compose "migrate" service, DATABASE_OWNER_URL) connects as it;
# - thetavue, the application role (web, worker, beat): no BYPASSRLS, owns
#   nothing, gets only the DML grants `migrate` gives it, so Row Level
#   Security holds for it and it cannot switch it off;
# - thetavue_maintenance (BYPASSRLS, the owner's privileges) serves backup and
#   restore only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE thetavue_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${OWNER_DB_PASSWORD}';
CREATE ROLE thetavue LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${APP_DB_PASSWORD}';
CREATE ROLE thetavue_maintenance LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${MAINTENANCE_DB_PASSWORD}';
GRANT thetavue_owner TO thetavue_maintenance;
CREATE DATABASE thetavue OWNER thetavue_owner;
\connect thetavue
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO thetavue;
ALTER SCHEMA public OWNER TO thetavue_owner;
SQL
