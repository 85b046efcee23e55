/*
 * config.c
 *		The configuration engine: one parser driven by the option tables
 *		(after pgbouncer's table and Redis's single config error reporter).
 *
 * The tables are sections (config_table.h): the core's, then each
 * registered sink's, in the order config_core.c gives.  Rows are numbered
 * across sections in that order; a row's field lives in struct
 * agent_config (the core) or in its section's block.  Sources are applied
 * in precedence order (defaults, file, environment, command line), then
 * every section's cross-option rules run on the result.
 *
 * Values are parsed in config_value.c, the config file in config_file.c,
 * --print-config and --help in config_print.c.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config_int.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- the rows of every section ---- */

int
config_count(void)
{
	int			n = 0;

	for (int s = 0; s < config_section_count(); s++)
		n += config_section_at(s)->noptions;
	return n;
}

/* Row idx: its option, and the section it belongs to. */
static const struct config_option *
config_row(int idx, int *section)
{
	for (int s = 0; s < config_section_count(); s++)
	{
		const struct config_section *sec = config_section_at(s);

		if (idx < sec->noptions)
		{
			if (section != NULL)
				*section = s;
			return &sec->options[idx];
		}
		idx -= sec->noptions;
	}
	return NULL;
}

const struct config_option *
config_option_at(int idx)
{
	return config_row(idx, NULL);
}

int
config_option_index(const struct config_option *opt)
{
	int			base = 0;

	for (int s = 0; s < config_section_count(); s++)
	{
		const struct config_section *sec = config_section_at(s);

		if (opt >= sec->options && opt < sec->options + sec->noptions)
			return base + (int) (opt - sec->options);
		base += sec->noptions;
	}
	return -1;
}

void *
config_block(const struct agent_config *cfg, const struct config_section *section)
{
	if (cfg->blocks == NULL)
		return NULL;
	for (int s = 0; s < config_section_count(); s++)
		if (config_section_at(s) == section)
			return cfg->blocks[s];
	return NULL;
}

void *
config_field(const struct agent_config *cfg, const struct config_option *opt)
{
	int			s = 0;

	(void) config_row(config_option_index(opt), &s);
	if (config_section_at(s)->size == 0)
		return (char *) cfg + opt->offset;
	return (char *) cfg->blocks[s] + opt->offset;
}

/* A block per section that has settings of its own, zeroed. */
static bool
config_alloc_blocks(struct agent_config *cfg)
{
	int			n = config_section_count();

	if ((cfg->blocks = calloc((size_t) n, sizeof(void *))) == NULL)
		return false;
	for (int s = 0; s < n; s++)
		if (config_section_at(s)->size > 0 &&
			(cfg->blocks[s] = calloc(1, config_section_at(s)->size)) == NULL)
			return false;
	return true;
}

static void
config_free_blocks(void **blocks)
{
	if (blocks == NULL)
		return;
	for (int s = 0; s < config_section_count(); s++)
		free(blocks[s]);
	free(blocks);
}

/* ---- names and the environment ---- */

/* "status_interval" for "status-interval"; buf holds CONFIG_NAME_MAX. */
void
config_key_name(const struct config_option *opt, char *buf, size_t len)
{
	size_t		i;

	for (i = 0; opt->name[i] != '\0' && i + 1 < len; i++)
		buf[i] = opt->name[i] == '-' ? '_' : opt->name[i];
	buf[i] = '\0';
}

void
config_env_name(const struct config_option *opt, char *buf, size_t len)
{
	char		key[CONFIG_NAME_MAX];

	config_key_name(opt, key, sizeof(key));
	snprintf(buf, len, "WALCAST_%s", key);
	for (char *p = buf; *p; p++)
		*p = (char) toupper((unsigned char) *p);
}

