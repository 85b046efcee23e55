/*
 * test_event.c
 *		Unit tests of events and walcast_record.c: every action, LSN edge cases, malformed
 *		records, message ids, and the initial load's read records ("L").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "walcast_record.h"

static bool
parse(struct event *ev, const char *json, char *err)
{
	return walcast_record_parse(ev, json, strlen(json), err, 256);
}

static void
test_actions(void **state)
{
	static const struct
	{
		const char *json;
		enum event_op op;
	}			cases[] = {
		{"{\"action\":\"B\",\"xid\":7,\"commit_lsn\":\"0/20\",\"seq\":0}", EVENT_BEGIN},
		{"{\"action\":\"C\",\"xid\":7,\"commit_lsn\":\"0/20\",\"end_lsn\":\"0/28\",\"seq\":2}", EVENT_COMMIT},
		{"{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{}}", EVENT_INSERT},
		{"{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"new\":{}}", EVENT_UPDATE},
		{"{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"old\":null}", EVENT_DELETE},
		{"{\"action\":\"T\",\"schema\":\"s\",\"table\":\"t\"}", EVENT_TRUNCATE},
		{"{\"action\":\"M\",\"transactional\":true,\"prefix\":\"p\"}", EVENT_MESSAGE},
		{"{\"action\":\"L\",\"schema\":\"s\",\"table\":\"t\",\"new\":{}}", EVENT_READ},
		{"{\"action\":\"S\",\"xid\":7}", EVENT_STREAM},
		{"{\"action\":\"E\"}", EVENT_STREAM},
		{"{\"action\":\"A\",\"xid\":7}", EVENT_STREAM},
		{"{\"action\":\"X\",\"xid\":7,\"end_lsn\":\"0/30\"}", EVENT_STREAM},
		{"{\"action\":\"P\"}", EVENT_OTHER},
		{"{\"action\":\"II\"}", EVENT_OTHER},
	};
	char		err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		struct event ev;

		assert_true(parse(&ev, cases[i].json, err));
		assert_int_equal(ev.op, cases[i].op);
		event_free(&ev);
	}
}

static void
test_fields(void **state)
{
	const char *json = "{\"action\":\"U\",\"xid\":745,\"lsn\":\"16/B374D848\","
		"\"commit_lsn\":\"16/B374D900\",\"ts\":\"2026-11-21T06:30:00.123456Z\","
		"\"seq\":3,\"schema\":\"public\",\"table\":\"orders\",\"new\":{\"id\":1}}";
	struct event ev;
	char		err[256];

	(void) state;
	assert_true(parse(&ev, json, err));
	assert_int_equal(ev.op, EVENT_UPDATE);
	assert_string_equal(ev.schema, "public");
	assert_string_equal(ev.table, "orders");
	assert_true(ev.lsn == 0x16B374D848ULL);
	assert_true(ev.commit_lsn == 0x16B374D900ULL);
	assert_true(ev.end_lsn == 0);
	assert_int_equal(ev.seq, 3);
	assert_int_equal(ev.xid, 745);
	assert_true(ev.transactional);
	assert_ptr_equal(ev.raw, json);
	assert_int_equal(ev.rawlen, strlen(json));
	event_free(&ev);
	assert_null(ev.rec);
	event_free(&ev);			/* idempotent */
}

static void
test_absent_fields(void **state)
{
	struct event ev;
	char		err[256];

	(void) state;
	assert_true(parse(&ev, "{\"action\":\"B\"}", err));
	assert_null(ev.schema);
	assert_null(ev.table);
	assert_true(ev.lsn == 0 && ev.commit_lsn == 0 && ev.end_lsn == 0);
	assert_int_equal(ev.seq, -1);
	assert_int_equal(ev.xid, -1);
	assert_true(ev.transactional);
	event_free(&ev);

	assert_true(parse(&ev, "{\"action\":\"C\",\"xid\":null,\"lsn\":null}", err));
	assert_int_equal(ev.xid, -1);
	event_free(&ev);
}

static void
test_message(void **state)
{
	struct event ev;
	char		err[256];
	char		id[EVENT_MESSAGE_ID_BUFLEN];

	(void) state;
	assert_true(parse(&ev, "{\"action\":\"M\",\"lsn\":\"0/16B6F80\",\"transactional\":false,"
					  "\"prefix\":\"hb\",\"content\":\"x\"}", err));
	assert_int_equal(ev.op, EVENT_MESSAGE);
	assert_false(ev.transactional);
	assert_int_equal(ev.xid, -1);
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "0/16B6F80");
	event_free(&ev);

	assert_true(parse(&ev, "{\"action\":\"M\",\"xid\":9,\"lsn\":\"0/100\",\"commit_lsn\":\"0/200\","
					  "\"seq\":4,\"transactional\":true,\"prefix\":\"p\",\"content\":\"\"}", err));
	assert_true(ev.transactional);
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "0/200:4");
	event_free(&ev);
}

