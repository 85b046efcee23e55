/*
 * test_scrub.c: passwords in argv are overwritten in place, nothing else.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

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
test_amqp_uri_forms(void **state)
{
	const char *in[] = {"walcast-agent", "--amqp-uri", "amqp://u:secret@h:5672/%2f",
	"--amqp-uri=amqps://u:p@ss@h/v"};
	const char *out[] = {"walcast-agent", "--amqp-uri", "amqp://u:******@h:5672/%2f",
	"--amqp-uri=amqps://u:****@h/v"};

	(void) state;
	check(4, in, out);
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

static void
test_leaves_others_alone(void **state)
{
	const char *in[] = {"a", "--slot", "password=x", "--mongo-uri", "mongodb://h:1/", "-o",
	"k=password=v", "--", "--amqp-uri", "amqp://u:p@h/"};
	const char *out[] = {"a", "--slot", "password=x", "--mongo-uri", "mongodb://h:1/", "-o",
	"k=password=v", "--", "--amqp-uri", "amqp://u:p@h/"};

	(void) state;
	check(10, in, out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amqp_uri_forms),
		cmocka_unit_test(test_conninfo_forms),
		cmocka_unit_test(test_leaves_others_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
