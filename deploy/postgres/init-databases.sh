#!/bin/sh
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/):
# one database per service, each owned by its own login role, so a service can reach only its
# own data (ARCHITECTURE.md, "Data ownership").
#
#   BILLING_DATABASES     names of the databases (and roles); default: the three services
#   BILLING_DB_PASSWORD   password of every service role (compose passes a dev placeholder)
set -eu

: "${BILLING_DB_PASSWORD:?set BILLING_DB_PASSWORD}"
databases="${BILLING_DATABASES:-identity online_billing enterprise_portal}"

for db in $databases; do
    echo "creating role and database $db"
    # psql variables (:"name" for identifiers, :'value' for literals) quote safely.
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
         -v db="$db" -v password="$BILLING_DB_PASSWORD" <<'SQL'
CREATE ROLE :"db" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"db";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
