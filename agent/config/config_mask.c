/*
 * config_mask.c
 *		Hide the password in a PostgreSQL connection string before it is
 *		printed or logged (the masker of the dbname setting).
 *
 * The string is parsed by libpq's own PQconninfoParse, never by hand, so
 * masking agrees with what the agent actually connects with.  Anything
 * that does not parse is replaced whole: better an unhelpful "****" than
 * a leaked secret.  Every secret setting has a masker like this one, next
 * to its owner (config_table.h, struct config_option.mask).
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "strbuf.h"

#define CONFIG_MASK "****"

/* keyword='value' with libpq's quoting rules (backslash escapes ' and \). */
static void
config_mask_conninfo_pair(struct strbuf *b, const char *kw, const char *v)
{
	if (b->len > 0)
		strbuf_puts(b, " ");
	strbuf_puts(b, kw);
	strbuf_puts(b, "='");
	for (; *v; v++)
	{
		if (*v == '\'' || *v == '\\')
			strbuf_puts(b, "\\");
		strbuf_add(b, v, 1);
	}
	strbuf_puts(b, "'");
}

char *
config_mask_conninfo(const char *conninfo)
{
	char	   *errmsg = NULL;
	PQconninfoOption *opts;
	struct strbuf b = {0};
	bool		secret = false;

	if (conninfo == NULL)
		return NULL;
	if ((opts = PQconninfoParse(conninfo, &errmsg)) == NULL)
	{
		PQfreemem(errmsg);
		return strdup(CONFIG_MASK);
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && strcmp(o->keyword, "password") == 0)
			secret = true;
	if (!secret)
	{
		/* Nothing to hide: keep the user's own spelling. */
		PQconninfoFree(opts);
		return strdup(conninfo);
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			config_mask_conninfo_pair(&b, o->keyword,
									  strcmp(o->keyword, "password") == 0 ? CONFIG_MASK : o->val);
	PQconninfoFree(opts);
	if (b.data == NULL && !b.failed)
		return strdup("");
	return strbuf_finish(&b);
}
