/*
 * config_scrub.c
 *		Hide passwords given on the command line from `ps`.
 *
 * /proc/PID/cmdline shows the process's own argv strings, so once the
 * configuration has been read (config.c keeps its own copy), the password
 * part of every secret setting in argv (the rows marked CONFIG_SECRET, of
 * the core and of every sink) is overwritten with '*' in place, the way
 * database command-line clients do.  The length stays the
 * same: the strings live in one block the kernel reports as is.
 *
 * This narrows the window, it does not close it: the password is visible
 * until the agent has started.  The config file (mode 0600), PGPASSWORD or
 * ~/.pgpass remain the right places for secrets.
 */
#include <string.h>

#include "config_int.h"

/* Overwrite n bytes at p with '*'. */
static void
scrub_span(char *p, size_t n)
{
	memset(p, '*', n);
}

/*
 * URI: scheme://user:password@host...  Also a "password=" query parameter
 * (libpq URIs accept one).
 */
static void
scrub_uri(char *s)
{
	char	   *auth = strstr(s, "://");
	char	   *q;

	if (auth != NULL)
	{
		char	   *start = auth + 3;
		size_t		hostpart = strcspn(start, "/?#");
		char	   *at = NULL;

		/* The userinfo ends at the last '@' before the path. */
		for (char *p = start; p < start + hostpart; p++)
			if (*p == '@')
				at = p;
		if (at != NULL)
		{
			char	   *colon = memchr(start, ':', (size_t) (at - start));

			if (colon != NULL)
				scrub_span(colon + 1, (size_t) (at - colon - 1));
		}
	}
	for (q = strstr(s, "password="); q != NULL; q = strstr(q + 1, "password="))
	{
		char	   *v = q + strlen("password=");

		if (q == s || q[-1] == '?' || q[-1] == '&')
			scrub_span(v, strcspn(v, "&#"));
	}
}

/* conninfo: key=value pairs; password='quoted \' value' or password=word. */
static void
scrub_conninfo(char *s)
{
	for (char *q = strstr(s, "password"); q != NULL; q = strstr(q + 1, "password"))
	{
		char	   *v = q + strlen("password");

		if (q != s && q[-1] != ' ' && q[-1] != '\t')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '\'')
		{
			char	   *e = v + 1;

			while (*e != '\0' && *e != '\'')
				e += (*e == '\\' && e[1] != '\0') ? 2 : 1;
			scrub_span(v + 1, (size_t) (e - v - 1));
		}
		else
			scrub_span(v, strcspn(v, " \t"));
	}
}

static void
scrub_value(char *v)
{
	if (strstr(v, "://") != NULL)
		scrub_uri(v);
	else
		scrub_conninfo(v);
}

/*
 * The secret settings (CONFIG_SECRET rows of every section) given as
 * --name=VALUE, --name VALUE, -cVALUE or -c VALUE.
 */
void
config_scrub_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		char	   *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		for (int k = 0; k < config_count(); k++)
		{
			const struct config_option *opt = config_option_at(k);
			size_t		n = strlen(opt->name);

			if (opt->type != CONFIG_SECRET)
				continue;
			if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, opt->name, n) == 0)
			{
				if (a[2 + n] == '=')
					scrub_value(a + 2 + n + 1);
				else if (a[2 + n] == '\0' && i + 1 < argc)
					scrub_value(argv[++i]);
			}
			else if (opt->short_flag != 0 && a[0] == '-' &&
					 a[1] == opt->short_flag)
			{
				if (a[2] != '\0')
					scrub_value(a + 2);
				else if (i + 1 < argc)
					scrub_value(argv[++i]);
			}
		}
	}
}
