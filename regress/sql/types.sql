-- Value rendering of every kind of type, awkward values included.
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE pair AS (x int, label text, at timestamptz);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN price AS numeric(10,2);
CREATE TABLE ty (
	id serial PRIMARY KEY,
	i2 int2, i4 int4, i8 int8, o oid,
	f4 float4, f8 float8, n numeric, b bool,
	t text, vc varchar(10), c char(4), nm name,
	j json, jb jsonb, by bytea,
	d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
	u uuid, ip inet, cid cidr, mac macaddr, e mood, bits bit varying,
	ia int[], ta text[], fa float8[], tsa timestamptz[],
	comp pair, compa pair[], ir int4range, tsr tstzrange, dr daterange,
	dm posint, pr price, pt point, mr int4multirange, x xml
);
SELECT 'init' FROM pg_create_logical_replication_slot('types', 'walcast');
SET TimeZone = 'UTC';

-- ordinary values
INSERT INTO ty (i2, i4, i8, o, f4, f8, n, b, t, vc, c, nm, j, jb, by, d, tm, ttz,
	ts, tstz, iv, u, ip, cid, mac, e, bits, ia, ta, fa, tsa, comp, compa, ir,
	tsr, dr, dm, pr, pt, mr, x)
VALUES (1, 2, 3, 4, 1.5, 0.1, 12.340, true, 'text', 'varchar', 'ab', 'name',
	'{"a": [1, 2.50, "x"],
	  "b" : null}', '{"b": {"c": [true, false]}, "a": 1.0}', '\x00ff10',
	'2024-02-29', '13:14:15.5', '13:14:15+05:30', '2024-02-29 13:14:15.123456',
	'2024-02-29 13:14:15.1+02', '1 year 2 months 3 days 04:05:06.5',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8',
	'08:00:2b:01:02:03', 'happy', B'1011', '{1,2,3}', '{"a","b c"}', '{1.5,2}',
	'{"2024-01-01 00:00:00+00"}', ROW(1, 'one', '2024-01-01 12:00:00+00'),
	ARRAY[ROW(2, 'two', NULL)::pair], '[1,10)', '[2024-01-01 00:00+00,)',
	'(2024-01-01,2024-02-01]', 7, 9.99, '(1.5,-2)', '{[1,3),[5,7)}',
	'<a>x</a>');

-- extremes and special values
INSERT INTO ty (i2, i4, i8, o, f4, f8, n, t, d, ts, tstz, iv, ia, ta, fa, tsr, ir)
VALUES (-32768, -2147483648, -9223372036854775808, 4294967295,
	'NaN', 'Infinity', 'NaN', E'quote" backslash\\ nl\n tab\t cr\r bell\007 esc\033 uni é 中 😀',
	'infinity', '-infinity', 'infinity', '-178000000 years',
	'{{1,NULL},{NULL,4}}', '{{NULL}}', '{NaN,Infinity,-Infinity,-0}',
	'empty', '(,)');
INSERT INTO ty (i2, f4, f8, n, d, ts, tstz, tm, ia)
VALUES (32767, '-Infinity', '-0', '-Infinity', '-infinity', 'infinity',
	'-infinity', '24:00:00', '{}');
INSERT INTO ty (f4, f8, n, d, ts, tstz)
VALUES (3.4028235e38, 1.7976931348623157e308,
	'123456789012345678901234567890.123456789012345678901234567890',
	'0044-03-15 BC', '0001-01-01 00:00:00 BC', '2000-01-01 00:00:00.000001+00');
INSERT INTO ty (f8, n, d, tstz)
VALUES (5e-324, '-0.000000000000000000001', '294276-12-31',
	'1999-12-31 23:59:59.999999+00');
INSERT INTO ty (f8, n, ia) VALUES (1e100, '1e20', '[2:3]={7,8}');
INSERT INTO ty (ia, fa) VALUES ('{{{1,2},{3,4}},{{5,6},{7,8}}}', '{0.1,1e-7,123456789.125}');

SELECT regexp_replace(rec::text, '"id":\d+,', '')
FROM wc_records('types', true, 'include-transaction', 'false',
	'include-xids', 'false', 'include-lsn', 'false', 'include-timestamp', 'false',
	'include-seq', 'false')
ORDER BY msg;

-- numeric as numbers, bytea as hex
INSERT INTO ty (n, pr, by) VALUES (42.500, 1.5, '\xdeadbeef');
INSERT INTO ty (n) VALUES ('NaN');
SELECT rec->'new'->'n' AS n, rec->'new'->'pr' AS pr, rec->'new'->'by' AS by
FROM wc_records('types', true, 'numeric-data-types-as-string', 'false',
	'bytea-encoding', 'hex', 'include-transaction', 'false');

-- include-types and include-type-oids
INSERT INTO ty (i4) VALUES (1);
SELECT rec->'types' AS types, rec->'type_oids'->'i4' AS i4_oid,
	(rec->'type_oids'->>'comp')::oid = 'pair'::regtype AS comp_oid
FROM wc_records('types', true, 'include-types', 'true', 'include-type-oids', 'true',
	'include-transaction', 'false');

-- a float8 reads back as the stored value (shortest round-trip form)
INSERT INTO ty (f8, f4) SELECT 1.0 / g, (1.0 / g)::float4 FROM generate_series(1, 50) g;
SELECT count(*) AS rows,
	count(*) FILTER (WHERE (rec->'new'->>'f8')::float8 = ty.f8) AS f8_exact,
	count(*) FILTER (WHERE (rec->'new'->>'f4')::float4 = ty.f4) AS f4_exact
FROM wc_records('types', true, 'include-transaction', 'false') r
JOIN ty ON ty.id = (r.rec->'new'->>'id')::int;

RESET TimeZone;
SELECT pg_drop_replication_slot('types');
DROP TABLE ty;
DROP TYPE pair, mood;
DROP DOMAIN posint, price;
