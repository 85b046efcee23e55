-- The walcast extension's snapshot functions (docs/snapshot.md): a row read
-- by a snapshot is rendered by the plugin's own code, so an "L" record and
-- the "I" record of the same row are identical after the transaction
-- fields; the options and table filters are the plugin's.
CREATE EXTENSION walcast;
SET TimeZone = 'UTC';
CREATE TYPE snap_mood AS ENUM ('sad', 'happy');
CREATE TYPE snap_pair AS (x int, label text, at timestamptz);
CREATE DOMAIN snap_pos AS int CHECK (VALUE > 0);
CREATE TABLE snap (
	id int PRIMARY KEY,
	i2 int2, i8 int8, f4 float4, f8 float8, n numeric, b bool,
	t text, c char(4), j json, jb jsonb, by bytea,
	d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
	u uuid, ip inet, e snap_mood, ia int[], ta text[], comp snap_pair,
	ir int4range, dm snap_pos, pt point, big text, gone int
);
ALTER TABLE snap DROP COLUMN gone;
-- a row stored before ADD COLUMN lacks the column physically
INSERT INTO snap (id, t) VALUES (0, 'old row');
ALTER TABLE snap ADD COLUMN added text DEFAULT 'default value';
SELECT 'init' FROM pg_create_logical_replication_slot('snap', 'walcast');
INSERT INTO snap VALUES
	(1, 1, 9223372036854775807, 1.5, 0.1, 12.340, true, E'q" b\\ nl\n é 😀', 'ab',
	 '{"a": [1, 2.50]}', '{"b": 1.0}', '\x00ff10', '2024-02-29', '13:14:15.5',
	 '13:14:15+05:30', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.1+02',
	 '1 year 2 days 00:00:01.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	 '10.0.0.1/8', 'happy', '{{1,NULL},{3,4}}', '{"a","b c"}',
	 ROW(1, 'one', '2024-01-01 12:00:00+00'), '[1,10)', 7, '(1.5,-2)',
	 repeat('toast me ', 20000)),
	(2, -32768, NULL, 'NaN', '-Infinity', 'NaN', false, '', NULL, 'null', '[]',
	 '', 'infinity', '24:00:00', NULL, '-infinity', 'infinity', '0', NULL, NULL,
	 'sad', '{}', '{}', ROW(NULL, NULL, NULL), 'empty', NULL, NULL, NULL);
INSERT INTO snap (id, added) VALUES (3, 'explicit');

-- each option that affects rendering, in both places
CREATE TEMP TABLE opts (n int, o text[]);
INSERT INTO opts VALUES
	(1, '{}'),
	(2, '{include-pk,include-types=true,include-type-oids=on}'),
	(3, '{numeric-data-types-as-string=false,bytea-encoding=hex}'),
	(4, '{"exclude-columns=public.snap.big, *.snap.i2"}');
CREATE TEMP TABLE got (n int, id int, ins text, snap text);
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT * FROM opts ORDER BY n LOOP
		INSERT INTO got (n, id, ins)
		SELECT r.n, (x::json->'new'->>'id')::int, x
		FROM pg_logical_slot_peek_changes('snap', NULL, NULL, VARIADIC
			(SELECT coalesce(array_agg(p), '{}') FROM unnest(r.o) AS o,
				LATERAL unnest(CASE WHEN o LIKE '%=%'
					THEN ARRAY[split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)]
					ELSE ARRAY[o, 'true'] END) AS p)) AS c(lsn, xid, x)
		WHERE x LIKE '{"action":"I"%';
		UPDATE got SET snap = walcast.snapshot_record('snap'::regclass, s, r.o)
		FROM ONLY snap s WHERE s.id = got.id AND got.n = r.n;
	END LOOP;
END
$$;
-- identical from "schema" on; before it, only the action and transaction fields
SELECT n, id, substr(ins, strpos(ins, ',"schema":')) = substr(snap, strpos(snap, ',"schema":')) AS same,
	snap LIKE '{"action":"L","schema":%' AS head
FROM got ORDER BY n, id;
SELECT count(*) FROM got WHERE snap IS NULL;
-- what the records look like (the TOASTed value shortened, OIDs of the
-- types created here masked)
SELECT n, regexp_replace(replace(snap, repeat('toast me ', 20000), '<toast>'),
	':[0-9]{5,},', ':"?",', 'g')
