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
 *
 * The parser is yyjson, set up to lose nothing the plugin writes (issue
 * 12): numbers are kept as their text (integers beyond 64 bits, 1e400,
 * -0, 1.50 stay what they are), duplicate keys of a json value are kept
 * in order, strings carry their length (\u0000), bytes that are not UTF-8
 * (a SQL_ASCII database) pass, and nesting has no limit.  It parses a copy
 * of the record in place, which ties every string of the tree to its
 * offset in the record (event.c: event_value_text).
 *
 * One thing the json type stores and yyjson refuses: a lone surrogate
 * escape ("\ud800").  Such a record is read a second time with each lone
 * escape replaced, in the copy only, by "\ufffd" (as long, so offsets
 * hold), and the offsets are kept in the event: envelopes copy the
 * original text, and the MongoDB mirror stores such a value as its text.
 */
#include "walcast_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hex.h"

/*
 * In place (our own copy), numbers as text, and bytes that are not UTF-8
 * kept as they are.  No YYJSON_READ_STOP_WHEN_DONE: data after the
 * record is an error, so that a batch of records handed over whole by
 * mistake fails here instead of being half read.
 */
#define WALCAST_RECORD_READ_FLAGS (YYJSON_READ_INSITU | \
								   YYJSON_READ_NUMBER_AS_RAW | \
								   YYJSON_READ_ALLOW_INVALID_UNICODE)

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
walcast_record_lsn(yyjson_val *rec, const char *key, uint64_t *out,
				   char *err, size_t errlen)
{
	yyjson_val *v = yyjson_obj_get(rec, key);

	*out = 0;
	if (v == NULL || yyjson_is_null(v))
		return true;
	if (!yyjson_is_str(v) || !lsn_parse(yyjson_get_str(v), out))
	{
		snprintf(err, errlen, "field \"%s\" is not an LSN (\"X/X\")", key);
		return false;
	}
	return true;
}

/*
 * Digits only, no sign, at most INT64_MAX: the number's text (numbers are
 * read as text, see WALCAST_RECORD_READ_FLAGS).
 */
static bool
walcast_record_digits(const char *s, size_t len, int64_t *out)
{
	uint64_t	v = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > (uint64_t) INT64_MAX)
		return false;
	*out = (int64_t) v;
	return true;
}

/* An optional non-negative integer field: absent or null gives -1. */
static bool
walcast_record_count(yyjson_val *rec, const char *key, int64_t *out,
					 char *err, size_t errlen)
{
	yyjson_val *v = yyjson_obj_get(rec, key);

	*out = -1;
	if (v == NULL || yyjson_is_null(v))
		return true;
	if (!yyjson_is_raw(v) ||
		!walcast_record_digits(yyjson_get_raw(v), yyjson_get_len(v), out))
	{
		*out = -1;
		snprintf(err, errlen, "field \"%s\" is not a non-negative integer",
				 key);
		return false;
	}
	return true;
}

/* An optional string field, borrowed from rec. */
static bool
walcast_record_string(yyjson_val *rec, const char *key, const char **out,
					  char *err, size_t errlen)
{
	yyjson_val *v = yyjson_obj_get(rec, key);

	*out = NULL;
	if (v == NULL || yyjson_is_null(v))
		return true;
	if (!yyjson_is_str(v))
	{
		snprintf(err, errlen, "field \"%s\" is not a string", key);
		return false;
	}
	*out = yyjson_get_str(v);
	return true;
}

/*
 * The plugin writes each field of a record once.  yyjson keeps duplicate
 * keys (a json value needs them), so the record's own are checked here:
 * with two "lsn"s the agent could not tell which one counts.
 */
static bool
walcast_record_unique(yyjson_val *rec, char *err, size_t errlen)
{
	size_t		i,
				imax,
				j,
				jmax;
	yyjson_val *k,
			   *v,
			   *o,
			   *w;

	yyjson_obj_foreach(rec, i, imax, k, v)
	{
		yyjson_obj_foreach(rec, j, jmax, o, w)
		{
			if (j > i && yyjson_equals_strn(o, yyjson_get_str(k), yyjson_get_len(k)))
			{
				snprintf(err, errlen, "field \"%s\" appears twice",
						 yyjson_get_str(k));
				return false;
			}
		}
	}
	return true;
}

