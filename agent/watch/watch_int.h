/*
 * watch_int.h
 *		What the side connection's files share (watch.c, watch_slot.c,
 *		watch_heartbeat.c).  Not for other modules; the alarm decision is
 *		here so that unit tests can drive it.
 */
#ifndef WALCAST_WATCH_INT_H
#define WALCAST_WATCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "obs_view.h"
#include "watch.h"

struct watch
{
	/* copies of the settings: a reload in the main thread never races */
	char	   *conninfo;
	char	   *slot;
	int			check_interval; /* seconds, 0 = off */
	uint64_t	retained_warn;	/* bytes, 0 = off */
	int			heartbeat_interval; /* seconds, 0 = off */

	struct obs *obs;
	PGconn	   *conn;			/* NULL until needed, and after a failure */

	/* what the thread found, published to obs after every round */
	struct obs_watch_view view;

	/* the slot's alarms (watch_slot.c) */
	bool		over_warn;		/* retained WAL was above retained_warn */
	bool		check_failing;	/* the last check failed (warned once) */
	bool		beat_failing;	/* the last heartbeat failed (warned once) */

	pthread_t	thread;
	pthread_mutex_t lock;		/* stop and done, with cond */
	pthread_cond_t cond;
	bool		stop;
	bool		done;
};

/*
 * The connection, opened when needed; NULL with err set when it cannot be
 * (the caller counts the error; the next round tries again).
 */
extern PGconn *watch_conn(struct watch *w, char *err, size_t errlen);

/* After a failed query: drop the connection if it broke. */
extern void watch_conn_check(struct watch *w);

/* One slot check (watch_slot.c): view, alarms, log. */
extern void watch_slot_check(struct watch *w);

/* One heartbeat (watch_heartbeat.c). */
extern void watch_heartbeat(struct watch *w);

/* What changed for the alarms between two checks (watch_alarm_update). */
enum watch_alarm
{
	WATCH_ALARM_NONE = 0,
	WATCH_ALARM_RETAINED = 1,	/* retained WAL went above retained_warn */
	WATCH_ALARM_RETAINED_OK = 2,	/* and back below it */
	WATCH_ALARM_UNRESERVED = 4, /* wal_status became unreserved */
	WATCH_ALARM_RESERVED = 8,	/* it left unreserved for reserved/extended */
	WATCH_ALARM_LOST = 16		/* it became lost */
};

/*
 * Compare a check's figures (now) with the last check's (before, whose
 * over_warn is *over) and say what to log: each alarm once per crossing,
 * not at every check.  Pure.
 */
extern int	watch_alarm_update(const struct obs_watch_view *before,
							   const struct obs_watch_view *now,
							   uint64_t retained_warn, bool *over);

#endif							/* WALCAST_WATCH_INT_H */
