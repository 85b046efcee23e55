/*
 * pgoutput_config.h
 *		The pgoutput decoder's own settings (--publication,
 *		--create-publication): a section of the option tables, like a
 *		sink's (config_table.h), read with pgoutput_config_get.
 */
#ifndef WALCAST_PGOUTPUT_CONFIG_H
#define WALCAST_PGOUTPUT_CONFIG_H

#include "config_table.h"

struct pgoutput_settings
{
	/* "name[,name...]": the publications the slot reads, as stored */
	char	   *publication;
	/* "all" or "schema.table[,...]": create the publication when missing */
	char	   *create_publication;
};

extern const struct config_section pgoutput_config_section;

/* The settings in force (after config_load). */
extern const struct pgoutput_settings *pgoutput_config_get(const struct agent_config *cfg);

/*
 * The n-th name (from 0) of a comma-separated list into buf; false past
 * the last one.  Names are taken as written: no quoting, no case folding.
 */
extern bool pgoutput_config_name(const char *list, int n, char *buf,
								 size_t len);

#endif							/* WALCAST_PGOUTPUT_CONFIG_H */