static bool
walcast_record_fill(struct event *ev, char *err, size_t errlen)
{
	yyjson_val *rec = ev->rec;
	const char *action;
	const char *ts;
	yyjson_val *transactional;

	if (!yyjson_is_obj(rec))
	{
		snprintf(err, errlen, "record is not a JSON object");
		return false;
	}
	if (!walcast_record_unique(rec, err, errlen) ||
		!walcast_record_string(rec, "action", &action, err, errlen))
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

	/* For lag only: a commit time the agent cannot read is left out. */
	if (!walcast_record_string(rec, "ts", &ts, err, errlen))
		return false;
	if (ts == NULL || !clock_parse_iso_us(ts, &ev->ts_us))
		ev->ts_us = 0;

	if (event_is_row_change(ev->op) && (ev->schema == NULL || ev->table == NULL))
	{
		snprintf(err, errlen, "%s record has no \"schema\" or \"table\"",
				 event_op_name(ev->op));
		return false;
	}
	switch (ev->op)
	{
		case EVENT_MESSAGE:
			if (!walcast_record_string(rec, "prefix", &ev->prefix, err, errlen))
				return false;
			transactional = yyjson_obj_get(rec, "transactional");
			if (!yyjson_is_bool(transactional))
			{
				snprintf(err, errlen,
						 "message record has no boolean \"transactional\"");
				return false;
			}
			ev->transactional = yyjson_get_bool(transactional);
			break;
		default:
			break;
	}
	return true;
}

static int
walcast_record_hex4(const char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			d = hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/*
 * Replace every lone surrogate escape of buf (a copy of the record, len
 * bytes) by "\ufffd" and list their offsets in ev->lone.  A backslash
 * only ever starts an escape (outside strings JSON has none), so the
 * bytes are walked escape by escape without tracking strings.  A high
 * surrogate followed by a low one is a pair, and stays.  False when out
 * of memory.
 */
static bool
walcast_record_patch_lone(struct event *ev, char *buf, size_t len)
{
	size_t		cap = 0;

	for (size_t i = 0; i + 1 < len; i++)
	{
		int			u;

		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] != 'u' || len - i < 6 ||
			(u = walcast_record_hex4(buf + i + 2)) < 0xD800 || u > 0xDFFF)
		{
			i++;				/* the escaped character */
			continue;
		}
		if (u <= 0xDBFF && len - i >= 12 && buf[i + 6] == '\\' &&
			buf[i + 7] == 'u')
		{
			int			lo = walcast_record_hex4(buf + i + 8);

			if (lo >= 0xDC00 && lo <= 0xDFFF)
			{
				i += 11;		/* a pair */
				continue;
			}
		}
		if (ev->nlone == cap)
		{
			size_t	   *grown = realloc(ev->lone, (cap = cap ? cap * 2 : 4) * sizeof(*grown));

			if (grown == NULL)
				return false;
			ev->lone = grown;
		}
		ev->lone[ev->nlone++] = i;
		memcpy(buf + i, "\\ufffd", 6);
		i += 5;
	}
	return true;
}

/* Parse raw (len bytes) in place in a fresh copy: ev->buf, ev->doc. */
static bool
walcast_record_read(struct event *ev, bool patch, yyjson_read_err *rerr)
{
	free(ev->buf);
	/* yyjson reads in place only with this much zeroed padding after. */
	if ((ev->buf = malloc(ev->rawlen + YYJSON_PADDING_SIZE)) == NULL)
	{
		rerr->code = YYJSON_READ_ERROR_MEMORY_ALLOCATION;
		rerr->msg = "out of memory";
		rerr->pos = 0;
		return false;
	}
	memcpy(ev->buf, ev->raw, ev->rawlen);
	memset(ev->buf + ev->rawlen, 0, YYJSON_PADDING_SIZE);
	if (patch && !walcast_record_patch_lone(ev, ev->buf, ev->rawlen))
	{
		rerr->code = YYJSON_READ_ERROR_MEMORY_ALLOCATION;
		rerr->msg = "out of memory";
		rerr->pos = 0;
		return false;
	}
	ev->doc = yyjson_read_opts(ev->buf, ev->rawlen, WALCAST_RECORD_READ_FLAGS,
							   NULL, rerr);
	return ev->doc != NULL;
}

