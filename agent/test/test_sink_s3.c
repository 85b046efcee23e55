/*
 * test_sink_s3.c
 *		Unit tests of the object-storage sink's pure parts: CSV rows and
 *		headers (sink_s3_row.c: NULL against "", quoting, the columns of
 *		"types", DELETE's key-only image, TRUNCATE, unchanged TOAST
 *		values, the timestamp column) and the s3:// URI (sink_s3_config.c).
 *		Requests and rounds run against a real store in
 *		regress/e2e/test_s3_sink.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sink_s3.h"
#include "walcast_record.h"

#define TS "\"ts\":\"2026-11-21T06:30:00.123456Z\""
#define TYPES "\"types\":{\"id\":\"integer\",\"note\":\"text\",\"doc\":\"jsonb\",\"ok\":\"boolean\"}"

static const char *const INS =
"{\"action\":\"I\",\"xid\":745,\"lsn\":\"0/1000\",\"commit_lsn\":\"0/2000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"new\":{\"id\":1,\"note\":\"a\\\"b,\\nc\\u00e9\","
"\"doc\":{\"k\":[1,\"x\"]},\"ok\":true}}";

static const char *const INS_EMPTY =
"{\"action\":\"I\",\"xid\":745,\"lsn\":\"0/1001\",\"commit_lsn\":\"0/2000\"," TS ",\"seq\":2,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"new\":{\"id\":2,\"note\":\"\",\"doc\":null,\"ok\":false}}";

static const char *const UPD_TOAST =
"{\"action\":\"U\",\"xid\":746,\"lsn\":\"0/3000\",\"commit_lsn\":\"0/4000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"new\":{\"id\":1,\"doc\":null,\"ok\":true},"
"\"unchanged\":[\"note\"],\"identity\":\"default\"}";

/* the key changed: old carries the old key */
static const char *const UPD_MOVED =
"{\"action\":\"U\",\"xid\":746,\"lsn\":\"0/3001\",\"commit_lsn\":\"0/4000\"," TS ",\"seq\":2,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"pk\":[\"id\"],\"new\":{\"id\":2,\"note\":\"n\",\"doc\":null,\"ok\":true},"
"\"old\":{\"id\":1},\"identity\":\"default\"}";

/* REPLICA IDENTITY FULL: old is the whole row, the key did not change */
static const char *const UPD_FULL =
"{\"action\":\"U\",\"xid\":746,\"lsn\":\"0/3002\",\"commit_lsn\":\"0/4000\"," TS ",\"seq\":3,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"pk\":[\"id\"],\"new\":{\"id\":2,\"note\":\"m\",\"doc\":null,\"ok\":true},"
"\"old\":{\"id\":2,\"note\":\"n\",\"doc\":null,\"ok\":true},\"identity\":\"full\"}";

static const char *const DEL =
"{\"action\":\"D\",\"xid\":747,\"lsn\":\"0/5000\",\"commit_lsn\":\"0/6000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"old\":{\"id\":1},\"identity\":\"default\"}";

static const char *const TRUNC =
"{\"action\":\"T\",\"xid\":748,\"lsn\":\"0/7000\",\"commit_lsn\":\"0/8000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"t\"," TYPES ",\"cascade\":false,\"restart_identity\":false}";

static const char *const READ =
"{\"action\":\"L\",\"lsn\":\"0/1D89ED50\",\"schema\":\"public\",\"table\":\"t\"," TYPES ","
"\"new\":{\"id\":9,\"note\":\"n\",\"doc\":[],\"ok\":null}}";

static const char *const NO_TYPES =
"{\"action\":\"I\",\"xid\":745,\"lsn\":\"0/1000\",\"commit_lsn\":\"0/2000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":1}}";

/* The CSV row of json (header when header is true), NUL-terminated. */
static char *
row(const char *json, const char *ts_column, bool header, int *unchanged)
{
	struct event ev;
	struct sink_s3_columns cols;
	struct strbuf out = {0};
	char		err[256];
	int			dummy;

	assert_true(walcast_record_parse(&ev, json, strlen(json), err, sizeof(err)));
	assert_true(sink_s3_columns_of(&ev, &cols));
	if (header)
		sink_s3_csv_header(&cols, ts_column, &out);
	assert_true(sink_s3_csv_row(&ev, &cols, ts_column, &out,
								unchanged != NULL ? unchanged : &dummy));
	sink_s3_columns_free(&cols);
	event_free(&ev);
	strbuf_add(&out, "", 1);
	assert_false(out.failed);
	return out.data;
}

static void
test_insert_quoting(void **state)
{
	char	   *s = row(INS, NULL, true, NULL);

	(void) state;
	/* strings always quoted, quotes doubled, newline kept inside quotes */
	assert_string_equal(s,
						"Op,\"id\",\"note\",\"doc\",\"ok\"\r\n"
						"I,1,\"a\"\"b,\nc\xc3\xa9\",\"{\"\"k\"\":[1,\"\"x\"\"]}\",true\r\n");
	free(s);
}

