/*
 * decoder_walcast.c
 *		The decoder of the walcast output plugin (decoder.h): its options,
 *		its replication messages, and the initial load's rows rendered by
 *		the walcast extension.
 *
 * The plugin writes one JSON record per change (docs/contract.md) and may
 * pack several into one XLogData message, separated by '\n' (batch-bytes):
 * next() hands them out one at a time, parsed by walcast_record.c, so the
 * loop can stop between any two.  The load renders rows with the
 * plugin's own code, walcast.snapshot_record(), given the very options
 * the stream uses, so that rows are filtered and shaped exactly as
 * streamed ones.  Where the walcast extension is not installed (it needs
 * a superuser once per database), the load reads rows with plain SELECTs
 * and renders their text with the pgoutput decoder's converter
 * (pgoutput_load.c): the same records, the table filters applied by
 * walcast_filter.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decoder.h"
#include "log.h"
#include "lsn.h"
#include "pgoutput_load.h"
#include "pqerr.h"
#include "walcast_filter.h"
#include "walcast_record.h"

/* Plugin options the agent asks for unless -o says otherwise. */
static const char *const decoder_walcast_defaults[][2] = {
	/* route/envelope need the key columns (flat's entry_id, debezium) */
	{"include-pk", "true"},
	/* fewer, larger replication messages: the walsender's cost is per
	 * message, not per byte (docs/contract.md, batch-bytes) */
	{"batch-bytes", "65536"},
};

extern const struct decoder_ops decoder_walcast_ops;

struct decoder_walcast
{
	struct decoder base;
	char	   *options_literal;	/* the options as a text[] literal */

	/* The message being decoded: borrowed until next() says NEED_MORE. */
	const char *data;
	size_t		len;
	size_t		pos;
	uint64_t	data_start;

	/* The load without the extension: rows rendered by the agent. */
	char	   *load_options;	/* the load connection's libpq "options" */
	struct pgoutput_load *load;	/* from load_tables to load_end */

	/* What the last record that did not parse says of itself. */
	struct walcast_record_id bad;
};

/* The plugin's idea of false (its bool parser, parse_bool in PostgreSQL). */
static bool
decoder_walcast_is_false(const char *v)
{
	return v != NULL && (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 ||
						 strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0 ||
						 strcasecmp(v, "f") == 0 || strcasecmp(v, "n") == 0);
}

/*
 * The plugin options the agent cannot work with: what the acknowledgement
 * rule and message ids rest on, and what the enabled sinks need.  (Any
 * number fits: records are parsed with numbers kept as their text, so
 * numeric-data-types-as-string=false is fine.)
 */
static bool
decoder_walcast_check(const struct agent_config *cfg,
					  const struct event_needs *needs, char *err,
					  size_t errlen)
{
	for (int i = 0; i < cfg->plugin_options.count; i++)
	{
		const struct config_plugin_option *o = &cfg->plugin_options.items[i];

		if ((strcmp(o->name, "include-lsn") == 0 ||
			 strcmp(o->name, "include-seq") == 0 ||
			 strcmp(o->name, "include-transaction") == 0) &&
			decoder_walcast_is_false(o->value))
		{
			snprintf(err, errlen,
					 "option: %s=%s is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)",
					 o->name, o->value);
			return false;
		}

		/*
		 * Streamed and prepared transactions arrive before their commit,
		 * and may still abort: the agent would publish what never
		 * committed.  Refuse them here rather than meet them mid-stream.
		 */
		if ((strcmp(o->name, "stream-changes") == 0 ||
			 strcmp(o->name, "two-phase") == 0) &&
			!decoder_walcast_is_false(o->value))
		{
			snprintf(err, errlen,
					 "option: %s=%s is not supported by walcast-agent (it publishes committed transactions only)",
					 o->name, o->value);
			return false;
		}
		/*
		 * With it the plugin holds complete transactions, their commits
		 * included, until a batch fills; while the server is idle the
		 * agent confirms the keepalive position (ack.c), which would then
		 * pass records the slot has not sent yet (docs/plugin-options.md).
		 */
		if (strcmp(o->name, "batch-across-transactions") == 0 &&
			!decoder_walcast_is_false(o->value))
		{
			snprintf(err, errlen,
					 "option: %s=%s is not possible with walcast-agent (the plugin would hold committed transactions while the agent confirms the idle server's position past them; batch across transactions in the agent with --batch window instead)",
					 o->name, o->value);
			return false;
		}
		if (needs->key && strcmp(o->name, "include-pk") == 0 &&
			decoder_walcast_is_false(o->value))
		{
			snprintf(err, errlen,
					 "option: include-pk=%s is not possible with %s (%s)",
					 o->value, needs->key_setting, needs->key_why);
			return false;
		}
	}
	return true;
}

