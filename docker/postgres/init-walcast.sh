#!/bin/sh
# Runs once at first start: the non-superuser REPLICATION role the agent uses
# (sql/roles.sql), with its password taken from WALCAST_AGENT_PASSWORD.  The
# image's pg_hba.conf already admits password logins from other hosts for
# all databases, which is what a logical replication connection matches.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
	-v agent_role=walcast_agent -v agent_password="$WALCAST_AGENT_PASSWORD" \
	-f /usr/local/share/walcast/roles.sql
