/*
 * walcast_filter.c
 *		add-tables / filter-tables as the walcast plugin reads and applies
 *		them (see walcast_filter.h).
 */
#include "walcast_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One part of a pattern (schema or table): its bytes, which are stars. */
struct walcast_filter_name
{
	char	   *chars;
	bool	   *star;
	size_t		len;
};

struct walcast_filter_pattern
{
	struct walcast_filter_name part[2];
};

struct walcast_filter_list
{
	struct walcast_filter_pattern *items;
	int			n;
};

struct walcast_filter
{
	struct walcast_filter_list add;		/* n == 0: every table */
	struct walcast_filter_list skip;
};

static void
walcast_filter_list_free(struct walcast_filter_list *l)
{
	for (int i = 0; i < l->n; i++)
		for (int p = 0; p < 2; p++)
		{
			free(l->items[i].part[p].chars);
			free(l->items[i].part[p].star);
		}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
walcast_filter_free(struct walcast_filter *f)
{
	if (f == NULL)
		return;
	walcast_filter_list_free(&f->add);
	walcast_filter_list_free(&f->skip);
	free(f);
}

/*
 * One item [s, s + n) into a pattern, as options_split and
 * options_patterns do: blanks at either end dropped unless escaped, a
 * backslash makes the next byte literal, an unescaped dot splits schema
 * from table, an unescaped star matches any run.  -1 on a bad item, 0 when
 * out of memory, 1 when done.
 */
static int
walcast_filter_item(const char *s, size_t n, struct walcast_filter_pattern *pat)
{
	size_t		keep = 0;		/* length up to the last kept byte */
	size_t		len = 0;
	int			part = 0;
	char	   *chars = malloc(n + 1);
	bool	   *escaped = malloc((n + 1) * sizeof(bool));
	int			r = -1;

	memset(pat, 0, sizeof(*pat));
	if (chars == NULL || escaped == NULL)
	{
		free(chars);
		free(escaped);
		return 0;
	}
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	for (size_t i = 0; i < n; i++)
	{
		bool		esc = s[i] == '\\';

		if (esc && ++i == n)
			goto done;			/* a trailing backslash */
		chars[len] = s[i];
		escaped[len++] = esc;
		if (esc || (s[i] != ' ' && s[i] != '\t'))
			keep = len;
	}
	len = keep;
	for (int p = 0; p < 2; p++)
	{
		pat->part[p].chars = malloc(len + 1);
		pat->part[p].star = calloc(len + 1, sizeof(bool));
		if (pat->part[p].chars == NULL || pat->part[p].star == NULL)
		{
			r = 0;
			goto done;
		}
	}
	for (size_t i = 0; i < len; i++)
	{
		struct walcast_filter_name *name = &pat->part[part];

		if (chars[i] == '.' && !escaped[i])
		{
			if (part == 1)
				goto done;		/* three parts */
			part = 1;
			continue;
		}
		name->star[name->len] = chars[i] == '*' && !escaped[i];
		name->chars[name->len++] = chars[i];
	}
	if (part == 1 && pat->part[0].len > 0 && pat->part[1].len > 0)
		r = 1;
done:
	free(chars);
	free(escaped);
	return r;
}

static bool
walcast_filter_parse(const char *option, const char *value,
					 struct walcast_filter_list *l, char *err, size_t errlen)
{
	const char *p = value;

	/* an empty value is an empty list, as the plugin reads it */
	if (value == NULL || value[0] == '\0')
		return true;
	for (;;)
	{
		/* the end of the item: the next comma not escaped */
		size_t		n = 0;
		struct walcast_filter_pattern *items;
		int			r;

		while (p[n] != '\0' && p[n] != ',')
			n += (p[n] == '\\' && p[n + 1] != '\0') ? 2 : 1;
		items = realloc(l->items, (size_t) (l->n + 1) * sizeof(*items));
		if (items == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return false;
		}
		l->items = items;
		r = walcast_filter_item(p, n, &l->items[l->n]);
		if (r <= 0)
		{
			for (int k = 0; k < 2; k++)
			{
				free(l->items[l->n].part[k].chars);
				free(l->items[l->n].part[k].star);
			}
			if (r == 0)
				snprintf(err, errlen, "out of memory");
			else
				snprintf(err, errlen,
						 "plugin option %s: \"%s\" is not a comma-separated list of schema.table patterns (* matches any characters; a backslash makes the next character literal)",
						 option, value);
			return false;
		}
		l->n++;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

struct walcast_filter *
walcast_filter_new(const char *add_tables, const char *filter_tables,
				   char *err, size_t errlen)
{
	struct walcast_filter *f = calloc(1, sizeof(*f));

	if (f == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!walcast_filter_parse("add-tables", add_tables, &f->add, err, errlen) ||
		!walcast_filter_parse("filter-tables", filter_tables, &f->skip, err, errlen))
	{
		walcast_filter_free(f);
		return NULL;
	}
	return f;
}

/*
 * Does s match the name?  The plugin's filter_name_match: the classic
 * backtracking glob match, remembering only the most recent star.
 */
static bool
walcast_filter_match(const struct walcast_filter_name *name, const char *s)
{
	size_t		p = 0;
	size_t		star_p = 0;
	bool		have_star = false;
	const char *star_s = NULL;

	while (*s != '\0')
	{
		if (p < name->len && !name->star[p] && name->chars[p] == *s)
		{
			p++;
			s++;
		}
		else if (p < name->len && name->star[p])
		{
			star_p = p++;
			have_star = true;
			star_s = s;
		}
		else if (have_star)
		{
			p = star_p + 1;
			s = ++star_s;
		}
		else
			return false;
	}
	while (p < name->len && name->star[p])
		p++;
	return p == name->len;
}

static bool
walcast_filter_any(const struct walcast_filter_list *l, const char *schema,
				   const char *table)
{
	for (int i = 0; i < l->n; i++)
		if (walcast_filter_match(&l->items[i].part[0], schema) &&
			walcast_filter_match(&l->items[i].part[1], table))
			return true;
	return false;
}

bool
walcast_filter_includes(const struct walcast_filter *f, const char *schema,
						const char *table)
{
	if (walcast_filter_any(&f->skip, schema, table))
		return false;
	return f->add.n == 0 || walcast_filter_any(&f->add, schema, table);
}
