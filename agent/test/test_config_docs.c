/*
 * test_config_docs.c
 *		docs/agent-config.md against the option tables: every option of
 *		every section (the core's and each sink's) has its row there, with
 *		its flag and metavar, its file key and environment variable (or "—"
 *		where it cannot be set there), its default and range, and "SIGHUP."
 *		exactly when SIGHUP reloads it; and every row there names an option
 *		the agent has.  Runs from agent/.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_int.h"

#define DOCS "../docs/agent-config.md"
#define MAXROWS 256

/* The option rows of the page: lines "| `-x`, `--name=METAVAR` | ...". */
static char *rows[MAXROWS];
static int	nrows;

static int
setup(void **state)
{
	FILE	   *f = fopen(DOCS, "r");
	char	   *line = NULL;
	size_t		cap = 0;

	(void) state;
	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1 && nrows < MAXROWS)
		if (strncmp(line, "| `-", 4) == 0)
			rows[nrows++] = strdup(line);
	free(line);
	fclose(f);
	return nrows > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	for (int i = 0; i < nrows; i++)
		free(rows[i]);
	return 0;
}

/* Cell i (0 = flag) of a row, into buf. */
static const char *
cell(const char *row, int i, char *buf, size_t len)
{
	const char *p = row + 1;
	size_t		n;

	while (i-- > 0 && (p = strchr(p, '|')) != NULL)
		p++;
	if (p == NULL)
		return "";
	n = strcspn(p, "|");
	snprintf(buf, len, "%.*s", (int) n, p);
	return buf;
}

/* The row documenting opt: its flag cell names "--name" (and =METAVAR). */
static const char *
row_of(const struct config_option *opt)
{
	char		flag[128];
	char		buf[256];

	if (opt->metavar != NULL)
		snprintf(flag, sizeof(flag), "`--%s=%s`", opt->name, opt->metavar);
	else
		snprintf(flag, sizeof(flag), "`--%s`", opt->name);
	for (int i = 0; i < nrows; i++)
		if (strstr(cell(rows[i], 0, buf, sizeof(buf)), flag) != NULL)
			return rows[i];
	fail_msg("%s documents no option %s", DOCS, flag);
	return NULL;
}

static void
test_every_option_documented(void **state)
{
	(void) state;
	for (int i = 0; i < config_count(); i++)
	{
		const struct config_option *opt = config_option_at(i);
		const char *row = row_of(opt);
		char		buf[1024];
		char		want[256];
		char		key[CONFIG_NAME_MAX];
		char		env[CONFIG_NAME_MAX + 8];

		/* the short flag */
		if (opt->short_flag != 0)
		{
			snprintf(want, sizeof(want), "`-%c`, `--%s", opt->short_flag, opt->name);
			if (strstr(row, want) == NULL)
				fail_msg("--%s: the row does not give -%c: %s", opt->name, opt->short_flag, row);
		}

		/* where it can be set */
		config_key_name(opt, key, sizeof(key));
		config_env_name(opt, env, sizeof(env));
		cell(row, 1, buf, sizeof(buf));
		if ((opt->flags & CONFIG_NOFILE) && (opt->flags & CONFIG_NOENV))
			snprintf(want, sizeof(want), " — ");
		else if (opt->flags & CONFIG_NOFILE)
			snprintf(want, sizeof(want), " — / `%s` ", env);
		else
			snprintf(want, sizeof(want), " `%s` / `%s` ", key, env);
		if (strcmp(buf, want) != 0)
			fail_msg("--%s: file key / env var is \"%s\", not \"%s\"", opt->name, buf, want);

		/* the default, and the range of numbers */
		cell(row, 2, buf, sizeof(buf));
		if (opt->def != NULL && opt->def[0] != '\0' && strstr(buf, opt->def) == NULL)
			fail_msg("--%s: the default column \"%s\" does not give %s", opt->name, buf, opt->def);
		if (opt->type == CONFIG_INT || opt->type == CONFIG_SIZE || opt->type == CONFIG_COUNTER)
		{
			char		range[80];

			config_format_range(opt, range, sizeof(range));
			snprintf(want, sizeof(want), "(%s)", range);
			if (strstr(buf, want) == NULL)
				fail_msg("--%s: the default column \"%s\" does not give the range %s", opt->name, buf, want);
		}

		/* SIGHUP exactly for the reloadable ones */
		cell(row, 3, buf, sizeof(buf));
		if (((opt->flags & CONFIG_RELOAD) != 0) != (strstr(buf, "SIGHUP.") != NULL))
			fail_msg("--%s: %s marked SIGHUP in the docs", opt->name,
					 (opt->flags & CONFIG_RELOAD) ? "reloadable, but not" : "not reloadable, but");
	}
}

/* No row documents an option the agent does not have. */
static void
test_no_stale_rows(void **state)
{
	(void) state;
	for (int i = 0; i < nrows; i++)
	{
		const char *p = strstr(rows[i], "`--");
		size_t		n;
		bool		found = false;

		assert_non_null(p);
		p += 3;
		n = strcspn(p, "=`");
		for (int k = 0; k < config_count() && !found; k++)
			found = strlen(config_option_at(k)->name) == n &&
				strncmp(config_option_at(k)->name, p, n) == 0;
		if (!found)
			fail_msg("%s documents --%.*s, which the agent does not have", DOCS, (int) n, p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_option_documented),
		cmocka_unit_test(test_no_stale_rows),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
