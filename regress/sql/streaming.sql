-- stream-changes=true: a transaction larger than logical_decoding_work_mem
-- is emitted while in progress, in blocks S..E, and ends with X (commit) or
-- A (abort); A with subxid discards the changes carrying that subxid.
-- Streamed changes carry xid and seq but no commit_lsn/ts (not known yet).
SET logical_decoding_work_mem = '64kB';
CREATE TABLE stm (id int, payload text);
SELECT 'init' FROM pg_create_logical_replication_slot('stream', 'walcast');

BEGIN;
INSERT INTO stm SELECT g, repeat('p', 50) FROM generate_series(1, 3000) g;
SAVEPOINT s1;
INSERT INTO stm SELECT g, repeat('q', 50) FROM generate_series(3001, 4000) g;
ROLLBACK TO s1;
INSERT INTO stm SELECT g, 'r' FROM generate_series(4001, 4010) g;
COMMIT;
CREATE TEMP TABLE got AS SELECT msg, rec FROM wc_records('stream', false, 'stream-changes', 'true');
-- framing: S first, X last, S/E alternate, blocks never empty
SELECT (SELECT rec->>'action' FROM got ORDER BY msg LIMIT 1) AS first,
	(SELECT rec->>'action' FROM got ORDER BY msg DESC LIMIT 1) AS last,
	(SELECT count(*) FROM got WHERE rec->>'action' = 'S') =
	(SELECT count(*) FROM got WHERE rec->>'action' = 'E') AS balanced,
	(SELECT count(*) FROM got WHERE rec->>'action' = 'S') > 1 AS several_blocks,
	(SELECT string_agg(rec->>'action', '' ORDER BY msg) FROM got
	 WHERE rec->>'action' IN ('S', 'E')) ~ '^(SE)+$' AS alternating,
	(SELECT count(*) FROM got a JOIN got b ON b.msg = a.msg + 1
	 WHERE a.rec->>'action' = 'S' AND b.rec->>'action' = 'E') AS empty_blocks;
-- the subtransaction's abort: one A with its subxid
SELECT count(*) AS aborts, bool_and(rec->>'subxid' IS NOT NULL) AS with_subxid,
	bool_and(rec->>'xid' <> rec->>'subxid') AS distinct_xid
FROM got WHERE rec->>'action' = 'A';
-- what survives: all changes minus those of the aborted subxid
SELECT count(*) FILTER (WHERE rec->>'subxid' IS DISTINCT FROM
		(SELECT rec->>'subxid' FROM got WHERE rec->>'action' = 'A')) AS kept,
	count(*) FILTER (WHERE (rec->'new'->>'id')::int BETWEEN 3001 AND 4000
		AND rec->>'subxid' IS NULL) AS aborted_rows_without_subxid
FROM got WHERE rec->>'action' = 'I';
-- fields: xid everywhere, no commit_lsn or ts on changes; X has them
SELECT count(DISTINCT rec->>'xid') AS xids,
	count(*) FILTER (WHERE rec->>'action' = 'I' AND
		(rec->>'commit_lsn' IS NOT NULL OR rec->>'ts' IS NOT NULL)) AS changes_with_commit,
	(SELECT rec->>'commit_lsn' IS NOT NULL AND rec->>'end_lsn' IS NOT NULL
		AND rec->>'ts' IS NOT NULL FROM got WHERE rec->>'action' = 'X') AS x_complete,
	(SELECT (rec->>'seq')::int FROM got WHERE rec->>'action' = 'X') =
	(SELECT max((rec->>'seq')::int) + 1 FROM got WHERE rec->>'action' = 'I') AS x_seq
FROM got;
DROP TABLE got;
-- without stream-changes the same WAL is one B..C transaction of the kept rows
SELECT string_agg(DISTINCT rec->>'action', '') AS actions, count(*) AS records
FROM wc_records('stream', true);

-- a large transaction already rolled back when the slot is read: the
-- server notices the abort while streaming it and sends nothing, and the
-- deferred S means no empty block either; a small transaction after it is
-- decoded at its commit as usual (B..C)
BEGIN;
INSERT INTO stm SELECT g, repeat('s', 50) FROM generate_series(1, 3000) g;
ROLLBACK;
INSERT INTO stm VALUES (0, 'after');
SELECT * FROM wc_get('stream', 'stream-changes', 'true');

RESET logical_decoding_work_mem;
SELECT pg_drop_replication_slot('stream');
DROP TABLE stm;
