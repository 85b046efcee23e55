/*
 * test_route.c
 *		Unit tests of route.c: default and custom templates, compile errors,
 *		values for logical messages, {partition}, the 255-byte limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "walcast_record.h"

static void
load(struct event *ev, const char *json)
{
	char		err[256];

	assert_true(walcast_record_parse(ev, json, strlen(json), err, sizeof(err)));
}

static char *
render(const char *tmpl, const char *json, char *buf, size_t len)
{
	struct route_template *t;
	struct event ev;
	char		err[256];
	bool		ok;

	t = route_compile(tmpl, err, sizeof(err));
	assert_non_null(t);
	load(&ev, json);
	ok = route_render(t, &ev, -1, buf, len);
	event_free(&ev);
	route_free(t);
	return ok ? buf : NULL;
}

#define INSERT "{\"action\":\"I\",\"xid\":745,\"schema\":\"public\",\"table\":\"orders\",\"new\":{}}"

static void
test_default(void **state)
{
	static const struct
	{
		const char *json;
		const char *key;
	}			cases[] = {
		{INSERT, "public.orders.insert"},
		{"{\"action\":\"U\",\"schema\":\"s\",\"table\":\"t\"}", "s.t.update"},
		{"{\"action\":\"D\",\"schema\":\"s\",\"table\":\"t\"}", "s.t.delete"},
		{"{\"action\":\"T\",\"schema\":\"s\",\"table\":\"t\"}", "s.t.truncate"},
		/* messages: "_" for the schema, the prefix as the table */
		{"{\"action\":\"M\",\"transactional\":true,\"prefix\":\"audit\"}", "_.audit.message"},
		{"{\"action\":\"M\",\"transactional\":false,\"prefix\":\"\"}", "_._.message"},
		{"{\"action\":\"B\"}", "_._.begin"},
		/* the initial load's rows (docs/snapshot.md) */
		{"{\"action\":\"L\",\"lsn\":\"0/10\",\"schema\":\"public\",\"table\":\"a\",\"new\":{}}",
		"public.a.read"},
	};
	char		buf[ROUTE_KEY_BUFLEN];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(render(ROUTE_DEFAULT_TEMPLATE, cases[i].json, buf, sizeof(buf)),
							cases[i].key);
}

static void
test_custom(void **state)
{
	char		buf[ROUTE_KEY_BUFLEN];

	(void) state;
	assert_string_equal(render("cdc.{table}", INSERT, buf, sizeof(buf)), "cdc.orders");
	assert_string_equal(render("{op}-{xid}/{schema}{table}", INSERT, buf, sizeof(buf)),
						"insert-745/publicorders");
	assert_string_equal(render("fixed", INSERT, buf, sizeof(buf)), "fixed");
	assert_string_equal(render("", INSERT, buf, sizeof(buf)), "");
	assert_string_equal(render("{table}{table}", INSERT, buf, sizeof(buf)), "ordersorders");
	/* a read has no transaction: {xid} is "_" */
	assert_string_equal(render("{op}.{xid}", "{\"action\":\"L\",\"schema\":\"s\",\"table\":\"t\"}",
							   buf, sizeof(buf)), "read._");
	/* no xid (non-transactional message) */
	assert_string_equal(render("x.{xid}", "{\"action\":\"M\",\"transactional\":false,\"prefix\":\"p\"}",
							   buf, sizeof(buf)), "x._");
}

/* {partition} renders what the caller passes; a binding key needs no event. */
static void
test_partition(void **state)
{
	struct route_template *t;
	struct event ev;
	char		buf[ROUTE_KEY_BUFLEN];
	char		err[256];

	(void) state;
	t = route_compile("cdc.{partition}", err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(route_uses(t), ROUTE_USES_PARTITION);
	load(&ev, INSERT);
	assert_true(route_render(t, &ev, 3, buf, sizeof(buf)));
	assert_string_equal(buf, "cdc.3");
	assert_true(route_render(t, &ev, -1, buf, sizeof(buf)));
	assert_string_equal(buf, "cdc._");
	assert_true(route_render(t, NULL, 1023, buf, sizeof(buf)));
	assert_string_equal(buf, "cdc.1023");
	event_free(&ev);
	route_free(t);

	t = route_compile("{partition}.{table}", err, sizeof(err));
	assert_int_equal(route_uses(t), ROUTE_USES_PARTITION | ROUTE_USES_EVENT);
	/* without an event, its values are absent */
	assert_true(route_render(t, NULL, 0, buf, sizeof(buf)));
	assert_string_equal(buf, "0._");
	route_free(t);

	t = route_compile(ROUTE_DEFAULT_TEMPLATE, err, sizeof(err));
	assert_int_equal(route_uses(t), ROUTE_USES_EVENT);
	route_free(t);
	t = route_compile("fixed", err, sizeof(err));
	assert_int_equal(route_uses(t), 0);
	route_free(t);
}

static void
test_errors(void **state)
{
	static const struct
	{
		const char *tmpl;
		const char *err;
	}			cases[] = {
		{"{schema}.{tabel}", "unknown placeholder \"{tabel}\" (use {schema}, {table}, {op}, {xid} or {partition})"},
		{"{}", "unknown placeholder \"{}\" (use {schema}, {table}, {op}, {xid} or {partition})"},
		{"{SCHEMA}", "unknown placeholder \"{SCHEMA}\" (use {schema}, {table}, {op}, {xid} or {partition})"},
		{"a.{schema", "unbalanced \"{\" at offset 2"},
		{"{sch{ema}", "unbalanced \"{\" at offset 0"},
		{"a}b", "unbalanced \"}\" at offset 1"},
		{"{op}}", "unbalanced \"}\" at offset 4"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		err[256] = "";

		assert_null(route_compile(cases[i].tmpl, err, sizeof(err)));
		assert_string_equal(err, cases[i].err);
	}
}

static void
test_length_limit(void **state)
{
	char		tmpl[400];
	char		buf[400];
	char		table[300];
	char		json[600];

	(void) state;
	/* A literal of exactly 255 bytes fits; 256 does not. */
	memset(tmpl, 'k', 255);
	tmpl[255] = '\0';
	assert_non_null(render(tmpl, INSERT, buf, sizeof(buf)));
	assert_int_equal(strlen(buf), 255);
	tmpl[255] = 'k';
	tmpl[256] = '\0';
	assert_null(render(tmpl, INSERT, buf, sizeof(buf)));
	assert_string_equal(buf, "");

	/* A long table name pushes the rendered key over the limit. */
	memset(table, 't', 250);
	table[250] = '\0';
	snprintf(json, sizeof(json),
			 "{\"action\":\"I\",\"schema\":\"s\",\"table\":\"%s\"}", table);
	assert_null(render(ROUTE_DEFAULT_TEMPLATE, json, buf, sizeof(buf)));
	assert_non_null(render("{table}", json, buf, sizeof(buf)));

	/* The caller's buffer is a limit too. */
	assert_null(render(ROUTE_DEFAULT_TEMPLATE, INSERT, buf, 10));
	assert_non_null(render(ROUTE_DEFAULT_TEMPLATE, INSERT, buf, 21));
	assert_string_equal(buf, "public.orders.insert");
	assert_null(render(ROUTE_DEFAULT_TEMPLATE, INSERT, buf, 20));
	assert_null(render("", INSERT, buf, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_partition),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_length_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
