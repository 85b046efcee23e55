-- filter-tables and add-tables: schema.table patterns with * wildcards and
-- backslash escapes, matched against the names as stored (no case folding),
-- also for hostile names: quotes, dots, commas, stars, spaces, unicode.
CREATE SCHEMA "My.Schema";
CREATE TABLE "My.Schema"."Weird ""Quoted"", Table" (id int PRIMARY KEY);
CREATE TABLE "My.Schema".plain (id int PRIMARY KEY);
CREATE TABLE public."UPPER" (id int PRIMARY KEY);
CREATE TABLE public.upper (id int PRIMARY KEY);
CREATE TABLE public."ünï*cødé" (id int PRIMARY KEY);
CREATE TABLE public." spaced " (id int PRIMARY KEY);
CREATE TABLE public."back\slash" (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('filt', 'walcast');

CREATE FUNCTION filt_load() RETURNS void LANGUAGE sql AS $$
	INSERT INTO "My.Schema"."Weird ""Quoted"", Table" VALUES (1);
	INSERT INTO "My.Schema".plain VALUES (1);
	INSERT INTO public."UPPER" VALUES (1);
	INSERT INTO public.upper VALUES (1);
	INSERT INTO public."ünï*cødé" VALUES (1);
	INSERT INTO public." spaced " VALUES (1);
	INSERT INTO public."back\slash" VALUES (1);
	DELETE FROM "My.Schema"."Weird ""Quoted"", Table";
	DELETE FROM "My.Schema".plain;
	DELETE FROM public."UPPER";
	DELETE FROM public.upper;
	DELETE FROM public."ünï*cødé";
	DELETE FROM public." spaced ";
	DELETE FROM public."back\slash";
$$;
CREATE FUNCTION filt_tables(VARIADIC options text[]) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(DISTINCT (rec->>'schema') || '|' || (rec->>'table'), ', '
		ORDER BY (rec->>'schema') || '|' || (rec->>'table'))
	FROM wc_records('filt', false, VARIADIC options)
	WHERE rec->>'action' = 'I'
$$;
SELECT filt_load();

-- all, as the records name them
SELECT filt_tables('include-transaction', 'false');
-- exact names need escapes for . , * \ and edge spaces
SELECT filt_tables('add-tables', 'My\.Schema.Weird "Quoted"\, Table');
SELECT filt_tables('add-tables', 'public.UPPER');
SELECT filt_tables('add-tables', 'public.upper');
SELECT filt_tables('add-tables', 'public.ünï\*cødé');
SELECT filt_tables('add-tables', 'public.\ spaced\ ');
SELECT filt_tables('add-tables', 'public.back\\slash');
-- wildcards
SELECT filt_tables('add-tables', 'My\.Schema.*');
SELECT filt_tables('add-tables', '*.*e*');
SELECT filt_tables('add-tables', 'public.ü*');
SELECT filt_tables('add-tables', '*.*\**');
-- no case folding: *PER matches UPPER, not upper
SELECT filt_tables('add-tables', 'public.*PER');
-- filter-tables removes; it wins over add-tables
SELECT filt_tables('filter-tables', 'My\.Schema.*, public.UPPER');
SELECT filt_tables('add-tables', 'public.*', 'filter-tables', 'public.u*, *.\ *');
-- no match: nothing at all, not even B/C
SELECT count(*) FROM wc_records('filt', false, 'add-tables', 'nosuch.*');
-- deletes are filtered the same way
SELECT count(*) FROM wc_records('filt', false, 'add-tables', 'public.upper')
WHERE rec->>'action' = 'D';

SELECT count(*) > 0 FROM wc_records('filt', true);
SELECT pg_drop_replication_slot('filt');
DROP FUNCTION filt_load(), filt_tables(text[]);
DROP TABLE "My.Schema"."Weird ""Quoted"", Table", "My.Schema".plain, public."UPPER",
	public.upper, public."ünï*cødé", public." spaced ", public."back\slash";
DROP SCHEMA "My.Schema";
