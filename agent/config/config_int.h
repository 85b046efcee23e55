/*
 * config_int.h
 *		Internals shared by config.c (table and parser), config_file.c (the
 *		config file reader) and config_mask.c (secrets); not for other modules.
 */
#ifndef WALCAST_CONFIG_INT_H
#define WALCAST_CONFIG_INT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* Longest option name plus terminator, with room to spare. */
#define CONFIG_NAME_MAX 64

enum config_type
{
	CONFIG_STRING,
	CONFIG_SECRET,				/* string masked by --print-config */
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
#define CONFIG_NULLABLE 0x08	/* empty value = unset (NULL) */
#define CONFIG_NONEMPTY 0x10	/* empty value is an error */

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
	size_t		offset;			/* field in struct agent_config */
	const char *def;			/* default as text; NULL = unset */
	int64_t		min;			/* CONFIG_INT/SIZE/COUNTER range */
	int64_t		max;
	const struct config_enum_value *values; /* CONFIG_ENUM */
	bool		(*check) (const char *value, char *msg, size_t len);
	const char *metavar;		/* --help: --name=METAVAR */
	const char *help;
	int			flags;
	const char *group;			/* --help heading starting here, or NULL */
};

enum config_source
{
	CONFIG_SRC_DEFAULT,
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
	CONFIG_SRC_CLI
};

extern const struct config_option config_options[];
extern const int config_noptions;

extern int	config_option_index(const struct config_option *opt);
extern void config_key_name(const struct config_option *opt, char *buf, size_t len);
extern bool config_set(struct agent_config *cfg, const struct config_option *opt,
					   const char *value, enum config_source src, int line,
					   const char *label, char *err, size_t errlen);
extern bool config_read_file(struct agent_config *cfg, const char *path,
							 char *err, size_t errlen);
extern char *config_format_value(const struct agent_config *cfg,
								 const struct config_option *opt);
extern void config_print(FILE *out, const struct agent_config *cfg);
extern void config_print_help(FILE *out);

#endif							/* WALCAST_CONFIG_INT_H */
