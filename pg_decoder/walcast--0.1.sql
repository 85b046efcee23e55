/* walcast--0.1.sql: the walcast extension (docs/snapshot.md) */

\echo Use "CREATE EXTENSION walcast" to load this file. \quit

-- One existing row as a walcast record of action "L", rendered by the
-- output plugin's own code with the plugin's options ('name=value' or
-- 'name' items, as -o takes them).  lsn, when given, becomes the record's
-- "lsn" (the snapshot's consistent point).
CREATE FUNCTION snapshot_record(rel regclass, r record,
								options text[] DEFAULT '{}',
								lsn pg_lsn DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'walcast_snapshot_record'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

-- Whether the stream decoded with these options writes rel's changes
-- (the plugin's add-tables / filter-tables rule).
CREATE FUNCTION table_included(rel regclass, options text[] DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'walcast_table_included'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The tables a snapshot reads, in a stable order (schema, table, byte
-- order): permanent ordinary tables (leaf partitions included, partitioned
-- parents not: changes name the leaf) outside the system schemas that the
-- stream's table filters include.  key_columns: the primary key, else the
-- replica identity index, in index order (NULL when neither exists);
-- estimated_rows from pg_class.reltuples (0 when never analyzed);
-- readable: whether the current role may SELECT the table.
CREATE FUNCTION snapshot_tables(options text[] DEFAULT '{}')
RETURNS TABLE (rel regclass, schema_name name, table_name name,
			   key_columns name[], estimated_rows bigint, readable boolean)
LANGUAGE sql STABLE AS $$
	SELECT c.oid::regclass, n.nspname, c.relname,
		(SELECT array_agg(a.attname ORDER BY k.ord)
		 FROM unnest((SELECT i.indkey::int2[] FROM pg_catalog.pg_index i
					  WHERE i.indrelid = c.oid
						AND (i.indisprimary OR i.indisreplident)
					  ORDER BY i.indisprimary DESC LIMIT 1))
			WITH ORDINALITY AS k(attnum, ord)
		 JOIN pg_catalog.pg_attribute a
			ON a.attrelid = c.oid AND a.attnum = k.attnum),
		greatest(c.reltuples, 0)::bigint,
		pg_catalog.has_table_privilege(c.oid, 'SELECT')
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'r' AND c.relpersistence = 'p'
		AND n.nspname <> 'information_schema'
		AND n.nspname !~ '^pg_'
		AND @extschema@.table_included(c.oid, coalesce(options, '{}'))
	ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
$$;
