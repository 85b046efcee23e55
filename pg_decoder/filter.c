/*-------------------------------------------------------------------------
 *
 * filter.c
 *		Matching of names against the patterns of filter-tables, add-tables,
 *		exclude-columns, filter-msg-prefixes, add-msg-prefixes and
 *		filter-origins.
 *
 * Table and column decisions are taken once per relation when its cache
 * entry is built (relinfo.c), never per row.  Names are compared byte for
 * byte as stored in the catalogs: no case folding, no quote processing.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "replication/origin.h"

/*
 * Does s match the pattern?  A star matches any run of bytes (also none);
 * the classic backtracking glob match, which needs to remember only the
 * most recent star.
 */
bool
filter_name_match(const WcName *name, const char *s)
{
	int			p = 0;
	int			star_p = -1;
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
			star_s = s;
		}
		else if (star_p >= 0)
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

/* Does any pattern of the list match all of the given names? */
static bool
filter_any_match(List *patterns, const char *a, const char *b, const char *c)
{
	const char *names[WC_MAX_PARTS] = {a, b, c};
	ListCell   *lc;

	foreach(lc, patterns)
	{
		WcPattern  *pat = lfirst(lc);
		int			i;

		for (i = 0; i < pat->nparts; i++)
			if (!filter_name_match(&pat->part[i], names[i]))
				break;
		if (i == pat->nparts)
			return true;
	}
	return false;
}

/*
 * A table is skipped when filter-tables names it, or when add-tables is
 * given and does not name it (wal2json's rule: filter-tables wins).
 */
bool
filter_table_skipped(const WcOptions *opts, const char *nspname,
					 const char *relname)
{
	if (filter_any_match(opts->filter_tables, nspname, relname, NULL))
		return true;
	return opts->add_tables != NIL &&
		!filter_any_match(opts->add_tables, nspname, relname, NULL);
}

bool
filter_column_excluded(const WcOptions *opts, const char *nspname,
					   const char *relname, const char *attname)
{
	return filter_any_match(opts->exclude_columns, nspname, relname, attname);
}

/* Message prefixes are compared whole, as wal2json does. */
bool
filter_prefix_skipped(const WcOptions *opts, const char *prefix)
{
	if (filter_any_match(opts->filter_msg_prefixes, prefix, NULL, NULL))
		return true;
	return opts->add_msg_prefixes != NIL &&
		!filter_any_match(opts->add_msg_prefixes, prefix, NULL, NULL);
}

/*
 * Is a transaction replayed under this replication origin to be skipped?
 * Needs catalog access (the origin's name), so it is called from inside a
 * decoded transaction, once per transaction that has an origin.
 */
bool
filter_origin_skipped(const WcOptions *opts, RepOriginId origin)
{
	char	   *name;

	if (origin == InvalidRepOriginId || opts->filter_origins == NIL)
		return false;
	if (!replorigin_by_oid(origin, true, &name))
		return false;
	return filter_any_match(opts->filter_origins, name, NULL, NULL);
}
