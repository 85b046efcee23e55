/*
 * event.h
 *		One record of the walcast output plugin, parsed for the agent.
 *
 * The plugin's record format is fixed by docs/contract.md.  The agent needs a
 * few fields to route, order and identify a record (action, relation, LSNs,
 * sequence, xid); everything else stays in the jansson tree for the
 * envelopes, and the record's bytes are kept as received for the native
 * envelope, which publishes them unchanged.
 */
#ifndef WALCAST_EVENT_H
#define WALCAST_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lsn.h"

enum event_op
{
	EVENT_BEGIN,
	EVENT_COMMIT,
	EVENT_INSERT,
	EVENT_UPDATE,
	EVENT_DELETE,
	EVENT_TRUNCATE,
	EVENT_MESSAGE,
	EVENT_READ,					/* "L": a row read by a snapshot (snapshot.c) */
	EVENT_OTHER					/* stream/2PC records the agent does not publish */
};

struct event
{
	enum event_op op;
	json_t	   *rec;			/* parsed record, owned (decref in event_free) */
	const char *schema;			/* borrowed from rec; NULL when absent */
	const char *table;			/* borrowed from rec; NULL when absent */
	uint64_t	lsn;			/* 0 when absent; parsed from "X/X" */
	uint64_t	commit_lsn;
	uint64_t	end_lsn;
	int64_t		seq;			/* -1 when absent */
	int64_t		xid;			/* -1 when absent */
	bool		transactional;	/* false only for non-transactional M */
	const char *raw;			/* record bytes as received, borrowed from the
								 * caller's buffer (must outlive the event) */
	size_t		rawlen;
	/*
	 * Set by the snapshot load (snapshot rows have no commit_lsn or seq):
	 * the message id to use instead of event_message_id's, borrowed.
	 */
	const char *message_id;
};

/*
 * Longest output of event_message_id: a snapshot row's
 * "snapshot:<LSN>:<schema>.<table>:<n>" with names of up to 63 bytes
 * (transactional events need only LSN, ':' and a 64-bit sequence).
 */
#define EVENT_MESSAGE_ID_BUFLEN (9 + LSN_BUFLEN + 1 + 63 + 1 + 63 + 1 + 20)

/*
 * Parse one record (exactly one JSON object, no trailing data).  On success
 * *ev owns a reference to the parsed tree; release it with event_free.  On
 * failure *ev holds nothing to free (event_free is still safe) and err says
 * what was wrong.
 */
extern bool event_parse(struct event *ev, const char *data, size_t len,
						char *err, size_t errlen);
extern void event_free(struct event *ev);

/* "insert", "update", "delete", "truncate", "message", "read", "begin", "commit", "other" */
extern const char *event_op_name(enum event_op op);

/* A change to a relation's rows (has schema and table), not B/C/M. */
extern bool event_is_row_change(enum event_op op);

/*
 * A message id that is identical on every replay of the slot:
 * "<commit_lsn>:<seq>" for transactional events, "<lsn>" for
 * non-transactional messages (which have neither commit_lsn nor seq),
 * ev->message_id when set (snapshot rows, docs/snapshot.md).
 */
extern void event_message_id(const struct event *ev, char *buf, size_t len);

#endif							/* WALCAST_EVENT_H */
