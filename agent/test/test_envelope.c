/*
 * test_envelope.c
 *		Unit tests of envelope.c: the three envelopes for every operation,
 *		the initial load's reads included, byte-exact, plus composite keys,
 *		unchanged TOAST columns, reals and error cases; and the event's id
 *		that --batch window bodies carry.
 */
#define _POSIX_C_SOURCE 200809L	/* strndup */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "walcast_record.h"

#define NOW 1700000000000LL
#define TS "\"ts\":\"2026-11-21T06:30:00.123456Z\""
#define TS_MS "1795242600123"
#define SOURCE_HEAD "\"source\":{\"version\":\"walcast-0.1.0\",\"connector\":\"postgresql\",\"name\":\"walcast\","

static const char *const INS =
"{\"action\":\"I\",\"xid\":745,\"lsn\":\"0/1000\",\"commit_lsn\":\"0/2000\"," TS ",\"seq\":1,"
"\"schema\":\"public\",\"table\":\"orders\",\"new\":{\"id\":1,\"price\":0.1,\"note\":\"a\\\"b\\u00e9\"},"
"\"identity\":\"default\",\"pk\":[\"id\"]}";

/* key changed (old carries it), "note" is unchanged TOAST */
static const char *const UPD =
"{\"action\":\"U\",\"xid\":745,\"lsn\":\"0/1001\",\"commit_lsn\":\"0/2000\"," TS ",\"seq\":2,"
"\"schema\":\"public\",\"table\":\"orders\",\"new\":{\"id\":2,\"price\":1.5},\"unchanged\":[\"note\"],"
"\"old\":{\"id\":1},\"identity\":\"default\",\"pk\":[\"id\"]}";

static const char *const DEL =
"{\"action\":\"D\",\"xid\":746,\"lsn\":\"0/3000\",\"commit_lsn\":\"0/4000\"," TS ",\"seq\":1,"
"\"schema\":\"s\",\"table\":\"lines\",\"old\":{\"order_id\":7,\"line\":2},\"identity\":\"default\","
"\"pk\":[\"order_id\",\"line\"]}";

static const char *const TRUNC =
"{\"action\":\"T\",\"xid\":747,\"lsn\":\"0/5000\",\"commit_lsn\":\"0/6000\"," TS ",\"seq\":1,"
"\"schema\":\"s\",\"table\":\"t\",\"cascade\":false,\"restart_identity\":false}";

static const char *const MSG =
"{\"action\":\"M\",\"lsn\":\"0/7000\",\"transactional\":false,\"prefix\":\"hb\",\"content\":\"hello\"}";

static const char *const MSG_BIN =
"{\"action\":\"M\",\"xid\":748,\"lsn\":\"0/8000\",\"commit_lsn\":\"0/9000\"," TS ",\"seq\":1,"
"\"transactional\":true,\"prefix\":\"bin\",\"content_base64\":\"AAEC\"}";

/* A snapshot row: the consistent point, no transaction fields. */
static const char *const READ =
"{\"action\":\"L\",\"lsn\":\"0/1D89ED50\",\"schema\":\"public\",\"table\":\"a\","
"\"pk\":[\"id\"],\"new\":{\"id\":1,\"v\":\"v1\"}}";

/* Render json with kind; returns a NUL-terminated copy (caller frees) or NULL with err. */
static char *
render(enum envelope_kind kind, const char *json, char *err)
{
	struct event ev;
	size_t		len = 0;
	char	   *out;
	char	   *s = NULL;

	assert_true(walcast_record_parse(&ev, json, strlen(json), err, 256));
	out = envelope_render_at(kind, &ev, NOW, &len, err, 256);
	if (out != NULL)
	{
		s = malloc(len + 1);
		memcpy(s, out, len);
		s[len] = '\0';
		assert_int_equal(strlen(s), len);
		free(out);
	}
	event_free(&ev);
	return s;
}

static void
expect(enum envelope_kind kind, const char *json, const char *want)
{
	char		err[256] = "";
	char	   *got = render(kind, json, err);

	if (got == NULL)
		fail_msg("render failed: %s", err);
	assert_string_equal(got, want);
	free(got);
}

static void
expect_error(enum envelope_kind kind, const char *json, const char *want)
{
	char		err[256] = "";

	assert_null(render(kind, json, err));
	assert_string_equal(err, want);
}

