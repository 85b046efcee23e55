/*
 * watch.h
 *		The side connection: a thread of its own with an ordinary
 *		(non-replication) PostgreSQL connection, for what must go on
 *		whatever the replication loop is doing:
 *
 *		- the slot's health every --slot-check-interval: retained WAL,
 *		  wal_status, safe_wal_size, with a warning in the log once per
 *		  crossing of --slot-retained-warn and when wal_status becomes
 *		  unreserved (watch_slot.c);
 *		- a heartbeat every --heartbeat-interval: a non-transactional
 *		  logical message that the slot decodes, so that its position
 *		  moves while the watched tables are idle (watch_heartbeat.c).
 *
 * The thread never touches the agent's structures: it logs, and publishes
 * its figures to the HTTP endpoint's view (obs_publish_watch).  A server
 * that does not answer delays only this thread (connect_timeout,
 * statement_timeout), never the loop.  Files: watch.c (the thread and
 * its schedule), watch_slot.c, watch_heartbeat.c; watch_int.h is theirs.
 */
#ifndef WALCAST_WATCH_H
#define WALCAST_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct obs;
struct watch;

/*
 * The prefix of the agent's heartbeat messages: the loop recognises them
 * by it and leaves them out of the sinks unless --publish-heartbeats.
 */
#define WATCH_HEARTBEAT_PREFIX "walcast.heartbeat"

/*
 * Start the thread when cfg asks for slot checks or heartbeats (*w = NULL
 * when it asks for neither); obs (NULL: no endpoint) receives its figures.
 * false with err set when the thread cannot be started.
 */
extern bool watch_start(const struct agent_config *cfg, struct obs *obs,
						struct watch **w, char *err, size_t errlen);

/* Stop the thread (waiting a moment for a query in progress); NULL ok. */
extern void watch_stop(struct watch *w);

#endif							/* WALCAST_WATCH_H */
