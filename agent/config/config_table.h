/*
 * config_table.h
 *		What an option table is made of, for whoever owns settings: the
 *		core (config_core.c) and every sink (sinks/sink_*_config.c,
 *		sinks/sink_file.c).
 *
 * Settings come in sections.  A section is a table of rows, each naming
 * its long option (which also gives the config-file key and the
 * environment variable), type, field, default, range, help text and
 * flags, plus the section's cross-option rules.  The core's fields live in
 * struct agent_config itself (size 0); a sink's live in a block of its
 * own, which the engine allocates (size bytes, zeroed) and a sink reads
 * with config_block.  Defaults are written as text and go through the
 * same parser as any other source, so --print-config and defaults cannot
 * drift apart; the secret rows (CONFIG_SECRET) are what --print-config
 * masks and what config_scrub hides from ps.
 */
#ifndef WALCAST_CONFIG_TABLE_H
#define WALCAST_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CONFIG_KB ((int64_t) 1024)
#define CONFIG_MB (CONFIG_KB * 1024)
#define CONFIG_GB (CONFIG_MB * 1024)

enum config_type
{
	CONFIG_STRING,
	CONFIG_SECRET,				/* string masked by --print-config and ps */
	CONFIG_FLAG,				/* bool; a bare flag on the command line */
	CONFIG_BOOL,				/* bool; takes a value everywhere */
	CONFIG_INT,					/* int within min..max */
	CONFIG_SIZE,				/* size_t with units, within min..max bytes */
	CONFIG_ENUM,				/* int from a name table */
	CONFIG_LIST,				/* struct config_plugin_options */
	CONFIG_COUNTER,				/* int; each -v adds one, else 0..max */
	CONFIG_ACTION				/* --help and friends: no field */
};

/* config_option.flags */
#define CONFIG_RELOAD	0x01	/* SIGHUP re-reads it */
#define CONFIG_NOFILE	0x02	/* not settable in the config file */
#define CONFIG_NOENV	0x04	/* not settable from the environment */
#define CONFIG_NULLABLE 0x08	/* empty value = unset (NULL; 0 for an int) */
#define CONFIG_NONEMPTY 0x10	/* empty value is an error */
/*
 * CONFIG_STRING/SECRET holding several values: each use on the command
 * line adds one, every source also takes them comma-separated; check,
 * mask and the ps scrubber apply to each (the agent's list of RabbitMQ
 * brokers).
 */
#define CONFIG_MULTI	0x20

struct config_enum_value
{
	const char *name;
	int			value;
};

struct config_option
{
	const char *name;			/* long option; gives file key and env var */
	char		short_flag;		/* 0 = none */
	enum config_type type;
	size_t		offset;			/* field in the section's block */
	const char *def;			/* default as text; NULL = unset */
	int64_t		min;			/* CONFIG_INT/SIZE/COUNTER range */
	int64_t		max;
	const struct config_enum_value *values; /* CONFIG_ENUM */
	bool		(*check) (const char *value, char *msg, size_t len);
	const char *metavar;		/* --help: --name=METAVAR */
	const char *help;
	int			flags;
	const char *group;			/* --help heading starting here, or NULL */

	/*
	 * CONFIG_SECRET: a malloc'd copy of the value with its password
	 * hidden, parsed by the same library that will use it (NULL: the whole
	 * value is hidden).
	 */
	char	   *(*mask) (const char *value);

	/*
	 * An environment variable whose value, when set and not empty, is the
	 * default instead of def (systemd's STATE_DIRECTORY), or NULL.
	 */
	const char *def_env;
};

/* One table of rows and the rules between them. */
struct config_section
{
	const char *name;			/* "core", or the sink's name */
	const struct config_option *options;
	int			noptions;
	size_t		size;			/* its block; 0: fields of struct agent_config */

	/*
	 * Cross-option rules, run on the merged result of every source (and
	 * at a reload, on what would be in force); NULL when none.
	 */
	bool		(*validate) (const struct agent_config *cfg, char *err,
							 size_t errlen);
};

#define CONFIG_ROWS(rows) (rows), ((int) (sizeof(rows) / sizeof((rows)[0])))

/*
 * A value checker for rows naming tables: schema.table names,
 * comma-separated, unquoted, as the agent's log spells them.
 */
extern bool config_check_table_list(const char *v, char *msg, size_t len);

/*
 * The values of a CONFIG_MULTI setting, split at its commas with the
 * blanks around each trimmed: *n malloc'd strings (an empty one where two
 * commas meet), or NULL when out of memory.  Free with config_multi_free.
 */
extern char **config_multi_split(const char *v, int *n);
extern void config_multi_free(char **items, int n);

/* The settings block of a section (after config_load; NULL before). */
extern void *config_block(const struct agent_config *cfg,
						  const struct config_section *section);

/* "1MB", "512kB", "3B": a size as the options write it. */
extern void config_format_size(int64_t v, char *buf, size_t len);

/*
 * The sections, in --help order: config_core.c assembles them from the
 * core's and the sink registry's.
 */
extern int	config_section_count(void);
extern const struct config_section *config_section_at(int i);

#endif							/* WALCAST_CONFIG_TABLE_H */
