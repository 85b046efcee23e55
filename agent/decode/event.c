/*
 * event.c
 *		What every event offers whatever decoder made it: its kind's name,
 *		its message id, the text of its values, and releasing it (see
 *		event.h).  Parsing the walcast record format is walcast_record.c's.
 *
 * A value's text is found in the record's bytes from its key: yyjson
 * parses a copy of them in place, so a key's string in the tree lies at
 * the offset of its text in the record (the content starts right after
 * the opening quote, and unescaping only ever shortens it).  From the
 * key's closing quote the value starts after the ':', and ends where its
 * brackets balance.  The bytes were valid JSON for yyjson, so this scan
 * needs no error handling of its own.
 */
#include "event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
	yyjson_doc_free(ev->doc);
	free(ev->buf);
	free(ev->lone);
	ev->doc = NULL;
	ev->rec = NULL;
	ev->buf = NULL;
	ev->lone = NULL;
	ev->nlone = 0;
	ev->schema = NULL;
	ev->table = NULL;
}

/* The closing quote of the string whose content starts at i. */
static size_t
event_string_end(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '"')
		i += s[i] == '\\' ? 2 : 1;
	return i < len ? i : len;
}

static size_t
event_skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The end (exclusive) of the value starting at i. */
static size_t
event_value_end(const char *s, size_t len, size_t i)
{
	size_t		depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return event_string_end(s, len, i + 1) + 1;
	if (s[i] != '{' && s[i] != '[')
	{
		/* a number or a literal */
		while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
			   s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			i++;
		return i;
	}
	for (; i < len; i++)
	{
		switch (s[i])
		{
			case '"':
				i = event_string_end(s, len, i + 1);
				break;
			case '{':
			case '[':
				depth++;
				break;
			case '}':
			case ']':
				if (--depth == 0)
					return i + 1;
				break;
		}
	}
	return len;
}

/* Where key's content starts in ev->raw (see the top of the file). */
static size_t
event_key_offset(const struct event *ev, yyjson_val *key)
{
	return (size_t) (yyjson_get_str(key) - ev->buf);
}

struct event_text
event_key_text(const struct event *ev, yyjson_val *key)
{
	size_t		start = event_key_offset(ev, key);
	size_t		end = event_string_end(ev->raw, ev->rawlen, start);

	return (struct event_text) {ev->raw + start, end - start};
}

struct event_text
event_value_text(const struct event *ev, yyjson_val *key)
{
	struct event_text k = event_key_text(ev, key);
	size_t		i = (size_t) (k.ptr - ev->raw) + k.len + 1;

	i = event_skip_blanks(ev->raw, ev->rawlen, i);
	if (i < ev->rawlen && ev->raw[i] == ':')
		i++;
	i = event_skip_blanks(ev->raw, ev->rawlen, i);
	return (struct event_text) {ev->raw + i,
		event_value_end(ev->raw, ev->rawlen, i) - i};
}

yyjson_val *
event_find_key(yyjson_val *obj, yyjson_val *name)
{
	size_t		idx,
				max;
	yyjson_val *k,
			   *v;

	if (!yyjson_is_obj(obj))
		return NULL;
	yyjson_obj_foreach(obj, idx, max, k, v)
	{
		if (yyjson_equals_strn(k, yyjson_get_str(name), yyjson_get_len(name)))
			return k;
	}
	return NULL;
}

struct event_text
event_member_text(const struct event *ev, yyjson_val *obj, const char *key)
{
	size_t		keylen = strlen(key);
	size_t		idx,
				max;
	yyjson_val *k,
			   *v;

	if (!yyjson_is_obj(obj))
		return (struct event_text) {NULL, 0};
	/* The first member of that name, as yyjson_obj_get finds it. */
	yyjson_obj_foreach(obj, idx, max, k, v)
	{
		if (yyjson_equals_strn(k, key, keylen))
			return event_value_text(ev, k);
	}
	return (struct event_text) {NULL, 0};
}

bool
event_text_has_lone(const struct event *ev, struct event_text text)
{
	size_t		from = (size_t) (text.ptr - ev->raw);

	for (size_t i = 0; i < ev->nlone; i++)
		if (ev->lone[i] >= from && ev->lone[i] < from + text.len)
			return true;
	return false;
}
