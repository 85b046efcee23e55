/*
 * test_ack.c
 *		Unit tests of ack.c, the acknowledgement rule: the flush LSN is the
 *		end of the newest transaction that, with all older ones, is fully
 *		confirmed by every sink.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ack.h"

static uint64_t
advance1(struct ack_tracker *t, uint64_t confirmed)
{
	uint64_t	c[2] = {confirmed, 0};

	return ack_advance(t, c);
}

static void
commit1(struct ack_tracker *t, uint64_t end_lsn, uint64_t published)
{
	uint64_t	p[2] = {published, 0};

	ack_begin(t);
	/* the commit time: any value the tests can tell apart */
	assert_true(ack_commit(t, end_lsn, (int64_t) end_lsn * 10, p));
}

static void
test_empty(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	assert_true(ack_idle(&t));
	assert_int_equal(advance1(&t, 0), 0);
	ack_free(&t);
}

static void
test_needs_every_event(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 3);		/* events 1..3 */
	assert_false(ack_idle(&t));
	assert_int_equal(advance1(&t, 0), 0);
	assert_int_equal(advance1(&t, 2), 0);	/* merely published: no */
	assert_int_equal(advance1(&t, 3), 0x100);
	assert_true(ack_idle(&t));
	ack_free(&t);
}

static void
test_in_order(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 2);
	commit1(&t, 0x200, 5);
	commit1(&t, 0x300, 6);
	assert_int_equal(advance1(&t, 4), 0x100);	/* B is 3..5: incomplete */
	assert_int_equal(ack_in_flight(&t), 2);
	assert_int_equal(advance1(&t, 6), 0x300);
	assert_int_equal(ack_in_flight(&t), 0);
	ack_free(&t);
}

static void
test_empty_transaction_waits_for_older(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 2);		/* A: events 1..2 */
	commit1(&t, 0x180, 2);		/* B: everything filtered */
	assert_int_equal(advance1(&t, 1), 0);
	assert_int_equal(advance1(&t, 2), 0x180);
	ack_free(&t);
}

static void
test_empty_transaction_alone(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x80, 0);
	assert_int_equal(advance1(&t, 0), 0x80);
	ack_free(&t);
}

static void
test_open_transaction_does_not_block_older(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 1);
	ack_begin(&t);				/* B: events 2.. still arriving */
	assert_int_equal(advance1(&t, 3), 0x100);
	assert_false(ack_idle(&t));
	ack_free(&t);
}

static void
test_standalone_message(void **state)
{
	struct ack_tracker t;
	uint64_t	p[2] = {3, 0};

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 2);
	assert_true(ack_standalone(&t, 0x120, 0, p));	/* message = event 3 */
	commit1(&t, 0x200, 3);		/* filtered transaction after it */
	assert_int_equal(advance1(&t, 2), 0x100);
	assert_int_equal(advance1(&t, 3), 0x200);
	ack_free(&t);
}

static void
test_keepalive_only_when_idle(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	assert_true(ack_keepalive(&t, 0x500));
	assert_int_equal(t.flush_lsn, 0x500);
	assert_false(ack_keepalive(&t, 0x400));	/* never backwards */
	assert_int_equal(t.flush_lsn, 0x500);

	ack_begin(&t);				/* open transaction: not idle */
	assert_false(ack_keepalive(&t, 0x600));
	assert_true(ack_commit(&t, 0x700, 0, (uint64_t[2]) {1, 0}));
	assert_false(ack_keepalive(&t, 0x800));	/* unconfirmed in flight */
	assert_int_equal(t.flush_lsn, 0x500);
	assert_int_equal(advance1(&t, 1), 0x700);
	assert_true(ack_keepalive(&t, 0x800));
	assert_int_equal(t.flush_lsn, 0x800);
	ack_free(&t);
}

static void
test_reset_keeps_flush(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	commit1(&t, 0x100, 1);
	commit1(&t, 0x200, 2);
	assert_int_equal(advance1(&t, 1), 0x100);
	ack_begin(&t);
	ack_reset(&t);				/* new session: sequence numbers restart */
	assert_true(ack_idle(&t));
	assert_int_equal(t.flush_lsn, 0x100);
	commit1(&t, 0x200, 1);
	assert_int_equal(advance1(&t, 0), 0x100);
	assert_int_equal(advance1(&t, 1), 0x200);
	ack_free(&t);
}