FROM got WHERE id = 1 ORDER BY n;
SELECT snap FROM got WHERE n = 1 AND id > 1 ORDER BY id;
SELECT walcast.snapshot_record('snap', s) FROM ONLY snap s WHERE id = 0;
SELECT 'drop' FROM pg_drop_replication_slot('snap');

-- lsn: written when given (the agent passes the consistent point), not
-- with include-lsn=false
SELECT walcast.snapshot_record('snap', s, '{}', '0/16B3748') FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', s, '{include-lsn=false}', '0/16B3748') FROM ONLY snap s WHERE id = 3;
-- options that do not affect rows are accepted and ignored
SELECT walcast.snapshot_record('snap', s, '{batch-bytes=100,actions=insert,stream-changes}') FROM ONLY snap s WHERE id = 3;
-- NULL options: the defaults; a NULL table or row: NULL
SELECT walcast.snapshot_record('snap', s, NULL) FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record(NULL, s) IS NULL AS a, walcast.snapshot_record('snap', NULL::snap) IS NULL AS b
FROM ONLY snap s WHERE id = 3;

-- errors: the plugin's own option errors, a row of another type
SELECT walcast.snapshot_record('snap', s, '{bogus}') FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', s, '{include-pk=maybe}') FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', s, '{include-pk,include-pk}') FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', s, '{{include-pk}}') FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', s, ARRAY[NULL]::text[]) FROM ONLY snap s WHERE id = 3;
SELECT walcast.snapshot_record('snap', ROW(1, 2));
SELECT walcast.snapshot_record('snap', x, '{}') FROM opts x LIMIT 1;

-- snapshot_tables: the plugin's filters, stable order, keys, estimates
CREATE SCHEMA snap_b;
CREATE SCHEMA snap_a;
CREATE TABLE snap_b.t1 (a int, b text, v text, PRIMARY KEY (b, a));
CREATE TABLE snap_a.zeta (id int PRIMARY KEY);
CREATE TABLE snap_a."Alpha" (x int NOT NULL, y int);
CREATE UNIQUE INDEX ON snap_a."Alpha" (y, x);
ALTER TABLE snap_a."Alpha" ALTER COLUMN y SET NOT NULL;
ALTER TABLE snap_a."Alpha" REPLICA IDENTITY USING INDEX "Alpha_y_x_idx";
CREATE TABLE snap_a.nokey (x int);
CREATE UNLOGGED TABLE snap_a.unlogged (x int);
CREATE TABLE snap_a.parted (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE snap_a.parted_1 PARTITION OF snap_a.parted FOR VALUES FROM (0) TO (10);
CREATE VIEW snap_a.v AS SELECT 1 AS x;
INSERT INTO snap_a.zeta SELECT generate_series(1, 100);
ANALYZE snap_a.zeta;
SELECT rel, schema_name, table_name, key_columns, estimated_rows, readable
FROM walcast.snapshot_tables('{"add-tables=snap_*.*"}');
SELECT rel FROM walcast.snapshot_tables('{"add-tables=snap_*.*","filter-tables=snap_a.n*, *.parted_1"}');
SELECT rel FROM walcast.snapshot_tables('{"add-tables=snap_b.t1,public.snap"}');
SELECT walcast.table_included('snap_a.zeta', '{"filter-tables=snap_a.*"}'),
	walcast.table_included('snap_a.zeta', '{}');
SELECT * FROM walcast.snapshot_tables('{"add-tables=a.b.c"}');
-- a table the role may not read is listed as not readable
CREATE ROLE snap_reader;
GRANT USAGE ON SCHEMA snap_a, snap_b, walcast TO snap_reader;
GRANT SELECT ON snap_a.zeta TO snap_reader;
SET ROLE snap_reader;
SELECT rel, readable FROM walcast.snapshot_tables('{"add-tables=snap_*.*"}');
RESET ROLE;

DROP SCHEMA snap_a, snap_b CASCADE;
DROP OWNED BY snap_reader;
DROP ROLE snap_reader;
DROP TABLE snap;
DROP DOMAIN snap_pos;
DROP TYPE snap_pair, snap_mood;
DROP EXTENSION walcast;
