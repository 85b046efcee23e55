-- A large transaction is one record per change, whatever its size: seq runs
-- 0..n+1 without gaps, every record is valid JSON (wc_records casts each).
CREATE TABLE big (id int PRIMARY KEY, payload text, doc jsonb);
SELECT 'init' FROM pg_create_logical_replication_slot('large', 'walcast');

INSERT INTO big SELECT g, repeat(md5(g::text), 4), jsonb_build_object('g', g)
FROM generate_series(1, 50000) g;
UPDATE big SET payload = 'x' WHERE id % 2 = 0;
DELETE FROM big WHERE id > 40000;

SELECT rec->>'action' AS action, count(*) AS records,
	min((rec->>'seq')::int) AS min_seq, max((rec->>'seq')::int) AS max_seq,
	count(DISTINCT rec->>'xid') AS xids
FROM wc_records('large', true, 'include-xids', 'true')
GROUP BY 1 ORDER BY 1;

-- one transaction of 50,000 rows, checked for a gapless seq
INSERT INTO big SELECT g, 'y', NULL FROM generate_series(50001, 100000) g;
SELECT count(*) AS records,
	count(*) = max((rec->>'seq')::int) + 1 AS gapless,
	bool_and(rec->>'action' <> 'I' OR (rec->'new'->>'id')::int = (rec->>'seq')::int + 50000) AS in_order
FROM wc_records('large', true);

SELECT pg_drop_replication_slot('large');
DROP TABLE big;
