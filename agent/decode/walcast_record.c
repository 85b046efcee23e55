/*
 * walcast_record.c
 *		One record of the walcast output plugin (docs/contract.md) as an
 *		event: the JSON text is parsed once, and the fields the agent itself
 *		needs (action, relation, LSNs, sequence, xid) are lifted out of the
 *		tree into struct event.
 *
 * They are checked strictly, because a record the agent misreads would be
 * published with a wrong message id or routing key, which is worse than
 * stopping with a clear error.  Shared by every decoder that produces the
 * walcast record format: decoder_walcast.c for the plugin's own messages
 * and the initial load's rows, and any decoder that renders another
 * plugin's changes as walcast records (walcast_record.h).
 */
#include "walcast_record.h"

#include <stdio.h>
#include <string.h>

static enum event_op
walcast_record_op(char a)
{
	switch (a)
	{
		case 'B':
			return EVENT_BEGIN;
		case 'C':
			return EVENT_COMMIT;
		case 'I':
			return EVENT_INSERT;
		case 'U':
			return EVENT_UPDATE;
		case 'D':
			return EVENT_DELETE;
		case 'T':
			return EVENT_TRUNCATE;
		case 'M':
			return EVENT_MESSAGE;
		case 'L':
			return EVENT_READ;
		case 'S':
		case 'E':
		case 'A':
		case 'X':
			return EVENT_STREAM;
	}
	return EVENT_OTHER;
}

/* An optional "X/X" field: absent or null leaves *out at 0. */
static bool
walcast_record_lsn(json_t *rec, const char *key, uint64_t *out,
				   char *err, size_t errlen)
{
	json_t	   *v = json_object_get(rec, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v) || !lsn_parse(json_string_value(v), out))
	{
		snprintf(err, errlen, "field \"%s\" is not an LSN (\"X/X\")", key);
		return false;
	}
	return true;
}

/* An optional non-negative integer field: absent or null gives -1. */
static bool
walcast_record_count(json_t *rec, const char *key, int64_t *out,
					 char *err, size_t errlen)
{
	json_t	   *v = json_object_get(rec, key);

	*out = -1;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
	{
		snprintf(err, errlen, "field \"%s\" is not a non-negative integer",
				 key);
		return false;
	}
	*out = (int64_t) json_integer_value(v);
	return true;
}

/* An optional string field, borrowed from rec. */
static bool
walcast_record_string(json_t *rec, const char *key, const char **out,
					  char *err, size_t errlen)
{
	json_t	   *v = json_object_get(rec, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v))
	{
		snprintf(err, errlen, "field \"%s\" is not a string", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static bool
walcast_record_fill(struct event *ev, char *err, size_t errlen)
{
	json_t	   *rec = ev->rec;
	const char *action;
	json_t	   *transactional;

	if (!json_is_object(rec))
	{
		snprintf(err, errlen, "record is not a JSON object");
		return false;
	}
	if (!walcast_record_string(rec, "action", &action, err, errlen))
		return false;
	if (action == NULL || action[0] == '\0')
	{
		snprintf(err, errlen, "record has no \"action\"");
		return false;
	}

	/*
	 * Streaming records (S, E, A, X) become EVENT_STREAM, which the loop
	 * refuses; any action this agent does not know becomes EVENT_OTHER
	 * rather than an error: the loop skips it, and a newer plugin does not
	 * stop an older agent.
	 */
	ev->op = action[1] == '\0' ? walcast_record_op(action[0]) : EVENT_OTHER;

	if (!walcast_record_string(rec, "schema", &ev->schema, err, errlen) ||
		!walcast_record_string(rec, "table", &ev->table, err, errlen) ||
		!walcast_record_lsn(rec, "lsn", &ev->lsn, err, errlen) ||
		!walcast_record_lsn(rec, "commit_lsn", &ev->commit_lsn, err, errlen) ||
		!walcast_record_lsn(rec, "end_lsn", &ev->end_lsn, err, errlen) ||
		!walcast_record_count(rec, "seq", &ev->seq, err, errlen) ||
		!walcast_record_count(rec, "xid", &ev->xid, err, errlen))
		return false;

	if (event_is_row_change(ev->op) && (ev->schema == NULL || ev->table == NULL))
	{
		snprintf(err, errlen, "%s record has no \"schema\" or \"table\"",
				 event_op_name(ev->op));
		return false;
	}
	switch (ev->op)
	{
		case EVENT_MESSAGE:
			transactional = json_object_get(rec, "transactional");
			if (!json_is_boolean(transactional))
			{
				snprintf(err, errlen,
						 "message record has no boolean \"transactional\"");
				return false;
			}
			ev->transactional = json_is_true(transactional);
			break;
		default:
			break;
	}
	return true;
}

bool
walcast_record_parse(struct event *ev, const char *data, size_t len,
					 char *err, size_t errlen)
{
	json_error_t jerr;

	memset(ev, 0, sizeof(*ev));
	ev->seq = -1;
	ev->xid = -1;
	ev->transactional = true;
	ev->raw = data;
	ev->rawlen = len;

	/*
	 * jansson rejects trailing data by default, so a batch of several
	 * records handed over by mistake fails here instead of being half read.
	 */
	ev->rec = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (ev->rec == NULL)
	{
		snprintf(err, errlen, "invalid JSON at byte %d: %s",
				 jerr.position, jerr.text);
		return false;
	}
	if (!walcast_record_fill(ev, err, errlen))
	{
		event_free(ev);
		return false;
	}
	return true;
}

