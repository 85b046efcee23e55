/*
 * test_scrub.c: passwords in argv are overwritten in place, nothing else
 * (the sinks' secret settings: test_sink_*.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config_int.h"

/* Scrub a copy of args and compare with the expected strings. */
static void
check(int n, const char *const *args, const char *const *want)
{
	char	  **argv = calloc((size_t) n + 1, sizeof(char *));

	for (int i = 0; i < n; i++)
		argv[i] = strdup(args[i]);
	config_scrub_argv(n, argv);
	for (int i = 0; i < n; i++)
	{
		assert_string_equal(argv[i], want[i]);
		free(argv[i]);
	}
	free(argv);
}

static void
test_conninfo_forms(void **state)
{
	const char *in[] = {"a", "-d", "host=h password=top user=u", "-dpassword='a b\\' c' x=1",
	"--dbname=postgresql://u:pw@h/db?password=pw2&sslmode=require"};
	const char *out[] = {"a", "-d", "host=h password=*** user=u", "-dpassword='*******' x=1",
	"--dbname=postgresql://u:**@h/db?password=***&sslmode=require"};

	(void) state;
	check(5, in, out);
}

/*
 * Spellings libpq reads that the scrubber once missed (test/fuzz_uri):
 * a newline between pairs, a backslash-escaped blank in an unquoted
 * value, "://" inside a conninfo value, a percent-encoded query key, a
 * '?' in a URI's password, a '?' in a bracketed IPv6 host before the
 * query.
 */
static void
test_conninfo_spellings(void **state)
{
	const char *in[] = {"a", "-d", "host=h\npassword=top", "-d", "password=a\\ b user=u",
		"-d", "password=top dbname=x://y", "-d", "postgresql://h/db?pass%77ord=top&x=1",
	"-d", "postgresql://u:t?p@h/db", "-d", "postgresql://u@[?:1]:9473/db?pass%77ord=x"};
	const char *out[] = {"a", "-d", "host=h\npassword=***", "-d", "password=**** user=u",
		"-d", "password=*** dbname=x://y", "-d", "postgresql://h/db?pass%77ord=***&x=1",
	"-d", "postgresql://u:***@h/db", "-d", "postgresql://u@[?:1]:9473/db?pass%77ord=*"};

	(void) state;
	check(13, in, out);
}

static void
test_leaves_others_alone(void **state)
{
	const char *in[] = {"a", "--slot", "password=x", "-d", "host=h port=1", "-o",
	"k=password=v", "--", "--dbname", "postgresql://u:p@h/"};
	const char *out[] = {"a", "--slot", "password=x", "-d", "host=h port=1", "-o",
	"k=password=v", "--", "--dbname", "postgresql://u:p@h/"};

	(void) state;
	check(10, in, out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_forms),
		cmocka_unit_test(test_conninfo_spellings),
		cmocka_unit_test(test_leaves_others_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