static bool
config_apply_env(struct agent_config *cfg, const struct config_option *opt,
				 char *err, size_t errlen)
{
	char		name[CONFIG_NAME_MAX + 8];
	const char *value;

	if (opt->flags & CONFIG_NOENV)
		return true;
	config_env_name(opt, name, sizeof(name));
	value = getenv(name);
	return value == NULL ||
		config_set(cfg, opt, value, CONFIG_SRC_ENV, 0, name, err, errlen);
}

/* ---- cross-option rules, run on the merged result ---- */

static bool
config_validate(const struct agent_config *cfg, char *err, size_t errlen)
{
	for (int s = 0; s < config_section_count(); s++)
	{
		const struct config_section *sec = config_section_at(s);

		if (sec->validate != NULL && !sec->validate(cfg, err, errlen))
			return false;
	}
	return true;
}

/* ---- the command line ---- */

struct config_cli_arg
{
	const struct config_option *opt;
	const char *value;
};

/* Collect argv without applying it: the config file path must come first. */
static bool
config_scan_cli(int argc, char **argv, struct config_cli_arg *args, int *nargs,
				char *err, size_t errlen)
{
	int			nopts = config_count();
	struct option *longopts = calloc((size_t) nopts + 1, sizeof(*longopts));
	char	   *shortopts = malloc(2 * (size_t) nopts + 2);
	size_t		ns = 0;
	int			c;
	bool		ok = false;

	if (longopts == NULL || shortopts == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	shortopts[ns++] = ':';		/* report a missing value as ':' */
	for (int i = 0; i < nopts; i++)
	{
		const struct config_option *opt = config_option_at(i);
		bool		arg = opt->type != CONFIG_FLAG && opt->type != CONFIG_COUNTER &&
			opt->type != CONFIG_ACTION;

		longopts[i].name = opt->name;
		longopts[i].has_arg = arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + i;
		if (opt->short_flag)
		{
			shortopts[ns++] = opt->short_flag;
			if (arg)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';

	/* optind = 0 makes glibc start over, so config_load can run again. */
	optind = 0;
	opterr = 0;
	*nargs = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
	{
		int			i;

		if (c == '?' || c == ':')
		{
			const char *arg = argv[optind - 1];

			if (c == ':')
				snprintf(err, errlen, "option \"%s\" requires a value (try --help)", arg);
			else if (optopt >= 256)
				snprintf(err, errlen, "option \"--%s\" takes no value (try --help)",
						 config_option_at(optopt - 256)->name);
			else if (optopt != 0)
				snprintf(err, errlen, "unknown option \"-%c\" (try --help)", optopt);
			else
				snprintf(err, errlen, "unknown option \"%s\" (try --help)", arg);
			goto done;
		}
		if (c >= 256)
			i = c - 256;
		else
			for (i = 0; config_option_at(i)->short_flag != c; i++)
				;
		args[*nargs].opt = config_option_at(i);
		args[*nargs].value = optarg ? optarg : "";
		(*nargs)++;
	}
	if (optind < argc)
	{
		snprintf(err, errlen, "unexpected argument \"%s\" (try --help)", argv[optind]);
		goto done;
	}
	ok = true;
done:
	free(longopts);
	free(shortopts);
	return ok;
}

static const struct config_option *
config_find(const char *name)
{
	for (int i = 0; i < config_count(); i++)
		if (strcmp(config_option_at(i)->name, name) == 0)
			return config_option_at(i);
	return NULL;
}

/* The default in force: def_env's value when set, else def. */
static const char *
config_default(const struct config_option *opt)
{
	const char *v = opt->def_env != NULL ? getenv(opt->def_env) : NULL;

	return v != NULL && v[0] != '\0' ? v : opt->def;
}

/*
 * Defaults, file, environment, command line, cross-option rules.  *action
 * reports --help / --version / --print-config (the last one seen wins).
 */
static bool
config_build(struct agent_config *cfg, int argc, char **argv,
			 const struct config_option **action, char *err, size_t errlen)
{
	struct config_cli_arg *args;
	const struct config_option *cfgopt = config_find("config");
	int			nargs = 0;
	bool		ok = false;

	memset(cfg, 0, sizeof(*cfg));
	*action = NULL;
	if ((cfg->state = calloc(1, sizeof(*cfg->state))) == NULL ||
		(cfg->state->source = calloc((size_t) config_count(), sizeof(enum config_source))) == NULL ||
		(cfg->state->line = calloc((size_t) config_count(), sizeof(int))) == NULL ||
		!config_alloc_blocks(cfg))
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < config_count(); i++)
	{
		const struct config_option *opt = config_option_at(i);
		char		label[CONFIG_NAME_MAX + 16];

		const char *def = config_default(opt);

		snprintf(label, sizeof(label), "default %s", opt->name);
		if (def != NULL &&
			!config_set(cfg, opt, def, CONFIG_SRC_DEFAULT, 0, label, err, errlen))
			return false;
	}

	if ((args = calloc((size_t) argc + 1, sizeof(*args))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!config_scan_cli(argc, argv, args, &nargs, err, errlen))
		goto done;
	for (int i = 0; i < nargs; i++)
		if (args[i].opt->type == CONFIG_ACTION)
			*action = args[i].opt;
	if (*action != NULL && strcmp((*action)->name, "print-config") != 0)
	{
		ok = true;				/* --help and --version need no settings */
		goto done;
	}

	/* The config file path: command line, else environment. */
	if (!config_apply_env(cfg, cfgopt, err, errlen))
		goto done;
	for (int i = 0; i < nargs; i++)
		if (args[i].opt == cfgopt &&
			!config_set(cfg, cfgopt, args[i].value, CONFIG_SRC_CLI, 0, "--config", err, errlen))
			goto done;
	if (cfg->config_file != NULL && !config_read_file(cfg, cfg->config_file, err, errlen))
		goto done;

	for (int i = 0; i < config_count(); i++)
		if (config_option_at(i) != cfgopt &&
			!config_apply_env(cfg, config_option_at(i), err, errlen))
			goto done;
	for (int i = 0; i < nargs; i++)
	{
		char		label[CONFIG_NAME_MAX + 4];

		if (args[i].opt == cfgopt || args[i].opt->type == CONFIG_ACTION)
			continue;
		snprintf(label, sizeof(label), "--%s", args[i].opt->name);
		if (!config_set(cfg, args[i].opt, args[i].value, CONFIG_SRC_CLI, 0, label, err, errlen))
			goto done;
	}
	ok = config_validate(cfg, err, errlen);
done:
	free(args);
	return ok;
}

/* ---- printing ---- */
/* ---- public entry points ---- */

enum config_result
config_load(struct agent_config *cfg, int argc, char **argv,
			char *err, size_t errlen)
{
	const struct config_option *action;

	if (!config_build(cfg, argc, argv, &action, err, errlen))
		return CONFIG_ERROR;

	/* Keep argv for config_reload (getopt may have permuted the original). */
	cfg->state->argv = calloc((size_t) argc + 1, sizeof(char *));
	if (cfg->state->argv == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	for (cfg->state->argc = 0; cfg->state->argc < argc; cfg->state->argc++)
		if ((cfg->state->argv[cfg->state->argc] = strdup(argv[cfg->state->argc])) == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return CONFIG_ERROR;
		}

	if (action == NULL)
		return CONFIG_OK;
	if (strcmp(action->name, "help") == 0)
		config_print_help(stdout);
	else if (strcmp(action->name, "version") == 0)
		printf("walcast-agent %s\n", WALCAST_VERSION);
	else
		config_print(stdout, cfg);
	fflush(stdout);
	return CONFIG_DONE;
}

/* Move a reloadable setting from the freshly built config into cfg. */
static void
config_take(struct agent_config *cfg, struct agent_config *fresh,
			const struct config_option *opt)
{
	int			idx = config_option_index(opt);

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			{
				char	  **dst = CONFIG_FIELD(cfg, opt, char *);
				char	  **src = CONFIG_FIELD(fresh, opt, char *);
				char	   *tmp = *dst;

				*dst = *src;
				*src = tmp;		/* freed with fresh */
				break;
			}
		default:
			memcpy(config_field(cfg, opt), config_field(fresh, opt),
				   config_field_size(opt));
			break;
	}
	cfg->state->source[idx] = fresh->state->source[idx];
	cfg->state->line[idx] = fresh->state->line[idx];
}

/*
 * What would be in force after a reload: cfg's values with fresh's
 * reloadable ones, sharing their strings (blocks copied, nothing owned);
 * release with config_free_blocks(merged->blocks).
 */
static bool
config_merge(struct agent_config *merged, const struct agent_config *cfg,
			 const struct agent_config *fresh)
{
	int			n = config_section_count();

	*merged = *cfg;
	if ((merged->blocks = calloc((size_t) n, sizeof(void *))) == NULL)
		return false;
	for (int s = 0; s < n; s++)
	{
		size_t		size = config_section_at(s)->size;

		if (size > 0 &&
			(merged->blocks[s] = malloc(size)) == NULL)
			return false;
		if (size > 0)
			memcpy(merged->blocks[s], cfg->blocks[s], size);
	}
	for (int i = 0; i < config_count(); i++)
	{
		const struct config_option *opt = config_option_at(i);

		if (opt->flags & CONFIG_RELOAD)
			memcpy(config_field(merged, opt), config_field(fresh, opt),
				   config_field_size(opt));
	}
	return true;
}

bool
config_reload(struct agent_config *cfg, char *err, size_t errlen)
{
	struct agent_config fresh;
	struct agent_config merged;
	const struct config_option *action;
	bool		ok;

	ok = config_build(&fresh, cfg->state->argc, cfg->state->argv, &action, err, errlen);
	if (ok)
	{
		/* Check the rules on what would be in force: old + reloaded values. */
		if (!config_merge(&merged, cfg, &fresh))
		{
			snprintf(err, errlen, "out of memory");
			ok = false;
		}
		else
			ok = config_validate(&merged, err, errlen);
		config_free_blocks(merged.blocks);
	}
	if (ok)
	{
		for (int i = 0; i < config_count(); i++)
		{
			const struct config_option *opt = config_option_at(i);
			char	   *was;
			char	   *now;

			if (opt->flags & CONFIG_RELOAD)
			{
				config_take(cfg, &fresh, opt);
				continue;
			}
			if (opt->type == CONFIG_ACTION)
				continue;
			was = config_format_value(cfg, opt);
			now = config_format_value(&fresh, opt);
			if (was != NULL && now != NULL && strcmp(was, now) != 0)
				log_warning("config reload: a change of %s needs a restart; keeping the running value",
							opt->name);
			free(was);
			free(now);
		}
	}
	config_free(&fresh);
	return ok;
}

void
config_free(struct agent_config *cfg)
{
	for (int i = 0; i < config_count(); i++)
	{
		int			s = 0;
		const struct config_option *opt = config_row(i, &s);

		/* A section's block may be missing after a failed start. */
		if (config_section_at(s)->size > 0 &&
			(cfg->blocks == NULL || cfg->blocks[s] == NULL))
			continue;
		if (opt->type == CONFIG_STRING || opt->type == CONFIG_SECRET)
		{
			free(*CONFIG_FIELD(cfg, opt, char *));
			*CONFIG_FIELD(cfg, opt, char *) = NULL;
		}
		else if (opt->type == CONFIG_LIST)
			config_list_clear(CONFIG_FIELD(cfg, opt, struct config_plugin_options));
	}
	config_free_blocks(cfg->blocks);
	cfg->blocks = NULL;
	if (cfg->state != NULL)
	{
		for (int i = 0; i < cfg->state->argc; i++)
			free(cfg->state->argv[i]);
		free(cfg->state->argv);
		free(cfg->state->source);
		free(cfg->state->line);
		free(cfg->state);
		cfg->state = NULL;
	}
}
