/*
 * test_sink_mongo_doc.c
 *		Unit tests of the mirror's mapping from a change to write
 *		operations (sinks/sink_mongo_doc.c), which touches no server: every
 *		kind of change, the version condition of each filter, a moved row
 *		and what it asks the sink to copy, snapshot reads, tables without a
 *		key, collection names.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_int.h"
#include "sink_mongo.h"
#include "walcast_record.h"

static struct agent_config cfg;
static struct sink_mongo_conv conv = {SINK_MONGO_NUMERIC_STRING, SINK_MONGO_STRING,
SINK_MONGO_STRING, false};
static struct sink_mongo_doc_ctx ctx;

static void
load(int argc, char **argv)
{
	char		err[512];

	config_free(&cfg);
	assert_int_equal(config_load(&cfg, argc, argv, err, sizeof(err)), CONFIG_OK);
	ctx.set = sink_mongo_settings(&cfg);
	ctx.conv = &conv;
}

static int
setup(void **state)
{
	char	   *argv[] = {"walcast-agent", "--mongo-uri", "mongodb://h/", NULL};

	(void) state;
	memset(&cfg, 0, sizeof(cfg));
	load(3, argv);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	config_free(&cfg);
	return 0;
}

/* The relaxed extended JSON of b, in buf. */
static const char *
json(const bson_t *b, char *buf, size_t len)
{
	char	   *j = b ? bson_as_relaxed_extended_json(b, NULL) : NULL;

	snprintf(buf, len, "%s", j ? j : "NULL");
	bson_free(j);
	return buf;
}

/* Map record; its result, and the plan in *plan (event in *ev). */
static enum sink_mongo_doc_result
map(const char *record, struct event *ev, struct sink_mongo_doc_plan *plan,
	char *err)
{
	char		perr[256];

	assert_true(walcast_record_parse(ev, record, strlen(record), perr, sizeof(perr)));
	return sink_mongo_doc_map(&ctx, ev, plan, err, 512);
}

/* Operation i of plan, sealed: its kind, filter and document. */
static void
expect_op(struct sink_mongo_doc_plan *plan, int i, enum sink_mongo_op_kind kind,
		  const char *filter, const char *doc)
{
	char		buf[1024];

	assert_true(i < plan->nops);
	assert_true(sink_mongo_doc_seal(plan->ops[i]));
	assert_int_equal(plan->ops[i]->kind, kind);
	assert_string_equal(json(plan->ops[i]->filter, buf, sizeof(buf)), filter);
	assert_string_equal(json(plan->ops[i]->doc, buf, sizeof(buf)), doc);
}

