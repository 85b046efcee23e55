-- Two-phase commit.  With two-phase=true on a slot that allows it, a
-- prepared transaction is emitted at PREPARE TRANSACTION (B with gid,
-- changes, P), then K at COMMIT PREPARED or R at ROLLBACK PREPARED.
-- Without the option it is emitted at COMMIT PREPARED as an ordinary
-- B..C transaction.  (Needs max_prepared_transactions > 0.)
CREATE TABLE tp (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('tp', 'walcast', false, true);
SELECT 'init' FROM pg_create_logical_replication_slot('tp_plain', 'walcast');

BEGIN;
INSERT INTO tp VALUES (1, 'prepared then committed');
PREPARE TRANSACTION 'gid "one"';
SELECT * FROM wc_get('tp', 'two-phase', 'true');
COMMIT PREPARED 'gid "one"';
SELECT * FROM wc_get('tp', 'two-phase', 'true');

BEGIN;
INSERT INTO tp VALUES (2, 'prepared then rolled back');
PREPARE TRANSACTION 'gid2';
ROLLBACK PREPARED 'gid2';
SELECT * FROM wc_get('tp', 'two-phase', 'true');

-- relations: the changes' commit_lsn is the PREPARE's; K comes after it;
-- end_lsn of each record is past its own LSN
BEGIN;
INSERT INTO tp VALUES (3, 'x');
UPDATE tp SET v = 'y' WHERE id = 3;
PREPARE TRANSACTION 'gid3';
COMMIT PREPARED 'gid3';
CREATE TEMP TABLE got AS SELECT msg, rec FROM wc_records('tp', false, 'two-phase', 'true');
SELECT string_agg(rec->>'action', '' ORDER BY msg) AS actions,
	count(DISTINCT rec->>'xid') AS xids,
	count(DISTINCT rec->>'gid') AS gids FROM got;
SELECT bool_and((k.rec->>'commit_lsn')::pg_lsn > (p.rec->>'commit_lsn')::pg_lsn) AS k_after_p,
	bool_and((p.rec->>'end_lsn')::pg_lsn > (p.rec->>'commit_lsn')::pg_lsn) AS p_end,
	bool_and((k.rec->>'end_lsn')::pg_lsn > (k.rec->>'commit_lsn')::pg_lsn) AS k_end
FROM got p, got k WHERE p.rec->>'action' = 'P' AND k.rec->>'action' = 'K';
SELECT count(*) AS changes_with_prepare_lsn
FROM got c, got p
WHERE c.rec->>'action' IN ('I', 'U') AND p.rec->>'action' = 'P'
	AND c.rec->>'commit_lsn' = p.rec->>'commit_lsn';
DROP TABLE got;
-- the same WAL without the option: ordinary transactions at COMMIT PREPARED
SELECT * FROM wc_get('tp', 'include-xids', 'false', 'include-lsn', 'false',
	'include-timestamp', 'false');
-- a slot created without two-phase decodes at COMMIT PREPARED too
SELECT string_agg(rec->>'action', '' ORDER BY msg) AS actions
FROM wc_records('tp_plain', true);

-- a prepared transaction is still pending when the slot is read
BEGIN;
INSERT INTO tp VALUES (4, 'pending');
PREPARE TRANSACTION 'gid4';
SELECT * FROM wc_get('tp', 'two-phase', 'true', 'include-lsn', 'false');
ROLLBACK PREPARED 'gid4';
SELECT * FROM wc_get('tp', 'two-phase', 'true', 'include-lsn', 'false');

SELECT pg_drop_replication_slot('tp');
SELECT pg_drop_replication_slot('tp_plain');
DROP TABLE tp;
