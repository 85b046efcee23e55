-- roles.sql: a non-superuser role for walcast-agent.
--
-- Usage (as a superuser, or a role with CREATEROLE), e.g.:
--   psql -d appdb -v agent_role=walcast_agent -f sql/roles.sql
--   psql -d appdb -c '\password walcast_agent'      -- set the password
-- or pass it from the environment without writing it anywhere:
--   psql -d appdb -v agent_role=walcast_agent -v agent_password="$PW" -f sql/roles.sql
-- and, for the initial load, SELECT on the tables of a schema:
--   psql -d appdb -v agent_role=walcast_agent -v load_schema=public -f sql/roles.sql
--
-- What the agent needs, and why:
--   LOGIN        it connects.
--   REPLICATION  a logical replication connection (replication=database),
--                CREATE_REPLICATION_SLOT and START_REPLICATION.  This is
--                the attribute managed services call rds_replication /
--                cloudsqlsuperuser / azure_pg_admin + REPLICATION.
--   CONNECT      on the database the slot belongs to (PUBLIC has it by
--                default; granted explicitly in case it was revoked).
-- Streaming needs no SELECT on application tables: logical decoding reads
-- the rows from WAL with the catalogs' historic snapshots, not through
-- SQL.  It reads pg_replication_slots (readable by everyone) to check its
-- slot, and with --plugin pgoutput the catalogue (pg_class, pg_type,
-- pg_publication_tables: readable by everyone) to render values.
--
-- The initial load (docs/snapshot.md) reads the tables with SQL:
--   SELECT       on every table the stream includes (with pgoutput: every
--                table its publications publish).  Pass -v load_schema=NAME
--                to grant SELECT on all tables of that schema now (tables
--                created later need their own GRANT, or ALTER DEFAULT
--                PRIVILEGES).  A table it may not read stops the load before
--                any row is sent, naming the table.
--   USAGE on schema walcast, when the walcast extension is installed: the
--                load calls walcast.snapshot_record() there (the extension
--                grants nothing itself; without the extension the agent
--                renders the rows from plain SELECTs, slower).  Granted
--                below when the extension is installed in this database.
--
-- With --plugin pgoutput and --create-publication, creating the
-- publication needs CREATE on the database and either a superuser (FOR ALL
-- TABLES) or the tables' owner (FOR TABLE); the agent names what is
-- missing.  Usually an administrator creates the publication once
-- instead (docs/managed-postgres.md).
--
-- pg_hba.conf: a logical replication connection is matched by the database
-- name like any other connection (the "replication" keyword is only for
-- physical replication), e.g.
--   host  appdb  walcast_agent  10.0.0.0/8  scram-sha-256
--
-- The server must also allow the plugin: wal_level = logical, free
-- max_replication_slots and max_wal_senders, and from 15.19/16.10/17.6 on
-- output_plugin_libraries listing walcast (its default lists pgoutput:
-- --plugin pgoutput needs no change there).

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

-- The initial load through the walcast extension.
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'walcast')
	AS walcast_extension \gset
\if :walcast_extension
GRANT USAGE ON SCHEMA walcast TO :"agent_role";
\endif

-- The initial load's SELECT, when asked for.
\if :{?load_schema}
GRANT SELECT ON ALL TABLES IN SCHEMA :"load_schema" TO :"agent_role";
\endif

-- Optional: let the same role read the lag views of sql/monitoring.sql
-- (pg_stat_replication's details for other roles' sessions).
GRANT pg_monitor TO :"agent_role";