/*
 * A new session starts after what was confirmed before, on the same WAL
 * history only; on another (a promoted standby) the slot decides.
 */
static void
test_resume_same_history_only(void **state)
{
	struct ack_tracker t;

	(void) state;
	ack_init(&t, 1);
	assert_int_equal(ack_resume(&t, "7301/1"), 0);	/* first session */
	commit1(&t, 0x100, 1);
	assert_int_equal(advance1(&t, 1), 0x100);
	ack_reset(&t);
	assert_int_equal(ack_resume(&t, "7301/1"), 0x100);
	commit1(&t, 0x300, 1);
	assert_int_equal(advance1(&t, 1), 0x300);
	ack_reset(&t);
	assert_int_equal(ack_resume(&t, "7301/2"), 0);	/* new timeline */
	assert_int_equal(t.flush_lsn, 0);
	assert_int_equal(ack_resume(&t, "7301/2"), 0);
	commit1(&t, 0x200, 1);
	assert_int_equal(advance1(&t, 1), 0x200);
	ack_reset(&t);
	assert_int_equal(ack_resume(&t, "9999/2"), 0);	/* another system */
	ack_free(&t);
}

static void
test_ring_grows_and_wraps(void **state)
{
	struct ack_tracker t;
	uint64_t	i;

	(void) state;
	ack_init(&t, 1);
	/* wrap a few times at the initial size, then grow past it */
	for (i = 1; i <= 1000; i++)
	{
		commit1(&t, i * 0x10, i);
		if (i % 50 == 0)
			assert_int_equal(advance1(&t, i - 10), (i - 10) * 0x10);
	}
	for (i = 1001; i <= 20000; i++)
		commit1(&t, i * 0x10, i);
	assert_int_equal(ack_in_flight(&t), 20000 - 990);
	assert_int_equal(advance1(&t, 12345), 12345 * 0x10);
	assert_int_equal(advance1(&t, 20000), 20000 * 0x10);
	assert_true(ack_idle(&t));
	ack_free(&t);
}

static void
test_two_sinks(void **state)
{
	struct ack_tracker t;
	uint64_t	p1[2] = {2, 1};
	uint64_t	p2[2] = {4, 1};	/* nothing for sink 2 */
	uint64_t	c[2];

	(void) state;
	ack_init(&t, 2);
	ack_begin(&t);
	assert_true(ack_commit(&t, 0x100, 0, p1));
	ack_begin(&t);
	assert_true(ack_commit(&t, 0x200, 0, p2));
	c[0] = 4;
	c[1] = 0;
	assert_int_equal(ack_advance(&t, c), 0);	/* sink 2 not there yet */
	c[1] = 1;
	assert_int_equal(ack_advance(&t, c), 0x200);
	ack_free(&t);
}

/*
 * The oldest entry in flight gives the confirmed lag: its commit time,
 * through the ring's growth and wrap, and none once all are confirmed.
 */
static void
test_oldest_time(void **state)
{
	struct ack_tracker t;
	uint64_t	n;

	(void) state;
	ack_init(&t, 1);
	assert_int_equal(ack_oldest_time(&t), 0);
	for (n = 1; n <= 100; n++)
		commit1(&t, n * 0x10, n);
	assert_int_equal(ack_oldest_time(&t), 0x10 * 10);
	assert_int_equal(advance1(&t, 70), 70 * 0x10);
	assert_int_equal(ack_oldest_time(&t), 71 * 0x10 * 10);
	for (n = 101; n <= 150; n++)	/* wraps */
		commit1(&t, n * 0x10, n);
	assert_int_equal(ack_oldest_time(&t), 71 * 0x10 * 10);
	assert_int_equal(advance1(&t, 150), 150 * 0x10);
	assert_int_equal(ack_oldest_time(&t), 0);
	ack_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_needs_every_event),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_empty_transaction_waits_for_older),
		cmocka_unit_test(test_empty_transaction_alone),
		cmocka_unit_test(test_open_transaction_does_not_block_older),
		cmocka_unit_test(test_standalone_message),
		cmocka_unit_test(test_keepalive_only_when_idle),
		cmocka_unit_test(test_reset_keeps_flush),
		cmocka_unit_test(test_resume_same_history_only),
		cmocka_unit_test(test_ring_grows_and_wraps),
		cmocka_unit_test(test_two_sinks),
		cmocka_unit_test(test_oldest_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
