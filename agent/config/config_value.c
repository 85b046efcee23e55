/*
 * config_value.c
 *		One value from one source into its field: the parsers of every
 *		value type (bool, integer, size, enum, list), and the way back to
 *		text for --print-config and reloads.  Each parser fills msg without
 *		the label; config_set prefixes the option and its source.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, strndup, strtok_r */

#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
config_list_clear(struct config_plugin_options *l)
{
	for (int i = 0; i < l->count; i++)
	{
		free(l->items[i].name);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* ---- value parsers: each fills msg (without the label) on failure ---- */

bool
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1", NULL};
	static const char *const no[] = {"false", "off", "no", "0", NULL};

	for (int i = 0; yes[i] != NULL; i++)
	{
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

void
config_format_size(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % CONFIG_GB == 0)
		snprintf(buf, len, "%" PRId64 "GB", v / CONFIG_GB);
	else if (v != 0 && v % CONFIG_MB == 0)
		snprintf(buf, len, "%" PRId64 "MB", v / CONFIG_MB);
	else if (v != 0 && v % CONFIG_KB == 0)
		snprintf(buf, len, "%" PRId64 "kB", v / CONFIG_KB);
	else
		snprintf(buf, len, "%" PRId64 "B", v);
}

void
config_format_range(const struct config_option *opt, char *buf, size_t len)
{
	char		lo[32];
	char		hi[32];

	if (opt->type == CONFIG_SIZE)
	{
		config_format_size(opt->min, lo, sizeof(lo));
		config_format_size(opt->max, hi, sizeof(hi));
	}
	else
	{
		snprintf(lo, sizeof(lo), "%" PRId64, opt->min);
		snprintf(hi, sizeof(hi), "%" PRId64, opt->max);
	}
	snprintf(buf, len, "%s..%s", lo, hi);
}

/* Decimal integer, then for sizes an optional unit (PostgreSQL's spelling). */
static bool
config_parse_number(const struct config_option *opt, const char *s,
					int64_t *out, char *msg, size_t len)
{
	static const struct
	{
		const char *unit;
		int64_t		mult;
	}			units[] = {
		{"", 1}, {"B", 1}, {"kB", CONFIG_KB}, {"k", CONFIG_KB}, {"MB", CONFIG_MB},
		{"M", CONFIG_MB}, {"GB", CONFIG_GB}, {"G", CONFIG_GB}, {NULL, 0}
	};
	char		range[80];		/* two 32-byte bounds and ".." */
	char	   *end;
	long long	v;

	config_format_range(opt, range, sizeof(range));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || (!isdigit((unsigned char) s[0]) && s[0] != '-'))
		goto bad;
	if (opt->type == CONFIG_SIZE)
	{
		int			i;

		while (*end == ' ' || *end == '\t')
			end++;
		for (i = 0; units[i].unit != NULL; i++)
			if (strcasecmp(end, units[i].unit) == 0)
				break;
		if (units[i].unit == NULL || v < 0)
			goto bad;
		if (errno == 0 && v > INT64_MAX / units[i].mult)
			errno = ERANGE;
		v *= errno == 0 ? units[i].mult : 1;
	}
	else if (*end != '\0')
		goto bad;
	if (errno == ERANGE || v < opt->min || v > opt->max)
	{
		snprintf(msg, len, "%s is out of range (%s)", s, range);
		return false;
	}
	*out = v;
	return true;
bad:
	snprintf(msg, len, "\"%s\" is not %s (%s)", s,
			 opt->type == CONFIG_SIZE ? "a size" : "an integer", range);
	return false;
}

static bool
config_parse_enum(const struct config_option *opt, const char *s, int *out,
				  char *msg, size_t len)
{
	size_t		used;

	for (int i = 0; opt->values[i].name != NULL; i++)
	{
		if (strcmp(s, opt->values[i].name) == 0)
		{
			*out = opt->values[i].value;
			return true;
		}
	}
	used = (size_t) snprintf(msg, len, "\"%s\" is not one of ", s);
	for (int i = 0; opt->values[i].name != NULL && used < len; i++)
		used += (size_t) snprintf(msg + used, len - used, "%s%s",
								  i > 0 ? ", " : "", opt->values[i].name);
	return false;
}

const char *
config_enum_name(const struct config_option *opt, int value)
{
	for (int i = 0; opt->values[i].name != NULL; i++)
		if (opt->values[i].value == value)
			return opt->values[i].name;
	return "?";
}

/* One NAME=VALUE of a list option, appended; duplicates are an error. */
static bool
config_list_add(struct config_plugin_options *l, const char *s,
				char *msg, size_t len)
{
	const char *eq = strchr(s, '=');
	struct config_plugin_option *items;
	size_t		namelen;

	if (eq == NULL || eq == s)
	{
		snprintf(msg, len, "\"%s\" is not NAME=VALUE", s);
		return false;
	}
	namelen = (size_t) (eq - s);
	for (int i = 0; i < l->count; i++)
	{
		if (strlen(l->items[i].name) == namelen &&
			strncmp(l->items[i].name, s, namelen) == 0)
		{
			snprintf(msg, len, "\"%.*s\" given twice", (int) namelen, s);
			return false;
		}
	}
	items = realloc(l->items, (size_t) (l->count + 1) * sizeof(*items));
	if (items == NULL)
		goto oom;
	l->items = items;
	items[l->count].name = strndup(s, namelen);
	items[l->count].value = strdup(eq + 1);
	if (items[l->count].name == NULL || items[l->count].value == NULL)
	{
		free(items[l->count].name);
		free(items[l->count].value);
		goto oom;
	}
	l->count++;
	return true;
oom:
	snprintf(msg, len, "out of memory");
	return false;
}

/*
 * A list value from a file line or CLI flag is one NAME=VALUE; from the
 * environment, entries separated by blanks.  An empty value clears the list.
 */
static bool
config_set_list(struct config_plugin_options *l, const char *s, bool split,
				char *msg, size_t len)
{
	char	   *copy;
	char	   *save = NULL;
	bool		ok = true;

	if (!split)
		return s[0] == '\0' || config_list_add(l, s, msg, len);
	if ((copy = strdup(s)) == NULL)
	{
		snprintf(msg, len, "out of memory");
		return false;
	}
	for (char *tok = strtok_r(copy, " \t\n", &save); tok != NULL && ok;
		 tok = strtok_r(NULL, " \t\n", &save))
		ok = config_list_add(l, tok, msg, len);
	free(copy);
	return ok;
}

/* ---- several values in one setting (CONFIG_MULTI) ---- */

char	  **
config_multi_split(const char *v, int *n)
{
	char	  **items;
	int			count = 1;

	for (const char *p = v; *p; p++)
		count += *p == ',';
	if ((items = calloc((size_t) count, sizeof(*items))) == NULL)
		return NULL;
	*n = 0;
	for (const char *p = v;; p++)
	{
		const char *end = p + strcspn(p, ",");
		const char *q = end;

		while (*p == ' ' || *p == '\t')
			p++;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if ((items[*n] = strndup(p, (size_t) (q > p ? q - p : 0))) == NULL)
		{
			config_multi_free(items, *n);
			return NULL;
		}
		(*n)++;
		if (*end == '\0')
			break;
		p = end;
	}
	return items;
}

void
config_multi_free(char **items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* Each value of a CONFIG_MULTI setting passes the row's check. */
static bool
config_multi_check(const struct config_option *opt, const char *value,
				   char *msg, size_t len)
{
	int			n = 0;
	char	  **items = config_multi_split(value, &n);
	bool		ok = items != NULL;

	if (!ok)
		snprintf(msg, len, "out of memory");
	for (int i = 0; ok && i < n; i++)
	{
		char		why[400] = "";

		if (items[i][0] == '\0')
			snprintf(why, sizeof(why), "is empty");
		else if (opt->check != NULL && !opt->check(items[i], why, sizeof(why)))
			;
		else
			continue;
		ok = false;
		if (n == 1)
			snprintf(msg, len, "%s", why);
		else
			snprintf(msg, len, "value %d of %d: %s", i + 1, n, why);
	}
	config_multi_free(items, n);
	return ok;
}

/*
 * A CONFIG_MULTI setting given again on the command line adds its values
 * to the command line's (another source's are replaced); malloc'd.
 */
static char *
config_multi_join(const struct agent_config *cfg, const struct config_option *opt,
				  const char *value, enum config_source src)
{
	char	   *old = *CONFIG_FIELD(cfg, opt, char *);
	size_t		n;
	char	   *joined;

	if (src != CONFIG_SRC_CLI || old == NULL || old[0] == '\0' ||
		cfg->state->source[config_option_index(opt)] != CONFIG_SRC_CLI)
		return strdup(value);
	n = strlen(old) + 1 + strlen(value) + 1;
	if ((joined = malloc(n)) != NULL)
		snprintf(joined, n, "%s,%s", old, value);
	return joined;
}

/* ---- setting one option from one source ---- */

/*
 * Parse value into opt's field.  label names the option and its source
 * ("file:12: status_interval", "WALCAST_STATUS_INTERVAL", "--status-interval")
 * and prefixes any error.
 */
bool
config_set(struct agent_config *cfg, const struct config_option *opt,
		   const char *value, enum config_source src, int line,
		   const char *label, char *err, size_t errlen)
{
	int			idx = config_option_index(opt);
	char		msg[512] = "";
	int64_t		num;
	int			e;
	bool		b;
	bool		ok = true;

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			{
				char	  **field = CONFIG_FIELD(cfg, opt, char *);
				char	   *copy = NULL;
				char	   *joined = NULL;

				if ((opt->flags & CONFIG_MULTI) && value[0] != '\0')
				{
					if ((joined = config_multi_join(cfg, opt, value, src)) == NULL)
					{
						snprintf(msg, sizeof(msg), "out of memory");
						ok = false;
						break;
					}
					value = joined;
				}
				if (value[0] == '\0' && (opt->flags & CONFIG_NONEMPTY))
				{
					snprintf(msg, sizeof(msg), "must not be empty");
					ok = false;
				}
				else if (value[0] != '\0' && (opt->flags & CONFIG_MULTI))
					ok = config_multi_check(opt, value, msg, sizeof(msg));
				else if (value[0] != '\0' && opt->check != NULL)
					ok = opt->check(value, msg, sizeof(msg));
				if (ok && (value[0] != '\0' || !(opt->flags & CONFIG_NULLABLE)) &&
					(copy = strdup(value)) == NULL)
				{
					snprintf(msg, sizeof(msg), "out of memory");
					ok = false;
				}
				if (ok)
				{
					free(*field);
					*field = copy;
				}
				free(joined);
				break;
			}
		case CONFIG_FLAG:
			if (src == CONFIG_SRC_CLI)
			{
				*CONFIG_FIELD(cfg, opt, bool) = true;
				break;
			}
			/* FALLTHROUGH */
		case CONFIG_BOOL:
			if ((ok = config_parse_bool(value, &b)))
				*CONFIG_FIELD(cfg, opt, bool) = b;
			else
				snprintf(msg, sizeof(msg),
						 "\"%s\" is not a boolean (true/false, on/off, yes/no, 1/0)",
						 value);
			break;
		case CONFIG_COUNTER:
			if (src == CONFIG_SRC_CLI)
			{
				int		   *field = CONFIG_FIELD(cfg, opt, int);

				/* -v -v: count occurrences on the command line, capped. */
				*field = cfg->state->source[idx] == CONFIG_SRC_CLI ? *field + 1 : 1;
				if (*field > opt->max)
					*field = (int) opt->max;
				break;
			}
			/* FALLTHROUGH */
		case CONFIG_INT:
			/* NULLABLE: empty is unset, kept as 0, below the row's range */
			if ((opt->flags & CONFIG_NULLABLE) && value[0] == '\0')
				*CONFIG_FIELD(cfg, opt, int) = 0;
			else if ((ok = config_parse_number(opt, value, &num, msg, sizeof(msg))))
				*CONFIG_FIELD(cfg, opt, int) = (int) num;
			break;
		case CONFIG_SIZE:
			if ((ok = config_parse_number(opt, value, &num, msg, sizeof(msg))))
				*CONFIG_FIELD(cfg, opt, size_t) = (size_t) num;
			break;
		case CONFIG_ENUM:
			if ((ok = config_parse_enum(opt, value, &e, msg, sizeof(msg))))
				*CONFIG_FIELD(cfg, opt, int) = e;
			break;
		case CONFIG_LIST:
			{
				struct config_plugin_options *l =
					CONFIG_FIELD(cfg, opt, struct config_plugin_options);

				/* A higher-precedence source replaces the list, not extends it. */
				if (cfg->state->source[idx] != src)
					config_list_clear(l);
				ok = config_set_list(l, value, src == CONFIG_SRC_ENV,
									 msg, sizeof(msg));
				break;
			}
		case CONFIG_ACTION:
			break;
	}
	if (!ok)
	{
		snprintf(err, errlen, "%s: %s", label, msg);
		return false;
	}
	cfg->state->source[idx] = src;
	cfg->state->line[idx] = line;
	return true;
}

/* The value as config-file text (unquoted, unmasked); malloc'd. */
char *
config_format_value(const struct agent_config *cfg, const struct config_option *opt)
{
	const void *f = config_field(cfg, opt);
	char		buf[64];

	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			return strdup(*(char *const *) f ? *(char *const *) f : "");
		case CONFIG_FLAG:
		case CONFIG_BOOL:
			return strdup(*(const bool *) f ? "true" : "false");
		case CONFIG_INT:
		case CONFIG_COUNTER:
			if ((opt->flags & CONFIG_NULLABLE) && *(const int *) f == 0)
				return strdup("");
			snprintf(buf, sizeof(buf), "%d", *(const int *) f);
			return strdup(buf);
		case CONFIG_SIZE:
			config_format_size((int64_t) *(const size_t *) f, buf, sizeof(buf));
			return strdup(buf);
		case CONFIG_ENUM:
			return strdup(config_enum_name(opt, *(const int *) f));
		case CONFIG_LIST:
			{
				const struct config_plugin_options *l = f;
				size_t		n = 1;
				char	   *s;

				for (int i = 0; i < l->count; i++)
					n += strlen(l->items[i].name) + strlen(l->items[i].value) + 2;
				if ((s = malloc(n)) == NULL)
					return NULL;
				s[0] = '\0';
				for (int i = 0; i < l->count; i++)
				{
					strcat(s, i > 0 ? " " : "");
					strcat(s, l->items[i].name);
					strcat(s, "=");
					strcat(s, l->items[i].value);
				}
				return s;
			}
		case CONFIG_ACTION:
			break;
	}
	return strdup("");
}

size_t
config_field_size(const struct config_option *opt)
{
	switch (opt->type)
	{
		case CONFIG_STRING:
		case CONFIG_SECRET:
			return sizeof(char *);
		case CONFIG_FLAG:
		case CONFIG_BOOL:
			return sizeof(bool);
		case CONFIG_SIZE:
			return sizeof(size_t);
		case CONFIG_LIST:
			return sizeof(struct config_plugin_options);
		case CONFIG_ACTION:
			return 0;
		default:
			return sizeof(int);
	}
}

