-- Every option is accepted with a valid value; every kind of mistake is
-- rejected with an error naming the option and what it accepts.
SELECT 'init' FROM pg_create_logical_replication_slot('opt', 'walcast');

-- all options at once, valid values (nothing to decode)
SELECT count(*) FROM pg_logical_slot_peek_changes('opt', NULL, NULL,
	'include-xids', 'false', 'include-timestamp', 'off', 'include-lsn', '0',
	'include-seq', 'no', 'include-transaction', 'true',
	'include-empty-xacts', 'on', 'include-types', 'yes', 'include-type-oids', '1',
	'include-pk', 'true', 'numeric-data-types-as-string', 'false',
	'only-local', 'true', 'batch-across-transactions', 'true',
	'stream-changes', 'true', 'two-phase', 'false',
	'bytea-encoding', 'hex', 'batch-bytes', '65536',
	'actions', 'insert, update,delete,truncate,message',
	'filter-tables', 'public.a,*.b', 'add-tables', 'public.*',
	'exclude-columns', 'public.users.ssn, *.*.password',
	'filter-msg-prefixes', 'x,y', 'add-msg-prefixes', 'z',
	'filter-origins', 'node\,1');

-- unknown option (and wal2json's format-version, not ours)
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'include-xid', 'true');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'format-version', '2');
-- duplicate
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL,
	'include-lsn', 'true', 'include-lsn', 'true');
-- bad bool
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'include-xids', 'maybe');
-- bad int: not a number, negative, too large, trailing garbage
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'batch-bytes', 'lots');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'batch-bytes', '-1');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'batch-bytes', '67108865');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'batch-bytes', '10k');
-- bad enum
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'bytea-encoding', 'escape');
-- bad flag list: unknown action, empty item, empty list
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'actions', 'insert,upsert');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'actions', 'insert,,delete');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'actions', '');
-- bad patterns: too few parts, too many, empty part, trailing backslash
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'add-tables', 'users');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'filter-tables', 'a.b.c');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'exclude-columns', 'public..ssn');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'filter-msg-prefixes', 'abc\');
SELECT * FROM pg_logical_slot_peek_changes('opt', NULL, NULL, 'add-msg-prefixes', 'a, ,b');

SELECT pg_drop_replication_slot('opt');