static void
test_kind_names(void **state)
{
	enum envelope_kind k;

	(void) state;
	assert_true(envelope_kind_parse("native", &k) && k == ENVELOPE_NATIVE);
	assert_true(envelope_kind_parse("debezium", &k) && k == ENVELOPE_DEBEZIUM);
	assert_true(envelope_kind_parse("flat", &k) && k == ENVELOPE_FLAT);
	assert_false(envelope_kind_parse("Flat", &k));
	assert_false(envelope_kind_parse("", &k));
	assert_string_equal(envelope_kind_name(ENVELOPE_NATIVE), "native");
	assert_string_equal(envelope_kind_name(ENVELOPE_DEBEZIUM), "debezium");
	assert_string_equal(envelope_kind_name(ENVELOPE_FLAT), "flat");
}

static void
test_native(void **state)
{
	const char *const all[] = {INS, UPD, DEL, TRUNC, MSG, MSG_BIN, READ};

	(void) state;
	/* The record's bytes, unchanged (even its spelling of reals and escapes). */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		expect(ENVELOPE_NATIVE, all[i], all[i]);
	expect(ENVELOPE_NATIVE, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"x\":1.10}}",
		   "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"x\":1.10}}");
}

static void
test_debezium(void **state)
{
	(void) state;
	expect(ENVELOPE_DEBEZIUM, INS,
		   "{\"before\":null,\"after\":{\"id\":1,\"price\":0.1,\"note\":\"a\\\"b\\u00e9\"},"
		   SOURCE_HEAD "\"ts_ms\":" TS_MS ",\"snapshot\":\"false\",\"schema\":\"public\","
		   "\"table\":\"orders\",\"txId\":745,\"lsn\":4096,\"sequence\":\"[null,\\\"4096\\\"]\"},"
		   "\"op\":\"c\",\"ts_ms\":1700000000000}");
	expect(ENVELOPE_DEBEZIUM, UPD,
		   "{\"before\":{\"id\":1},\"after\":{\"id\":2,\"price\":1.5},"
		   SOURCE_HEAD "\"ts_ms\":" TS_MS ",\"snapshot\":\"false\",\"schema\":\"public\","
		   "\"table\":\"orders\",\"txId\":745,\"lsn\":4097,\"sequence\":\"[null,\\\"4097\\\"]\"},"
		   "\"op\":\"u\",\"ts_ms\":1700000000000,\"unchanged\":[\"note\"]}");
	expect(ENVELOPE_DEBEZIUM, DEL,
		   "{\"before\":{\"order_id\":7,\"line\":2},\"after\":null,"
		   SOURCE_HEAD "\"ts_ms\":" TS_MS ",\"snapshot\":\"false\",\"schema\":\"s\","
		   "\"table\":\"lines\",\"txId\":746,\"lsn\":12288,\"sequence\":\"[null,\\\"12288\\\"]\"},"
		   "\"op\":\"d\",\"ts_ms\":1700000000000}");
	expect(ENVELOPE_DEBEZIUM, TRUNC,
		   "{\"before\":null,\"after\":null,"
		   SOURCE_HEAD "\"ts_ms\":" TS_MS ",\"snapshot\":\"false\",\"schema\":\"s\","
		   "\"table\":\"t\",\"txId\":747,\"lsn\":20480,\"sequence\":\"[null,\\\"20480\\\"]\"},"
		   "\"op\":\"t\",\"ts_ms\":1700000000000}");
	/* non-transactional message: no commit timestamp, so source.ts_ms is now */
	expect(ENVELOPE_DEBEZIUM, MSG,
		   "{" SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"schema\":\"\","
		   "\"table\":\"\",\"txId\":null,\"lsn\":28672,\"sequence\":\"[null,\\\"28672\\\"]\"},"
		   "\"op\":\"m\",\"ts_ms\":1700000000000,\"message\":{\"prefix\":\"hb\",\"content\":\"aGVsbG8=\"}}");
	expect(ENVELOPE_DEBEZIUM, MSG_BIN,
		   "{" SOURCE_HEAD "\"ts_ms\":" TS_MS ",\"snapshot\":\"false\",\"schema\":\"\","
		   "\"table\":\"\",\"txId\":748,\"lsn\":32768,\"sequence\":\"[null,\\\"32768\\\"]\"},"
		   "\"op\":\"m\",\"ts_ms\":1700000000000,\"message\":{\"prefix\":\"bin\",\"content\":\"AAEC\"}}");
}

/*
 * Debezium's snapshot read: op "r", no before, source.snapshot "true", the
 * consistent point as source.lsn; no commit, so no txId and source.ts_ms
 * is the time of publishing (as Debezium's snapshot events have).
 */
