/*
 * sink_registry.c
 *		The table of sink kinds (sink_list.h) and what is decided from it
 *		alone: which kinds a configuration enables, what they need from
 *		the decoder, and how the startup line names them.
 */
#include "sink.h"

#include <stdio.h>
#include <string.h>

#define SINK(name) extern const struct sink_kind sink_##name##_kind;
#include "sink_list.h"
#undef SINK

static const struct sink_kind *const sink_kinds[] = {
#define SINK(name) &sink_##name##_kind,
#include "sink_list.h"
#undef SINK
};

#define SINK_NKINDS ((int) (sizeof(sink_kinds) / sizeof(sink_kinds[0])))

int
sink_kind_count(void)
{
	return SINK_NKINDS;
}

const struct sink_kind *
sink_kind_at(int i)
{
	return i >= 0 && i < SINK_NKINDS ? sink_kinds[i] : NULL;
}

bool
sink_kind_enabled(const struct sink_kind *kind, const struct agent_config *cfg)
{
	if (!kind->fallback)
		return kind->configured(cfg);
	for (int i = 0; i < SINK_NKINDS; i++)
		if (!sink_kinds[i]->fallback && sink_kinds[i]->configured(cfg))
			return false;
	return true;
}

void
sink_needs(const struct agent_config *cfg, struct event_needs *needs)
{
	memset(needs, 0, sizeof(*needs));
	for (int i = 0; i < SINK_NKINDS; i++)
	{
		struct event_needs own = sink_kinds[i]->needs;
		const struct event_needs *n = &own;

		if (!sink_kind_enabled(sink_kinds[i], cfg))
			continue;
		if (sink_kinds[i]->needs_for != NULL)
			sink_kinds[i]->needs_for(cfg, &own);
		needs->types |= n->types;
		if (n->key && !needs->key)
		{
			needs->key = true;
			needs->key_setting = n->key_setting;
			needs->key_why = n->key_why;
		}
	}
}

void
sink_describe(const struct agent_config *cfg, char *buf, size_t len)
{
	size_t		used = 0;

	buf[0] = '\0';
	for (int i = 0; i < SINK_NKINDS && used < len; i++)
		if (sink_kind_enabled(sink_kinds[i], cfg))
			used += (size_t) snprintf(buf + used, len - used, "%s%s",
									  used > 0 ? " and " : "",
									  sink_kinds[i]->name);
}