static void
test_message_id(void **state)
{
	struct event ev;
	char		err[256];
	char		id[EVENT_MESSAGE_ID_BUFLEN];
	const char *json = "{\"action\":\"I\",\"lsn\":\"16/B374D848\",\"commit_lsn\":\"16/B374D900\","
		"\"seq\":12,\"schema\":\"s\",\"table\":\"t\",\"new\":{}}";

	(void) state;
	assert_true(parse(&ev, json, err));
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "16/B374D900:12");
	event_free(&ev);

	/* The same record replayed gives the same id. */
	assert_true(parse(&ev, json, err));
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "16/B374D900:12");
	event_free(&ev);

	/* Largest values fit the documented buffer. */
	assert_true(parse(&ev, "{\"action\":\"C\",\"commit_lsn\":\"FFFFFFFF/FFFFFFFF\","
					  "\"seq\":9223372036854775807}", err));
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "FFFFFFFF/FFFFFFFF:9223372036854775807");
	event_free(&ev);
}

/*
 * A snapshot row (docs/snapshot.md, "Events"): the consistent point in
 * lsn, no transaction fields, the id the load sets, a row change for the
 * checks that need schema and table.
 */
static void
test_read(void **state)
{
	const char *json = "{\"action\":\"L\",\"lsn\":\"0/1D89ED50\",\"schema\":\"public\","
		"\"table\":\"a\",\"pk\":[\"id\"],\"new\":{\"id\":1,\"v\":\"v1\"}}";
	struct event ev;
	char		err[256];
	char		id[EVENT_MESSAGE_ID_BUFLEN];
	char		longest[EVENT_MESSAGE_ID_BUFLEN + 1];
	char		name[64];

	(void) state;
	assert_true(parse(&ev, json, err));
	assert_int_equal(ev.op, EVENT_READ);
	assert_string_equal(event_op_name(ev.op), "read");
	assert_true(event_is_row_change(ev.op));
	assert_string_equal(ev.schema, "public");
	assert_string_equal(ev.table, "a");
	assert_true(ev.lsn == 0x1D89ED50ULL);
	assert_true(ev.commit_lsn == 0 && ev.end_lsn == 0);
	assert_int_equal(ev.seq, -1);
	assert_int_equal(ev.xid, -1);
	assert_true(ev.transactional);

	/* without the load's id, nothing tells two rows apart: the lsn alone */
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "0/1D89ED50");
	ev.message_id = "snapshot:0/1D89ED50:public.a:1";
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, "snapshot:0/1D89ED50:public.a:1");
	event_free(&ev);

	/* the longest id the load makes fits the documented buffer */
	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(longest, sizeof(longest), "snapshot:FFFFFFFF/FFFFFFFF:%s.%s:18446744073709551615",
			 name, name);
	assert_int_equal(strlen(longest) + 1, EVENT_MESSAGE_ID_BUFLEN);
	assert_true(parse(&ev, json, err));
	ev.message_id = longest;
	event_message_id(&ev, id, sizeof(id));
	assert_string_equal(id, longest);
	event_free(&ev);

	/* a read names its table, like every row change */
	assert_false(parse(&ev, "{\"action\":\"L\",\"lsn\":\"0/1\",\"table\":\"a\",\"new\":{}}", err));
	assert_string_equal(err, "read record has no \"schema\" or \"table\"");
	assert_false(parse(&ev, "{\"action\":\"L\",\"lsn\":\"0/1\",\"schema\":\"s\",\"new\":{}}", err));
	assert_string_equal(err, "read record has no \"schema\" or \"table\"");
	assert_false(parse(&ev, "{\"action\":\"L\",\"lsn\":\"1D89ED50\",\"schema\":\"s\",\"table\":\"t\"}", err));
	assert_string_equal(err, "field \"lsn\" is not an LSN (\"X/X\")");
	/* "LL" is no action this agent knows: skipped, not a read */
	assert_true(parse(&ev, "{\"action\":\"LL\",\"schema\":\"s\",\"table\":\"t\"}", err));
	assert_int_equal(ev.op, EVENT_OTHER);
	event_free(&ev);
}