/* One element of a text[] literal: "...", with \ and " escaped. */
static void
decoder_walcast_array_item(struct strbuf *b, const char *s)
{
	strbuf_add(b, "\"", 1);
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			strbuf_add(b, "\\", 1);
		strbuf_add(b, s, 1);
	}
	strbuf_add(b, "\"", 1);
}

/*
 * The options as a text[] literal for the extension, which reads
 * "name=value", or "name" alone for true; malloc'd.
 */
static char *
decoder_walcast_literal(const struct config_plugin_options *opts)
{
	struct strbuf b = {0};

	strbuf_add(&b, "{", 1);
	for (int i = 0; i < opts->count; i++)
	{
		const struct config_plugin_option *o = &opts->items[i];
		size_t		n = strlen(o->name) + (o->value ? strlen(o->value) : 0) + 2;
		char	   *item = malloc(n);

		if (item == NULL)
		{
			free(b.data);
			return NULL;
		}
		if (o->value != NULL)
			snprintf(item, n, "%s=%s", o->name, o->value);
		else
			snprintf(item, n, "%s", o->name);
		strbuf_add(&b, i > 0 ? "," : "", i > 0 ? 1 : 0);
		decoder_walcast_array_item(&b, item);
		free(item);
	}
	strbuf_add(&b, "}", 1);
	if (b.failed)
	{
		free(b.data);
		return NULL;
	}
	return b.data;
}

/*
 * The defaults (unless -o sets them), what the sinks need, then -o in
 * order: START_REPLICATION's options, and the load's.
 */
static bool
decoder_walcast_options(struct decoder *d, const struct event_needs *needs)
{
	const struct agent_config *cfg = d->cfg;

	for (size_t i = 0; i < sizeof(decoder_walcast_defaults) / sizeof(decoder_walcast_defaults[0]); i++)
		if (!decoder_user_sets(cfg, decoder_walcast_defaults[i][0]) &&
			!decoder_add_option(d, decoder_walcast_defaults[i][0],
								decoder_walcast_defaults[i][1]))
			return false;
	/* A sink that types values by column (the mirror) needs the type names. */
	if (needs->types && !decoder_user_sets(cfg, "include-types") &&
		!decoder_add_option(d, "include-types", "true"))
		return false;
	return decoder_add_user_options(d);
}

static struct decoder *
decoder_walcast_create(const struct agent_config *cfg,
					   const struct event_needs *needs, char *err,
					   size_t errlen)
{
	struct decoder_walcast *w = calloc(1, sizeof(*w));

	if (w == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->base.ops = &decoder_walcast_ops;
	w->base.cfg = cfg;
	/*
	 * The load's connection gets the pinned settings: the extension's
	 * rendering ignores them, the agent's (without the extension) reads
	 * the text they shape.  The replication connection needs none: the
	 * plugin pins its own output.
	 */
	if (!decoder_walcast_options(&w->base, needs) ||
		(w->options_literal = decoder_walcast_literal(&w->base.options)) == NULL ||
		!pgoutput_load_conn_params(cfg, &w->base.load_conn, &w->load_options))
	{
		decoder_free(&w->base);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return &w->base;
}

static enum decoder_status
decoder_walcast_begin_session(struct decoder *d, PGconn *replication,
							  char *err, size_t errlen)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;

	(void) replication;
	(void) err;
	(void) errlen;
	/* The last session's message went with its connection. */
	w->data = NULL;
	w->len = w->pos = 0;
	return DECODER_OK;
}

static void
decoder_walcast_feed(struct decoder *d, uint64_t data_start_lsn,
					 const char *data, size_t len)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;

	w->data = data;
	w->len = len;
	w->pos = 0;
	w->data_start = data_start_lsn;
}

