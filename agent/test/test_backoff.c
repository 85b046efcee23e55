/*
 * test_backoff.c
 *		Unit tests of backoff.c: doubling, the cap (jitter never exceeds it),
 *		reset, and a cap changed on reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

/* Jitter takes at most a quarter off: each delay lies in [3d/4, d]. */
static void
assert_about(int got, int nominal)
{
	assert_true(got <= nominal);
	assert_true(got >= nominal - nominal / 4);
}

static void
test_doubles_then_caps(void **state)
{
	struct backoff b;
	int			i;

	(void) state;
	backoff_init(&b, 500, 30000, 42);
	assert_about(backoff_next(&b), 500);
	assert_about(backoff_next(&b), 1000);
	assert_about(backoff_next(&b), 2000);
	assert_about(backoff_next(&b), 4000);
	assert_about(backoff_next(&b), 8000);
	assert_about(backoff_next(&b), 16000);
	/* 32000 is past the cap */
	for (i = 0; i < 100; i++)
		assert_about(backoff_next(&b), 30000);
}

static void
test_many_attempts_do_not_overflow(void **state)
{
	struct backoff b;
	int			i;

	(void) state;
	backoff_init(&b, 1000, 60000, 7);
	for (i = 0; i < 5000; i++)
	{
		int			d = backoff_next(&b);

		assert_true(d > 0);
		assert_true(d <= 60000);
	}
}

static void
test_reset(void **state)
{
	struct backoff b;

	(void) state;
	backoff_init(&b, 500, 10000, 1);
	backoff_next(&b);
	backoff_next(&b);
	backoff_next(&b);
	backoff_reset(&b);
	assert_about(backoff_next(&b), 500);
	assert_about(backoff_next(&b), 1000);
}

static void
test_set_max(void **state)
{
	struct backoff b;
	int			i;

	(void) state;
	backoff_init(&b, 500, 60000, 3);
	for (i = 0; i < 10; i++)
		backoff_next(&b);
	backoff_set_max(&b, 2000);
	assert_about(backoff_next(&b), 2000);
	/* a cap below the base is raised to the base */
	backoff_set_max(&b, 10);
	assert_about(backoff_next(&b), 500);
}

static void
test_same_seed_same_delays(void **state)
{
	struct backoff a;
	struct backoff b;
	int			i;

	(void) state;
	backoff_init(&a, 500, 30000, 99);
	backoff_init(&b, 500, 30000, 99);
	for (i = 0; i < 20; i++)
		assert_int_equal(backoff_next(&a), backoff_next(&b));
}

static void
test_zero_seed_and_bad_base(void **state)
{
	struct backoff b;

	(void) state;
	backoff_init(&b, 0, 0, 0);
	assert_true(backoff_next(&b) >= 1);
	assert_true(b.rng != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_then_caps),
		cmocka_unit_test(test_many_attempts_do_not_overflow),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_set_max),
		cmocka_unit_test(test_same_seed_same_delays),
		cmocka_unit_test(test_zero_seed_and_bad_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
