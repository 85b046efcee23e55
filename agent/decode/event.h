/*
 * event.h
 *		One decoded change: what every decoder produces (decoder.h) and
 *		every envelope, route and sink consumes.
 *
 * The kind (op) and the fields the agent itself needs to order, identify
 * and route a change (relation, LSNs, sequence, xid) are typed fields, so
 * generic code never looks into the record.  The record itself is a
 * parsed walcast record (docs/contract.md) in a jansson tree, read by the
 * envelopes and the mirror for the row's columns; its bytes are kept as
 * received for the native envelope, which publishes them unchanged.
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
	EVENT_READ,					/* a row read by the initial load (snapshot/) */
	EVENT_STREAM,				/* part of a streamed in-progress transaction:
								 * the loop refuses it */
	EVENT_OTHER					/* prepared transactions, unknown kinds: skipped */
};

struct event
{
	enum event_op op;
	json_t	   *rec;			/* parsed record, owned (decref in event_free) */
	const char *schema;			/* borrowed from rec; NULL when absent */
	const char *table;			/* borrowed from rec; NULL when absent */
	uint64_t	lsn;			/* 0 when absent */
	uint64_t	commit_lsn;
	uint64_t	end_lsn;		/* of a commit: where its transaction ends */
	int64_t		seq;			/* -1 when absent */
	int64_t		xid;			/* -1 when absent */
	bool		transactional;	/* false only for non-transactional M */
	const char *raw;			/* record bytes as received, borrowed from the
								 * decoder's input (must outlive the event) */
	size_t		rawlen;
	/*
	 * Set by the snapshot load (snapshot rows have no commit_lsn or seq):
	 * the message id to use instead of event_message_id's, borrowed.
	 */
	const char *message_id;
};

/*
 * What the enabled sinks need events to carry beyond what every decoder
 * provides; the decoder asks its plugin for it, or refuses settings that
 * would leave it out (sinks/sink.h: sink_needs).
 */
struct event_needs
{
	bool		types;			/* column type names */
	bool		key;			/* key column names */
	const char *key_setting;	/* for messages: the setting of a sink that */
	const char *key_why;		/* needs the key, and why */
};

/*
 * Longest output of event_message_id: a snapshot row's
 * "snapshot:<LSN>:<schema>.<table>:<n>" with names of up to 63 bytes
 * (transactional events need only LSN, ':' and a 64-bit sequence).
 */
#define EVENT_MESSAGE_ID_BUFLEN (9 + LSN_BUFLEN + 1 + 63 + 1 + 63 + 1 + 20)

/* Release what the event owns; safe on an event that holds nothing. */
extern void event_free(struct event *ev);

/*
 * "insert", "update", "delete", "truncate", "message", "read", "begin",
 * "commit", "stream", "other"
 */
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
