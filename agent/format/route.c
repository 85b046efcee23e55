/*
 * route.c
 *		Routing-key templates: literal text and the placeholders {schema},
 *		{table}, {op}, {xid} and {partition}.
 *
 * The template is split once into segments so that rendering is a plain
 * copy loop per event.  Values absent from an event render as "_": a
 * logical message has no relation, so {schema} is "_" and {table} is the
 * message prefix ("_" when empty); a non-transactional message has no
 * transaction, so {xid} is "_".  Keeping every word non-empty keeps topic
 * bindings such as "*.*.message" working.  {partition} is the event's
 * partition number with --partitions (format/partition.c), which the
 * caller passes in: the template knows no settings.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "route.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum route_part
{
	ROUTE_LITERAL,
	ROUTE_SCHEMA,
	ROUTE_TABLE,
	ROUTE_OP,
	ROUTE_XID,
	ROUTE_PARTITION
};

static const struct
{
	const char *name;
	enum route_part part;
}			route_placeholders[] =
{
	{"schema", ROUTE_SCHEMA},
	{"table", ROUTE_TABLE},
	{"op", ROUTE_OP},
	{"xid", ROUTE_XID},
	{"partition", ROUTE_PARTITION},
};

#define ROUTE_ABSENT "_"

struct route_segment
{
	enum route_part part;
	const char *text;			/* ROUTE_LITERAL: points into route_template.src */
	size_t		len;
};

struct route_template
{
	char	   *src;			/* copy of the template */
	int			nsegments;
	struct route_segment segments[];
};

static bool
route_add_placeholder(struct route_segment *seg, const char *name, size_t len,
					  char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(route_placeholders) / sizeof(route_placeholders[0]); i++)
	{
		if (strlen(route_placeholders[i].name) == len &&
			memcmp(route_placeholders[i].name, name, len) == 0)
		{
			seg->part = route_placeholders[i].part;
			return true;
		}
	}
	snprintf(err, errlen,
			 "unknown placeholder \"{%.*s}\" (use {schema}, {table}, {op}, {xid} or {partition})",
			 (int) len, name);
	return false;
}

struct route_template *
route_compile(const char *tmpl, char *err, size_t errlen)
{
	size_t		srclen = strlen(tmpl);
	struct route_template *t;
	const char *p;

	/* A template of n bytes has at most n + 1 segments. */
	t = calloc(1, sizeof(*t) + (srclen + 1) * sizeof(struct route_segment));
	if (t == NULL || (t->src = strdup(tmpl)) == NULL)
	{
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}

	p = t->src;
	while (*p != '\0')
	{
		struct route_segment *seg = &t->segments[t->nsegments];
		const char *close;
		size_t		lit = strcspn(p, "{}");

		if (lit > 0)
		{
			seg->part = ROUTE_LITERAL;
			seg->text = p;
			seg->len = lit;
			t->nsegments++;
			p += lit;
			continue;
		}
		if (*p == '}')
		{
			snprintf(err, errlen, "unbalanced \"}\" at offset %zu",
					 (size_t) (p - t->src));
			goto fail;
		}
		close = p + 1 + strcspn(p + 1, "{}");
		if (*close != '}')
		{
			snprintf(err, errlen, "unbalanced \"{\" at offset %zu",
					 (size_t) (p - t->src));
			goto fail;
		}
		if (!route_add_placeholder(seg, p + 1, (size_t) (close - p - 1),
								   err, errlen))
			goto fail;
		t->nsegments++;
		p = close + 1;
	}
	return t;

fail:
	route_free(t);
	return NULL;
}

static const char *
route_value(enum route_part part, const struct event *ev, int partition,
			char *num, size_t numlen)
{
	const char *v = NULL;

	if (ev == NULL && part != ROUTE_PARTITION)
		return ROUTE_ABSENT;
	switch (part)
	{
		case ROUTE_SCHEMA:
			v = ev->schema;
			break;
		case ROUTE_TABLE:
			v = ev->table;
			if (v == NULL && ev->op == EVENT_MESSAGE)
				v = yyjson_get_str(yyjson_obj_get(ev->rec, "prefix"));
			break;
		case ROUTE_OP:
			v = event_op_name(ev->op);
			break;
		case ROUTE_XID:
			if (ev->xid >= 0)
			{
				snprintf(num, numlen, "%" PRId64, ev->xid);
				v = num;
			}
			break;
		case ROUTE_PARTITION:
			if (partition >= 0)
			{
				snprintf(num, numlen, "%d", partition);
				v = num;
			}
			break;
		case ROUTE_LITERAL:
			break;
	}
	return (v == NULL || v[0] == '\0') ? ROUTE_ABSENT : v;
}

bool
route_render(const struct route_template *t, const struct event *ev,
			 int partition, char *buf, size_t len)
{
	size_t		limit;
	size_t		used = 0;

	if (len == 0)
		return false;
	limit = len - 1 < ROUTE_KEY_MAX ? len - 1 : ROUTE_KEY_MAX;
	for (int i = 0; i < t->nsegments; i++)
	{
		const struct route_segment *seg = &t->segments[i];
		char		num[24];
		const char *text = seg->text;
		size_t		n = seg->len;

		if (seg->part != ROUTE_LITERAL)
		{
			text = route_value(seg->part, ev, partition, num, sizeof(num));
			n = strlen(text);
		}
		if (n > limit - used)
		{
			buf[0] = '\0';
			return false;
		}
		memcpy(buf + used, text, n);
		used += n;
	}
	buf[used] = '\0';
	return true;
}

unsigned
route_uses(const struct route_template *t)
{
	unsigned	uses = 0;

	for (int i = 0; i < t->nsegments; i++)
	{
		if (t->segments[i].part == ROUTE_PARTITION)
			uses |= ROUTE_USES_PARTITION;
		else if (t->segments[i].part != ROUTE_LITERAL)
			uses |= ROUTE_USES_EVENT;
	}
	return uses;
}

void
route_free(struct route_template *t)
{
	if (t == NULL)
		return;
	free(t->src);
	free(t);
}
