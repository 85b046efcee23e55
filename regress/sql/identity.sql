-- What UPDATE and DELETE carry under each REPLICA IDENTITY: old key for
-- DEFAULT (primary key) and INDEX, the whole old row for FULL, and
-- "identity":"nothing" with "old":null for NOTHING and for DEFAULT without
-- a primary key.  No event is dropped.
CREATE TABLE id_default (a int, b int, c text, PRIMARY KEY (a, b));
CREATE TABLE id_index (a int NOT NULL, b text, c text);
CREATE UNIQUE INDEX id_index_a ON id_index (a);
ALTER TABLE id_index REPLICA IDENTITY USING INDEX id_index_a;
CREATE TABLE id_full (a int PRIMARY KEY, b text, c text);
ALTER TABLE id_full REPLICA IDENTITY FULL;
CREATE TABLE id_nothing (a int PRIMARY KEY, b text);
ALTER TABLE id_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE id_nopk (a int, b text);
INSERT INTO id_default VALUES (1, 1, 'x');
INSERT INTO id_index VALUES (1, 'x', 'y');
INSERT INTO id_full VALUES (1, 'x', NULL);
INSERT INTO id_nothing VALUES (1, 'x');
INSERT INTO id_nopk VALUES (1, 'x');
SELECT 'init' FROM pg_create_logical_replication_slot('ident', 'walcast');

-- key unchanged: no old (the key is in new); key changed: old has the key
UPDATE id_default SET c = 'y';
UPDATE id_default SET b = 2;
DELETE FROM id_default;
UPDATE id_index SET b = 'z';
UPDATE id_index SET a = 2;
DELETE FROM id_index;
UPDATE id_full SET b = 'z';
DELETE FROM id_full;
UPDATE id_nothing SET b = 'z';
DELETE FROM id_nothing;
UPDATE id_nopk SET b = 'z';
DELETE FROM id_nopk;
SELECT * FROM wc_get('ident', 'include-transaction', 'false', 'include-xids', 'false',
	'include-lsn', 'false', 'include-timestamp', 'false', 'include-seq', 'false');

-- include-pk names the primary key, else the replica identity index
INSERT INTO id_default VALUES (5, 6, 'p');
INSERT INTO id_index VALUES (5, 'p', 'q');
INSERT INTO id_nopk VALUES (5, 'p');
SELECT * FROM wc_get('ident', 'include-pk', 'true', 'include-transaction', 'false',
	'include-xids', 'false', 'include-lsn', 'false', 'include-timestamp', 'false',
	'include-seq', 'false');

SELECT pg_drop_replication_slot('ident');
DROP TABLE id_default, id_index, id_full, id_nothing, id_nopk;
