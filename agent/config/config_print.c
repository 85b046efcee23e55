/*
 * config_print.c
 *		--print-config (every effective setting as a re-readable config
 *		file, secrets masked, each with where it came from) and --help,
 *		both from the option tables.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/*
 * A secret as --print-config shows it: masked by its row's masker (all of
 * it without one), each value of a CONFIG_MULTI setting on its own;
 * malloc'd.
 */
static char *
config_print_masked(const struct config_option *opt, const char *v)
{
	struct strbuf b = {0};
	char	  **items;
	int			n = 0;

	if (opt->mask == NULL)
		return strdup("****");
	if (!(opt->flags & CONFIG_MULTI))
		return opt->mask(v);
	if ((items = config_multi_split(v, &n)) == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
	{
		char	   *m = opt->mask(items[i]);

		strbuf_puts(&b, i > 0 ? "," : "");
		strbuf_puts(&b, m != NULL ? m : "****");
		free(m);
	}
	config_multi_free(items, n);
	return strbuf_finish(&b);
}

/* Quote a value for a config file when it would not read back as is. */
static void
config_print_value(FILE *out, const char *v)
{
	size_t		n = strlen(v);

	if (n > 0 && strpbrk(v, "#\"'\\") == NULL &&
		!isspace((unsigned char) v[0]) && !isspace((unsigned char) v[n - 1]))
	{
		fputs(v, out);
		return;
	}
	fputc('"', out);
	for (; *v; v++)
	{
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputc('"', out);
}

static void
config_print_source(FILE *out, const struct agent_config *cfg, int idx)
{
	const struct config_option *opt = config_option_at(idx);
	char		name[CONFIG_NAME_MAX + 8];

	switch (cfg->state->source[idx])
	{
		case CONFIG_SRC_DEFAULT:
			break;
		case CONFIG_SRC_FILE:
			fprintf(out, "  # %s:%d", cfg->config_file, cfg->state->line[idx]);
			break;
		case CONFIG_SRC_ENV:
			config_env_name(opt, name, sizeof(name));
			fprintf(out, "  # %s", name);
			break;
		case CONFIG_SRC_CLI:
			fprintf(out, "  # --%s", opt->name);
			break;
	}
}

/* key = value lines, re-readable as a config file; secrets masked. */
void
config_print(FILE *out, const struct agent_config *cfg)
{
	fprintf(out, "# walcast-agent %s effective configuration\n", WALCAST_VERSION);
	for (int i = 0; i < config_count(); i++)
	{
		const struct config_option *opt = config_option_at(i);
		char		key[CONFIG_NAME_MAX];
		char	   *v;

		if (opt->type == CONFIG_ACTION)
			continue;
		config_key_name(opt, key, sizeof(key));
		if (opt->type == CONFIG_LIST)
		{
			const struct config_plugin_options *l =
				CONFIG_FIELD(cfg, opt, const struct config_plugin_options);

			for (int j = 0; j < l->count; j++)
			{
				fprintf(out, "%s = ", key);
				fprintf(out, "%s=", l->items[j].name);
				config_print_value(out, l->items[j].value);
				config_print_source(out, cfg, i);
				fputc('\n', out);
			}
			continue;
		}
		v = config_format_value(cfg, opt);
		if (v != NULL && opt->type == CONFIG_SECRET && v[0] != '\0')
		{
			char	   *masked = config_print_masked(opt, v);

			free(v);
			v = masked;
		}
		/* The file cannot name itself: show it as a comment. */
		fprintf(out, "%s%s = ", opt->flags & CONFIG_NOFILE ? "# " : "", key);
		config_print_value(out, v ? v : "");
		config_print_source(out, cfg, i);
		fputc('\n', out);
		free(v);
	}
}

void
config_print_help(FILE *out)
{
	fprintf(out,
			"walcast-agent streams a PostgreSQL logical replication slot to its sinks (a\n"
			"section each below), confirming WAL only after every sink confirmed it.\n\n"
			"Usage:\n  walcast-agent [OPTION]...\n");
	for (int i = 0; i < config_count(); i++)
	{
		const struct config_option *opt = config_option_at(i);
		char		left[64];
		int			n;

		if (opt->group != NULL)
			fprintf(out, "\n%s:\n", opt->group);
		if (opt->short_flag)
			n = snprintf(left, sizeof(left), "-%c, --%s", opt->short_flag, opt->name);
		else
			n = snprintf(left, sizeof(left), "    --%s", opt->name);
		if (opt->metavar != NULL && n > 0 && (size_t) n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t) n, "=%s", opt->metavar);
		fprintf(out, "  %-32s %s", left, opt->help);
		if (opt->def_env != NULL)
			fprintf(out, " (default: $%s when set, else %s)", opt->def_env,
					opt->def);
		else if (opt->def != NULL && opt->def[0] != '\0' &&
				 opt->type != CONFIG_FLAG && opt->type != CONFIG_COUNTER)
			fprintf(out, " (default: %s)", opt->def);
		if (opt->flags & CONFIG_RELOAD)
			fprintf(out, " [SIGHUP]");
		fputc('\n', out);
	}
	fprintf(out,
			"\nEvery option but --config, --help, --version and --print-config can be set in\n"
			"the config file (key = long name with '_' for '-', e.g. status_interval = 5)\n"
			"and in the environment (WALCAST_ + key in upper case, e.g.\n"
			"WALCAST_STATUS_INTERVAL=5); WALCAST_CONFIG names the config file.\n"
			"Precedence: defaults < config file < environment < command line.\n"
			"[SIGHUP] marks settings that SIGHUP reloads from the file and environment.\n\n"
			"Exit status: 0 stop requested, 1 usage or configuration error,\n"
			"2 unrecoverable runtime error, 3 another walcast-agent is loading the slot,\n"
			"4 the slot lost changes (invalidated, or recreated after what was confirmed).\n");
}

