/*
 * event.c
 *		Parse one record of the walcast output plugin (docs/contract.md).
 *
 * Only the fields the agent itself needs are lifted out of the jansson tree;
 * they are checked strictly, because a record the agent misreads would be
 * published with a wrong message id or routing key, which is worse than
 * stopping with a clear error.
 */
#include "event.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *
event_op_name(enum event_op op)
{
	switch (op)
	{
		case EVENT_BEGIN:
			return "begin";
		case EVENT_COMMIT:
			return "commit";
		case EVENT_INSERT:
			return "insert";
		case EVENT_UPDATE:
			return "update";
		case EVENT_DELETE:
			return "delete";
		case EVENT_TRUNCATE:
			return "truncate";
		case EVENT_MESSAGE:
			return "message";
		case EVENT_READ:
			return "read";
		case EVENT_OTHER:
			break;
	}
	return "other";
}

bool
event_is_row_change(enum event_op op)
{
	switch (op)
	{
		case EVENT_INSERT:
		case EVENT_UPDATE:
		case EVENT_DELETE:
		case EVENT_TRUNCATE:
		case EVENT_READ:
			return true;
		default:
			return false;
	}
}

void
event_message_id(const struct event *ev, char *buf, size_t len)
{
	char		lsn[LSN_BUFLEN];

	if (ev->message_id != NULL)
	{
		snprintf(buf, len, "%s", ev->message_id);
		return;
	}

	/*
	 * commit_lsn + seq is unique and replay-stable for everything inside a
	 * transaction; a non-transactional message has only its own LSN, which is
	 * just as stable.
	 */
	if (ev->transactional && ev->seq >= 0)
	{
		lsn_format(ev->commit_lsn, lsn, sizeof(lsn));
		snprintf(buf, len, "%s:%" PRId64, lsn, ev->seq);
	}
	else
	{
		lsn_format(ev->lsn, lsn, sizeof(lsn));
		snprintf(buf, len, "%s", lsn);
	}
}

static enum event_op
event_op_from_action(char a)
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
	}
	return EVENT_OTHER;
}

/* An optional "X/X" field: absent or null leaves *out at 0. */
static bool
event_get_lsn(json_t *rec, const char *key, uint64_t *out,
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
event_get_count(json_t *rec, const char *key, int64_t *out,
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
event_get_string(json_t *rec, const char *key, const char **out,
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
event_fill(struct event *ev, char *err, size_t errlen)
{
	json_t	   *rec = ev->rec;
	const char *action;
	json_t	   *transactional;

	if (!json_is_object(rec))
	{
		snprintf(err, errlen, "record is not a JSON object");
		return false;
	}
	if (!event_get_string(rec, "action", &action, err, errlen))
		return false;
	if (action == NULL || action[0] == '\0')
	{
		snprintf(err, errlen, "record has no \"action\"");
		return false;
	}

	/*
	 * Streaming records (S, E, A, X) and any action this agent does not know
	 * become EVENT_OTHER rather than an error: the caller skips them, and a
	 * newer plugin does not stop an older agent.
	 */
	ev->op = action[1] == '\0' ? event_op_from_action(action[0]) : EVENT_OTHER;

	if (!event_get_string(rec, "schema", &ev->schema, err, errlen) ||
		!event_get_string(rec, "table", &ev->table, err, errlen) ||
		!event_get_lsn(rec, "lsn", &ev->lsn, err, errlen) ||
		!event_get_lsn(rec, "commit_lsn", &ev->commit_lsn, err, errlen) ||
		!event_get_lsn(rec, "end_lsn", &ev->end_lsn, err, errlen) ||
		!event_get_count(rec, "seq", &ev->seq, err, errlen) ||
		!event_get_count(rec, "xid", &ev->xid, err, errlen))
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
event_parse(struct event *ev, const char *data, size_t len,
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
	if (!event_fill(ev, err, errlen))
	{
		event_free(ev);
		return false;
	}
	return true;
}

void
event_free(struct event *ev)
{
	json_decref(ev->rec);
	ev->rec = NULL;
	ev->schema = NULL;
	ev->table = NULL;
}
