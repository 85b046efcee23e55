/*
 * envelope.c
 *		Render a parsed plugin record as native, Debezium-style or flat JSON.
 *
 * The shapes are specified in docs/agent-config.md ("Envelopes"); keep the
 * two in step.  Field order is fixed and the output is compact, so equal
 * events always render to equal bytes.
 *
 * An envelope is built as a yyjson document and written by yyjson, which
 * owns the structure and the escaping of what the agent adds (the source
 * block, the op).  Whatever comes from the record goes in as its text
 * (event_member_text, event_value_text): values as raw JSON, column names
 * as strings written unescaped from their escaped text.  Nothing of the
 * row is parsed and printed again, so a value reaches every envelope
 * exactly as the plugin wrote it: integers beyond 64 bits, 1e400, -0,
 * 2.50, duplicate keys and escapes of a json value, bytes that are not
 * UTF-8 (SQL_ASCII), lone surrogate escapes.
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include "envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"				/* WALCAST_VERSION */
#include "yyjson.h"

/*
 * Row columns that would collide with a field the flat envelope adds.  The
 * list is fixed (not just the fields present in one event) so that whether
 * a table can use the flat envelope does not depend on the operation.
 */
static const char *const flat_reserved[] = {
	"type", "entry_id", "__old_entry_id", "__schema", "__op", "__deleted",
	"__unchanged", NULL
};

/* And the event's id, when it is asked for (envelope_render_id). */
#define ENVELOPE_FLAT_ID "__id"

bool
envelope_kind_parse(const char *s, enum envelope_kind *out)
{
	for (int k = ENVELOPE_NATIVE; k <= ENVELOPE_FLAT; k++)
	{
		if (strcmp(s, envelope_kind_name((enum envelope_kind) k)) == 0)
		{
			*out = (enum envelope_kind) k;
			return true;
		}
	}
	return false;
}

const char *
envelope_kind_name(enum envelope_kind k)
{
	switch (k)
	{
		case ENVELOPE_NATIVE:
			return "native";
		case ENVELOPE_DEBEZIUM:
			return "debezium";
		case ENVELOPE_FLAT:
			return "flat";
	}
	return "unknown";
}

/* ---- building an envelope ---- */

/* A base64 buffer; the envelope document copies what it keeps. */
struct envelope_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory */
};

static void
envelope_put(struct envelope_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->cap - b->len < n)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *p;

		while (cap - b->len < n)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* One envelope being built: its document and whether every step worked. */
struct envelope_doc
{
	yyjson_mut_doc *doc;
	const struct event *ev;
	const char *id;				/* the event's id to add, or NULL */
	bool		ok;
};

/* v, or JSON null after remembering that it could not be made. */
static yyjson_mut_val *
envelope_checked(struct envelope_doc *d, yyjson_mut_val *v)
{
	if (v == NULL)
	{
		d->ok = false;
		return yyjson_mut_null(d->doc);
	}
	return v;
}

/* A value of the record as its text (null when absent): never re-printed. */
static yyjson_mut_val *
envelope_text(struct envelope_doc *d, struct event_text t)
{
	if (t.ptr == NULL)
		return envelope_checked(d, yyjson_mut_null(d->doc));
	return envelope_checked(d, yyjson_mut_rawn(d->doc, t.ptr, t.len));
}

/* The member key of the record's object obj, as its text. */
static yyjson_mut_val *
envelope_member(struct envelope_doc *d, yyjson_val *obj, const char *key)
{
	return envelope_text(d, event_member_text(d->ev, obj, key));
}

static void
envelope_add(struct envelope_doc *d, yyjson_mut_val *obj, const char *key,
			 yyjson_mut_val *v)
{
	if (v == NULL || !yyjson_mut_obj_add_val(d->doc, obj, key, v))
		d->ok = false;
}

/*
 * A column of the record (key is its key in a row object) under the same
 * name: the name goes out as the plugin escaped it, the value as its text.
 */