bool
walcast_record_parse(struct event *ev, const char *data, size_t len,
					 char *err, size_t errlen)
{
	yyjson_read_err rerr;

	memset(ev, 0, sizeof(*ev));
	ev->seq = -1;
	ev->xid = -1;
	ev->transactional = true;
	ev->raw = data;
	ev->rawlen = len;

	/*
	 * Lone surrogates are rare (only the json type keeps them): read once
	 * as is, and patch only a record that yyjson refused with them.
	 */
	if (!walcast_record_read(ev, false, &rerr) &&
		(rerr.code != YYJSON_READ_ERROR_INVALID_STRING ||
		 strstr(rerr.msg, "surrogate") == NULL ||
		 !walcast_record_read(ev, true, &rerr)))
	{
		snprintf(err, errlen, "invalid JSON at byte %zu: %s", rerr.pos,
				 rerr.msg);
		event_free(ev);
		return false;
	}
	ev->rec = yyjson_doc_get_root(ev->doc);
	if (!walcast_record_fill(ev, err, errlen))
	{
		event_free(ev);
		return false;
	}
	return true;
}

/* ---- naming a record that does not parse ---- */

/* A string field's text (escapes as written), truncated to fit buf. */
static void
walcast_record_peek_string(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t		n = len < buflen - 1 ? len : buflen - 1;

	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* The closing quote of the string whose content starts at i, or len. */
static size_t
walcast_record_peek_quote(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != '"')
		i += s[i] == '\\' ? 2 : 1;
	return i < len ? i : len;
}

void
walcast_record_peek(const char *data, size_t len, struct walcast_record_id *id)
{
	size_t		i = 0;
	int			depth = 0;

	memset(id, 0, sizeof(*id));

	/*
	 * The plugin writes "action", "lsn", "schema" and "table" before any
	 * row value (docs/contract.md), so even a record broken inside a
	 * value names its change.  Top-level members are walked by their
	 * strings and brackets only, and the walk stops at the first thing
	 * that is not what a record looks like.
	 */
	while (i < len && data[i] != '{')
		i++;
	for (i++; i < len; i++)
	{
		char		c = data[i];

		if (c == '"')
		{
			size_t		kstart = i + 1;
			size_t		kend = walcast_record_peek_quote(data, len, kstart);
			size_t		v;

			if (kend >= len)
				return;
			i = kend;
			if (depth > 0)
				continue;
			for (v = kend + 1; v < len && (data[v] == ' ' || data[v] == ':'); v++)
				;
			if (v >= len || data[v] != '"')
				continue;		/* not a string member: walked on */
			{
				size_t		vend = walcast_record_peek_quote(data, len, v + 1);
				const char *k = data + kstart;
				size_t		klen = kend - kstart;
				char		lsn[LSN_BUFLEN];

				if (vend >= len)
					return;
				if (klen == 6 && memcmp(k, "action", 6) == 0 && vend - v == 2)
					id->action = data[v + 1];
				else if (klen == 3 && memcmp(k, "lsn", 3) == 0)
				{
					walcast_record_peek_string(data + v + 1, vend - v - 1, lsn, sizeof(lsn));
					if (!lsn_parse(lsn, &id->lsn))
						id->lsn = 0;
				}
				else if (klen == 6 && memcmp(k, "schema", 6) == 0)
					walcast_record_peek_string(data + v + 1, vend - v - 1,
											   id->schema, sizeof(id->schema));
				else if (klen == 5 && memcmp(k, "table", 5) == 0)
					walcast_record_peek_string(data + v + 1, vend - v - 1,
											   id->table, sizeof(id->table));
				i = vend;
			}
		}
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
		{
			if (--depth < 0)
				return;
		}
	}
}
