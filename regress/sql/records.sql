-- Every record kind (B, I, U, D, T, M, C), the fields every record carries,
-- and the relations between the volatile ones (asserted, not printed).
CREATE TABLE rec (id int PRIMARY KEY, v text);
CREATE TABLE rec2 (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('rec', 'walcast');

INSERT INTO rec VALUES (1, 'one'), (2, 'two');
UPDATE rec SET v = 'uno' WHERE id = 1;
DELETE FROM rec WHERE id = 2;
BEGIN;
INSERT INTO rec2 VALUES (1);
SELECT 'msg' FROM pg_logical_emit_message(true, 'wc', 'in a transaction');
TRUNCATE rec, rec2;
COMMIT;
SELECT * FROM wc_get('rec');

-- The same workload read unmasked: relations between xid, LSNs, ts, seq.
INSERT INTO rec VALUES (3, 'three'), (4, 'four');
BEGIN;
UPDATE rec SET v = 'x';
DELETE FROM rec WHERE id = 3;
COMMIT;
CREATE TEMP TABLE got AS
	SELECT row_number() OVER () AS n, rec AS r
	FROM wc_records('rec', true);
-- every record of a transaction has its xid, commit_lsn and ts
SELECT r->>'action' AS action, count(*),
	count(DISTINCT r->>'xid') AS xids
FROM got GROUP BY 1 ORDER BY 1;
SELECT count(DISTINCT (r->>'xid', r->>'commit_lsn', r->>'ts')) AS transactions
FROM got;
-- seq: B is 0, changes 1..n, C is n+1, in output order
SELECT r->>'xid' IS NOT NULL AS has_xid,
	array_agg((r->>'seq')::int ORDER BY n) AS seqs
FROM got GROUP BY r->>'xid', 1 ORDER BY min(n);
-- change LSNs grow and stay below commit_lsn; end_lsn is past commit_lsn
SELECT bool_and((r->>'lsn')::pg_lsn < (r->>'commit_lsn')::pg_lsn) AS lsn_before_commit
FROM got WHERE r->>'action' IN ('I', 'U', 'D');
SELECT bool_and((r->>'end_lsn')::pg_lsn > (r->>'commit_lsn')::pg_lsn) AS end_after_commit
FROM got WHERE r->>'action' = 'C';
SELECT bool_and(a.lsn < b.lsn) AS lsn_increasing
FROM (SELECT n, (r->>'lsn')::pg_lsn AS lsn, r->>'xid' AS xid FROM got WHERE r->>'lsn' IS NOT NULL) a
JOIN (SELECT n, (r->>'lsn')::pg_lsn AS lsn, r->>'xid' AS xid FROM got WHERE r->>'lsn' IS NOT NULL) b
	ON a.xid = b.xid AND b.n = a.n + 1;
-- commit_lsn + seq identifies a record
SELECT count(*) = count(DISTINCT (r->>'commit_lsn', r->>'seq')) AS unique_id FROM got;
-- ts: ISO 8601 UTC with Z, and close to now
SELECT bool_and(r->>'ts' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$') AS iso,
	bool_and(abs(extract(epoch FROM (r->>'ts')::timestamptz - now())) < 600) AS recent
FROM got;
DROP TABLE got;

-- replaying the same WAL gives identical records (peek twice)
INSERT INTO rec VALUES (5, 'five');
SELECT (SELECT array_agg(rec::text) FROM wc_records('rec', false)) =
	(SELECT array_agg(rec::text) FROM wc_records('rec', false)) AS replay_identical;
SELECT count(*) FROM wc_records('rec', true);

-- the fields can be switched off one by one
INSERT INTO rec VALUES (6, 'six');
SELECT * FROM wc_get('rec', 'include-xids', 'false', 'include-lsn', 'false',
	'include-timestamp', 'false', 'include-seq', 'false');
-- include-transaction=false: no B and C records
INSERT INTO rec VALUES (7, 'seven');
SELECT * FROM wc_get('rec', 'include-transaction', 'false');
-- actions: only some kinds of change
INSERT INTO rec VALUES (8, 'eight');
UPDATE rec SET v = 'ocho' WHERE id = 8;
DELETE FROM rec WHERE id = 8;
TRUNCATE rec2;
SELECT * FROM wc_get('rec', 'actions', 'update,truncate', 'include-xids', '0',
	'include-lsn', '0', 'include-timestamp', '0');

SELECT pg_drop_replication_slot('rec');
DROP TABLE rec, rec2;
