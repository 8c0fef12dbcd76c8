#!/bin/sh
# Runs once when the postgres volume is created. The superuser from
# POSTGRES_USER stays for administration; the application connects as a role
# that is neither superuser nor BYPASSRLS, so Row Level Security holds for it.
# A separate maintenance role with BYPASSRLS serves backup/restore/migrations only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE thetavue LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD '${APP_DB_PASSWORD}';
CREATE ROLE thetavue_maintenance LOGIN NOSUPERUSER BYPASSRLS PASSWORD '${MAINTENANCE_DB_PASSWORD}';
CREATE DATABASE thetavue OWNER thetavue;
SQL
