-- Partitioned tables: changes are reported for the leaf partition that
-- holds the row (that is where the WAL is), filters match leaf names, and
-- TRUNCATE of the parent lists every leaf.
CREATE TABLE meas (id int, at date, v int, PRIMARY KEY (id, at, v))
	PARTITION BY RANGE (at);
CREATE TABLE meas_2023 PARTITION OF meas
	FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE meas_2024 PARTITION OF meas
	FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (v);
CREATE TABLE meas_2024_a PARTITION OF meas_2024 FOR VALUES IN (1, 2);
CREATE TABLE meas_2024_b PARTITION OF meas_2024 DEFAULT;
SELECT 'init' FROM pg_create_logical_replication_slot('part', 'walcast');

INSERT INTO meas VALUES (1, '2023-05-01', 1), (2, '2024-05-01', 1), (3, '2024-05-01', 9);
-- an update that moves the row to another partition is a delete and an insert
UPDATE meas SET at = '2024-06-01' WHERE id = 1;
UPDATE meas SET v = 2 WHERE id = 2;
DELETE FROM meas WHERE id = 3;
TRUNCATE meas;
SELECT * FROM wc_get('part', 'include-transaction', 'false', 'include-xids', 'false',
	'include-lsn', 'false', 'include-timestamp', 'false', 'include-seq', 'false');

INSERT INTO meas VALUES (4, '2023-05-01', 1), (5, '2024-05-01', 1);
SELECT rec->>'table' AS leaf
FROM wc_records('part', true, 'add-tables', 'public.meas_2024*')
WHERE rec->>'action' = 'I';

SELECT pg_drop_replication_slot('part');
DROP TABLE meas;