static void
test_lsn_parse(void **state)
{
	static const struct
	{
		const char *s;
		bool		ok;
		uint64_t	v;
	}			cases[] = {
		{"0/0", true, 0},
		{"0/1", true, 1},
		{"16/B374D848", true, 0x16B374D848ULL},
		{"16/b374d848", true, 0x16B374D848ULL},
		{"FFFFFFFF/FFFFFFFF", true, UINT64_MAX},
		{"00000001/00000000", true, 0x100000000ULL},
		{"", false, 0},
		{"/", false, 0},
		{"1/", false, 0},
		{"/1", false, 0},
		{"1", false, 0},
		{"123456789/0", false, 0},
		{"0/123456789", false, 0},
		{"1/2x", false, 0},
		{" 1/2", false, 0},
		{"1/2 ", false, 0},
		{"-1/2", false, 0},
		{"+1/2", false, 0},
		{"1//2", false, 0},
		{"1/2/3", false, 0},
		{"G/0", false, 0},
		{"0x1/0", false, 0},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint64_t	v = 42;

		assert_int_equal(lsn_parse(cases[i].s, &v), cases[i].ok);
		if (cases[i].ok)
			assert_true(v == cases[i].v);
	}
	assert_false(lsn_parse(NULL, NULL));
}

static void
test_lsn_format(void **state)
{
	char		buf[LSN_BUFLEN];
	uint64_t	back;

	(void) state;
	lsn_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0/0");
	lsn_format(0x16B374D848ULL, buf, sizeof(buf));
	assert_string_equal(buf, "16/B374D848");
	lsn_format(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "FFFFFFFF/FFFFFFFF");
	assert_true(lsn_parse(buf, &back) && back == UINT64_MAX);
	lsn_format(0x100000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1/0");
}

static void
test_malformed(void **state)
{
	static const struct
	{
		const char *json;
		const char *err;
	}			cases[] = {
		{"", "invalid JSON at byte 0: input length is 0"},
		{"{\"action\":", "invalid JSON at byte 10: unexpected end of data"},
		{"{\"action\":\"B\"} {\"action\":\"C\"}", "invalid JSON at byte 15: unexpected content after document"},
		/* a json value keeps duplicate keys, the record's own fields may not */
		{"{\"action\":\"B\",\"action\":\"C\"}", "field \"action\" appears twice"},
		{"{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{},\"new\":{}}", "field \"new\" appears twice"},
		{"{\"action\":\"B\",\"seq\":01}", "invalid JSON at byte 20: number with leading zero is not allowed"},
		{"{\"action\":\"B\",\"xid\":99999999999999999999}", "field \"xid\" is not a non-negative integer"},
		{"{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":\"\\x\"}}", "invalid JSON at byte 52: invalid escaped character in string"},
		{"[1]", "record is not a JSON object"},
		{"{}", "record has no \"action\""},
		{"{\"action\":\"\"}", "record has no \"action\""},
		{"{\"action\":1}", "field \"action\" is not a string"},
		{"{\"action\":\"I\",\"table\":\"t\"}", "insert record has no \"schema\" or \"table\""},
		{"{\"action\":\"T\",\"schema\":\"s\"}", "truncate record has no \"schema\" or \"table\""},
		{"{\"action\":\"U\",\"schema\":1,\"table\":\"t\"}", "field \"schema\" is not a string"},
		{"{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"lsn\":\"zz\"}", "field \"lsn\" is not an LSN (\"X/X\")"},
		{"{\"action\":\"C\",\"end_lsn\":5}", "field \"end_lsn\" is not an LSN (\"X/X\")"},
		{"{\"action\":\"C\",\"commit_lsn\":\"1/2/3\"}", "field \"commit_lsn\" is not an LSN (\"X/X\")"},
		{"{\"action\":\"B\",\"seq\":-1}", "field \"seq\" is not a non-negative integer"},
		{"{\"action\":\"B\",\"seq\":1.5}", "field \"seq\" is not a non-negative integer"},
		{"{\"action\":\"B\",\"xid\":\"7\"}", "field \"xid\" is not a non-negative integer"},
		{"{\"action\":\"M\",\"prefix\":\"p\"}", "message record has no boolean \"transactional\""},
		{"{\"action\":\"M\",\"transactional\":\"yes\"}", "message record has no boolean \"transactional\""},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		struct event ev;
		char		err[256] = "";

		assert_false(parse(&ev, cases[i].json, err));
		assert_string_equal(err, cases[i].err);
		assert_null(ev.rec);
		event_free(&ev);
	}
}

static void
test_op_names(void **state)
{
	(void) state;
	assert_string_equal(event_op_name(EVENT_INSERT), "insert");
	assert_string_equal(event_op_name(EVENT_UPDATE), "update");
	assert_string_equal(event_op_name(EVENT_DELETE), "delete");
	assert_string_equal(event_op_name(EVENT_TRUNCATE), "truncate");
	assert_string_equal(event_op_name(EVENT_MESSAGE), "message");
	assert_string_equal(event_op_name(EVENT_BEGIN), "begin");
	assert_string_equal(event_op_name(EVENT_COMMIT), "commit");
	assert_string_equal(event_op_name(EVENT_OTHER), "other");
	assert_string_equal(event_op_name(EVENT_STREAM), "stream");
	assert_string_equal(event_op_name(EVENT_READ), "read");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_lsn_parse),
		cmocka_unit_test(test_lsn_format),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