static enum decoder_status
decoder_walcast_next(struct decoder *d, struct event *ev, char *err,
					 size_t errlen)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;

	while (w->pos < w->len)
	{
		const char *start = w->data + w->pos;
		const char *nl = memchr(start, '\n', w->len - w->pos);
		size_t		n = nl ? (size_t) (nl - start) : w->len - w->pos;
		char		perr[512];

		w->pos += n + (nl ? 1 : 0);
		if (n == 0)
			continue;
		if (!walcast_record_parse(ev, start, n, perr, sizeof(perr)))
		{
			/*
			 * The slot would send it again after every restart: name it,
			 * so that the loop can say which one, or leave it out when
			 * told to (--skip-lsn).
			 */
			walcast_record_peek(start, n, &w->bad);
			ev->op = EVENT_OTHER;
			ev->lsn = w->bad.lsn;
			ev->schema = w->bad.schema[0] ? w->bad.schema : NULL;
			ev->table = w->bad.table[0] ? w->bad.table : NULL;
			ev->raw = start;
			ev->rawlen = n;
			snprintf(err, errlen, "invalid record from the plugin: %s", perr);
			return DECODER_BAD_RECORD;
		}

		/*
		 * end_lsn is the end of the commit record: once confirmed, a
		 * restart decodes from there and skips this transaction.
		 */
		if (ev->op == EVENT_COMMIT && ev->end_lsn == 0)
		{
			event_free(ev);
			snprintf(err, errlen,
					 "commit record without \"end_lsn\": the agent needs the plugin's include-lsn=true");
			return DECODER_FATAL;
		}
		return DECODER_EVENT;
	}
	w->data = NULL;
	w->len = w->pos = 0;
	return DECODER_NEED_MORE;
}

/*
 * Whether the walcast extension is installed in the database: the rows
 * are rendered by it where it is.  Looked up, not called and caught.
 */
static enum decoder_status
decoder_walcast_has_extension(PGconn *conn, bool *installed, char *err,
							  size_t errlen)
{
	PGresult   *res = PQexec(conn,
							 "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'walcast'");
	enum decoder_status r = DECODER_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pqerr_result(err, errlen, "initial load", res, conn);
		r = DECODER_RETRY;
	}
	else
		*installed = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

/* The tables the plugin's filter options include, by the extension. */
static enum decoder_status
decoder_walcast_extension_tables(struct decoder_walcast *w, PGconn *conn,
								 struct decoder_table **tables, int *ntables,
								 char *err, size_t errlen)
{
	const char *params[1] = {w->options_literal};
	enum decoder_status r;
	PGresult   *res;

	res = PQexecParams(conn,
					   "SELECT rel::oid, schema_name || '.' || table_name, "
					   "quote_ident(schema_name) || '.' || quote_ident(table_name), "
					   "(SELECT string_agg(quote_ident(k), ', ') FROM unnest(key_columns) AS k), "
					   "estimated_rows, readable "
					   "FROM walcast.snapshot_tables($1::text[])",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pqerr_result(err, errlen, "initial load: listing the tables", res, conn);
		PQclear(res);
		/* a plugin option the extension refuses: the stream would too */
		return DECODER_FATAL;
	}
	r = decoder_tables_read(res, tables, ntables, err, errlen);
	PQclear(res);
	return r;
}

