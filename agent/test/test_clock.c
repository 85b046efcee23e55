/*
 * test_clock.c
 *		Unit tests of util/clock.c: the plugin's commit times ("ts") read
 *		as microseconds since the epoch, for lag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"

static void
test_parse_iso(void **state)
{
	int64_t		us;

	(void) state;
	assert_true(clock_parse_iso_us("1970-01-01T00:00:00Z", &us));
	assert_int_equal(us, 0);
	assert_true(clock_parse_iso_us("2026-11-21T06:30:00.123456Z", &us));
	assert_int_equal(us, 1795242600123456LL);
	/* the plugin trims trailing zeros of the fraction */
	assert_true(clock_parse_iso_us("2026-11-21T06:30:00.1Z", &us));
	assert_int_equal(us, 1795242600100000LL);
	/* more digits than microseconds are cut, not rounded */
	assert_true(clock_parse_iso_us("2026-11-21T06:30:00.1234569Z", &us));
	assert_int_equal(us, 1795242600123456LL);
	assert_false(clock_parse_iso_us("2026-11-21T06:30:00", &us));
	assert_false(clock_parse_iso_us("2026-11-21T06:30:00+01", &us));
	assert_false(clock_parse_iso_us("2026-11-21 06:30:00Z", &us));
	assert_false(clock_parse_iso_us("", &us));
	assert_false(clock_parse_iso_us(NULL, &us));
}

static void
test_clocks_move(void **state)
{
	int64_t		a = clock_wall_us();
	int64_t		m = clock_now_ms();

	(void) state;
	assert_true(a > (int64_t) 1600000000 * 1000000);
	assert_true(clock_wall_us() >= a);
	assert_true(clock_now_ms() >= m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_iso),
		cmocka_unit_test(test_clocks_move),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