static void
test_insert(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	assert_int_equal(map("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/100\","
						 "\"commit_lsn\":\"0/200\",\"seq\":1,\"pk\":[\"id\"],"
						 "\"types\":{\"id\":\"integer\",\"v\":\"text\"},\"new\":{\"id\":1,\"v\":\"a\"}}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_string_equal(plan.coll, "t");
	assert_int_equal(plan.nops, 1);
	assert_null(plan.copy_from);
	/* a new row's key is usually new: sent as a plain insert first */
	assert_true(plan.ops[0]->insert_first);
	assert_int_equal(plan.ops[0]->lsn, 0x100);
	expect_op(&plan, 0, SINK_MONGO_REPLACE,
			  "{ \"_id\" : 1, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 256 } } }",
			  "{ \"_id\" : 1, \"id\" : 1, \"v\" : \"a\", \"_walcast\" : { \"lsn\" : 256, \"commit_lsn\" : 512, \"seq\" : 1 } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

/* An update sets what changed; a timestamp set to NULL loses its microseconds. */
static void
test_update(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	assert_int_equal(map("{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/110\","
						 "\"commit_lsn\":\"0/200\",\"seq\":2,\"pk\":[\"id\"],"
						 "\"types\":{\"id\":\"integer\",\"v\":\"text\",\"ts\":\"timestamp without time zone\"},"
						 "\"new\":{\"id\":1,\"v\":\"b\",\"ts\":null}}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_int_equal(plan.nops, 1);
	assert_false(plan.ops[0]->insert_first);
	expect_op(&plan, 0, SINK_MONGO_UPDATE,
			  "{ \"_id\" : 1, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 272 } } }",
			  "{ \"$set\" : { \"id\" : 1, \"v\" : \"b\", \"ts\" : null, \"_walcast.lsn\" : 272, "
			  "\"_walcast.commit_lsn\" : 512, \"_walcast.seq\" : 2 }, \"$unset\" : { \"_walcast.us.ts\" : \"\" } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

/*
 * A key change deletes the old document and writes the new one; the
 * unchanged TOAST columns are asked for from the old document.
 */
static void
test_moved_row(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];
	char		buf[256];

	(void) state;
	assert_int_equal(map("{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/120\","
						 "\"commit_lsn\":\"0/200\",\"seq\":3,\"pk\":[\"id\"],\"types\":{\"id\":\"integer\"},"
						 "\"old\":{\"id\":1},\"new\":{\"id\":2,\"v\":\"c\"},\"unchanged\":[\"big\"]}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_int_equal(plan.nops, 2);
	assert_string_equal(json(plan.copy_from, buf, sizeof(buf)), "{ \"_id\" : 1 }");
	assert_int_equal(yyjson_arr_size(plan.copy_columns), 1);
	assert_string_equal(yyjson_get_str(yyjson_arr_get(plan.copy_columns, 0)), "big");
	/* what the sink copies goes into the update's $set before sealing */
	bson_append_utf8(plan.ops[1]->set, "big", -1, "copied", -1);
	expect_op(&plan, 0, SINK_MONGO_DELETE,
			  "{ \"_id\" : 1, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 288 } } }", "NULL");
	expect_op(&plan, 1, SINK_MONGO_UPDATE,
			  "{ \"_id\" : 2, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 288 } } }",
			  "{ \"$set\" : { \"id\" : 2, \"v\" : \"c\", \"_walcast.lsn\" : 288, \"_walcast.commit_lsn\" : 512, "
			  "\"_walcast.seq\" : 3, \"big\" : \"copied\" }, \"$unset\" : { \"_walcast.json.v\" : \"\" } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	/* "old" with the same key: no move, nothing to copy */
	assert_int_equal(map("{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/120\","
						 "\"pk\":[\"id\"],\"old\":{\"id\":2,\"v\":\"x\"},\"new\":{\"id\":2},\"unchanged\":[\"big\"]}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_int_equal(plan.nops, 1);
	assert_null(plan.copy_from);
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

static void
test_delete_truncate(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	assert_int_equal(map("{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/130\","
						 "\"pk\":[\"id\"],\"old\":{\"id\":2}}", &ev, &plan, err), SINK_MONGO_DOC_OK);
	expect_op(&plan, 0, SINK_MONGO_DELETE,
			  "{ \"_id\" : 2, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 304 } } }", "NULL");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	/* older documents only: a replayed TRUNCATE spares later rows */
	assert_int_equal(map("{\"action\":\"T\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/140\"}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	expect_op(&plan, 0, SINK_MONGO_DELETE_MANY,
			  "{ \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 320 } } }", "NULL");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

/* A snapshot row: position 0, unconditional, composite key as a document. */
static void
test_read(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	assert_int_equal(map("{\"action\":\"L\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/150\","
						 "\"pk\":[\"a\",\"b\"],\"new\":{\"a\":1,\"b\":\"x\",\"v\":true}}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_true(plan.ops[0]->insert_first);
	assert_int_equal(plan.ops[0]->lsn, 0);
	expect_op(&plan, 0, SINK_MONGO_REPLACE, "{ \"_id\" : { \"a\" : 1, \"b\" : \"x\" } }",
			  "{ \"_id\" : { \"a\" : 1, \"b\" : \"x\" }, \"a\" : 1, \"b\" : \"x\", \"v\" : true, "
			  "\"_walcast\" : { \"lsn\" : 0, \"commit_lsn\" : 0, \"seq\" : 0 } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

static void
test_no_key_and_errors(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	/* no key: the sink's policy decides (skip or fail), by collection */
	assert_int_equal(map("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"nk\",\"lsn\":\"0/160\","
						 "\"pk\":[],\"new\":{\"v\":1}}", &ev, &plan, err), SINK_MONGO_DOC_NO_KEY);
	assert_string_equal(plan.coll, "nk");
	assert_int_equal(plan.nops, 0);
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	/* a key column missing from the row is a table without a usable key */
	assert_int_equal(map("{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/160\","
						 "\"pk\":[\"id\"],\"old\":{\"v\":1}}", &ev, &plan, err), SINK_MONGO_DOC_NO_KEY);
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	assert_int_equal(map("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/170\","
						 "\"new\":{\"v\":1}}", &ev, &plan, err), SINK_MONGO_DOC_ERROR);
	assert_string_equal(err, "mongo: change records lack \"pk\": the mirror needs the plugin's include-pk=true");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	/* a value BSON cannot take names the collection and the change */
	assert_int_equal(map("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/1A0\","
						 "\"pk\":[\"id\"],\"types\":{\"id\":\"integer\",\"d\":\"date\"},"
						 "\"new\":{\"id\":1,\"d\":\"not a date\"}}", &ev, &plan, err), SINK_MONGO_DOC_ERROR);
	assert_non_null(strstr(err, "mongo: collection \"t\": change at LSN 1A0: "));
	assert_int_equal(plan.nops, 0);
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

/* The collection: a table's map entry, else the template; entry_id. */
static void
test_collections(void **state)
{
	char	   *argv[] = {"walcast-agent", "--mongo-uri", "mongodb://h/",
		"--mongo-collection", "{schema}_{table}", "--mongo-entry-id", "true",
	"--mongo-collection-map", "s.users=people", NULL};
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	load(9, argv);
	assert_int_equal(map("{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/100\","
						 "\"pk\":[\"id\"],\"new\":{\"id\":1}}", &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_string_equal(plan.coll, "s_t");
	assert_string_equal(plan.ops[0]->coll, "s_t");
	expect_op(&plan, 0, SINK_MONGO_REPLACE,
			  "{ \"_id\" : 1, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 256 } } }",
			  "{ \"_id\" : 1, \"entry_id\" : 1, \"id\" : 1, \"_walcast\" : { \"lsn\" : 256, \"commit_lsn\" : 0, \"seq\" : -1 } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);

	assert_int_equal(map("{\"action\":\"T\",\"schema\":\"s\",\"table\":\"users\",\"lsn\":\"0/100\"}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	assert_string_equal(plan.coll, "people");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

/* The document of a one-column insert of value (of type type), in buf. */
static const char *
value_doc(const char *type, const char *value, char *buf, size_t len)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		record[16384];
	char		err[512];

	snprintf(record, sizeof(record),
			 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/100\",\"commit_lsn\":\"0/200\","
			 "\"seq\":1,\"pk\":[\"id\"],\"types\":{\"id\":\"integer\",\"v\":\"%s\"},\"new\":{\"id\":1,\"v\":%s}}",
			 type, value);
	if (map(record, &ev, &plan, err) != SINK_MONGO_DOC_OK)
		fail_msg("%s", err);
	json(plan.ops[0]->doc, buf, len);
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
	return buf;
}

#define DOC_HEAD "{ \"_id\" : 1, \"id\" : 1, \"v\" : "
#define DOC_META "\"_walcast\" : { \"lsn\" : 256, \"commit_lsn\" : 512, \"seq\" : 1"

/*
 * json and jsonb values lose nothing (issue 12): numbers as --mongo-numeric
 * says unless they are int64s, and what BSON cannot hold as a document as
 * the value's JSON text, marked in _walcast.json.
 */
static void
test_values_lossless(void **state)
{
	static const struct
	{
		enum sink_mongo_numeric numeric;
		const char *type;
		const char *value;
		const char *doc;
	}			cases[] = {
		{SINK_MONGO_NUMERIC_DECIMAL128, "jsonb", "{\"big\":123456789012345678901234567890,\"i\":-5,\"l\":9223372036854775807}",
		DOC_HEAD "{ \"big\" : { \"$numberDecimal\" : \"123456789012345678901234567890\" }, \"i\" : -5, \"l\" : 9223372036854775807 }, " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_STRING, "jsonb", "{\"big\":123456789012345678901234567890}",
		DOC_HEAD "{ \"big\" : \"123456789012345678901234567890\" }, " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_DECIMAL128, "json", "[1e400,1E-400,-0,2.50,0.1]",
		DOC_HEAD "[ { \"$numberDecimal\" : \"1E+400\" }, { \"$numberDecimal\" : \"1E-400\" }, { \"$numberDecimal\" : \"-0\" }, "
		"{ \"$numberDecimal\" : \"2.50\" }, { \"$numberDecimal\" : \"0.1\" } ], " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "[1e400,-0,2.50]",
		DOC_HEAD "[ \"1e400\", \"-0\", \"2.50\" ], " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_DOUBLE, "json", "[2.50,-0]",
		DOC_HEAD "[ 2.5, -0.0 ], " DOC_META " } }"},
		/* more digits than Decimal128 holds: the exact text */
		{SINK_MONGO_NUMERIC_DECIMAL128, "jsonb", "1500000000000000000000000000000000000",
		DOC_HEAD "\"1500000000000000000000000000000000000\", " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_DECIMAL128, "numeric", "\"123456789.123456789123456789123456789123456789\"",
		DOC_HEAD "\"123456789.123456789123456789123456789123456789\", " DOC_META " } }"},
		/* numeric-data-types-as-string=false: a number, same rule */
		{SINK_MONGO_NUMERIC_DECIMAL128, "numeric", "12.50",
		DOC_HEAD "{ \"$numberDecimal\" : \"12.50\" }, " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "\"b\\u00e9\\t\"",
		DOC_HEAD "\"b\xc3\xa9\\t\", " DOC_META " } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "[\"a\\u0000b\"]",
		DOC_HEAD "\"[\\\"a\\\\u0000b\\\"]\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		/* what BSON cannot hold: the text, marked */
		{SINK_MONGO_NUMERIC_STRING, "json", "{\"a\":1,\"a\":2}",
		DOC_HEAD "\"{\\\"a\\\":1,\\\"a\\\":2}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "{\"x\":[{\"k\":1,\"m\":2,\"k\":3}]}",
		DOC_HEAD "\"{\\\"x\\\":[{\\\"k\\\":1,\\\"m\\\":2,\\\"k\\\":3}]}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "\"\\ud800\"",
		DOC_HEAD "\"\\\"\\\\ud800\\\"\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "jsonb", "{\"a.b\":1}",
		DOC_HEAD "\"{\\\"a.b\\\":1}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "jsonb", "{\"$x\":1}",
		DOC_HEAD "\"{\\\"$x\\\":1}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "{\"\":1}",
		DOC_HEAD "\"{\\\"\\\":1}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		{SINK_MONGO_NUMERIC_STRING, "json", "{\"a\\u0000\":1}",
		DOC_HEAD "\"{\\\"a\\\\u0000\\\":1}\", " DOC_META ", \"json\" : { \"v\" : true } } }"},
		/* a surrogate pair is a character */
		{SINK_MONGO_NUMERIC_STRING, "json", "\"\\ud83d\\ude00\"",
		DOC_HEAD "\"\xf0\x9f\x98\x80\", " DOC_META " } }"},
	};
	char		buf[16384];
	char		deep[6 * 1000 + 2];
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		conv.numeric = cases[i].numeric;
		assert_string_equal(value_doc(cases[i].type, cases[i].value, buf, sizeof(buf)),
							cases[i].doc);
	}
	conv.numeric = SINK_MONGO_NUMERIC_STRING;

	/* nesting: 98 levels are a document, 99 and 1,000 the text */
	for (int levels = 98; levels <= 1000; levels += levels == 98 ? 1 : 901)
	{
		size_t		n = 0;

		for (int l = 0; l < levels; l++)
			n += (size_t) snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
		deep[n++] = '1';
		memset(deep + n, '}', (size_t) levels);
		deep[n + (size_t) levels] = '\0';
		value_doc("jsonb", deep, buf, sizeof(buf));
		if (levels == 98)
			assert_null(strstr(buf, "\"json\""));
		else
		{
			/* the text, its quotes escaped in the document's JSON */
			assert_non_null(strstr(buf, ", \"json\" : { \"v\" : true } } }"));
			assert_int_equal(strncmp(buf, DOC_HEAD "\"{\\\"a\\\":{", strlen(DOC_HEAD) + 9), 0);
		}
	}
}

/*
 * A bytea longer than 48 bytes, in base64 (the plugin's default) and in
 * hex: the same bytes in the document.  The base64 decoder once wrote
 * past a buffer sized for hex (found by test/fuzz_record; a heap overflow
 * that AddressSanitizer reports under make test SANITIZE=address).
 */
static void
test_bytea_long(void **state)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[300];
	char		in_b64[420];
	char		in_hex[620];
	char		value[640];
	char		want[1024];
	char		buf[4096];
	size_t		n = 0;

	(void) state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char) (i * 7 + 3);
	for (size_t i = 0; i < sizeof(raw); i += 3)
	{
		uint32_t	v = ((uint32_t) raw[i] << 16) | ((uint32_t) raw[i + 1] << 8) | raw[i + 2];

		for (int k = 3; k >= 0; k--)
			in_b64[n++] = b64[(v >> (6 * k)) & 63];
	}
	in_b64[n] = '\0';
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(in_hex + 2 * i, 3, "%02x", raw[i]);
	snprintf(want, sizeof(want),
			 DOC_HEAD "{ \"$binary\" : { \"base64\" : \"%s\", \"subType\" : \"00\" } }, " DOC_META " } }",
			 in_b64);

	snprintf(value, sizeof(value), "\"%s\"", in_b64);
	assert_string_equal(value_doc("bytea", value, buf, sizeof(buf)), want);
	conv.bytea_hex = true;
	snprintf(value, sizeof(value), "\"%s\"", in_hex);
	assert_string_equal(value_doc("bytea", value, buf, sizeof(buf)), want);
	conv.bytea_hex = false;
}

/* An update clears the mark of a column that is a value again. */
static void
test_text_mark_cleared(void **state)
{
	struct event ev;
	struct sink_mongo_doc_plan plan;
	char		err[512];

	(void) state;
	assert_int_equal(map("{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"0/110\","
						 "\"commit_lsn\":\"0/200\",\"seq\":2,\"pk\":[\"id\"],"
						 "\"types\":{\"id\":\"integer\",\"v\":\"text\",\"j\":\"json\",\"d\":\"json\"},"
						 "\"new\":{\"id\":1,\"v\":\"b\",\"j\":{\"a\":1},\"d\":{\"a\":1,\"a\":1}}}",
						 &ev, &plan, err), SINK_MONGO_DOC_OK);
	expect_op(&plan, 0, SINK_MONGO_UPDATE,
			  "{ \"_id\" : 1, \"_walcast.lsn\" : { \"$not\" : { \"$gte\" : 272 } } }",
			  "{ \"$set\" : { \"id\" : 1, \"v\" : \"b\", \"j\" : { \"a\" : 1 }, \"d\" : \"{\\\"a\\\":1,\\\"a\\\":1}\", "
			  "\"_walcast.lsn\" : 272, \"_walcast.commit_lsn\" : 512, \"_walcast.seq\" : 2, \"_walcast.json.d\" : true }, "
			  "\"$unset\" : { \"_walcast.json.j\" : \"\" } }");
	sink_mongo_doc_plan_free(&plan);
	event_free(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_values_lossless),
		cmocka_unit_test(test_bytea_long),
		cmocka_unit_test(test_text_mark_cleared),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_moved_row),
		cmocka_unit_test(test_delete_truncate),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_no_key_and_errors),
		cmocka_unit_test(test_collections),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
