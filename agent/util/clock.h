/*
 * clock.h
 *		The agent's one clock for deadlines: monotonic milliseconds, which a
 *		change of the wall clock never moves.
 */
#ifndef WALCAST_CLOCK_H
#define WALCAST_CLOCK_H

#include <stdint.h>

extern int64_t clock_now_ms(void);

#endif							/* WALCAST_CLOCK_H */
