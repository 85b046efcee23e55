#!/bin/sh
# Runs once at first start: the non-superuser replication role the agent uses
# (password from WALCAST_AGENT_PASSWORD) and replication access in pg_hba.conf.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
	-v agent_password="$WALCAST_AGENT_PASSWORD" -f /dev/stdin <<'SQL'
create role walcast_agent with login replication password :'agent_password';
grant select on all tables in schema public to walcast_agent;
alter default privileges in schema public grant select on tables to walcast_agent;
SQL
echo "host replication walcast_agent all scram-sha-256" >>"$PGDATA/pg_hba.conf"
