/*
 * sink.c
 *		What the sinks need from the decoder (temporary home).
 */
#include "sink.h"

#include <string.h>

void
sink_needs(const struct agent_config *cfg, struct event_needs *needs)
{
	memset(needs, 0, sizeof(*needs));
	if (cfg->mongo_uri != NULL)
	{
		needs->types = true;
		needs->key = true;
		needs->key_setting = "mongo_uri";
		needs->key_why = "the mirror's _id is the key";
	}
}
