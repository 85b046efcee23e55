/*
 * config_int.h
 *		Internals of the configuration engine, shared by its files:
 *		config.c (sections, sources, load and reload), config_value.c (one
 *		value into its field), config_file.c (the file reader),
 *		config_print.c (--print-config, --help) and config_scrub.c; and by
 *		the unit tests.  Not for other modules: they see config.h, and
 *		config_table.h when they own settings.
 */
#ifndef WALCAST_CONFIG_INT_H
#define WALCAST_CONFIG_INT_H

#include <stdint.h>
#include <stdio.h>

#include "config_table.h"

/* Longest option name plus terminator, with room to spare. */
#define CONFIG_NAME_MAX 64

enum config_source
{
	CONFIG_SRC_DEFAULT,
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
	CONFIG_SRC_CLI
};

struct config_state
{
	enum config_source *source; /* per row (config_option_at) */
	int		   *line;			/* config file line, for messages */
	int			argc;			/* copy of argv, so config_reload can */
	char	  **argv;			/* re-apply the command line on top */
};

/*
 * Every row of every section, in --help order, numbered 0 ..
 * config_count() - 1.
 */
extern int	config_count(void);
extern const struct config_option *config_option_at(int idx);
extern int	config_option_index(const struct config_option *opt);

/* The field of opt in cfg: in struct agent_config or its section's block. */
extern void *config_field(const struct agent_config *cfg,
						  const struct config_option *opt);

#define CONFIG_FIELD(cfg, opt, type) ((type *) config_field((cfg), (opt)))

extern void config_key_name(const struct config_option *opt, char *buf, size_t len);
extern void config_env_name(const struct config_option *opt, char *buf, size_t len);
extern bool config_set(struct agent_config *cfg, const struct config_option *opt,
					   const char *value, enum config_source src, int line,
					   const char *label, char *err, size_t errlen);
extern bool config_read_file(struct agent_config *cfg, const char *path,
							 char *err, size_t errlen);
extern char *config_format_value(const struct agent_config *cfg,
								 const struct config_option *opt);
extern const char *config_enum_name(const struct config_option *opt, int value);
extern size_t config_field_size(const struct config_option *opt);
/* "1..3600", "1kB..128MB": the range of a number as messages give it. */
extern void config_format_range(const struct config_option *opt, char *buf, size_t len);
extern void config_list_clear(struct config_plugin_options *l);
extern void config_print(FILE *out, const struct agent_config *cfg);
extern void config_print_help(FILE *out);

#endif							/* WALCAST_CONFIG_INT_H */
