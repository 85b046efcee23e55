/*
 * test_watch.c
 *		Unit tests of the side connection's alarm decision (watch_slot.c):
 *		each alarm is said once when it starts and once when it ends, not
 *		at every check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "watch_int.h"

#define LIMIT 1000

static struct obs_watch_view
check(int64_t retained, enum obs_wal_status status)
{
	struct obs_watch_view v;

	memset(&v, 0, sizeof(v));
	v.slot_found = true;
	v.retained_known = true;
	v.retained_bytes = retained;
	v.wal_status = status;
	return v;
}

/* Feed checks in turn; returns what the last one said. */
static int
step(struct obs_watch_view *last, struct obs_watch_view now, bool *over)
{
	int			say = watch_alarm_update(last, &now, LIMIT, over);

	*last = now;
	return say;
}

static void
test_retained_once_per_crossing(void **state)
{
	struct obs_watch_view last;
	bool		over = false;

	(void) state;
	memset(&last, 0, sizeof(last));
	last.wal_status = OBS_WAL_UNKNOWN;
	assert_int_equal(step(&last, check(10, OBS_WAL_RESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(LIMIT, OBS_WAL_RESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(LIMIT + 1, OBS_WAL_RESERVED), &over), WATCH_ALARM_RETAINED);
	assert_int_equal(step(&last, check(5 * LIMIT, OBS_WAL_RESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(2 * LIMIT, OBS_WAL_RESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(LIMIT - 1, OBS_WAL_RESERVED), &over), WATCH_ALARM_RETAINED_OK);
	assert_int_equal(step(&last, check(10, OBS_WAL_RESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(LIMIT + 1, OBS_WAL_RESERVED), &over), WATCH_ALARM_RETAINED);
}

static void
test_retained_off(void **state)
{
	struct obs_watch_view last;
	struct obs_watch_view now = check(INT64_MAX, OBS_WAL_RESERVED);
	bool		over = false;

	(void) state;
	last = now;
	assert_int_equal(watch_alarm_update(&last, &now, 0, &over), WATCH_ALARM_NONE);
	assert_false(over);
}

/* A slot not found, or a check without figures, changes nothing. */
static void
test_missing_slot(void **state)
{
	struct obs_watch_view last = check(2 * LIMIT, OBS_WAL_RESERVED);
	struct obs_watch_view now;
	bool		over = true;

	(void) state;
	memset(&now, 0, sizeof(now));
	now.wal_status = OBS_WAL_UNKNOWN;
	assert_int_equal(watch_alarm_update(&last, &now, LIMIT, &over), WATCH_ALARM_NONE);
	assert_true(over);
}

static void
test_wal_status(void **state)
{
	struct obs_watch_view last;
	bool		over = false;

	(void) state;
	memset(&last, 0, sizeof(last));
	last.wal_status = OBS_WAL_UNKNOWN;
	/* the first check says what is wrong, nothing when all is well */
	assert_int_equal(step(&last, check(0, OBS_WAL_EXTENDED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(0, OBS_WAL_UNRESERVED), &over), WATCH_ALARM_UNRESERVED);
	assert_int_equal(step(&last, check(0, OBS_WAL_UNRESERVED), &over), WATCH_ALARM_NONE);
	assert_int_equal(step(&last, check(0, OBS_WAL_RESERVED), &over), WATCH_ALARM_RESERVED);
	assert_int_equal(step(&last, check(0, OBS_WAL_UNRESERVED), &over), WATCH_ALARM_UNRESERVED);
	assert_int_equal(step(&last, check(0, OBS_WAL_LOST), &over), WATCH_ALARM_LOST);
	assert_int_equal(step(&last, check(0, OBS_WAL_LOST), &over), WATCH_ALARM_NONE);

	memset(&last, 0, sizeof(last));
	last.wal_status = OBS_WAL_UNKNOWN;
	assert_int_equal(step(&last, check(2 * LIMIT, OBS_WAL_UNRESERVED), &over),
					 WATCH_ALARM_RETAINED | WATCH_ALARM_UNRESERVED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retained_once_per_crossing),
		cmocka_unit_test(test_retained_off),
		cmocka_unit_test(test_missing_slot),
		cmocka_unit_test(test_wal_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
