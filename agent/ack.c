/*
 * ack.c
 *		The LSN tracker (see ack.h for the rule and the design).
 */
#include "ack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ack_init(struct ack_tracker *t, int nsinks)
{
	memset(t, 0, sizeof(*t));
	t->nsinks = nsinks < 1 ? 1 : nsinks;
}

void
ack_free(struct ack_tracker *t)
{
	free(t->ring);
	t->ring = NULL;
	t->cap = t->head = t->count = 0;
}

void
ack_reset(struct ack_tracker *t)
{
	t->head = 0;
	t->count = 0;
	t->in_txn = false;
}

uint64_t
ack_resume(struct ack_tracker *t, const char *history)
{
	if (strcmp(t->history, history) != 0)
	{
		snprintf(t->history, sizeof(t->history), "%s", history);
		t->flush_lsn = 0;
	}
	return t->flush_lsn;
}

void
ack_begin(struct ack_tracker *t)
{
	t->in_txn = true;
}

/*
 * Entry i of the ring: its end_lsn, its commit time, then one sequence
 * number per sink.
 */
#define ACK_STRIDE(t) ((size_t) (t)->nsinks + 2)

static uint64_t *
ack_entry(const struct ack_tracker *t, size_t i)
{
	return t->ring + i * ACK_STRIDE(t);
}

/* Double the ring, unrolling it so the oldest entry is at index 0. */
static bool
ack_grow(struct ack_tracker *t)
{
	size_t		newcap = t->cap ? t->cap * 2 : 64;
	size_t		stride = ACK_STRIDE(t);
	uint64_t   *ring;
	size_t		i;

	ring = malloc(newcap * stride * sizeof(*ring));
	if (ring == NULL)
		return false;
	for (i = 0; i < t->count; i++)
		memcpy(ring + i * stride, ack_entry(t, (t->head + i) & (t->cap - 1)),
			   stride * sizeof(*ring));
	free(t->ring);
	t->ring = ring;
	t->cap = newcap;
	t->head = 0;
	return true;
}

static bool
ack_push(struct ack_tracker *t, uint64_t lsn, int64_t ts_us,
		 const uint64_t *published)
{
	uint64_t   *e;

	if (t->count == t->cap && !ack_grow(t))
		return false;
	e = ack_entry(t, (t->head + t->count) & (t->cap - 1));
	e[0] = lsn;
	e[1] = (uint64_t) ts_us;
	memcpy(e + 2, published, (size_t) t->nsinks * sizeof(*e));
	t->count++;
	return true;
}

bool
ack_commit(struct ack_tracker *t, uint64_t end_lsn, int64_t ts_us,
		   const uint64_t *published)
{
	t->in_txn = false;
	return ack_push(t, end_lsn, ts_us, published);
}

bool
ack_standalone(struct ack_tracker *t, uint64_t lsn, int64_t ts_us,
			   const uint64_t *published)
{
	/*
	 * Confirming the message's own LSN (not past it) is deliberate: after a
	 * restart decoding resumes at that LSN and may send the message once
	 * more, which at-least-once allows; reporting a position inside a
	 * record we never saw the end of is not worth the saved duplicate.
	 */
	return ack_push(t, lsn, ts_us, published);
}

static bool
ack_entry_complete(const struct ack_tracker *t, const uint64_t *e,
				   const uint64_t *confirmed)
{
	int			i;

	for (i = 0; i < t->nsinks; i++)
		if (confirmed[i] < e[2 + i])
			return false;
	return true;
}

uint64_t
ack_advance(struct ack_tracker *t, const uint64_t *confirmed)
{
	while (t->count > 0)
	{
		const uint64_t *e = ack_entry(t, t->head);

		if (!ack_entry_complete(t, e, confirmed))
			break;
		/* Decoding order is LSN order; max() only guards against a bug. */
		if (e[0] > t->flush_lsn)
			t->flush_lsn = e[0];
		t->head = (t->head + 1) & (t->cap - 1);
		t->count--;
	}
	return t->flush_lsn;
}

bool
ack_keepalive(struct ack_tracker *t, uint64_t wal_end)
{
	if (!ack_idle(t) || wal_end <= t->flush_lsn)
		return false;
	t->flush_lsn = wal_end;
	return true;
}

bool
ack_idle(const struct ack_tracker *t)
{
	return t->count == 0 && !t->in_txn;
}

size_t
ack_in_flight(const struct ack_tracker *t)
{
	return t->count;
}

int64_t
ack_oldest_time(const struct ack_tracker *t)
{
	return t->count > 0 ? (int64_t) ack_entry(t, t->head)[1] : 0;
}
