/*
 * event.h
 *		One decoded change: what every decoder produces (decoder.h) and
 *		every envelope, route and sink consumes.
 *
 * The kind (op) and the fields the agent itself needs to order, identify
 * and route a change (relation, LSNs, sequence, xid) are typed fields, so
 * generic code never looks into the record.  The record itself is a
 * parsed walcast record (docs/contract.md) in a yyjson tree, read by the
 * envelopes and the mirror for the row's columns.  Its bytes are kept as
 * received: the native envelope publishes them unchanged, and the other
 * envelopes copy each value's text from them (event_text), so that a
 * value reaches every envelope exactly as the plugin wrote it.
 *
 * The tree is lossless (walcast_record.c): numbers stay their text
 * (yyjson_is_raw), duplicate keys of a json value stay, strings carry
 * their length (\u0000).  Lone surrogate escapes, which PostgreSQL's json
 * type keeps and yyjson refuses, read as U+FFFD in the tree; their
 * positions are in lone[], and the text still holds the original escape.
 */
#ifndef WALCAST_EVENT_H
#define WALCAST_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsn.h"
#include "yyjson.h"

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
	yyjson_val *rec;			/* the record's root object, in doc */
	yyjson_doc *doc;			/* parsed record, owned (event_free) */
	char	   *buf;			/* doc's in-situ copy of raw, owned: a string
								 * of rec at buf + n is raw's text at n */
	size_t	   *lone;			/* offsets in raw of the lone surrogate
								 * escapes read as U+FFFD, owned; NULL */
	size_t		nlone;
	const char *schema;			/* borrowed from rec; NULL when absent */
	const char *table;			/* borrowed from rec; NULL when absent */
	uint64_t	lsn;			/* 0 when absent */
	uint64_t	commit_lsn;
	uint64_t	end_lsn;		/* of a commit: where its transaction ends */
	int64_t		seq;			/* -1 when absent */
	int64_t		xid;			/* -1 when absent */
	int64_t		ts_us;			/* commit time ("ts"), microseconds since
								 * the epoch; 0 when absent (a
								 * non-transactional message) */
	bool		transactional;	/* false only for non-transactional M */
	const char *prefix;			/* a message's prefix, borrowed from rec;
								 * NULL for other kinds */
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
 * The text of a value of the record as the plugin wrote it, borrowed from
 * ev->raw: the member of obj named key (NULL text when absent), or the
 * value whose key (of an object iteration) is key.  Numbers keep their
 * digits, strings their quotes and escapes, containers everything inside.
 */
struct event_text
{
	const char *ptr;
	size_t		len;
};

extern struct event_text event_member_text(const struct event *ev,
										   yyjson_val *obj, const char *key);
extern struct event_text event_value_text(const struct event *ev,
										  yyjson_val *key);

/* A key's text between its quotes, escapes as written. */
extern struct event_text event_key_text(const struct event *ev,
										yyjson_val *key);

/*
 * The key of obj's first member named like the string name, or NULL (a
 * row's column by the name in "pk"; also returns NULL when obj is not an
 * object).
 */
extern yyjson_val *event_find_key(yyjson_val *obj, yyjson_val *name);

/* Whether text holds a lone surrogate escape (read as U+FFFD in the tree). */
extern bool event_text_has_lone(const struct event *ev, struct event_text text);

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
