-- Unchanged TOAST values are not in WAL: they are listed in "unchanged" and
-- left out of "new", never invented; with REPLICA IDENTITY FULL the old row
-- has them, and they are taken from there.
CREATE TABLE tst (id int PRIMARY KEY, small text, big text, doc jsonb);
ALTER TABLE tst ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE tst ALTER COLUMN doc SET STORAGE EXTERNAL;
CREATE TABLE tst_full (id int PRIMARY KEY, small text, big text);
ALTER TABLE tst_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE tst_full REPLICA IDENTITY FULL;
INSERT INTO tst VALUES (1, 'a', repeat('x', 5000),
	jsonb_build_object('k', repeat('y', 5000)));
INSERT INTO tst_full VALUES (1, 'a', repeat('z', 5000));
SELECT 'init' FROM pg_create_logical_replication_slot('toast', 'walcast');

UPDATE tst SET small = 'b';
UPDATE tst SET big = repeat('w', 4000) || 'end';
UPDATE tst_full SET small = 'b';
DELETE FROM tst;
SELECT regexp_replace(rec::text, '(w|x|y|z){100,}', '<long>', 'g')
FROM wc_records('toast', true, 'include-transaction', 'false',
	'include-xids', 'false', 'include-lsn', 'false', 'include-timestamp', 'false',
	'include-seq', 'false');

-- an inserted TOAST value arrives whole
INSERT INTO tst VALUES (2, 'c', repeat('v', 6000), '{"a":1}');
SELECT length(rec->'new'->>'big') AS big_length
FROM wc_records('toast', true) WHERE rec->>'action' = 'I';

SELECT pg_drop_replication_slot('toast');
DROP TABLE tst, tst_full;
