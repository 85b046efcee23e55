-- roles.sql: a non-superuser role for walcast-agent.
--
-- Usage (as a superuser, or a role with CREATEROLE), e.g.:
--   psql -d appdb -v agent_role=walcast_agent -f sql/roles.sql
--   psql -d appdb -c '\password walcast_agent'      -- set the password
-- or pass it from the environment without writing it anywhere:
--   psql -d appdb -v agent_role=walcast_agent -v agent_password="$PW" -f sql/roles.sql
--
-- What the agent needs, and why:
--   LOGIN        it connects.
--   REPLICATION  a logical replication connection (replication=database),
--                CREATE_REPLICATION_SLOT and START_REPLICATION.  This is
--                the attribute managed services call rds_replication /
--                cloudsqlsuperuser / azure_pg_admin + REPLICATION.
--   CONNECT      on the database the slot belongs to (PUBLIC has it by
--                default; granted explicitly in case it was revoked).
-- It needs no SELECT on application tables: logical decoding reads the
-- rows from WAL with the catalogs' historic snapshots, not through SQL.
-- It reads pg_replication_slots (readable by everyone) to check its slot.
--
-- pg_hba.conf: a logical replication connection is matched by the database
-- name like any other connection (the "replication" keyword is only for
-- physical replication), e.g.
--   host  appdb  walcast_agent  10.0.0.0/8  scram-sha-256
--
-- The server must also allow the plugin: wal_level = logical, free
-- max_replication_slots and max_wal_senders, and from 15.19/16.10/17.6 on
-- output_plugin_libraries listing walcast.

\set ON_ERROR_STOP on

\if :{?agent_role}
\else
\set agent_role walcast_agent
\endif

SELECT current_database() AS agent_db \gset

-- Look first, then act: rerunning the script only re-grants.
SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'agent_role')
	AS agent_role_missing \gset
\if :agent_role_missing
CREATE ROLE :"agent_role" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE;
\else
ALTER ROLE :"agent_role" WITH LOGIN REPLICATION;
\endif

\if :{?agent_password}
ALTER ROLE :"agent_role" PASSWORD :'agent_password';
\endif

GRANT CONNECT ON DATABASE :"agent_db" TO :"agent_role";

-- Optional: let the same role read the lag views of sql/monitoring.sql
-- (pg_stat_replication's details for other roles' sessions).
GRANT pg_monitor TO :"agent_role";
