/*
 * decoder.c
 *		The decoder table and what every decoder shares (see decoder.h).
 */
#include "decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODER(name) extern const struct decoder_ops decoder_##name##_ops;
#include "decoder_list.h"
#undef DECODER

static const struct decoder_ops *const decoder_table[] = {
#define DECODER(name) &decoder_##name##_ops,
#include "decoder_list.h"
#undef DECODER
	NULL
};

#define DECODER_COUNT ((int) (sizeof(decoder_table) / sizeof(decoder_table[0])) - 1)

/* Each decoder's place in decoder_list.h: the value of its --plugin. */
enum
{
#define DECODER(name) DECODER_INDEX_##name,
#include "decoder_list.h"
#undef DECODER
};

/*
 * The names decoder_list.h gives, which are the plugins' (test_decoder.c
 * checks each against its decoder's .plugin).
 */
const struct config_enum_value decoder_plugin_names[] = {
#define DECODER(name) {#name, DECODER_INDEX_##name},
#include "decoder_list.h"
#undef DECODER
	{NULL, 0}
};

const struct decoder_ops *
decoder_find(const char *plugin)
{
	if (plugin == NULL)
		return decoder_table[0];
	for (int i = 0; decoder_table[i] != NULL; i++)
		if (strcmp(decoder_table[i]->plugin, plugin) == 0)
			return decoder_table[i];
	return NULL;
}

int
decoder_count(void)
{
	return DECODER_COUNT;
}

const struct decoder_ops *
decoder_at(int i)
{
	return i >= 0 && i < DECODER_COUNT ? decoder_table[i] : NULL;
}

/*
 * The one place the decoder is chosen: --plugin, whose values are the
 * decoders' places in the table (config_core.c checks them).
 */
const struct decoder_ops *
decoder_choose(const struct agent_config *cfg)
{
	const struct decoder_ops *ops = decoder_at(cfg->plugin);

	return ops != NULL ? ops : decoder_find(NULL);
}

bool
decoder_check(const struct agent_config *cfg, const struct event_needs *needs,
			  char *err, size_t errlen)
{
	return decoder_choose(cfg)->check(cfg, needs, err, errlen);
}

struct decoder *
decoder_create(const struct agent_config *cfg, const struct event_needs *needs,
			   char *err, size_t errlen)
{
	return decoder_choose(cfg)->create(cfg, needs, err, errlen);
}

void
decoder_free(struct decoder *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < d->options.count; i++)
	{
		free(d->options.items[i].name);
		free(d->options.items[i].value);
	}
	free(d->options.items);
	d->ops->free(d);
}

bool
decoder_add_option(struct decoder *d, const char *name, const char *value)
{
	struct config_plugin_option *items;
	struct config_plugin_option *o;

	items = realloc(d->options.items,
					(size_t) (d->options.count + 1) * sizeof(*items));
	if (items == NULL)
		return false;
	d->options.items = items;
	o = &items[d->options.count];
	o->name = strdup(name);
	o->value = value != NULL ? strdup(value) : NULL;
	if (o->name == NULL || (value != NULL && o->value == NULL))
	{
		free(o->name);
		free(o->value);
		return false;
	}
	d->options.count++;
	return true;
}

bool
decoder_user_sets(const struct agent_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->plugin_options.count; i++)
		if (strcmp(cfg->plugin_options.items[i].name, name) == 0)
			return true;
	return false;
}

/* -o, in the order given, after the decoder's defaults. */
bool
decoder_add_user_options(struct decoder *d)
{
	for (int i = 0; i < d->cfg->plugin_options.count; i++)
		if (!decoder_add_option(d, d->cfg->plugin_options.items[i].name,
								d->cfg->plugin_options.items[i].value))
			return false;
	return true;
}

void
decoder_table_clear(struct decoder_table *t)
{
	free(t->id);
	free(t->name);
	free(t->qualified);
	free(t->order_by);
	memset(t, 0, sizeof(*t));
}

void
decoder_tables_free(struct decoder_table *tables, int ntables)
{
	for (int i = 0; i < ntables; i++)
		decoder_table_clear(&tables[i]);
	free(tables);
}

char *
decoder_conninfo_value(const char *conninfo, const char *keyword)
{
	PQconninfoOption *opts;
	char	   *errmsg = NULL;
	const char *v = NULL;
	char	   *out;

	/* the conninfo was checked at startup (config_core.c) */
	if ((opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &errmsg)) == NULL)
	{
		PQfreemem(errmsg);
		return strdup("");
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val != NULL)
			v = o->val;
	if (v == NULL)
	{
		/* what libpq would take: the environment (PGOPTIONS...) */
		PQconninfoFree(opts);
		if ((opts = PQconndefaults()) == NULL)
			return NULL;
		for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, keyword) == 0 && o->val != NULL)
				v = o->val;
	}
	out = strdup(v != NULL ? v : "");
	PQconninfoFree(opts);
	return out;
}

enum decoder_status
decoder_tables_read(const PGresult *res, struct decoder_table **tables,
					int *ntables, char *err, size_t errlen)
{
	int			n = PQntuples(res);
	bool		partitions = PQnfields(res) > 6;
	struct decoder_table *list;

	*tables = NULL;
	*ntables = 0;
	if ((list = calloc(n > 0 ? (size_t) n : 1, sizeof(*list))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	for (int i = 0; i < n; i++)
	{
		struct decoder_table *t = &list[i];

		t->id = strdup(PQgetvalue(res, i, 0));
		t->name = strdup(PQgetvalue(res, i, 1));
		t->qualified = strdup(PQgetvalue(res, i, 2));
		t->order_by = PQgetisnull(res, i, 3) ? NULL : strdup(PQgetvalue(res, i, 3));
		t->estimated = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		t->readable = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		t->with_partitions = partitions && strcmp(PQgetvalue(res, i, 6), "t") == 0;
		if (t->id == NULL || t->name == NULL || t->qualified == NULL ||
			(!PQgetisnull(res, i, 3) && t->order_by == NULL))
		{
			decoder_tables_free(list, i + 1);
			snprintf(err, errlen, "out of memory");
			return DECODER_FATAL;
		}
	}
	*tables = list;
	*ntables = n;
	return DECODER_OK;
}
