/*
 * test_walcast_filter.c
 *		The walcast plugin's add-tables/filter-tables as the agent applies
 *		them for a load without the extension (decode/walcast_filter.c):
 *		the cases of the plugin's own regression test (regress/sql/filters.sql,
 *		expected/filters.out), which must give the same tables, and the
 *		values the plugin refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "walcast_filter.h"

/* filters.sql's tables, as stored. */
static const char *const tables[][2] = {
	{"My.Schema", "Weird \"Quoted\", Table"},
	{"My.Schema", "plain"},
	{"public", " spaced "},
	{"public", "UPPER"},
	{"public", "back\\slash"},
	{"public", "upper"},
	{"public", "ünï*cødé"},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* "schema|table, ..." of the tables the filter includes, as filters.out. */
static void
expect(const char *add, const char *skip, const char *want)
{
	char		err[512] = "";
	char		got[1024] = "";
	struct walcast_filter *f = walcast_filter_new(add, skip, err, sizeof(err));

	if (f == NULL)
		fail_msg("add-tables=%s filter-tables=%s: %s", add, skip, err);
	for (size_t i = 0; i < NTABLES; i++)
		if (walcast_filter_includes(f, tables[i][0], tables[i][1]))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s|%s",
					 got[0] ? ", " : "", tables[i][0], tables[i][1]);
	walcast_filter_free(f);
	if (strcmp(got, want) != 0)
		fail_msg("add-tables=%s filter-tables=%s: got \"%s\", want \"%s\"",
				 add ? add : "-", skip ? skip : "-", got, want);
}

static void
test_plugin_cases(void **state)
{
	(void) state;
	expect(NULL, NULL, "My.Schema|Weird \"Quoted\", Table, My.Schema|plain, public| spaced , public|UPPER, public|back\\slash, public|upper, public|ünï*cødé");
	expect("My\\.Schema.Weird \"Quoted\"\\, Table", NULL, "My.Schema|Weird \"Quoted\", Table");
	expect("public.UPPER", NULL, "public|UPPER");
	expect("public.upper", NULL, "public|upper");
	expect("public.ünï\\*cødé", NULL, "public|ünï*cødé");
	expect("public.\\ spaced\\ ", NULL, "public| spaced ");
	expect("public.back\\\\slash", NULL, "public|back\\slash");
	expect("My\\.Schema.*", NULL, "My.Schema|Weird \"Quoted\", Table, My.Schema|plain");
	expect("*.*e*", NULL, "My.Schema|Weird \"Quoted\", Table, public| spaced , public|upper");
	expect("public.ü*", NULL, "public|ünï*cødé");
	expect("*.*\\**", NULL, "public|ünï*cødé");
	expect("public.*PER", NULL, "public|UPPER");
	expect(NULL, "My\\.Schema.*, public.UPPER", "public| spaced , public|back\\slash, public|upper, public|ünï*cødé");
	expect("public.*", "public.u*, *.\\ *", "public|UPPER, public|back\\slash, public|ünï*cødé");
	expect("nosuch.*", NULL, "");
	/* an empty value is an empty list: every table */
	expect("", NULL, "My.Schema|Weird \"Quoted\", Table, My.Schema|plain, public| spaced , public|UPPER, public|back\\slash, public|upper, public|ünï*cødé");
}

static void
expect_refused(const char *add, const char *want)
{
	char		err[512] = "";

	assert_null(walcast_filter_new(add, NULL, err, sizeof(err)));
	assert_string_equal(err, want);
}

static void
test_refused(void **state)
{
	(void) state;
	expect_refused("public", "plugin option add-tables: \"public\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
	expect_refused("a.b.c", "plugin option add-tables: \"a.b.c\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
	expect_refused("a.b,", "plugin option add-tables: \"a.b,\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
	expect_refused(".b", "plugin option add-tables: \".b\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
	expect_refused("a.b\\", "plugin option add-tables: \"a.b\\\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
	expect_refused(" , a.b", "plugin option add-tables: \" , a.b\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plugin_cases),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