/*
 * What walcast.snapshot_tables() lists, without the extension: permanent
 * ordinary tables (leaf partitions included) outside the system schemas,
 * in its order, with its key columns, estimate and readability; the
 * table filters are applied by the caller (columns 7 and 8: schema and
 * table).
 */
static const char decoder_walcast_tables_sql[] =
"SELECT " PGOUTPUT_LOAD_TABLE_COLUMNS ", false, n.nspname, c.relname"
" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
" WHERE c.relkind = 'r' AND c.relpersistence = 'p'"
" AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
" ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"";

/* The value of a plugin option the decoder sends, or NULL. */
static const char *
decoder_walcast_option(const struct decoder *d, const char *name)
{
	for (int i = 0; i < d->options.count; i++)
		if (strcmp(d->options.items[i].name, name) == 0)
			return d->options.items[i].value != NULL ? d->options.items[i].value : "true";
	return NULL;
}

/*
 * Without the extension: the record options of the stream, and what the
 * agent's rendering does not do (exclude-columns) refused by name.
 */
static enum decoder_status
decoder_walcast_load_opts(struct decoder_walcast *w,
						  struct pgoutput_record_opts *opts, char *err,
						  size_t errlen)
{
	pgoutput_record_default_opts(opts);
	for (int i = 0; i < w->base.options.count; i++)
		if (pgoutput_load_record_option(opts, &w->base.options.items[i], err, errlen) < 0)
			return DECODER_FATAL;
	if (decoder_walcast_option(&w->base, "exclude-columns") != NULL)
	{
		snprintf(err, errlen,
				 "initial load: plugin option exclude-columns needs the walcast extension to render rows (CREATE EXTENSION walcast, once, as a superuser), or stream without a load (--snapshot=never)");
		return DECODER_FATAL;
	}
	return DECODER_OK;
}

/* The tables the filter options include, listed and filtered here. */
static enum decoder_status
decoder_walcast_plain_tables(struct decoder_walcast *w, PGconn *conn,
							 struct decoder_table **tables, int *ntables,
							 char *err, size_t errlen)
{
	struct walcast_filter *f;
	enum decoder_status r;
	PGresult   *res;
	int			n = 0;

	if ((f = walcast_filter_new(decoder_walcast_option(&w->base, "add-tables"),
								decoder_walcast_option(&w->base, "filter-tables"),
								err, errlen)) == NULL)
		return DECODER_FATAL;
	res = PQexec(conn, decoder_walcast_tables_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pqerr_result(err, errlen, "initial load: listing the tables", res, conn);
		PQclear(res);
		walcast_filter_free(f);
		return PQstatus(conn) == CONNECTION_OK ? DECODER_FATAL : DECODER_RETRY;
	}
	if ((r = decoder_tables_read(res, tables, ntables, err, errlen)) == DECODER_OK)
	{
		for (int i = 0; i < *ntables; i++)
		{
			if (walcast_filter_includes(f, PQgetvalue(res, i, 7), PQgetvalue(res, i, 8)))
				(*tables)[n++] = (*tables)[i];
			else
				decoder_table_clear(&(*tables)[i]);
		}
		*ntables = n;
	}
	PQclear(res);
	walcast_filter_free(f);
	return r;
}

/*
 * The tables the plugin's filter options include, in a stable order:
 * listed by the extension where it is installed (its rows too), else
 * here, with the rows rendered by the agent.
 */
