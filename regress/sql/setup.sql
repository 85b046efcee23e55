-- Helpers shared by the walcast suite (runs first; the other files rely on it).
--
-- wc_records(slot, consume, options...) reads a slot and returns one row per
-- record: batched messages are split at their newlines, and every record is
-- cast to json, so output that is not valid JSON fails the test.
-- wc_get(slot, options...) consumes and masks what changes between runs
-- (xids, LSNs, timestamps); files that need those assert them as relations.

-- Commits must be flushed before the SQL functions decode up to them.
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on',
				   current_database());
END
$$;

CREATE FUNCTION wc_records(slot name, consume bool,
						   VARIADIC options text[] DEFAULT '{}')
RETURNS TABLE (msg bigint, rec json)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT c.n, r.rec::json
		 FROM %I($1, NULL, NULL, VARIADIC $2) WITH ORDINALITY AS c(lsn, xid, data, n),
			regexp_split_to_table(c.data, E''\n'') WITH ORDINALITY AS r(rec, k)
		 ORDER BY c.n, r.k',
		CASE WHEN consume THEN 'pg_logical_slot_get_changes'
			ELSE 'pg_logical_slot_peek_changes' END)
	USING slot, options;
END
$$;

CREATE FUNCTION wc_mask(rec text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(rec,
		'"(xid|subxid)":[0-9]+', '"\1":"?"', 'g'),
		'"(lsn|commit_lsn|end_lsn)":"[0-9A-F]{1,8}/[0-9A-F]{1,8}"', '"\1":"?"', 'g'),
		'"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"',
		'"ts":"?"', 'g')
$$;

CREATE FUNCTION wc_get(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT wc_mask(rec::text) FROM wc_records(slot, true, VARIADIC options)
$$;
