/*
 * sink_s3_row.c
 *		One event as a row of a CSV object (RFC 4180), and a table's header
 *		row (sink_s3.h).
 *
 * The columns are the keys of the record's "types" (every column of the
 * table, in column order, after exclude-columns), not of "new": a
 * DELETE's "old" holds only the key, an UPDATE leaves unchanged TOAST
 * values out, and the header must not change with either.  A column
 * missing from the row image is NULL.
 *
 * NULL and the empty string differ, as in PostgreSQL's COPY ... CSV: NULL
 * is an empty unquoted field, and every string is quoted, so the empty
 * string is "".  Strings are the decoded JSON string (yyjson unescaped
 * it); numbers keep the digits the plugin wrote; json values and arrays
 * are their JSON text.
 */
#include "sink_s3.h"

#include <stdlib.h>
#include <string.h>

bool
sink_s3_columns_of(const struct event *ev, struct sink_s3_columns *cols)
{
	yyjson_val *types = yyjson_obj_get(ev->rec, "types");
	yyjson_obj_iter it;
	yyjson_val *k;
	struct strbuf b = {0};

	memset(cols, 0, sizeof(*cols));
	if (!yyjson_is_obj(types))
		return false;
	yyjson_obj_iter_init(types, &it);
	while ((k = yyjson_obj_iter_next(&it)) != NULL)
	{
		strbuf_add(&b, yyjson_get_str(k), yyjson_get_len(k));
		strbuf_add(&b, "", 1);
		cols->n++;
	}
	strbuf_add(&b, "", 1);
	if (b.failed)
	{
		free(b.data);
		return false;
	}
	cols->len = b.len;
	cols->names = b.data;
	return true;
}

void
sink_s3_columns_free(struct sink_s3_columns *cols)
{
	free(cols->names);
	memset(cols, 0, sizeof(*cols));
}

/* A quoted field: "..." with every '"' doubled. */
static void
sink_s3_csv_quoted(struct strbuf *out, const char *s, size_t n)
{
	const char *end = s + n;

	strbuf_add(out, "\"", 1);
	while (s < end)
	{
		const char *q = memchr(s, '"', (size_t) (end - s));
		size_t		run = q != NULL ? (size_t) (q - s) + 1 : (size_t) (end - s);

		strbuf_add(out, s, run);
		if (q != NULL)
			strbuf_add(out, "\"", 1);
		s += run;
	}
	strbuf_add(out, "\"", 1);
}

void
sink_s3_csv_header(const struct sink_s3_columns *cols, const char *ts_column,
				   struct strbuf *out)
{
	const char *name = cols->names;

	strbuf_puts(out, "Op");
	if (ts_column != NULL)
	{
		strbuf_add(out, ",", 1);
		sink_s3_csv_quoted(out, ts_column, strlen(ts_column));
	}
	for (int i = 0; i < cols->n; i++)
	{
		size_t		n = strlen(name);

		strbuf_add(out, ",", 1);
		sink_s3_csv_quoted(out, name, n);
		name += n + 1;
	}
	strbuf_add(out, "\r\n", 2);
}

/* One value of a row image (NULL val: SQL NULL). */
static void
sink_s3_csv_value(const struct event *ev, yyjson_val *key, yyjson_val *val,
				  struct strbuf *out)
{
	struct event_text t;

	if (val == NULL || yyjson_is_null(val))
		return;
	if (yyjson_is_str(val))
	{
		sink_s3_csv_quoted(out, yyjson_get_str(val), yyjson_get_len(val));
		return;
	}
	t = event_value_text(ev, key);
	if (yyjson_is_obj(val) || yyjson_is_arr(val))
		sink_s3_csv_quoted(out, t.ptr, t.len);
	else
		strbuf_add(out, t.ptr, t.len);	/* numbers, true, false */
}

/* The key of obj's member named name (len bytes), or NULL. */
static yyjson_val *
sink_s3_member_key(yyjson_val *obj, const char *name, size_t len)
{
	yyjson_obj_iter it;
	yyjson_val *k;

	if (!yyjson_is_obj(obj))
		return NULL;
	yyjson_obj_iter_init(obj, &it);
	while ((k = yyjson_obj_iter_next(&it)) != NULL)
		if (yyjson_get_len(k) == len && memcmp(yyjson_get_str(k), name, len) == 0)
			return k;
	return NULL;
}

