/*
 * decoder.c
 *		The decoder table and what every decoder shares (see decoder.h).
 */
#include "decoder.h"

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

/*
 * The one place the decoder is chosen.  No setting names a plugin yet, so
 * it is the default; a --plugin setting would be looked up here.
 */
const struct decoder_ops *
decoder_choose(const struct agent_config *cfg)
{
	(void) cfg;
	return decoder_find(NULL);
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