static void
test_debezium_read(void **state)
{
	(void) state;
	expect(ENVELOPE_DEBEZIUM, READ,
		   "{\"before\":null,\"after\":{\"id\":1,\"v\":\"v1\"},"
		   SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"true\",\"schema\":\"public\","
		   "\"table\":\"a\",\"txId\":null,\"lsn\":495578448,\"sequence\":\"[null,\\\"495578448\\\"]\"},"
		   "\"op\":\"r\",\"ts_ms\":1700000000000}");
	/* the same row inserted: only op, snapshot, txId and times differ */
	expect(ENVELOPE_DEBEZIUM,
		   "{\"action\":\"I\",\"xid\":7,\"lsn\":\"0/1D89ED50\",\"commit_lsn\":\"0/1D89EE00\","
		   "\"seq\":1,\"schema\":\"public\",\"table\":\"a\",\"pk\":[\"id\"],\"new\":{\"id\":1,\"v\":\"v1\"}}",
		   "{\"before\":null,\"after\":{\"id\":1,\"v\":\"v1\"},"
		   SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"schema\":\"public\","
		   "\"table\":\"a\",\"txId\":7,\"lsn\":495578448,\"sequence\":\"[null,\\\"495578448\\\"]\"},"
		   "\"op\":\"c\",\"ts_ms\":1700000000000}");
}

/* Flat: the row, __op "read", the key as entry_id (composite: an object). */
static void
test_flat_read(void **state)
{
	(void) state;
	expect(ENVELOPE_FLAT, READ,
		   "{\"type\":\"a\",\"entry_id\":1,\"id\":1,\"v\":\"v1\",\"__schema\":\"public\","
		   "\"__op\":\"read\",\"__deleted\":false}");
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"L\",\"lsn\":\"0/10\",\"schema\":\"s\",\"table\":\"comp\","
		   "\"pk\":[\"a\",\"b\"],\"new\":{\"b\":\"k1\",\"a\":1,\"v\":null}}",
		   "{\"type\":\"comp\",\"entry_id\":{\"a\":1,\"b\":\"k1\"},\"b\":\"k1\",\"a\":1,\"v\":null,"
		   "\"__schema\":\"s\",\"__op\":\"read\",\"__deleted\":false}");
	expect_error(ENVELOPE_FLAT,
				 "{\"action\":\"L\",\"lsn\":\"0/10\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"id\":1}}",
				 "record has no \"pk\" (the flat envelope needs the plugin option include-pk=true)");
}

