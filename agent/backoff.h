/*
 * backoff.h
 *		Capped exponential backoff for reconnecting to PostgreSQL and RabbitMQ.
 *
 * The delay doubles from base_ms up to max_ms, with up to a quarter of
 * jitter so that several agents restarted together do not hammer a server
 * in step.  The jitter comes from a small explicit generator (no hidden
 * global state, reproducible in tests).
 */
#ifndef WALCAST_BACKOFF_H
#define WALCAST_BACKOFF_H

#include <stdint.h>

struct backoff
{
	int			base_ms;		/* first delay */
	int			max_ms;			/* cap */
	int			attempt;		/* failures since the last reset */
	uint32_t	rng;			/* xorshift state for the jitter, never 0 */
};

extern void backoff_init(struct backoff *b, int base_ms, int max_ms,
						 uint32_t seed);
/* Change the cap (SIGHUP), keeping the attempt count. */
extern void backoff_set_max(struct backoff *b, int max_ms);
/* The delay before the next attempt, in milliseconds; counts an attempt. */
extern int	backoff_next(struct backoff *b);
/* Forget past failures: the next delay is base_ms again. */
extern void backoff_reset(struct backoff *b);

#endif							/* WALCAST_BACKOFF_H */
