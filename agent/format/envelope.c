/*
 * envelope.c
 *		Render a parsed plugin record as native, Debezium-style or flat JSON.
 *
 * The shapes are specified in docs/agent-config.md ("Envelopes"); keep the
 * two in step.  Field order is fixed (jansson keeps insertion order) and the
 * output is compact, so equal events always render to equal bytes.
 *
 * The output is written by envelope_dump rather than json_dumps: jansson
 * prints every real with 17 significant digits, which would turn the
 * plugin's shortest round-trip 0.1 into 0.10000000000000001.  envelope_dump
 * prints reals in their shortest round-trip form and leaves all string
 * escaping to jansson (json_dumpb).
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include "envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"				/* WALCAST_VERSION */

/*
 * Row columns that would collide with a field the flat envelope adds.  The
 * list is fixed (not just the fields present in one event) so that whether
 * a table can use the flat envelope does not depend on the operation.
 */
static const char *const flat_reserved[] = {
	"type", "entry_id", "__old_entry_id", "__schema", "__op", "__deleted",
	"__unchanged", NULL
};

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

/* ---- output buffer and serializer ---- */

struct envelope_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory: stop writing, report once */
};

static bool
envelope_reserve(struct envelope_buf *b, size_t n)
{
	size_t		cap;
	char	   *p;

	if (b->failed)
		return false;
	if (b->cap - b->len >= n)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void
envelope_put(struct envelope_buf *b, const char *s, size_t n)
{
	if (!envelope_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* A scalar through jansson, which owns all string escaping. */
static void
envelope_put_scalar(struct envelope_buf *b, json_t *v)
{
	size_t		need = 64;

	for (;;)
	{
		size_t		n;

		if (!envelope_reserve(b, need))
			return;
		n = json_dumpb(v, b->data + b->len, b->cap - b->len, JSON_ENCODE_ANY);
		if (n == 0)
		{
			b->failed = true;
			return;
		}
		if (n <= b->cap - b->len)
		{
			b->len += n;
			return;
		}
		need = n;
	}
}

static void
envelope_put_key(struct envelope_buf *b, const char *key, size_t keylen)
{
	json_t	   *s = json_stringn_nocheck(key, keylen);

	if (s == NULL)
	{
		b->failed = true;
		return;
	}
	envelope_put_scalar(b, s);
	json_decref(s);
}

/*
 * Shortest digits that read back as the same double, laid out like
 * PostgreSQL's float8out: plain notation for decimal exponents -4..14,
 * exponent notation outside.
 */
static void
envelope_put_real(struct envelope_buf *b, double d)
{
	char		num[48];
	int			prec;
	int			exp;

	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(num, sizeof(num), "%.*e", prec - 1, d);
		if (strtod(num, NULL) == d)
			break;
	}
	if (prec > 17)
		prec = 17;
	exp = atoi(strchr(num, 'e') + 1);
	if (exp >= -4 && exp < 15)
		snprintf(num, sizeof(num), "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
	/* Keep it a real for readers that distinguish (as jansson does). */
	if (strpbrk(num, ".e") == NULL)
		strcat(num, ".0");
	envelope_put(b, num, strlen(num));
}

static void
envelope_dump(struct envelope_buf *b, json_t *v)
{
	const char *key;
	size_t		keylen;
	json_t	   *item;
	size_t		i;
	bool		first = true;

	switch (json_typeof(v))
	{
		case JSON_OBJECT:
			envelope_put(b, "{", 1);
			json_object_keylen_foreach(v, key, keylen, item)
			{
				if (!first)
					envelope_put(b, ",", 1);
				first = false;
				envelope_put_key(b, key, keylen);
				envelope_put(b, ":", 1);
				envelope_dump(b, item);
			}
			envelope_put(b, "}", 1);
			break;
		case JSON_ARRAY:
			envelope_put(b, "[", 1);
			json_array_foreach(v, i, item)
			{
				if (i > 0)
					envelope_put(b, ",", 1);
				envelope_dump(b, item);
			}
			envelope_put(b, "]", 1);
			break;
		case JSON_REAL:
			envelope_put_real(b, json_real_value(v));
			break;
		default:
			envelope_put_scalar(b, v);
			break;
	}
}

/* ---- helpers shared by the envelopes ---- */

/* json_object_set_new that remembers an allocation failure. */
static void
envelope_set(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		*ok = false;
}

/* A borrowed member as a new reference, JSON null when absent. */
static json_t *
envelope_member(json_t *obj, const char *key)
{
	json_t	   *v = json_object_get(obj, key);

	return v != NULL ? json_incref(v) : json_null();
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
	json_t	   *ts = json_object_get(ev->rec, "ts");

	/* include-timestamp=false, or a non-transactional message: use now. */
	*out = now_ms;
	if (ts == NULL || json_is_null(ts))
		return true;
	if (!json_is_string(ts) || !envelope_ts_ms(json_string_value(ts), out))
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
static json_t *
envelope_message_content(json_t *rec)
{
	json_t	   *content = json_object_get(rec, "content");
	struct envelope_buf b = {0};
	json_t	   *out;

	if (!json_is_string(content))
		return envelope_member(rec, "content_base64");
	envelope_base64(&b, (const unsigned char *) json_string_value(content),
					json_string_length(content));
	if (b.failed)
	{
		free(b.data);
		return NULL;
	}
	out = json_stringn_nocheck(b.data ? b.data : "", b.len);
	free(b.data);
	return out;
}

/* "unchanged": [...] when the record lists unchanged TOAST columns. */
static void
envelope_add_unchanged(json_t *obj, const char *key, json_t *rec, bool *ok)
{
	json_t	   *unchanged = json_object_get(rec, "unchanged");

	if (json_is_array(unchanged) && json_array_size(unchanged) > 0)
		envelope_set(obj, key, json_incref(unchanged), ok);
}

/* root if every step succeeded, else NULL with "out of memory". */
static json_t *
envelope_done(json_t *root, bool ok, char *err, size_t errlen)
{
	if (root != NULL && ok)
		return root;
	json_decref(root);
	snprintf(err, errlen, "out of memory");
	return NULL;
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

static json_t *
envelope_debezium_source(const struct event *ev, int64_t commit_ms, bool *ok)
{
	json_t	   *src = json_object();
	json_t	   *seq;
	char	   *seqtext;
	char		lsn[24];

	if (src == NULL)
	{
		*ok = false;
		return NULL;
	}
	envelope_set(src, "version", json_string("walcast-" WALCAST_VERSION), ok);
	envelope_set(src, "connector", json_string("postgresql"), ok);
	envelope_set(src, "name", json_string("walcast"), ok);
	envelope_set(src, "ts_ms", json_integer(commit_ms), ok);
	envelope_set(src, "snapshot", json_string(ev->op == EVENT_READ ? "true" : "false"), ok);
	/* Debezium leaves schema and table empty for logical messages. */
	envelope_set(src, "schema", json_string(ev->schema ? ev->schema : ""), ok);
	envelope_set(src, "table", json_string(ev->table ? ev->table : ""), ok);
	envelope_set(src, "txId", ev->xid >= 0 ? json_integer(ev->xid) : json_null(), ok);
	envelope_set(src, "lsn", ev->lsn != 0 ? json_integer((json_int_t) ev->lsn) : json_null(), ok);

	/*
	 * Debezium's "sequence" is a JSON array in a string: the previous
	 * transaction's commit LSN (which a single record does not know, so
	 * null) and this event's LSN, both as decimal strings.
	 */
	snprintf(lsn, sizeof(lsn), "%" PRIu64, ev->lsn);
	seq = json_pack("[n,s?]", ev->lsn != 0 ? lsn : NULL);
	seqtext = seq ? json_dumps(seq, JSON_COMPACT) : NULL;
	envelope_set(src, "sequence", seqtext ? json_string(seqtext) : NULL, ok);
	free(seqtext);
	json_decref(seq);
	return src;
}

static json_t *
envelope_debezium(const struct event *ev, int64_t now_ms, char *err, size_t errlen)
{
	json_t	   *root;
	json_t	   *msg;
	int64_t		commit_ms;
	bool		ok = true;

	if (!envelope_commit_ms(ev, now_ms, &commit_ms, err, errlen))
		return NULL;
	if ((root = json_object()) == NULL)
		return envelope_done(NULL, false, err, errlen);

	switch (ev->op)
	{
		case EVENT_INSERT:
		case EVENT_READ:
			envelope_set(root, "before", json_null(), &ok);
			envelope_set(root, "after", envelope_member(ev->rec, "new"), &ok);
			break;
		case EVENT_UPDATE:
			envelope_set(root, "before", envelope_member(ev->rec, "old"), &ok);
			envelope_set(root, "after", envelope_member(ev->rec, "new"), &ok);
			break;
		case EVENT_DELETE:
			envelope_set(root, "before", envelope_member(ev->rec, "old"), &ok);
			envelope_set(root, "after", json_null(), &ok);
			break;
		case EVENT_TRUNCATE:
			envelope_set(root, "before", json_null(), &ok);
			envelope_set(root, "after", json_null(), &ok);
			break;
		default:
			/* Debezium's message events carry no before/after. */
			break;
	}
	envelope_set(root, "source", envelope_debezium_source(ev, commit_ms, &ok), &ok);
	envelope_set(root, "op", json_string(envelope_debezium_op(ev->op)), &ok);
	envelope_set(root, "ts_ms", json_integer(now_ms), &ok);
	if (ev->op == EVENT_MESSAGE)
	{
		msg = json_object();
		if (msg != NULL)
		{
			envelope_set(msg, "prefix", envelope_member(ev->rec, "prefix"), &ok);
			envelope_set(msg, "content", envelope_message_content(ev->rec), &ok);
		}
		envelope_set(root, "message", msg, &ok);
	}
	/* Not in Debezium: names the TOAST columns "after" leaves out. */
	envelope_add_unchanged(root, "unchanged", ev->rec, &ok);
	return envelope_done(root, ok, err, errlen);
}

/* ---- flat ---- */

/* Value of a key column: from row, else from fallback, else null. */
static json_t *
envelope_flat_column(const char *name, json_t *row, json_t *fallback)
{
	json_t	   *v = json_object_get(row, name);

	if (v == NULL)
		v = json_object_get(fallback, name);
	return v != NULL ? json_incref(v) : json_null();
}

/*
 * entry_id: the single key column's value, an object of the key columns for
 * a composite key, null when the table has no key (pk = []).
 */
static json_t *
envelope_flat_key(json_t *pk, json_t *row, json_t *fallback)
{
	json_t	   *key;
	json_t	   *name;
	size_t		i;

	if (json_array_size(pk) == 0)
		return json_null();
	if (json_array_size(pk) == 1)
		return envelope_flat_column(json_string_value(json_array_get(pk, 0)),
									row, fallback);
	if ((key = json_object()) == NULL)
		return NULL;
	json_array_foreach(pk, i, name)
	{
		const char *col = json_string_value(name);

		if (json_object_set_new(key, col, envelope_flat_column(col, row, fallback)) != 0)
		{
			json_decref(key);
			return NULL;
		}
	}
	return key;
}

/* True when obj holds every key column: only then is an old key known. */
static bool
envelope_flat_has_key(json_t *pk, json_t *obj)
{
	json_t	   *name;
	size_t		i;

	if (!json_is_object(obj))
		return false;
	json_array_foreach(pk, i, name)
		if (json_object_get(obj, json_string_value(name)) == NULL)
		return false;
	return true;
}

static bool
envelope_flat_check_pk(json_t *pk, char *err, size_t errlen)
{
	json_t	   *name;
	size_t		i;

	if (pk == NULL)
	{
		snprintf(err, errlen,
				 "record has no \"pk\" (the flat envelope needs the plugin option include-pk=true)");
		return false;
	}
	if (!json_is_array(pk))
		goto bad;
	json_array_foreach(pk, i, name)
		if (!json_is_string(name))
		goto bad;
	return true;
bad:
	snprintf(err, errlen, "field \"pk\" is not an array of column names");
	return false;
}

static json_t *
envelope_flat_message(const struct event *ev, bool *ok)
{
	json_t	   *root = json_object();
	json_t	   *content = json_object_get(ev->rec, "content");

	if (root == NULL)
		return NULL;
	envelope_set(root, "prefix", envelope_member(ev->rec, "prefix"), ok);
	envelope_set(root, "transactional", json_boolean(ev->transactional), ok);
	if (content != NULL)
		envelope_set(root, "content", json_incref(content), ok);
	else
		envelope_set(root, "content_base64", envelope_member(ev->rec, "content_base64"), ok);
	envelope_set(root, "__op", json_string("message"), ok);
	return root;
}

static json_t *
envelope_flat(const struct event *ev, char *err, size_t errlen)
{
	json_t	   *pk = json_object_get(ev->rec, "pk");
	json_t	   *newrow = json_object_get(ev->rec, "new");
	json_t	   *oldrow = json_object_get(ev->rec, "old");
	json_t	   *row = NULL;
	json_t	   *root;
	json_t	   *v;
	const char *col;
	bool		ok = true;

	if (ev->op == EVENT_MESSAGE)
	{
		root = envelope_flat_message(ev, &ok);
		return envelope_done(root, ok, err, errlen);
	}
	if (ev->op != EVENT_TRUNCATE && !envelope_flat_check_pk(pk, err, errlen))
		return NULL;
	if (ev->op == EVENT_INSERT || ev->op == EVENT_UPDATE || ev->op == EVENT_READ)
		row = newrow;
	else if (ev->op == EVENT_DELETE)
		row = oldrow;
	if (row != NULL && !json_is_object(row) && !json_is_null(row))
	{
		snprintf(err, errlen, "field \"%s\" is not an object",
				 ev->op == EVENT_DELETE ? "old" : "new");
		return NULL;
	}
	json_object_foreach(row, col, v)
	{
		for (int i = 0; flat_reserved[i] != NULL; i++)
		{
			if (strcmp(col, flat_reserved[i]) == 0)
			{
				snprintf(err, errlen,
						 "column \"%s\" of %s.%s collides with the flat envelope's field of that name (use the native or debezium envelope)",
						 col, ev->schema, ev->table);
				return NULL;
			}
		}
	}

	if ((root = json_object()) == NULL)
		return envelope_done(NULL, false, err, errlen);
	envelope_set(root, "type", json_string(ev->table), &ok);
	envelope_set(root, "entry_id",
				 ev->op == EVENT_TRUNCATE ? json_null() :
				 envelope_flat_key(pk, row, ev->op == EVENT_UPDATE ? oldrow : NULL),
				 &ok);

	/* A key update: tell consumers which entry to retire. */
	if (ev->op == EVENT_UPDATE && json_array_size(pk) > 0 &&
		envelope_flat_has_key(pk, oldrow))
	{
		json_t	   *oldkey = envelope_flat_key(pk, oldrow, NULL);

		if (oldkey != NULL && !json_equal(oldkey, json_object_get(root, "entry_id")))
			envelope_set(root, "__old_entry_id", oldkey, &ok);
		else
			json_decref(oldkey);
	}
	json_object_foreach(row, col, v)
		envelope_set(root, col, json_incref(v), &ok);
	envelope_set(root, "__schema", json_string(ev->schema), &ok);
	envelope_set(root, "__op", json_string(event_op_name(ev->op)), &ok);
	envelope_set(root, "__deleted",
				 json_boolean(ev->op == EVENT_DELETE || ev->op == EVENT_TRUNCATE), &ok);
	envelope_add_unchanged(root, "__unchanged", ev->rec, &ok);
	return envelope_done(root, ok, err, errlen);
}

/* ---- entry points ---- */

static char *
envelope_native(const struct event *ev, size_t *len, char *err, size_t errlen)
{
	struct envelope_buf b = {0};

	if (ev->raw != NULL)
	{
		b.data = malloc(ev->rawlen ? ev->rawlen : 1);
		if (b.data != NULL)
			memcpy(b.data, ev->raw, ev->rawlen);
		b.len = ev->rawlen;
	}
	else
		envelope_dump(&b, ev->rec);
	if (b.data == NULL || b.failed)
	{
		free(b.data);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.data;
}

char *
envelope_render_at(enum envelope_kind kind, const struct event *ev,
				   int64_t now_ms, size_t *len, char *err, size_t errlen)
{
	struct envelope_buf b = {0};
	json_t	   *doc;

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

	doc = kind == ENVELOPE_DEBEZIUM ? envelope_debezium(ev, now_ms, err, errlen)
		: envelope_flat(ev, err, errlen);
	if (doc == NULL)
		return NULL;
	envelope_dump(&b, doc);
	json_decref(doc);
	if (b.failed)
	{
		free(b.data);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.data;
}

char *
envelope_render(enum envelope_kind kind, const struct event *ev,
				size_t *len, char *err, size_t errlen)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return envelope_render_at(kind, ev,
							  (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000,
							  len, err, errlen);
}