static void
test_null_is_not_empty(void **state)
{
	char	   *s = row(INS_EMPTY, NULL, false, NULL);

	(void) state;
	assert_string_equal(s, "I,2,\"\",,false\r\n");
	free(s);
}

static void
test_update_unchanged_toast(void **state)
{
	int			unchanged = -1;
	char	   *s = row(UPD_TOAST, NULL, false, &unchanged);

	(void) state;
	assert_string_equal(s, "U,1,,,true\r\n");
	assert_int_equal(unchanged, 1);
	free(s);
}

static void
test_update_moved_key(void **state)
{
	char	   *s = row(UPD_MOVED, NULL, false, NULL);
	char	   *f = row(UPD_FULL, NULL, false, NULL);

	(void) state;
	/* the old key's row is deleted first, so a rebuild keeps one row */
	assert_string_equal(s, "D,1,,,\r\nU,2,\"n\",,true\r\n");
	assert_string_equal(f, "U,2,\"m\",,true\r\n");
	free(s);
	free(f);
}

static void
test_delete_key_only(void **state)
{
	int			unchanged = -1;
	char	   *s = row(DEL, NULL, false, &unchanged);

	(void) state;
	assert_string_equal(s, "D,1,,,\r\n");
	assert_int_equal(unchanged, 0);
	free(s);
}

static void
test_truncate_all_null(void **state)
{
	char	   *s = row(TRUNC, NULL, false, NULL);

	(void) state;
	assert_string_equal(s, "T,,,,\r\n");
	free(s);
}

static void
test_read_is_insert(void **state)
{
	char	   *s = row(READ, NULL, false, NULL);

	(void) state;
	assert_string_equal(s, "I,9,\"n\",\"[]\",\r\n");
	free(s);
}

static void
test_timestamp_column(void **state)
{
	char	   *s = row(INS_EMPTY, "commit_ts", true, NULL);
	char	   *r = row(READ, "commit_ts", false, NULL);

	(void) state;
	assert_string_equal(s,
						"Op,\"commit_ts\",\"id\",\"note\",\"doc\",\"ok\"\r\n"
						"I,2026-11-21T06:30:00.123456Z,2,\"\",,false\r\n");
	/* a load's row has no commit time */
	assert_string_equal(r, "I,,9,\"n\",\"[]\",\r\n");
	free(s);
	free(r);
}

static void
test_columns_need_types(void **state)
{
	struct event ev;
	struct sink_s3_columns cols;
	char		err[256];

	(void) state;
	assert_true(walcast_record_parse(&ev, NO_TYPES, strlen(NO_TYPES), err, sizeof(err)));
	assert_false(sink_s3_columns_of(&ev, &cols));
	event_free(&ev);
}

static void
test_uri(void **state)
{
	char	   *bucket;
	char	   *prefix;
	char		msg[256];

	(void) state;
	assert_true(sink_s3_parse_uri("s3://lake/cdc/prod", &bucket, &prefix, msg, sizeof(msg)));
	assert_string_equal(bucket, "lake");
	assert_string_equal(prefix, "cdc/prod/");
	free(bucket);
	free(prefix);
	assert_true(sink_s3_parse_uri("s3://lake", &bucket, &prefix, msg, sizeof(msg)));
	assert_string_equal(prefix, "");
	free(bucket);
	free(prefix);
	assert_true(sink_s3_parse_uri("s3://lake/x/", &bucket, &prefix, msg, sizeof(msg)));
	assert_string_equal(prefix, "x/");
	free(bucket);
	free(prefix);

	assert_false(sink_s3_parse_uri("http://lake/x", &bucket, &prefix, msg, sizeof(msg)));
	assert_false(sink_s3_parse_uri("lake/x", &bucket, &prefix, msg, sizeof(msg)));
	/* credentials never go in the URI (they would be logged) */
	assert_false(sink_s3_parse_uri("s3://key:secret@lake/x", &bucket, &prefix, msg, sizeof(msg)));
	assert_null(strstr(msg, "secret"));
	assert_false(sink_s3_parse_uri("s3://lake/x?versionId=1", &bucket, &prefix, msg, sizeof(msg)));
	assert_null(bucket);
	assert_null(prefix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_quoting),
		cmocka_unit_test(test_null_is_not_empty),
		cmocka_unit_test(test_update_unchanged_toast),
		cmocka_unit_test(test_update_moved_key),
		cmocka_unit_test(test_delete_key_only),
		cmocka_unit_test(test_truncate_all_null),
		cmocka_unit_test(test_read_is_insert),
		cmocka_unit_test(test_timestamp_column),
		cmocka_unit_test(test_columns_need_types),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
