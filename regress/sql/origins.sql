-- Origin filtering: changes replayed under a replication origin (as a
-- subscriber or a replicating agent applies them) are skipped by
-- only-local, or by name with filter-origins.
CREATE TABLE org (id int PRIMARY KEY, src text);
SELECT 'init' FROM pg_create_logical_replication_slot('org', 'walcast');
SELECT pg_replication_origin_create('node_a') > 0 AS created;
SELECT pg_replication_origin_create('node,b') > 0 AS created;

INSERT INTO org VALUES (1, 'local');
SELECT pg_replication_origin_session_setup('node_a');
INSERT INTO org VALUES (2, 'node_a');
SELECT 'm' FROM pg_logical_emit_message(true, 'p', 'from node_a');
SELECT pg_replication_origin_session_reset();
SELECT pg_replication_origin_session_setup('node,b');
INSERT INTO org VALUES (3, 'node,b');
SELECT pg_replication_origin_session_reset();
INSERT INTO org VALUES (4, 'local');

CREATE FUNCTION org_seen(VARIADIC options text[]) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(coalesce(rec->'new'->>'src', rec->>'content'), ', ' ORDER BY msg)
	FROM wc_records('org', false, VARIADIC options)
	WHERE rec->>'action' IN ('I', 'M')
$$;
SELECT org_seen('only-local', 'false');
SELECT org_seen('only-local', 'true');
SELECT org_seen('filter-origins', 'node_a');
SELECT org_seen('filter-origins', 'node\,b,node_a');
SELECT org_seen('filter-origins', 'no_such_origin');
-- only-local with include-empty-xacts: the three replayed transactions
-- stay silent, not even an empty B/C pair
SELECT (SELECT count(*) FROM wc_records('org', false, 'include-empty-xacts', 'true')
		WHERE rec->>'action' = 'B') -
	(SELECT count(*) FROM wc_records('org', false, 'only-local', 'true',
		'include-empty-xacts', 'true') WHERE rec->>'action' = 'B') AS silent;

SELECT count(*) > 0 FROM wc_records('org', true);
SELECT pg_drop_replication_slot('org');
SELECT pg_replication_origin_drop('node_a');
SELECT pg_replication_origin_drop('node,b');
DROP FUNCTION org_seen(text[]);
DROP TABLE org;