static void
test_debezium_edges(void **state)
{
	(void) state;
	/* REPLICA IDENTITY NOTHING: before is null; no lsn/xid/ts options */
	expect(ENVELOPE_DEBEZIUM,
		   "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"old\":null,\"identity\":\"nothing\"}",
		   "{\"before\":null,\"after\":null," SOURCE_HEAD "\"ts_ms\":1700000000000,"
		   "\"snapshot\":\"false\",\"schema\":\"s\",\"table\":\"t\",\"txId\":null,\"lsn\":null,"
		   "\"sequence\":\"[null,null]\"},\"op\":\"d\",\"ts_ms\":1700000000000}");
	/* update without old (key unchanged): before null */
	expect(ENVELOPE_DEBEZIUM,
		   "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":[1,{\"b\":null}]},\"ts\":\"2000-02-29T23:59:59Z\"}",
		   "{\"before\":null,\"after\":{\"a\":[1,{\"b\":null}]}," SOURCE_HEAD "\"ts_ms\":951868799000,"
		   "\"snapshot\":\"false\",\"schema\":\"s\",\"table\":\"t\",\"txId\":null,\"lsn\":null,"
		   "\"sequence\":\"[null,null]\"},\"op\":\"u\",\"ts_ms\":1700000000000}");
	/* base64 padding of 1, 2 and 3 bytes */
	expect(ENVELOPE_DEBEZIUM, "{\"action\":\"M\",\"transactional\":false,\"prefix\":\"\",\"content\":\"a\"}",
		   "{" SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"schema\":\"\",\"table\":\"\","
		   "\"txId\":null,\"lsn\":null,\"sequence\":\"[null,null]\"},\"op\":\"m\",\"ts_ms\":1700000000000,"
		   "\"message\":{\"prefix\":\"\",\"content\":\"YQ==\"}}");
	expect(ENVELOPE_DEBEZIUM, "{\"action\":\"M\",\"transactional\":false,\"prefix\":\"\",\"content\":\"ab\"}",
		   "{" SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"schema\":\"\",\"table\":\"\","
		   "\"txId\":null,\"lsn\":null,\"sequence\":\"[null,null]\"},\"op\":\"m\",\"ts_ms\":1700000000000,"
		   "\"message\":{\"prefix\":\"\",\"content\":\"YWI=\"}}");
	expect(ENVELOPE_DEBEZIUM, "{\"action\":\"M\",\"transactional\":false,\"prefix\":\"\",\"content\":\"abc\"}",
		   "{" SOURCE_HEAD "\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"schema\":\"\",\"table\":\"\","
		   "\"txId\":null,\"lsn\":null,\"sequence\":\"[null,null]\"},\"op\":\"m\",\"ts_ms\":1700000000000,"
		   "\"message\":{\"prefix\":\"\",\"content\":\"YWJj\"}}");
	expect_error(ENVELOPE_DEBEZIUM,
				 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{},\"ts\":\"2026-11-21 06:30:00\"}",
				 "field \"ts\" is not an ISO 8601 UTC timestamp");
}

static void
test_flat(void **state)
{
	(void) state;
	expect(ENVELOPE_FLAT, INS,
		   "{\"type\":\"orders\",\"entry_id\":1,\"id\":1,\"price\":0.1,\"note\":\"a\\\"b\\u00e9\","
		   "\"__schema\":\"public\",\"__op\":\"insert\",\"__deleted\":false}");
	expect(ENVELOPE_FLAT, UPD,
		   "{\"type\":\"orders\",\"entry_id\":2,\"__old_entry_id\":1,\"id\":2,\"price\":1.5,"
		   "\"__schema\":\"public\",\"__op\":\"update\",\"__deleted\":false,\"__unchanged\":[\"note\"]}");
	expect(ENVELOPE_FLAT, DEL,
		   "{\"type\":\"lines\",\"entry_id\":{\"order_id\":7,\"line\":2},\"order_id\":7,\"line\":2,"
		   "\"__schema\":\"s\",\"__op\":\"delete\",\"__deleted\":true}");
	expect(ENVELOPE_FLAT, TRUNC,
		   "{\"type\":\"t\",\"entry_id\":null,\"__schema\":\"s\",\"__op\":\"truncate\",\"__deleted\":true}");
	expect(ENVELOPE_FLAT, MSG,
		   "{\"prefix\":\"hb\",\"transactional\":false,\"content\":\"hello\",\"__op\":\"message\"}");
	expect(ENVELOPE_FLAT, MSG_BIN,
		   "{\"prefix\":\"bin\",\"transactional\":true,\"content_base64\":\"AAEC\",\"__op\":\"message\"}");
}

static void
test_flat_keys(void **state)
{
	(void) state;
	/* composite key on insert, in pk order (not column order) */
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"b\":\"x\",\"a\":1,\"v\":true},\"pk\":[\"a\",\"b\"]}",
		   "{\"type\":\"t\",\"entry_id\":{\"a\":1,\"b\":\"x\"},\"b\":\"x\",\"a\":1,\"v\":true,"
		   "\"__schema\":\"s\",\"__op\":\"insert\",\"__deleted\":false}");
	/* update, key unchanged, identity FULL: no __old_entry_id */
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"id\":5,\"v\":2},"
		   "\"old\":{\"id\":5,\"v\":1},\"identity\":\"full\",\"pk\":[\"id\"]}",
		   "{\"type\":\"t\",\"entry_id\":5,\"id\":5,\"v\":2,\"__schema\":\"s\",\"__op\":\"update\",\"__deleted\":false}");
	/* composite key change */
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"a\":1,\"b\":3},"
		   "\"old\":{\"a\":1,\"b\":2},\"pk\":[\"a\",\"b\"]}",
		   "{\"type\":\"t\",\"entry_id\":{\"a\":1,\"b\":3},\"__old_entry_id\":{\"a\":1,\"b\":2},"
		   "\"a\":1,\"b\":3,\"__schema\":\"s\",\"__op\":\"update\",\"__deleted\":false}");
	/* key column unchanged TOAST in new: taken from old */
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"v\":1},\"unchanged\":[\"k\"],"
		   "\"old\":{\"k\":\"long\"},\"pk\":[\"k\"]}",
		   "{\"type\":\"t\",\"entry_id\":\"long\",\"v\":1,\"__schema\":\"s\",\"__op\":\"update\","
		   "\"__deleted\":false,\"__unchanged\":[\"k\"]}");
	/* no key (pk = []) and REPLICA IDENTITY NOTHING delete: still emitted */
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\",\"old\":null,\"identity\":\"nothing\",\"pk\":[]}",
		   "{\"type\":\"t\",\"entry_id\":null,\"__schema\":\"s\",\"__op\":\"delete\",\"__deleted\":true}");
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{\"v\":1},\"pk\":[]}",
		   "{\"type\":\"t\",\"entry_id\":null,\"v\":1,\"__schema\":\"s\",\"__op\":\"insert\",\"__deleted\":false}");
}

