-- batch-bytes=N: several records per message, joined by newlines; a record
-- is never split, a message exceeds N only when one record alone does, and
-- a message holds records of one transaction (the SQL functions end a
-- batch with its transaction even with batch-across-transactions).
CREATE TABLE bat (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('batch', 'walcast');

INSERT INTO bat SELECT g, 'v' || g FROM generate_series(1, 200) g;
INSERT INTO bat VALUES (201, repeat('L', 3000));
BEGIN;
INSERT INTO bat VALUES (202, 'a');
SELECT 'm' FROM pg_logical_emit_message(false, 'nt', 'alone');
INSERT INTO bat VALUES (203, 'b');
COMMIT;
UPDATE bat SET v = 'u' WHERE id <= 3;
DELETE FROM bat WHERE id = 5;

CREATE FUNCTION bat_check(VARIADIC options text[]) RETURNS TABLE (
	messages bigint, records bigint, multi_record_messages bigint,
	within_limit bool, mixed_transactions bigint, same_records bool)
LANGUAGE sql AS $$
	WITH m AS (
		SELECT n, data, octet_length(data) AS len,
			array_length(string_to_array(data, E'\n'), 1) AS nrec
		FROM pg_logical_slot_peek_changes('batch', NULL, NULL, VARIADIC options)
			WITH ORDINALITY AS c(lsn, xid, data, n)
	), r AS (
		SELECT m.n, x.rec::json AS rec, x.k
		FROM m, regexp_split_to_table(m.data, E'\n') WITH ORDINALITY AS x(rec, k)
	)
	SELECT (SELECT count(*) FROM m), (SELECT sum(nrec) FROM m),
		(SELECT count(*) FROM m WHERE nrec > 1),
		(SELECT bool_and(len <= options[array_position(options, 'batch-bytes') + 1]::int
						 OR nrec = 1) FROM m),
		(SELECT count(*) FROM (SELECT n FROM r GROUP BY n
		 HAVING count(DISTINCT coalesce(rec->>'xid', 'none')) > 1) t),
		(SELECT array_agg(rec::text ORDER BY n, k) FROM r) =
		(SELECT array_agg(data ORDER BY n) FROM pg_logical_slot_peek_changes('batch', NULL, NULL)
			WITH ORDINALITY AS c(lsn, xid, data, n))
$$;
-- With 1000 bytes the count depends on the records' lengths, and so on how
-- many digits the xids and LSNs have: assert a range, not a number.
SELECT messages BETWEEN 30 AND 70 AS messages_in_range, records,
	multi_record_messages > 25 AS mostly_batched, within_limit,
	mixed_transactions, same_records
FROM bat_check('batch-bytes', '1000');
SELECT * FROM bat_check('batch-bytes', '100');
SELECT * FROM bat_check('batch-bytes', '65536');
SELECT * FROM bat_check('batch-bytes', '65536', 'batch-across-transactions', 'true');
-- the long record (over 3000 bytes) travels alone with a smaller limit
SELECT count(*) AS alone FROM pg_logical_slot_peek_changes('batch', NULL, NULL,
	'batch-bytes', '1000') WHERE data LIKE '%LLLL%' AND data NOT LIKE E'%\n%';
-- what a batched message looks like
SELECT wc_mask(data) FROM pg_logical_slot_peek_changes('batch', NULL, NULL,
	'batch-bytes', '65536', 'add-tables', 'nosuch.*', 'include-lsn', 'false');
SELECT wc_mask(data) FROM pg_logical_slot_peek_changes('batch', NULL, NULL,
	'batch-bytes', '300', 'include-lsn', 'false', 'include-xids', 'false',
	'include-timestamp', 'false')
	WITH ORDINALITY AS c(lsn, xid, data, n) WHERE data LIKE '%"u"%' ORDER BY n;

SELECT count(*) > 0 FROM pg_logical_slot_get_changes('batch', NULL, NULL);
SELECT pg_drop_replication_slot('batch');
DROP FUNCTION bat_check(text[]);
DROP TABLE bat;
