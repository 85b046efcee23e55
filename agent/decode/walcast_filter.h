/*
 * walcast_filter.h
 *		The walcast plugin's table filters (-o add-tables, -o
 *		filter-tables), for the initial load when the walcast extension,
 *		whose walcast.table_included() applies them in the database, is not
 *		installed.
 *
 * The same syntax and rule as the plugin's (pg_decoder/options.c's
 * options_split and options_patterns, filter.c's filter_table_skipped;
 * docs/plugin-options.md): comma-separated schema.table patterns, a
 * backslash makes the next character literal, unescaped blanks around an
 * item are dropped, * matches any run of bytes; names compare byte for
 * byte; filter-tables wins over add-tables.
 */
#ifndef WALCAST_WALCAST_FILTER_H
#define WALCAST_WALCAST_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct walcast_filter;

/*
 * The filter of add-tables and filter-tables values (NULL: not given);
 * NULL with err naming the option when one does not parse, or when out
 * of memory.
 */
extern struct walcast_filter *walcast_filter_new(const char *add_tables,
												 const char *filter_tables,
												 char *err, size_t errlen);
extern void walcast_filter_free(struct walcast_filter *f);

/* Whether the stream writes changes of schema.table. */
extern bool walcast_filter_includes(const struct walcast_filter *f,
									const char *schema, const char *table);

#endif							/* WALCAST_WALCAST_FILTER_H */