/*
 * Every value goes out as the plugin wrote it (issue 12): reals in their
 * shortest form, integers beyond 64 bits, exponents, -0, trailing zeros,
 * a json value's duplicate keys and escapes (\u0000, \u00e9, a lone
 * surrogate), deep nesting.
 */
static void
test_values_as_written(void **state)
{
	static const char *const values[] = {
		"0.1", "1e300", "100.0", "-0.0", "1.7976931348623157e308", "5e-324",
		"0.00001", "9223372036854775807", "\"NaN\"",
		"{\"big\":123456789012345678901234567890}", "-0", "1e400", "1E-400",
		"2.50", "{\"a\":1,\"a\":2}", "\"a\\u0000b\"", "\"\\u00e9\\/\\u001F\"",
		"\"\\ud800x\"", "[\"\\udc00\",\"\\ud83d\\ude00\"]",
		"150000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		"123456789.123456789123456789123456789123456789",
	};
	char		record[8192];
	char		want[8192];
	char		deep[2 * 1000 + 2];

	(void) state;
	for (size_t i = 0; i <= sizeof(values) / sizeof(values[0]); i++)
	{
		const char *v = values[i < sizeof(values) / sizeof(values[0]) ? i : 0];

		if (i == sizeof(values) / sizeof(values[0]))
		{
			/* 1,000 levels of arrays around a 0 */
			memset(deep, '[', 1000);
			deep[1000] = '0';
			memset(deep + 1001, ']', 1000);
			deep[2001] = '\0';
			v = deep;
		}
		snprintf(record, sizeof(record),
				 "{\"action\":\"I\",\"lsn\":\"0/10\",\"schema\":\"s\",\"table\":\"t\",\"pk\":[\"k\"],"
				 "\"new\":{\"k\":1,\"v\":%s}}", v);
		snprintf(want, sizeof(want),
				 "{\"type\":\"t\",\"entry_id\":1,\"k\":1,\"v\":%s,\"__schema\":\"s\","
				 "\"__op\":\"insert\",\"__deleted\":false}", v);
		expect(ENVELOPE_FLAT, record, want);
		snprintf(want, sizeof(want),
				 "{\"before\":null,\"after\":{\"k\":1,\"v\":%s},\"source\":{\"version\":\"walcast-0.1.0\","
				 "\"connector\":\"postgresql\",\"name\":\"walcast\",\"ts_ms\":1700000000000,\"snapshot\":\"false\","
				 "\"schema\":\"s\",\"table\":\"t\",\"txId\":null,\"lsn\":16,\"sequence\":\"[null,\\\"16\\\"]\"},"
				 "\"op\":\"c\",\"ts_ms\":1700000000000}", v);
		expect(ENVELOPE_DEBEZIUM, record, want);
		expect(ENVELOPE_NATIVE, record, record);
	}
}

/* A key column that is a json-ish value, and names with escapes, as written. */
static void
test_keys_as_written(void **state)
{
	(void) state;
	expect(ENVELOPE_FLAT,
		   "{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\",\"pk\":[\"a\\\"b\",\"c\"],"
		   "\"new\":{\"a\\\"b\":1e2,\"c\":\"\\u0041\"},\"old\":{\"a\\\"b\":100,\"c\":\"\\u0041\"}}",
		   "{\"type\":\"t\",\"entry_id\":{\"a\\\"b\":1e2,\"c\":\"\\u0041\"},"
		   "\"__old_entry_id\":{\"a\\\"b\":100,\"c\":\"\\u0041\"},\"a\\\"b\":1e2,\"c\":\"\\u0041\","
		   "\"__schema\":\"s\",\"__op\":\"update\",\"__deleted\":false}");
}