static bool
sink_s3_listed(yyjson_val *arr, const char *name, size_t len)
{
	size_t		i,
				max;
	yyjson_val *v;

	yyjson_arr_foreach(arr, i, max, v)
		if (yyjson_get_len(v) == len && memcmp(yyjson_get_str(v), name, len) == 0)
		return true;
	return false;
}

/*
 * Whether an UPDATE moved its row to another key: "old" holds the old key
 * (identity default or index: only when the key changed; full: always)
 * and some column of "pk" differs from "new"'s.
 */
static bool
sink_s3_key_moved(const struct event *ev, yyjson_val *oldrow, yyjson_val *newrow)
{
	yyjson_val *pk = yyjson_obj_get(ev->rec, "pk");
	size_t		i,
				max;
	yyjson_val *col;

	if (!yyjson_is_obj(oldrow) || !yyjson_is_obj(newrow))
		return false;
	yyjson_arr_foreach(pk, i, max, col)
	{
		yyjson_val *ok = sink_s3_member_key(oldrow, yyjson_get_str(col), yyjson_get_len(col));
		yyjson_val *nk = sink_s3_member_key(newrow, yyjson_get_str(col), yyjson_get_len(col));
		struct event_text a,
					b;

		if (ok == NULL || nk == NULL)
			continue;
		a = event_value_text(ev, ok);
		b = event_value_text(ev, nk);
		if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
			return true;
	}
	return false;
}

/* One line: op, the commit time, then image's value of each column. */
static void
sink_s3_csv_line(const struct event *ev, char op, yyjson_val *image,
				 const struct sink_s3_columns *cols, const char *ts_column,
				 struct strbuf *out, int *unchanged)
{
	yyjson_val *skipped = yyjson_obj_get(ev->rec, "unchanged");
	const char *name = cols->names;

	strbuf_add(out, &op, 1);
	if (ts_column != NULL)
	{
		yyjson_val *ts = yyjson_obj_get(ev->rec, "ts");

		strbuf_add(out, ",", 1);
		if (yyjson_is_str(ts))
			strbuf_add(out, yyjson_get_str(ts), yyjson_get_len(ts));
	}
	for (int i = 0; i < cols->n; i++)
	{
		size_t		n = strlen(name);
		yyjson_val *key = sink_s3_member_key(image, name, n);

		strbuf_add(out, ",", 1);
		if (key != NULL)
			sink_s3_csv_value(ev, key, yyjson_obj_iter_get_val(key), out);
		else if (op == 'U' && sink_s3_listed(skipped, name, n))
			(*unchanged)++;
		name += n + 1;
	}
	strbuf_add(out, "\r\n", 2);
}

bool
sink_s3_csv_row(const struct event *ev, const struct sink_s3_columns *cols,
				const char *ts_column, struct strbuf *out, int *unchanged)
{
	yyjson_val *newrow = yyjson_obj_get(ev->rec, "new");
	yyjson_val *oldrow = yyjson_obj_get(ev->rec, "old");

	*unchanged = 0;
	switch (ev->op)
	{
		case EVENT_INSERT:
		case EVENT_READ:
			/* A load's rows are inserts, so load and change objects share a header. */
			sink_s3_csv_line(ev, 'I', newrow, cols, ts_column, out, unchanged);
			break;
		case EVENT_UPDATE:
			/* A new key: the old key's row is gone (D), the new one is here. */
			if (sink_s3_key_moved(ev, oldrow, newrow))
				sink_s3_csv_line(ev, 'D', oldrow, cols, ts_column, out, unchanged);
			sink_s3_csv_line(ev, 'U', newrow, cols, ts_column, out, unchanged);
			break;
		case EVENT_DELETE:
			sink_s3_csv_line(ev, 'D', oldrow, cols, ts_column, out, unchanged);
			break;
		case EVENT_TRUNCATE:
			sink_s3_csv_line(ev, 'T', NULL, cols, ts_column, out, unchanged);
			break;
		default:
			return false;
	}
	return !out->failed;
}
