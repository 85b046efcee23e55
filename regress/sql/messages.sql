-- Logical messages: transactional ones belong to their transaction (xid,
-- seq, deferred B); non-transactional ones stand alone (lsn, no xid/seq).
-- Content is text when valid UTF-8, else base64.  Prefix filters.
SELECT 'init' FROM pg_create_logical_replication_slot('msg', 'walcast');

SELECT 'm' FROM pg_logical_emit_message(false, 'plain', 'hello "world"');
BEGIN;
SELECT 'm' FROM pg_logical_emit_message(true, 'tx', E'line\nbreak é');
SELECT 'm' FROM pg_logical_emit_message(false, 'in-tx-but-not-transactional', 'now');
SELECT 'm' FROM pg_logical_emit_message(true, 'bin', '\x00ff01'::bytea);
COMMIT;
SELECT 'm' FROM pg_logical_emit_message(false, 'latin1', '\xe9'::bytea);
SELECT 'm' FROM pg_logical_emit_message(true, 'empty', '');
-- a committed transaction after the last non-transactional message, so
-- that it is flushed when the slot is read
CREATE TABLE msg_flush (id int);
SELECT * FROM wc_get('msg');

-- prefix filters compare whole prefixes; commas and backslashes escaped
SELECT 'm' FROM pg_logical_emit_message(false, 'a', '1');
SELECT 'm' FROM pg_logical_emit_message(true, 'b', '2');
SELECT 'm' FROM pg_logical_emit_message(true, 'c,d', '3');
SELECT 'm' FROM pg_logical_emit_message(false, 'a.b', '4');
INSERT INTO msg_flush VALUES (1);
SELECT string_agg(rec->>'prefix', ' ' ORDER BY msg) AS prefixes
FROM wc_records('msg', false, 'add-msg-prefixes', 'a,c\,d', 'actions', 'message');
SELECT string_agg(rec->>'prefix', ' ' ORDER BY msg) AS prefixes
FROM wc_records('msg', false, 'filter-msg-prefixes', 'a', 'actions', 'message');
SELECT string_agg(rec->>'prefix', ' ' ORDER BY msg) AS prefixes
FROM wc_records('msg', false, 'add-msg-prefixes', 'a,b', 'filter-msg-prefixes', 'b',
	'actions', 'message');
-- actions without message: only the insert's transaction remains
SELECT string_agg(rec->>'action', '' ORDER BY msg) AS actions
FROM wc_records('msg', false, 'actions', 'insert');
-- relations: a non-transactional M has lsn only; a transactional M has
-- commit_lsn and seq like a change
SELECT rec->>'prefix' AS prefix, rec->>'xid' IS NOT NULL AS xid,
	rec->>'commit_lsn' IS NOT NULL AS commit_lsn, rec->>'seq' AS seq,
	(rec->>'lsn')::pg_lsn > '0/0' AS lsn
FROM wc_records('msg', true) WHERE rec->>'action' = 'M';

SELECT pg_drop_replication_slot('msg');
DROP TABLE msg_flush;