static enum decoder_status
decoder_walcast_load_tables(struct decoder *d, PGconn *conn,
							struct decoder_table **tables, int *ntables,
							char *err, size_t errlen)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;
	struct pgoutput_record_opts opts;
	enum decoder_status r;
	bool		installed = false;

	*tables = NULL;
	*ntables = 0;
	pgoutput_load_free(w->load);
	w->load = NULL;
	if ((r = decoder_walcast_has_extension(conn, &installed, err, errlen)) != DECODER_OK)
		return r;
	if (installed)
		return decoder_walcast_extension_tables(w, conn, tables, ntables, err, errlen);

	log_info("initial load: the walcast extension is not installed in database \"%s\": reading rows with plain SELECTs, rendered by the agent (the same records; CREATE EXTENSION walcast makes the load faster)",
			 PQdb(conn));
	if ((r = decoder_walcast_load_opts(w, &opts, err, errlen)) != DECODER_OK ||
		(r = decoder_walcast_plain_tables(w, conn, tables, ntables, err, errlen)) != DECODER_OK)
		return r;
	if ((w->load = pgoutput_load_new(conn, &opts, err, errlen)) == NULL)
	{
		decoder_tables_free(*tables, *ntables);
		*tables = NULL;
		*ntables = 0;
		return DECODER_FATAL;
	}
	return DECODER_OK;
}

/*
 * walcast.snapshot_record(t, row, options, position): the row's record;
 * without the extension, every column as text.
 */
static enum decoder_status
decoder_walcast_load_select(struct decoder *d, PGconn *conn,
							const struct decoder_table *t, const char *lsn,
							struct strbuf *sql, char *err, size_t errlen)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;
	char	   *opts;

	if (w->load != NULL)
		return pgoutput_load_select(w->load, lsn, sql, err, errlen);
	opts = PQescapeLiteral(conn, w->options_literal, strlen(w->options_literal));
	if (opts == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	strbuf_puts(sql, "walcast.snapshot_record(");
	strbuf_puts(sql, t->id);
	/* t.*, not t: a column named t would win over the row */
	strbuf_puts(sql, "::oid::regclass, t.*, ");
	strbuf_puts(sql, opts);
	strbuf_puts(sql, "::text[], '");
	strbuf_puts(sql, lsn);
	strbuf_puts(sql, "'::pg_lsn)");
	PQfreemem(opts);
	return DECODER_OK;
}

/* One rendered row: parsed like a streamed record ("L" is a read). */
static enum decoder_status
decoder_walcast_load_row(struct decoder *d, const struct decoder_table *t,
						 const PGresult *res, int row, struct event *ev,
						 char *err, size_t errlen)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;
	char		perr[512];

	if (w->load != NULL)
		return pgoutput_load_row(w->load, t, res, row, ev, err, errlen);
	if (!walcast_record_parse(ev, PQgetvalue(res, row, 0),
							  (size_t) PQgetlength(res, row, 0), perr, sizeof(perr)))
	{
		snprintf(err, errlen, "initial load: invalid record from walcast.snapshot_record() for %s: %s",
				 t->name, perr);
		return DECODER_FATAL;
	}
	if (ev->op != EVENT_READ)
	{
		event_free(ev);
		snprintf(err, errlen, "initial load: walcast.snapshot_record() returned a record that is not a snapshot read (action \"L\"): is the walcast extension older than this agent?");
		return DECODER_FATAL;
	}
	return DECODER_EVENT;
}

static void
decoder_walcast_load_end(struct decoder *d)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;

	pgoutput_load_free(w->load);
	w->load = NULL;
}

static void
decoder_walcast_free(struct decoder *d)
{
	struct decoder_walcast *w = (struct decoder_walcast *) d;

	pgoutput_load_free(w->load);
	free(w->options_literal);
	free(w->load_options);
	free(w);
}

const struct decoder_ops decoder_walcast_ops = {
	.plugin = "walcast",
	.tables_hint = "-o add-tables=... / -o filter-tables=...",
	.check = decoder_walcast_check,
	.create = decoder_walcast_create,
	.begin_session = decoder_walcast_begin_session,
	.feed = decoder_walcast_feed,
	.next = decoder_walcast_next,
	.load_tables = decoder_walcast_load_tables,
	.load_select = decoder_walcast_load_select,
	.load_row = decoder_walcast_load_row,
	.load_end = decoder_walcast_load_end,
	.free = decoder_walcast_free,
};