static void
test_errors(void **state)
{
	(void) state;
	expect_error(ENVELOPE_NATIVE, "{\"action\":\"B\"}", "begin records are not published");
	expect_error(ENVELOPE_DEBEZIUM, "{\"action\":\"C\"}", "commit records are not published");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"P\"}", "other records are not published");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"S\"}", "stream records are not published");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{}}",
				 "record has no \"pk\" (the flat envelope needs the plugin option include-pk=true)");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{},\"pk\":[1]}",
				 "field \"pk\" is not an array of column names");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":{},\"pk\":\"id\"}",
				 "field \"pk\" is not an array of column names");
	expect_error(ENVELOPE_FLAT, "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"t\",\"new\":[],\"pk\":[]}",
				 "field \"new\" is not an object");
	expect_error(ENVELOPE_FLAT,
				 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"ev\",\"new\":{\"id\":1,\"type\":\"x\"},\"pk\":[\"id\"]}",
				 "column \"type\" of s.ev collides with the flat envelope's field of that name (use the native or debezium envelope)");
	expect_error(ENVELOPE_FLAT,
				 "{\"action\":\"D\",\"schema\":\"s\",\"table\":\"ev\",\"old\":{\"__op\":1},\"pk\":[]}",
				 "column \"__op\" of s.ev collides with the flat envelope's field of that name (use the native or debezium envelope)");
}

static void
test_render_now(void **state)
{
	struct event ev;
	char		err[256];
	size_t		len;
	char	   *out;

	(void) state;
	assert_true(walcast_record_parse(&ev, INS, strlen(INS), err, sizeof(err)));
	out = envelope_render(ENVELOPE_DEBEZIUM, &ev, &len, err, sizeof(err));
	assert_non_null(out);
	/* the clock is real here: only check the shape */
	assert_true(len > 0 && out[0] == '{' && out[len - 1] == '}');
	free(out);
	event_free(&ev);
}

/* With the event's id (--batch window): last, in debezium and flat only. */
static char *
render_id(enum envelope_kind kind, const char *json, const char *id, char *err)
{
	struct event ev;
	size_t		len = 0;
	char	   *out;
	char	   *s = NULL;

	assert_true(walcast_record_parse(&ev, json, strlen(json), err, 256));
	out = envelope_render_id(kind, &ev, id, &len, err, 256);
	if (out != NULL)
	{
		s = strndup(out, len);
		free(out);
	}
	event_free(&ev);
	return s;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t		n = strlen(s);
	size_t		m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

static void
test_render_id(void **state)
{
	static const char *const COLLIDES =
		"{\"action\":\"I\",\"xid\":1,\"lsn\":\"0/1\",\"commit_lsn\":\"0/2\"," TS ",\"seq\":1,"
		"\"schema\":\"s\",\"table\":\"t\",\"new\":{\"__id\":1},\"pk\":[\"__id\"]}";
	char		err[256] = "";
	char	   *out;

	(void) state;
	out = render_id(ENVELOPE_DEBEZIUM, UPD, "0/2000:2", err);
	assert_non_null(out);
	assert_true(ends_with(out, ",\"unchanged\":[\"note\"],\"id\":\"0/2000:2\"}"));
	free(out);
	out = render_id(ENVELOPE_FLAT, INS, "0/2000:1", err);
	assert_non_null(out);
	assert_true(ends_with(out, ",\"__deleted\":false,\"__id\":\"0/2000:1\"}"));
	free(out);
	out = render_id(ENVELOPE_FLAT, MSG, "0/7000", err);
	assert_string_equal(out, "{\"prefix\":\"hb\",\"transactional\":false,\"content\":\"hello\",\"__op\":\"message\",\"__id\":\"0/7000\"}");
	free(out);
	/* native: the record, which has commit_lsn and seq, unchanged */
	out = render_id(ENVELOPE_NATIVE, INS, "0/2000:1", err);
	assert_string_equal(out, INS);
	free(out);
	/* a column named like the added field cannot be flattened */
	assert_null(render_id(ENVELOPE_FLAT, COLLIDES, "0/2:1", err));
	assert_string_equal(err, "column \"__id\" of s.t collides with the flat envelope's field of that name (use the native or debezium envelope)");
	/* without the id it can */
	expect(ENVELOPE_FLAT, COLLIDES,
		   "{\"type\":\"t\",\"entry_id\":1,\"__id\":1,\"__schema\":\"s\",\"__op\":\"insert\",\"__deleted\":false}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_debezium),
		cmocka_unit_test(test_debezium_edges),
		cmocka_unit_test(test_debezium_read),
		cmocka_unit_test(test_flat_read),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_flat_keys),
		cmocka_unit_test(test_values_as_written),
		cmocka_unit_test(test_keys_as_written),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_render_now),
		cmocka_unit_test(test_render_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
