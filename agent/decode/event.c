/*
 * event.c
 *		What every event offers whatever decoder made it: its kind's name,
 *		its message id, and releasing it (see event.h).  Parsing the walcast
 *		record format is walcast_record.c's.
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
		case EVENT_STREAM:
			return "stream";
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

void
event_free(struct event *ev)
{
	json_decref(ev->rec);
	ev->rec = NULL;
	ev->schema = NULL;
	ev->table = NULL;
}
