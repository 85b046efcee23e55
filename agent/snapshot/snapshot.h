/*
 * snapshot.h
 *		The initial full load (docs/snapshot.md): every row that existed at
 *		the slot's consistent point goes to every sink as a "read" event
 *		before the stream starts there.
 *
 * snapshot_prepare replaces stream_open's first half in a session: it
 * prepares the replication connection (stream_prepare), creating the slot
 * with an exported snapshot when a load follows, reads every included
 * table under that snapshot on a second, ordinary connection, publishes
 * the rows through the session's open sinks and waits until every sink
 * confirmed them, recording progress in the state file.  Only then does
 * the caller start streaming (stream_begin), from the consistent point.
 */
#ifndef WALCAST_SNAPSHOT_H
#define WALCAST_SNAPSHOT_H

#include <stddef.h>

#include "agent.h"

enum snapshot_status
{
	SNAPSHOT_STREAM,			/* connection prepared: stream_begin next */
	SNAPSHOT_DONE,				/* --snapshot=only: loaded, exit 0 */
	SNAPSHOT_STOP,				/* stop requested during the load */
	SNAPSHOT_RETRY,				/* connection or sink lost: new session */
	SNAPSHOT_UNREACHABLE,		/* could not connect */
	SNAPSHOT_FATAL,				/* err says why; retrying cannot help */
	SNAPSHOT_BUSY				/* another agent holds the slot (is loading) */
};

/*
 * On SNAPSHOT_STREAM the replication connection awaits stream_begin;
 * otherwise it is closed, and err says why for RETRY, UNREACHABLE, FATAL
 * and BUSY.
 */
extern enum snapshot_status snapshot_prepare(struct agent *a, char *err,
											 size_t errlen);

#endif							/* WALCAST_SNAPSHOT_H */
