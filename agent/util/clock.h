/*
 * clock.h
 *		The agent's clocks: monotonic milliseconds for every deadline, which
 *		a change of the wall clock never moves; and the wall clock, in
 *		microseconds, only to compare with PostgreSQL's commit times (lag).
 */
#ifndef WALCAST_CLOCK_H
#define WALCAST_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

extern int64_t clock_now_ms(void);

/* CLOCK_REALTIME in microseconds since the Unix epoch. */
extern int64_t clock_wall_us(void);

/*
 * A UTC timestamp as the plugin writes commit times
 * ("2026-11-21T06:30:00.123456Z", fraction optional and of any length up
 * to microseconds) in microseconds since the Unix epoch; false when s is
 * not one.
 */
extern bool clock_parse_iso_us(const char *s, int64_t *us);

#endif							/* WALCAST_CLOCK_H */
