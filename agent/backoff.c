/*
 * backoff.c
 *		Capped exponential backoff with jitter (see backoff.h).
 */
#include "backoff.h"

void
backoff_init(struct backoff *b, int base_ms, int max_ms, uint32_t seed)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
	b->attempt = 0;
	b->rng = seed != 0 ? seed : 0x9e3779b9u;
}

void
backoff_set_max(struct backoff *b, int max_ms)
{
	b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
}

/* Marsaglia's xorshift32: enough for jitter, and deterministic per seed. */
static uint32_t
backoff_random(struct backoff *b)
{
	uint32_t	x = b->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	b->rng = x;
	return x;
}

int
backoff_next(struct backoff *b)
{
	int64_t		delay = b->base_ms;
	int64_t		jitter;
	int			i;

	/* Double per attempt, stopping early so the shift never overflows. */
	for (i = 0; i < b->attempt && delay < b->max_ms; i++)
		delay *= 2;
	if (delay > b->max_ms)
		delay = b->max_ms;
	if (b->attempt < 1000)
		b->attempt++;

	/*
	 * Subtract up to 25% so the cap stays a cap: a user who sets
	 * reconnect_max_delay=30 never waits longer than 30 s.
	 */
	jitter = delay / 4;
	if (jitter > 0)
		delay -= (int64_t) (backoff_random(b) % (uint32_t) (jitter + 1));
	return (int) delay;
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
