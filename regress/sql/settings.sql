-- The output does not depend on the session reading the slot: DateStyle,
-- TimeZone, IntervalStyle, extra_float_digits, bytea_output and lc_numeric
-- change nothing.
CREATE TABLE st (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz,
	tm time, ttz timetz, iv interval, f4 float4, f8 float8, n numeric,
	by bytea, tsr tstzrange, da date[], pt point, c circle);
INSERT INTO st VALUES (1, '2024-07-04', '2024-07-04 01:02:03.4',
	'2024-07-04 01:02:03.4+00', '01:02:03', '01:02:03-08', '-1 day 02:00:00',
	0.3, 0.1 + 0.2, 1234567.891, '\x01', '[2024-07-04 00:00+00,2024-07-05 00:00+00)',
	'{2024-07-04,NULL}', '(0.1,0.2)', '<(1,2),0.3>');
SELECT 'init' FROM pg_create_logical_replication_slot('settings', 'walcast');
UPDATE st SET n = n + 1;

-- reference, under the defaults of this suite
SELECT rec->'new' AS reference
FROM wc_records('settings', false, 'include-transaction', 'false');
CREATE TEMP TABLE reference AS
	SELECT rec::text AS r FROM wc_records('settings', false);

SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Chatham';
SET IntervalStyle = 'postgres_verbose';
SET extra_float_digits = -15;
SET bytea_output = 'escape';
SET lc_numeric = 'C.UTF-8';
SELECT (SELECT array_agg(r) FROM reference) =
	(SELECT array_agg(rec::text) FROM wc_records('settings', false)) AS same_output;
SET DateStyle = 'German';
SET TimeZone = 'America/St_Johns';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = 3;
SELECT (SELECT array_agg(r) FROM reference) =
	(SELECT array_agg(rec::text) FROM wc_records('settings', true)) AS same_output;
-- the session keeps its own settings
SHOW extra_float_digits;
RESET ALL;

SELECT pg_drop_replication_slot('settings');
DROP TABLE st, reference;
