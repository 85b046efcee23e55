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
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* Overwrite n bytes at p with '*'. */
static void
scrub_span(char *p, size_t n)
{
	memset(p, '*', n);
}

/* Whether key[0..n) percent-decodes to "password" (libpq decodes keys). */
static bool
scrub_key_is_password(const char *key, size_t n)
{
	static const char want[] = "password";
	size_t		w = 0;

	for (size_t i = 0; i < n; i++, w++)
	{
		int			c = (unsigned char) key[i];

		if (c == '%' && i + 2 < n && isxdigit((unsigned char) key[i + 1]) &&
			isxdigit((unsigned char) key[i + 2]))
		{
			char		hex[3] = {key[i + 1], key[i + 2], '\0'};

			c = (int) strtol(hex, NULL, 16);
			i += 2;
		}
		if (w >= sizeof(want) - 1 || c != want[w])
			return false;
	}
	return w == sizeof(want) - 1;
}

/*
 * URI: scheme://user:password@host...  Also a "password" query parameter
 * (libpq URIs accept one, with its key percent-encoded too).  What the
 * parsers take differs (libpq's userinfo ends at the first '@' before a
 * '/', rabbitmq-c's and libmongoc's before a '/' or '?'), so the widest
 * reading is scrubbed: a password never shows, a few bytes more may be
 * starred.  The fuzzer (test/fuzz_uri) checks the result with each parser.
 */
static void
scrub_uri(char *s)
{
	char	   *start = strstr(s, "://") + 3;
	size_t		hostpart = 0;
	char	   *at = NULL;

	/*
	 * The path starts at the first '/' that no backslash escapes
	 * (libmongoc reads "\/" as part of the user-info; the others never
	 * meet a backslash there, and reading further only stars more).
	 */
	while (start[hostpart] != '\0' && start[hostpart] != '/')
		hostpart += start[hostpart] == '\\' && start[hostpart + 1] != '\0' ? 2 : 1;
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
	/*
	 * key=value pairs after a '?' or '&' past the user.  Any '?' may start
	 * the query: libpq skips one inside a bracketed IPv6 host ("[?:1]"),
	 * which test/fuzz_uri found taken for the query's start, hiding the
	 * real one after the path.  So every '?' and '&' starts a pair here.
	 */
	for (char *p = at != NULL ? at : start; *p != '\0'; p++)
	{
		size_t		n;
		char	   *eq;

		if (*p != '?' && *p != '&')
			continue;
		n = strcspn(p + 1, "&");
		eq = memchr(p + 1, '=', n);
		if (eq != NULL && scrub_key_is_password(p + 1, (size_t) (eq - p - 1)))
			scrub_span(eq + 1, (size_t) (p + 1 + n - eq - 1));
	}
}

/*
 * conninfo: key=value pairs; password='quoted \' value' or password=word.
 * Blanks are what libpq's conninfo_parse takes for them, isspace(): a
 * newline or a form feed separates pairs too (test/fuzz_uri found a
 * password after a newline left in place when only ' ' and '\t' were).
 */
static void
scrub_conninfo(char *s)
{
	for (char *q = strstr(s, "password"); q != NULL; q = strstr(q + 1, "password"))
	{
		char	   *v = q + strlen("password");

		if (q != s && !isspace((unsigned char) q[-1]))
			continue;
		while (isspace((unsigned char) *v))
			v++;
		if (*v != '=')
			continue;
		v++;
		while (isspace((unsigned char) *v))
			v++;
		if (*v == '\'')
		{
			char	   *e = v + 1;

			while (*e != '\0' && *e != '\'')
				e += (*e == '\\' && e[1] != '\0') ? 2 : 1;
			scrub_span(v + 1, (size_t) (e - v - 1));
		}
		else
		{
			size_t		n = 0;

			/* libpq reads a backslash as escaping the next byte here too */
			while (v[n] != '\0' && !isspace((unsigned char) v[n]))
				n += (v[n] == '\\' && v[n + 1] != '\0') ? 2 : 1;
			scrub_span(v, n);
		}
	}
}

/*
 * A URI starts with its scheme and "://" (RFC 3986: a letter, then
 * letters, digits, '+', '-', '.'), as libpq tells its URIs from conninfo
 * by their prefix.  Not "://" anywhere: a conninfo such as
 * "password=x dbname=a://b" is not a URI, and its password must go.
 */
static bool
scrub_is_uri(const char *v)
{
	size_t		n = 0;

	if (!isalpha((unsigned char) v[0]))
		return false;
	while (isalnum((unsigned char) v[n]) || v[n] == '+' || v[n] == '-' || v[n] == '.')
		n++;
	return strncmp(v + n, "://", 3) == 0;
}

static void
scrub_value(char *v)
{
	if (scrub_is_uri(v))
		scrub_uri(v);
	else
		scrub_conninfo(v);
}

/*
 * A setting of several values (CONFIG_MULTI: RabbitMQ's broker list) is
 * scrubbed whole, then value by value, each cut at its comma as
 * config_multi_split reads it: a URI after the first would otherwise keep
 * its password, and a password with a comma (which the list refuses, but
 * the whole reading takes) would keep its first part.  Only such settings
 * are cut: a libpq URI may hold commas of its own (several hosts).
 */
static void
scrub_setting(const struct config_option *opt, char *v)
{
	scrub_value(v);
	if (!(opt->flags & CONFIG_MULTI))
		return;
	for (;;)
	{
		char	   *comma = strchr(v, ',');
		char	   *p = v;

		if (comma != NULL)
			*comma = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		scrub_value(p);
		if (comma == NULL)
			break;
		*comma = ',';
		v = comma + 1;
	}
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
					scrub_setting(opt, a + 2 + n + 1);
				else if (a[2 + n] == '\0' && i + 1 < argc)
					scrub_setting(opt, argv[++i]);
			}
			else if (opt->short_flag != 0 && a[0] == '-' &&
					 a[1] == opt->short_flag)
			{
				if (a[2] != '\0')
					scrub_setting(opt, a + 2);
				else if (i + 1 < argc)
					scrub_setting(opt, argv[++i]);
			}
		}
	}
}
