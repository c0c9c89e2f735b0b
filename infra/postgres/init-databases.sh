#!/bin/sh
# Runs once, when the postgres container initialises an empty data volume
# (/docker-entrypoint-initdb.d). Creates two owners that cannot read each other's data:
#   temporal -> databases temporal and temporal_visibility (Temporal's persistence)
#   dunning  -> database dunning (the ledger)
# Passwords come from the container's environment (infra/.env); psql variables keep them
# out of the SQL text, so any character is safe here.
set -eu

: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD in infra/.env}"
: "${LEDGER_DB_PASSWORD:?set LEDGER_DB_PASSWORD in infra/.env}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" \
    -v ledger_password="$LEDGER_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

CREATE ROLE dunning LOGIN PASSWORD :'ledger_password';
CREATE DATABASE dunning OWNER dunning;

REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
REVOKE ALL ON DATABASE dunning FROM PUBLIC;
SQL
