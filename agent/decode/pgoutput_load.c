/*
 * pgoutput_load.c
 *		Initial-load rows from SELECT text, rendered by the pgoutput
 *		converter (see pgoutput_load.h).
 */
#include "pgoutput_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsn.h"
#include "pgoutput_catalog_pq.h"
#include "pgoutput_session.h"
#include "walcast_record.h"

struct pgoutput_load
{
	struct pgoutput_catalog *cat;	/* over the load's connection */
	struct pgoutput_record *rec;
	uint64_t	lsn;			/* the load's position */

	/* one row's columns, for pgoutput_record_load_row (room for ncap) */
	const char **names;
	const char **values;
	size_t	   *lengths;
	int			ncap;
};

bool
pgoutput_load_conn_params(const struct agent_config *cfg,
						  struct pqconn_params *params, char **options)
{
	const char *keys[PQCONN_MAX_PARAMS];
	const char *values[PQCONN_MAX_PARAMS];
	char	   *user = decoder_conninfo_value(cfg->dbname, "options");
	size_t		n;
	int			k;

	*options = NULL;
	if (user == NULL)
		return false;
	/* the server applies -c settings in order: the last one wins */
	n = strlen(user) + strlen(pgoutput_session_options()) + 2;
	if ((*options = malloc(n)) != NULL)
		snprintf(*options, n, "%s%s%s", user, user[0] ? " " : "",
				 pgoutput_session_options());
	free(user);
	if (*options == NULL)
		return false;
	memset(params, 0, sizeof(*params));
	k = pgoutput_session_params(keys, values, PQCONN_MAX_PARAMS);
	for (int i = 0; i < k; i++)
	{
		params->keys[i] = keys[i];
		params->values[i] = strcmp(keys[i], "options") == 0 ? *options : values[i];
	}
	return true;
}

static bool
pgoutput_load_bool(const struct config_plugin_option *o, bool *target,
				   char *err, size_t errlen)
{
	/* a bare name means true, as for the plugin */
	if (o->value == NULL)
		*target = true;
	else if (!config_parse_bool(o->value, target))
	{
		snprintf(err, errlen, "option: %s: \"%s\" is not a boolean", o->name, o->value);
		return false;
	}
	return true;
}

int
pgoutput_load_record_option(struct pgoutput_record_opts *opts,
							const struct config_plugin_option *o,
							char *err, size_t errlen)
{
	bool	   *target = NULL;

	if (strcmp(o->name, "include-pk") == 0)
		target = &opts->include_pk;
	else if (strcmp(o->name, "include-types") == 0)
		target = &opts->include_types;
	else if (strcmp(o->name, "include-type-oids") == 0)
		target = &opts->include_type_oids;
	else if (strcmp(o->name, "numeric-data-types-as-string") == 0)
		target = &opts->values.numeric_as_string;
	else if (strcmp(o->name, "bytea-encoding") == 0)
	{
		if (o->value == NULL ||
			(strcmp(o->value, "hex") != 0 && strcmp(o->value, "base64") != 0))
		{
			snprintf(err, errlen, "option: bytea-encoding must be base64 or hex");
			return -1;
		}
		opts->values.bytea_hex = strcmp(o->value, "hex") == 0;
		return 1;
	}
	else
		return 0;
	return pgoutput_load_bool(o, target, err, errlen) ? 1 : -1;
}

struct pgoutput_load *
pgoutput_load_new(PGconn *conn, const struct pgoutput_record_opts *opts,
				  char *err, size_t errlen)
{
	struct pgoutput_load *l;
	char		why[512];

	/*
	 * A value printed under other settings would be misread, and a float
	 * under extra_float_digits < 3 would even look right: check them.
	 */
	if (!pgoutput_session_check(conn, why, sizeof(why)))
	{
		snprintf(err, errlen, "initial load: %s", why);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL ||
		(l->cat = pgoutput_catalog_new(&pgoutput_catalog_pq, conn)) == NULL ||
		(l->rec = pgoutput_record_new(opts, l->cat)) == NULL)
	{
		pgoutput_load_free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return l;
}

void
pgoutput_load_free(struct pgoutput_load *l)
{
	if (l == NULL)
		return;
	pgoutput_record_free(l->rec);
	pgoutput_catalog_free(l->cat);
	free(l->names);
	free(l->values);
	free(l->lengths);
	free(l);
}

static bool
pgoutput_load_room(struct pgoutput_load *l, int n)
{
	const char **names;
	const char **values;
	size_t	   *lengths;

	if (n <= l->ncap)
		return true;
	names = realloc(l->names, (size_t) n * sizeof(*names));
	if (names != NULL)
		l->names = names;
	values = realloc(l->values, (size_t) n * sizeof(*values));
	if (values != NULL)
		l->values = values;
	lengths = realloc(l->lengths, (size_t) n * sizeof(*lengths));
	if (lengths != NULL)
		l->lengths = lengths;
	if (names == NULL || values == NULL || lengths == NULL)
		return false;
	l->ncap = n;
	return true;
}

enum decoder_status
pgoutput_load_select(struct pgoutput_load *l, const char *lsn,
					 struct strbuf *sql, char *err, size_t errlen)
{
	if (!lsn_parse(lsn, &l->lsn))
	{
		snprintf(err, errlen, "initial load: \"%s\" is not an LSN", lsn);
		return DECODER_FATAL;
	}
	/* t.*, not t: a column named t would win over the row */
	strbuf_puts(sql, "t.*");
	return DECODER_OK;
}

enum decoder_status
pgoutput_load_row(struct pgoutput_load *l, const struct decoder_table *t,
				  const PGresult *res, int row, struct event *ev, char *err,
				  size_t errlen)
{
	int			n = PQnfields(res);
	const char *text;
	size_t		len;
	char		why[512];

	if (!pgoutput_load_room(l, n))
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	for (int i = 0; i < n; i++)
	{
		l->names[i] = PQfname(res, i);
		l->values[i] = PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
		l->lengths[i] = (size_t) PQgetlength(res, row, i);
	}

	/*
	 * The names are checked against the catalogue's columns: a column
	 * added or dropped between the two reads would shift every value.
	 */
	if (!pgoutput_record_load_row(l->rec, (uint32_t) strtoul(t->id, NULL, 10),
								  l->lsn, n, l->names, l->values, l->lengths,
								  &text, &len, why, sizeof(why)))
	{
		snprintf(err, errlen, "initial load: %s", why);
		return DECODER_FATAL;
	}
	if (!walcast_record_parse(ev, text, len, why, sizeof(why)))
	{
		snprintf(err, errlen, "initial load: a record rendered for %s does not parse: %s",
				 t->name, why);
		return DECODER_FATAL;
	}
	return DECODER_EVENT;
}
