-- ALTER TABLE between changes, in separate transactions and inside one:
-- each record shows the table as it was when the change was made.
CREATE TABLE evo (id int PRIMARY KEY, a text, b int);
SELECT 'init' FROM pg_create_logical_replication_slot('ddl', 'walcast');

INSERT INTO evo VALUES (1, 'one', 1);
ALTER TABLE evo ADD COLUMN c timestamptz DEFAULT '2024-01-01 00:00+00';
INSERT INTO evo VALUES (2, 'two', 2);
UPDATE evo SET b = 10 WHERE id = 1;
ALTER TABLE evo DROP COLUMN a;
INSERT INTO evo VALUES (3, 3);
ALTER TABLE evo RENAME COLUMN b TO bee;
ALTER TABLE evo ALTER COLUMN bee TYPE numeric USING bee * 1.5;
INSERT INTO evo VALUES (4, 4);
BEGIN;
INSERT INTO evo VALUES (5, 5);
ALTER TABLE evo ADD COLUMN d int[];
INSERT INTO evo VALUES (6, 6, DEFAULT, '{6}');
ALTER TABLE evo RENAME TO evolved;
INSERT INTO evolved VALUES (7, 7);
COMMIT;
ALTER TABLE evolved REPLICA IDENTITY FULL;
DELETE FROM evolved WHERE id = 7;
ALTER TABLE evolved ALTER COLUMN c TYPE date;
UPDATE evolved SET bee = 0 WHERE id = 6;
CREATE SCHEMA moved;
ALTER TABLE evolved SET SCHEMA moved;
DELETE FROM moved.evolved WHERE id = 6;
SELECT * FROM wc_get('ddl', 'include-transaction', 'false', 'include-xids', 'false',
	'include-lsn', 'false', 'include-timestamp', 'false', 'include-seq', 'false',
	'include-types', 'true');

SELECT pg_drop_replication_slot('ddl');
DROP TABLE moved.evolved;
DROP SCHEMA moved;