static void
envelope_add_column(struct envelope_doc *d, yyjson_mut_val *obj,
					yyjson_val *key, struct event_text value)
{
	struct event_text name = event_key_text(d->ev, key);
	yyjson_mut_val *k = yyjson_mut_strn(d->doc, name.ptr, name.len);

	if (k == NULL || !yyjson_mut_set_str_noesc(k, true) ||
		!yyjson_mut_obj_add(obj, k, envelope_text(d, value)))
		d->ok = false;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
int64_t
envelope_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/*
 * The record's "ts" ("YYYY-MM-DDTHH:MM:SS[.ffffff]Z", contract.md) in
 * milliseconds since the epoch.
 */
static bool
envelope_ts_ms(const char *ts, int64_t *out)
{
	int			y, mo, d, h, mi, s, n = 0;
	int64_t		ms = 0;
	const char *p;

	if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
		n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	p = ts + n;
	if (*p == '.')
	{
		int			digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return false;
	*out = ((envelope_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
		(int64_t) s * 1000 + ms;
	return true;
}

static bool
envelope_commit_ms(const struct event *ev, int64_t now_ms, int64_t *out,
				   char *err, size_t errlen)
{
	yyjson_val *ts = yyjson_obj_get(ev->rec, "ts");

	/* include-timestamp=false, or a non-transactional message: use now. */
	*out = now_ms;
	if (ts == NULL || yyjson_is_null(ts))
		return true;
	if (!yyjson_is_str(ts) || !envelope_ts_ms(yyjson_get_str(ts), out))
	{
		snprintf(err, errlen, "field \"ts\" is not an ISO 8601 UTC timestamp");
		return false;
	}
	return true;
}

static void
envelope_base64(struct envelope_buf *b, const unsigned char *s, size_t n)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16;
		char		q[4];

		if (i + 1 < n)
			v |= (uint32_t) s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = digits[(v >> 18) & 63];
		q[1] = digits[(v >> 12) & 63];
		q[2] = i + 1 < n ? digits[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? digits[v & 63] : '=';
		envelope_put(b, q, 4);
	}
}

/* A message's content as base64, the way Debezium carries message bytes. */
static yyjson_mut_val *
envelope_message_content(struct envelope_doc *d)
{
	yyjson_val *content = yyjson_obj_get(d->ev->rec, "content");
	struct envelope_buf b = {0};
	yyjson_mut_val *out;

	if (!yyjson_is_str(content))
		return envelope_member(d, d->ev->rec, "content_base64");
	envelope_base64(&b, (const unsigned char *) yyjson_get_str(content),
					yyjson_get_len(content));
	out = b.failed ? NULL : yyjson_mut_strncpy(d->doc, b.data ? b.data : "", b.len);
	free(b.data);
	return envelope_checked(d, out);
}

/* "unchanged": [...] when the record lists unchanged TOAST columns. */
static void
envelope_add_unchanged(struct envelope_doc *d, yyjson_mut_val *obj,
					   const char *key)
{
	yyjson_val *unchanged = yyjson_obj_get(d->ev->rec, "unchanged");

	if (yyjson_is_arr(unchanged) && yyjson_arr_size(unchanged) > 0)
		envelope_add(d, obj, key, envelope_member(d, d->ev->rec, "unchanged"));
}

/* key: the event's id, when asked for (envelope_render_id). */
static void
envelope_add_id(struct envelope_doc *d, yyjson_mut_val *obj, const char *key)
{
	if (d->id != NULL)
		envelope_add(d, obj, key, yyjson_mut_strcpy(d->doc, d->id));
}

/* ---- debezium ---- */

static const char *
envelope_debezium_op(enum event_op op)
{
	switch (op)
	{
		case EVENT_INSERT:
			return "c";
		case EVENT_UPDATE:
			return "u";
		case EVENT_DELETE:
			return "d";
		case EVENT_TRUNCATE:
			return "t";
		case EVENT_READ:
			return "r";
		default:
			return "m";
	}
}

/*
 * Debezium's "sequence" is a JSON array in a string: the previous
 * transaction's commit LSN (which a single record does not know, so null)
 * and this event's LSN, both as decimal strings.
 */
static yyjson_mut_val *
envelope_debezium_sequence(struct envelope_doc *d)
{
	yyjson_mut_val *seq = yyjson_mut_arr(d->doc);
	char		lsn[24];
	char	   *text;
	size_t		len;
	yyjson_mut_val *out = NULL;

	snprintf(lsn, sizeof(lsn), "%" PRIu64, d->ev->lsn);
	if (seq == NULL || !yyjson_mut_arr_add_null(d->doc, seq) ||
		!(d->ev->lsn != 0 ? yyjson_mut_arr_add_strcpy(d->doc, seq, lsn) :
		  yyjson_mut_arr_add_null(d->doc, seq)))
		return envelope_checked(d, NULL);
	if ((text = yyjson_mut_val_write(seq, YYJSON_WRITE_NOFLAG, &len)) != NULL)
	{
		out = yyjson_mut_strncpy(d->doc, text, len);
		free(text);
	}
	return envelope_checked(d, out);
}

/* "schema" or "table" of the record as its text, "" when absent. */
static yyjson_mut_val *
envelope_relation(struct envelope_doc *d, const char *key)
{
	struct event_text t = event_member_text(d->ev, d->ev->rec, key);

	if (t.ptr == NULL)
		return envelope_checked(d, yyjson_mut_str(d->doc, ""));
	return envelope_text(d, t);
}

static yyjson_mut_val *
envelope_debezium_source(struct envelope_doc *d, int64_t commit_ms)
{
	const struct event *ev = d->ev;
	yyjson_mut_doc *doc = d->doc;
	yyjson_mut_val *src = envelope_checked(d, yyjson_mut_obj(doc));

	envelope_add(d, src, "version", yyjson_mut_str(doc, "walcast-" WALCAST_VERSION));
	envelope_add(d, src, "connector", yyjson_mut_str(doc, "postgresql"));
	envelope_add(d, src, "name", yyjson_mut_str(doc, "walcast"));
	envelope_add(d, src, "ts_ms", yyjson_mut_sint(doc, commit_ms));
	envelope_add(d, src, "snapshot", yyjson_mut_str(doc, ev->op == EVENT_READ ? "true" : "false"));
	/* Debezium leaves schema and table empty for logical messages. */
	envelope_add(d, src, "schema", envelope_relation(d, "schema"));
	envelope_add(d, src, "table", envelope_relation(d, "table"));
	envelope_add(d, src, "txId", ev->xid >= 0 ? yyjson_mut_sint(doc, ev->xid) : yyjson_mut_null(doc));
	envelope_add(d, src, "lsn", ev->lsn != 0 ? yyjson_mut_uint(doc, ev->lsn) : yyjson_mut_null(doc));
	envelope_add(d, src, "sequence", envelope_debezium_sequence(d));
	return src;
}

static bool
envelope_debezium(struct envelope_doc *d, int64_t now_ms, char *err,
				  size_t errlen)
{
	const struct event *ev = d->ev;
	yyjson_mut_doc *doc = d->doc;
	yyjson_mut_val *root = envelope_checked(d, yyjson_mut_obj(doc));
	yyjson_mut_val *msg;
	int64_t		commit_ms;

	if (!envelope_commit_ms(ev, now_ms, &commit_ms, err, errlen))
		return false;
	yyjson_mut_doc_set_root(doc, root);
	switch (ev->op)
	{
		case EVENT_INSERT:
		case EVENT_READ:
			envelope_add(d, root, "before", yyjson_mut_null(doc));
			envelope_add(d, root, "after", envelope_member(d, ev->rec, "new"));
			break;
		case EVENT_UPDATE:
			envelope_add(d, root, "before", envelope_member(d, ev->rec, "old"));
			envelope_add(d, root, "after", envelope_member(d, ev->rec, "new"));
			break;
		case EVENT_DELETE:
			envelope_add(d, root, "before", envelope_member(d, ev->rec, "old"));
			envelope_add(d, root, "after", yyjson_mut_null(doc));
			break;
		case EVENT_TRUNCATE:
			envelope_add(d, root, "before", yyjson_mut_null(doc));
			envelope_add(d, root, "after", yyjson_mut_null(doc));
			break;
		default:
			/* Debezium's message events carry no before/after. */
			break;
	}
	envelope_add(d, root, "source", envelope_debezium_source(d, commit_ms));
	envelope_add(d, root, "op", yyjson_mut_str(doc, envelope_debezium_op(ev->op)));
	envelope_add(d, root, "ts_ms", yyjson_mut_sint(doc, now_ms));
	if (ev->op == EVENT_MESSAGE)
	{
		msg = envelope_checked(d, yyjson_mut_obj(doc));
		envelope_add(d, msg, "prefix", envelope_member(d, ev->rec, "prefix"));
		envelope_add(d, msg, "content", envelope_message_content(d));
		envelope_add(d, root, "message", msg);
	}
	/* Not in Debezium: names the TOAST columns "after" leaves out. */
	envelope_add_unchanged(d, root, "unchanged");
	envelope_add_id(d, root, "id");
	return true;
}

/* ---- flat ---- */

/* The text of key column name: from row, else from fallback; NULL text when in neither. */
static struct event_text
envelope_flat_column(const struct event *ev, yyjson_val *name, yyjson_val *row,
					 yyjson_val *fallback)
{
	yyjson_val *k = yyjson_is_obj(row) ? event_find_key(row, name) : NULL;

	if (k == NULL && yyjson_is_obj(fallback))
		k = event_find_key(fallback, name);
	return k != NULL ? event_value_text(ev, k) : (struct event_text) {NULL, 0};
}

/*
 * entry_id: the single key column's value, an object of the key columns for
 * a composite key, null when the table has no key (pk = []).
 */
static yyjson_mut_val *
envelope_flat_key(struct envelope_doc *d, yyjson_val *pk, yyjson_val *row,
				  yyjson_val *fallback)
{
	yyjson_mut_val *key;
	yyjson_val *name;
	size_t		i,
				max;

	if (yyjson_arr_size(pk) == 0)
		return yyjson_mut_null(d->doc);
	if (yyjson_arr_size(pk) == 1)
		return envelope_text(d, envelope_flat_column(d->ev, yyjson_arr_get_first(pk),
													 row, fallback));
	key = envelope_checked(d, yyjson_mut_obj(d->doc));
	yyjson_arr_foreach(pk, i, max, name)
	{
		yyjson_val *k = yyjson_is_obj(row) ? event_find_key(row, name) : NULL;

		if (k == NULL && yyjson_is_obj(fallback))
			k = event_find_key(fallback, name);
		if (k != NULL)
			envelope_add_column(d, key, k, event_value_text(d->ev, k));
		else
			envelope_add(d, key, yyjson_get_str(name), yyjson_mut_null(d->doc));
	}
	return key;
}

/* True when obj holds every key column: only then is an old key known. */
static bool
envelope_flat_has_key(yyjson_val *pk, yyjson_val *obj)
{
	yyjson_val *name;
	size_t		i,
				max;

	if (!yyjson_is_obj(obj))
		return false;
	yyjson_arr_foreach(pk, i, max, name)
	{
		if (event_find_key(obj, name) == NULL)
			return false;
	}
	return true;
}

/*
 * The old key differs from the new one: compared as the plugin's text,
 * which is one text per value for every type a key can have.
 */
static bool
envelope_flat_key_moved(const struct event *ev, yyjson_val *pk,
						yyjson_val *newrow, yyjson_val *oldrow)
{
	yyjson_val *name;
	size_t		i,
				max;

	yyjson_arr_foreach(pk, i, max, name)
	{
		struct event_text n = envelope_flat_column(ev, name, newrow, oldrow);
		struct event_text o = envelope_flat_column(ev, name, oldrow, NULL);

		if (n.len != o.len || (n.len > 0 && memcmp(n.ptr, o.ptr, n.len) != 0))
			return true;
	}
	return false;
}

static bool
envelope_flat_check_pk(yyjson_val *pk, char *err, size_t errlen)
{
	yyjson_val *name;
	size_t		i,
				max;

	if (pk == NULL)
	{
		snprintf(err, errlen,
				 "record has no \"pk\" (the flat envelope needs the plugin option include-pk=true)");
		return false;
	}
	if (!yyjson_is_arr(pk))
		goto bad;
	yyjson_arr_foreach(pk, i, max, name)
	{
		if (!yyjson_is_str(name))
			goto bad;
	}
	return true;
bad:
	snprintf(err, errlen, "field \"pk\" is not an array of column names");
	return false;
}

static bool
envelope_flat_collides(const struct event *ev, const char *field, char *err,
					   size_t errlen)
{
	snprintf(err, errlen,
			 "column \"%s\" of %s.%s collides with the flat envelope's field of that name (use the native or debezium envelope)",
			 field, ev->schema, ev->table);
	return false;
}

static void
envelope_flat_message(struct envelope_doc *d)
{
	const struct event *ev = d->ev;
	yyjson_mut_val *root = envelope_checked(d, yyjson_mut_obj(d->doc));

	yyjson_mut_doc_set_root(d->doc, root);
	envelope_add(d, root, "prefix", envelope_member(d, ev->rec, "prefix"));
	envelope_add(d, root, "transactional", yyjson_mut_bool(d->doc, ev->transactional));
	if (yyjson_obj_get(ev->rec, "content") != NULL)
		envelope_add(d, root, "content", envelope_member(d, ev->rec, "content"));
	else
		envelope_add(d, root, "content_base64", envelope_member(d, ev->rec, "content_base64"));
	envelope_add(d, root, "__op", yyjson_mut_str(d->doc, "message"));
	envelope_add_id(d, root, ENVELOPE_FLAT_ID);
}

static bool
envelope_flat(struct envelope_doc *d, char *err, size_t errlen)
{
	const struct event *ev = d->ev;
	yyjson_mut_doc *doc = d->doc;
	yyjson_val *pk = yyjson_obj_get(ev->rec, "pk");
	yyjson_val *newrow = yyjson_obj_get(ev->rec, "new");
	yyjson_val *oldrow = yyjson_obj_get(ev->rec, "old");
	yyjson_val *row = NULL;
	yyjson_mut_val *root;
	yyjson_val *k,
			   *v;
	size_t		idx,
				max;

	if (ev->op == EVENT_MESSAGE)
	{
		envelope_flat_message(d);
		return true;
	}
	if (ev->op != EVENT_TRUNCATE && !envelope_flat_check_pk(pk, err, errlen))
		return false;
	if (ev->op == EVENT_INSERT || ev->op == EVENT_UPDATE || ev->op == EVENT_READ)
		row = newrow;
	else if (ev->op == EVENT_DELETE)
		row = oldrow;
	if (row != NULL && !yyjson_is_obj(row) && !yyjson_is_null(row))
	{
		snprintf(err, errlen, "field \"%s\" is not an object",
				 ev->op == EVENT_DELETE ? "old" : "new");
		return false;
	}
	/* yyjson's loops want an object: a delete's "old" may be null */
	if (!yyjson_is_obj(row))
		row = NULL;
	if (row != NULL)
		yyjson_obj_foreach(row, idx, max, k, v)
	{
		for (int i = 0; flat_reserved[i] != NULL; i++)
		{
			if (yyjson_equals_str(k, flat_reserved[i]))
				return envelope_flat_collides(ev, flat_reserved[i], err, errlen);
		}
		if (d->id != NULL && yyjson_equals_str(k, ENVELOPE_FLAT_ID))
			return envelope_flat_collides(ev, ENVELOPE_FLAT_ID, err, errlen);
	}

	root = envelope_checked(d, yyjson_mut_obj(doc));
	yyjson_mut_doc_set_root(doc, root);
	envelope_add(d, root, "type", envelope_relation(d, "table"));
	envelope_add(d, root, "entry_id",
				 ev->op == EVENT_TRUNCATE ? yyjson_mut_null(doc) :
				 envelope_flat_key(d, pk, row, ev->op == EVENT_UPDATE ? oldrow : NULL));

	/* A key update: tell consumers which entry to retire. */
	if (ev->op == EVENT_UPDATE && yyjson_arr_size(pk) > 0 &&
		envelope_flat_has_key(pk, oldrow) &&
		envelope_flat_key_moved(ev, pk, row, oldrow))
		envelope_add(d, root, "__old_entry_id", envelope_flat_key(d, pk, oldrow, NULL));
	if (row != NULL)
		yyjson_obj_foreach(row, idx, max, k, v)
			envelope_add_column(d, root, k, event_value_text(ev, k));
	envelope_add(d, root, "__schema", envelope_relation(d, "schema"));
	envelope_add(d, root, "__op", yyjson_mut_str(doc, event_op_name(ev->op)));
	envelope_add(d, root, "__deleted",
				 yyjson_mut_bool(doc, ev->op == EVENT_DELETE || ev->op == EVENT_TRUNCATE));
	envelope_add_unchanged(d, root, "__unchanged");
	envelope_add_id(d, root, ENVELOPE_FLAT_ID);
	return true;
}

/* ---- entry points ---- */

static char *
envelope_native(const struct event *ev, size_t *len, char *err, size_t errlen)
{
	char	   *out = NULL;

	if (ev->raw != NULL)
	{
		if ((out = malloc(ev->rawlen ? ev->rawlen : 1)) != NULL)
			memcpy(out, ev->raw, ev->rawlen);
		*len = ev->rawlen;
	}
	else
		out = yyjson_val_write_opts(ev->rec, YYJSON_WRITE_ALLOW_INVALID_UNICODE,
									NULL, len, NULL);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

static char *
envelope_build(enum envelope_kind kind, const struct event *ev, const char *id,
			   int64_t now_ms, size_t *len, char *err, size_t errlen)
{
	struct envelope_doc d = {NULL, ev, id, true};
	yyjson_write_err werr;
	char	   *out = NULL;
	bool		built;

	switch (ev->op)
	{
		case EVENT_INSERT:
		case EVENT_UPDATE:
		case EVENT_DELETE:
		case EVENT_TRUNCATE:
		case EVENT_MESSAGE:
		case EVENT_READ:
			break;
		default:
			snprintf(err, errlen, "%s records are not published",
					 event_op_name(ev->op));
			return NULL;
	}
	if (kind == ENVELOPE_NATIVE)
		return envelope_native(ev, len, err, errlen);

	if ((d.doc = yyjson_mut_doc_new(NULL)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	built = kind == ENVELOPE_DEBEZIUM ? envelope_debezium(&d, now_ms, err, errlen)
		: envelope_flat(&d, err, errlen);
	if (built && d.ok)
	{
		/* Invalid UTF-8 can only be the record's own (SQL_ASCII): kept. */
		out = yyjson_mut_write_opts(d.doc, YYJSON_WRITE_ALLOW_INVALID_UNICODE,
									NULL, len, &werr);
		if (out == NULL)
			snprintf(err, errlen, "cannot write the envelope: %s", werr.msg);
	}
	else if (built)
		snprintf(err, errlen, "out of memory");
	yyjson_mut_doc_free(d.doc);
	return out;
}
char *
envelope_render_at(enum envelope_kind kind, const struct event *ev,
				   int64_t now_ms, size_t *len, char *err, size_t errlen)
{
	return envelope_build(kind, ev, NULL, now_ms, len, err, errlen);
}

static int64_t
envelope_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

char *
envelope_render(enum envelope_kind kind, const struct event *ev,
				size_t *len, char *err, size_t errlen)
{
	return envelope_build(kind, ev, NULL, envelope_now_ms(), len, err, errlen);
}

char *
envelope_render_id(enum envelope_kind kind, const struct event *ev,
				   const char *id, size_t *len, char *err, size_t errlen)
{
	return envelope_build(kind, ev, id, envelope_now_ms(), len, err, errlen);
}
