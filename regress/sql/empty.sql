-- Transactions that emit nothing (no changes, only filtered changes, only
-- DDL, rolled back) produce no records at all: BEGIN is deferred to the
-- first record.  include-empty-xacts=true writes their B/C pair.
CREATE TABLE emp_kept (id int);
CREATE TABLE emp_skipped (id int);
SELECT 'init' FROM pg_create_logical_replication_slot('empty', 'walcast');

BEGIN; SELECT txid_current() > 0 AS has_xid; COMMIT;
INSERT INTO emp_skipped VALUES (1);
CREATE TABLE emp_ddl (id int);
BEGIN; INSERT INTO emp_kept VALUES (1); ROLLBACK;
BEGIN;
INSERT INTO emp_skipped VALUES (2);
SAVEPOINT s;
INSERT INTO emp_kept VALUES (2);
ROLLBACK TO s;
COMMIT;
INSERT INTO emp_kept VALUES (3);
SELECT * FROM wc_get('empty', 'filter-tables', 'public.emp_skipped',
	'include-xids', 'false', 'include-lsn', 'false', 'include-timestamp', 'false');

BEGIN; SELECT txid_current() > 0 AS has_xid; COMMIT;
INSERT INTO emp_skipped VALUES (3);
SELECT * FROM wc_get('empty', 'filter-tables', 'public.emp_skipped',
	'include-empty-xacts', 'true', 'include-xids', 'false', 'include-lsn', 'false',
	'include-timestamp', 'false');

SELECT pg_drop_replication_slot('empty');
DROP TABLE emp_kept, emp_skipped, emp_ddl;
