/*
 * stream_int.h
 *		What the replication connection's two files share: stream.c (the
 *		protocol) and stream_slot.c (the slot).  Not for other modules.
 */
#ifndef WALCAST_STREAM_INT_H
#define WALCAST_STREAM_INT_H

#include "stream.h"
#include "strbuf.h"

/*
 * Quote with q ('"' for names, '\'' for values) by doubling it, for
 * replication commands and queries.
 */
extern void stream_append_quoted(struct strbuf *b, const char *src, char q);

/* Close the connection after a failure. */
extern void stream_fail(struct stream *s);

/* Take the slot's lock, or say who holds it (stream.h, "The slot's lock"). */
extern enum stream_status stream_lock_slot(struct stream *s, char *err,
										   size_t errlen);

/* Look the slot up: absent, usable, or why not (creating it if asked). */
extern enum stream_status stream_check_slot(struct stream *s, char *err,
											size_t errlen);

/* Whether pg_replication_slots says the slot is invalidated ("lost"). */
extern bool stream_slot_invalidated(struct stream *s);

#endif							/* WALCAST_STREAM_INT_H */
