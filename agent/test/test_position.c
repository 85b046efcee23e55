/*
 * test_position.c
 *		Unit tests of position.c: the durable record of the newest flush
 *		position, through a real directory: none, ours, another cluster's,
 *		a torn file (an error, never taken for "none"), and saving only
 *		what is newer.
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

#include "position.h"

#define SYSID "7710515254054794938"

static char dir[64];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/wc-position-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char		path[128];

	(void) state;
	snprintf(path, sizeof(path), "%s/s1.position", dir);
	unlink(path);
	return rmdir(dir);
}

static void
write_file(const char *text)
{
	char		path[128];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/s1.position", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_none_then_saved(void **state)
{
	struct position p = {0};
	struct position q = {0};
	char		err[256];

	(void) state;
	assert_true(position_load(&p, dir, "s1", SYSID, err, sizeof(err)));
	assert_false(p.found);
	assert_true(position_save(&p, 0x1D89ED50, err, sizeof(err)));
	/* only newer positions are written */
	assert_true(position_save(&p, 0x1000, err, sizeof(err)));
	assert_true(position_load(&q, dir, "s1", SYSID, err, sizeof(err)));
	assert_true(q.found);
	assert_int_equal(q.saved, 0x1D89ED50);
	/* a slot created anew starts a new record, even an older one */
	assert_true(position_reset(&q, 0x2000, err, sizeof(err)));
	assert_true(position_load(&p, dir, "s1", SYSID, err, sizeof(err)));
	assert_int_equal(p.saved, 0x2000);
	position_free(&p);
	position_free(&q);
}

static void
test_other_cluster(void **state)
{
	struct position p = {0};
	char		err[256];

	(void) state;
	write_file("system_id = 1234\nconfirmed_lsn = 0/5\n");
	assert_true(position_load(&p, dir, "s1", SYSID, err, sizeof(err)));
	assert_false(p.found);
	position_free(&p);
}

static void
test_torn_file(void **state)
{
	struct position p = {0};
	char		err[256];

	(void) state;
	write_file("system_id = " SYSID "\nconfirmed_l");
	assert_false(position_load(&p, dir, "s1", SYSID, err, sizeof(err)));
	assert_non_null(strstr(err, "s1.position\" lacks a valid system_id or confirmed_lsn"));
	position_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_none_then_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
