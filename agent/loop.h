/*
 * loop.h
 *		One replication session's loop (loop.c), and how its failures are
 *		told apart, for run.c's sessions.
 */
#ifndef WALCAST_LOOP_H
#define WALCAST_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"

enum loop_result
{
	LOOP_OK,
	LOOP_STOP,					/* stop requested, drained */
	LOOP_RETRY,					/* reconnect after a backoff */
	LOOP_FATAL,					/* exit 2 */
	LOOP_BUSY,					/* exit 3: another agent is loading the slot */
	LOOP_CONFIG					/* exit 1: a sink says the configuration
								 * cannot work (SINK_CONFIG) */
};

/*
 * Stream until a stop is requested (drained: LOOP_STOP) or a side fails.
 * The sinks are open and the stream has begun; both stay open.
 */
extern enum loop_result loop_stream(struct agent *a);

/*
 * What a failure means, logged once: retry, or not; before every server
 * was reached once, "unreachable" (wrong host, port, password) is fatal.
 */
extern enum loop_result loop_failure(struct agent *a, bool retry,
									 bool unreachable, const char *err);
extern enum loop_result loop_sink_failure(struct agent *a, enum sink_status st,
										  const char *err);
extern enum loop_result loop_stream_failure(struct agent *a,
											enum stream_status st,
											const char *err);
extern enum loop_result loop_decoder_failure(struct agent *a,
											 enum decoder_status st,
											 const char *err);

/* SIGHUP: reopen the log, reload what can be reloaded. */
extern void loop_reload(struct agent *a);

/* CLOCK_MONOTONIC in milliseconds. */
extern int64_t loop_now_ms(void);

#endif							/* WALCAST_LOOP_H */
