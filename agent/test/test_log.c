/*
 * test_log.c
 *		Unit tests of log.c: line format, levels, file and reopen.
 */
#define _POSIX_C_SOURCE 200809L	/* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void) state;
	strcpy(dir, "/tmp/walcast-log-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/agent.log", dir);
	return 0;
}

static int
teardown(void **state)
{
	char		p[160];

	(void) state;
	log_close();
	log_set_verbosity(0);
	unlink(path);
	snprintf(p, sizeof(p), "%s.1", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

static char *
slurp(const char *p, char *buf, size_t len)
{
	FILE	   *f = fopen(p, "r");
	size_t		n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ " then the rest. */
static void
assert_line(const char *line, const char *rest)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
	{
		if (shape[i] == 'd')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], shape[i]);
	}
	assert_memory_equal(line + sizeof(shape) - 1, rest, strlen(rest));
}

static void
test_levels(void **state)
{
	char		err[256];
	char		buf[4096];
	char	   *line;

	(void) state;
	assert_true(log_open(path, err, sizeof(err)));
	log_error("bad %s", "thing");
	log_warning("careful");
	log_info("hello %d", 42);
	log_debug("hidden");
	assert_false(log_enabled(LOG_LEVEL_DEBUG));
	assert_true(log_enabled(LOG_LEVEL_INFO));
	log_set_verbosity(1);
	assert_true(log_enabled(LOG_LEVEL_DEBUG));
	log_debug("shown\n");		/* the caller's newline is not doubled */

	slurp(path, buf, sizeof(buf));
	line = strtok(buf, "\n");
	assert_line(line, "error: bad thing");
	assert_line(strtok(NULL, "\n"), "warning: careful");
	assert_line(strtok(NULL, "\n"), "info: hello 42");
	line = strtok(NULL, "\n");
	assert_line(line, "debug: shown");
	assert_int_equal(strlen(line), 25 + strlen("debug: shown"));
	assert_null(strtok(NULL, "\n"));
}

static void
test_long_line(void **state)
{
	char		err[256];
	char	   *big = malloc(10000);
	char	   *buf = malloc(20000);

	(void) state;
	memset(big, 'x', 9999);
	big[9999] = '\0';
	assert_true(log_open(path, err, sizeof(err)));
	log_info("%s", big);
	log_info("after");
	slurp(path, buf, 20000);
	/* cut to one line of at most 4095 bytes, newline included */
	assert_true(strchr(buf, '\n') - buf == 4094);
	assert_line(strchr(buf, '\n') + 1, "info: after\n");
	free(big);
	free(buf);
}

static void
test_reopen(void **state)
{
	char		err[256];
	char		rotated[160];
	char		buf[1024];

	(void) state;
	assert_true(log_open(path, err, sizeof(err)));
	log_info("one");
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	log_info("two");			/* still the old (renamed) file */
	assert_true(log_reopen(err, sizeof(err)));
	log_info("three");
	slurp(rotated, buf, sizeof(buf));
	assert_non_null(strstr(buf, "info: one\n"));
	assert_non_null(strstr(buf, "info: two\n"));
	assert_null(strstr(buf, "three"));
	slurp(path, buf, sizeof(buf));
	assert_line(buf, "info: three\n");
}

static void
test_open_errors(void **state)
{
	char		err[256] = "";
	char		buf[1024];

	(void) state;
	assert_true(log_open(path, err, sizeof(err)));
	assert_false(log_open("/nonexistent/dir/agent.log", err, sizeof(err)));
	assert_string_equal(err,
						"could not open log file \"/nonexistent/dir/agent.log\": No such file or directory");
	log_info("kept");			/* the previous destination stays */
	slurp(path, buf, sizeof(buf));
	assert_line(buf, "info: kept\n");

	/* the directory vanishes: reopen fails and logging goes on */
	unlink(path);
	rmdir(dir);
	assert_false(log_reopen(err, sizeof(err)));
	log_info("still fine");
	assert_true(log_open(NULL, err, sizeof(err)));	/* back to stderr */
	assert_true(log_reopen(err, sizeof(err)));	/* no-op for stderr */
	assert_true(log_open("", err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
