-- ferretdb-id-index.sql: make FerretDB 1.24's PostgreSQL backend find a
-- document by _id through an index.  Test-server tuning only; walcast does
-- not depend on it and a real MongoDB needs nothing of the kind.
--
-- Why: FerretDB stores each collection as a table with one jsonb column
-- "_jsonb" and creates a unique btree index on (_jsonb->'_id'), but it
-- pushes an {_id: v} filter down as  _jsonb->'_id' @> v , which a btree
-- cannot serve.  Every keyed find, update and delete therefore scans the
-- whole collection: the mirror's conditional writes fell from about 1,000
-- to 60 a second as a collection grew to 50k documents.  A GIN index on the
-- same expression serves @>; this event trigger adds one to every table
-- FerretDB creates in this database.
--
-- Run as a superuser (event triggers need one) in FerretDB's database.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION public.walcast_ferretdb_id_index()
RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
	obj record;
BEGIN
	FOR obj IN
		SELECT c.objid::regclass AS rel
		FROM pg_event_trigger_ddl_commands() c
		WHERE c.command_tag = 'CREATE TABLE' AND c.object_type = 'table'
	LOOP
		-- FerretDB's own metadata table has no _id expression worth indexing.
		IF EXISTS (SELECT 1 FROM pg_attribute
				   WHERE attrelid = obj.rel AND attname = '_jsonb' AND NOT attisdropped)
		   AND obj.rel::text NOT LIKE '%_ferretdb_database_metadata' THEN
			EXECUTE format('CREATE INDEX ON %s USING gin ((_jsonb -> ''_id''))', obj.rel);
		END IF;
	END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS walcast_ferretdb_id_index;
CREATE EVENT TRIGGER walcast_ferretdb_id_index ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE')
	EXECUTE FUNCTION public.walcast_ferretdb_id_index();
