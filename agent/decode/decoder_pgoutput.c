/*
 * decoder_pgoutput.c
 *		The decoder of pgoutput, PostgreSQL's built-in logical replication
 *		plugin (decoder.h): the same records the walcast plugin writes, for
 *		servers that load no other plugin (managed PostgreSQL; see
 *		docs/pgoutput.md and docs/managed-postgres.md).
 *
 * The work is pgoutput_record.c's (messages -> walcast record text, with
 * the catalogue of pgoutput_catalog.c over a second connection); this file
 * wires it to the agent:
 *	- settings: every connection (replication, catalogue, load) runs under
 *	  pgoutput_session's pinned settings, given as startup options after
 *	  the user's own and checked with SHOW (a float printed with
 *	  extra_float_digits=-15 still parses: only the check catches it);
 *	- prepare_session, before the slot is touched: the catalogue
 *	  connection of this session, the publications (created when asked,
 *	  before any slot), and a warning naming published tables without a
 *	  replica identity;
 *	- begin_session: START_REPLICATION's options from the server's
 *	  version (proto_version the highest it speaks; messages from 14),
 *	  never streaming, two_phase or binary;
 *	- next: each record parsed into an event by walcast_record_parse, as
 *	  the walcast decoder does, so envelopes and sinks see the same events;
 *	- the initial load: the tables the publications publish, read with
 *	  SELECT t.* and rendered by pgoutput_load.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder_pgoutput.h"
#include "log.h"
#include "lsn.h"
#include "pgoutput_catalog_pq.h"
#include "pgoutput_config.h"
#include "pgoutput_load.h"
#include "pgoutput_publication.h"
#include "pgoutput_record.h"
#include "pgoutput_session.h"
#include "pqconn.h"
#include "pqerr.h"
#include "walcast_record.h"

/*
 * The oldest server the decoder reads: what pgoutput_session's protocol
 * versions and the catalogue queries cover (PostgreSQL 13: version 1).
 */
#define PGOUTPUT_MIN_SERVER 130000

struct decoder_pgoutput
{
	struct decoder base;
	const struct pgoutput_settings *settings;
	struct pgoutput_record_opts opts;
	char	   *options;		/* libpq "options": the user's, then the pins */
	char	   *quoted_names;	/* publication_names for pgoutput */

	/* this session's catalogue connection, and what is built on it */
	PGconn	   *conn;
	struct pgoutput_catalog *cat;
	struct pgoutput_record *rec;
	bool		warned;			/* the replica identity warning was given */
	char		feed_err[256];	/* a feed that failed, reported by next */

	/* where the message being decoded starts, for error messages */
	uint64_t	data_start;

	/* the initial load's renderer, from load_tables to load_end */
	struct pgoutput_load *load;
};

/*
 * Walcast plugin options (-o) and what pgoutput offers instead.  An
 * option that changes the records has its counterpart in the record
 * options (pgoutput_record_opts) and is read, not refused; the ones the
 * agent needs true (LSNs, sequence numbers, B/C) are always on.
 */
static const struct
{
	const char *name;
	const char *instead;
}			pgoutput_refused[] = {
	{"add-tables", "the publication chooses the tables (--publication; CREATE/ALTER PUBLICATION ... FOR TABLE)"},
	{"filter-tables", "the publication chooses the tables (--publication; CREATE/ALTER PUBLICATION ... FOR TABLE)"},
	{"actions", "the publication chooses the actions (CREATE PUBLICATION ... WITH (publish = 'insert, update, delete, truncate'))"},
	{"exclude-columns", "a publication's column list leaves columns out (PostgreSQL 15: FOR TABLE t (col, ...))"},
	{"add-msg-prefixes", "pgoutput sends every logical message"},
	{"filter-msg-prefixes", "pgoutput sends every logical message"},
	{"only-local", "pgoutput sends every origin's changes (PostgreSQL 16 subscriptions have origin = none)"},
	{"filter-origins", "pgoutput sends every origin's changes"},
	{"include-empty-xacts", "empty transactions write no record"},
	{"batch-bytes", "pgoutput sends one message per change (the records are the same)"},
	{"batch-across-transactions", "pgoutput sends one message per change (the records are the same)"},
	{"stream-changes", "the agent publishes committed transactions only"},
	{"two-phase", "the agent publishes committed transactions only"},
};

/* Options that must stay true (the agent's LSNs, ids and B/C need them). */
static const char *const pgoutput_always_on[] = {
	"include-xids", "include-lsn", "include-timestamp", "include-seq",
	"include-transaction",
};

/* -o into record options; false with err for an option it cannot read. */
static bool
pgoutput_read_options(const struct agent_config *cfg,
					  struct pgoutput_record_opts *opts, char *err,
					  size_t errlen)
{
	for (int i = 0; i < cfg->plugin_options.count; i++)
	{
		const struct config_plugin_option *o = &cfg->plugin_options.items[i];
		bool		on = false;
		int			r;

		for (size_t k = 0; k < sizeof(pgoutput_refused) / sizeof(pgoutput_refused[0]); k++)
			if (strcmp(o->name, pgoutput_refused[k].name) == 0)
			{
				snprintf(err, errlen,
						 "option: %s is an option of the walcast plugin, not of pgoutput (--plugin pgoutput): %s",
						 o->name, pgoutput_refused[k].instead);
				return false;
			}
		if ((r = pgoutput_load_record_option(opts, o, err, errlen)) != 0)
		{
			if (r < 0)
				return false;
			continue;
		}
		for (size_t k = 0; k < sizeof(pgoutput_always_on) / sizeof(pgoutput_always_on[0]); k++)
			on |= strcmp(o->name, pgoutput_always_on[k]) == 0;
		if (!on)
		{
			snprintf(err, errlen, "option: unknown plugin option \"%s\"", o->name);
			return false;
		}
		if (o->value != NULL && !(config_parse_bool(o->value, &on) && on))
		{
			snprintf(err, errlen,
					 "option: %s=%s is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)",
					 o->name, o->value);
			return false;
		}
	}
	return true;
}

/* The record options for this configuration and these sinks. */
static bool
pgoutput_opts(const struct agent_config *cfg, const struct event_needs *needs,
			  struct pgoutput_record_opts *opts, char *err, size_t errlen)
{
	pgoutput_record_default_opts(opts);
	/* the MongoDB mirror chooses BSON types by the columns' type names */
	opts->include_types = needs->types;
	if (!pgoutput_read_options(cfg, opts, err, errlen))
		return false;
	if (needs->key && !opts->include_pk)
	{
		snprintf(err, errlen, "option: include-pk=false is not possible with %s (%s)",
				 needs->key_setting, needs->key_why);
		return false;
	}
	return true;
}

static bool
decoder_pgoutput_check(const struct agent_config *cfg,
					   const struct event_needs *needs, char *err,
					   size_t errlen)
{
	struct pgoutput_record_opts opts;

	return pgoutput_opts(cfg, needs, &opts, err, errlen);
}

static struct decoder *
decoder_pgoutput_create(const struct agent_config *cfg,
						const struct event_needs *needs, char *err,
						size_t errlen)
{
	struct decoder_pgoutput *p = calloc(1, sizeof(*p));

	if (p == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.ops = &decoder_pgoutput_ops;
	p->base.cfg = cfg;
	p->settings = pgoutput_config_get(cfg);
	if (!pgoutput_opts(cfg, needs, &p->opts, err, errlen))
	{
		decoder_free(&p->base);
		return NULL;
	}

	p->quoted_names = pgoutput_publication_quoted(p->settings->publication);
	if (p->quoted_names == NULL ||
		!pgoutput_load_conn_params(cfg, &p->base.stream_conn, &p->options))
	{
		decoder_free(&p->base);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base.load_conn = p->base.stream_conn;
	return &p->base;
}

/* ---- sessions ---- */

static void
pgoutput_close_catalog(struct decoder_pgoutput *p)
{
	pgoutput_record_free(p->rec);
	pgoutput_catalog_free(p->cat);
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->rec = NULL;
	p->cat = NULL;
	p->conn = NULL;
}

/* The server is one the decoder reads: PostgreSQL 13 or later. */
static bool
pgoutput_check_version(PGconn *conn, char *err, size_t errlen)
{
	int			v = PQserverVersion(conn);

	if (v >= PGOUTPUT_MIN_SERVER)
		return true;
	snprintf(err, errlen,
			 "--plugin pgoutput: PostgreSQL %d.%d is older than 13, the oldest whose pgoutput the agent reads",
			 v / 10000, v % 10000);
	return false;
}

/* This session's catalogue connection, pinned and checked. */
static enum decoder_status
pgoutput_open_catalog(struct decoder_pgoutput *p, char *err, size_t errlen)
{
	char		why[512];

	p->conn = pqconn_open(p->base.cfg->dbname, &p->base.load_conn, NULL,
						  "walcast-agent catalogue");
	if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK)
	{
		pqerr_result(err, errlen, "--plugin pgoutput: could not connect to PostgreSQL for the catalogue",
					 NULL, p->conn);
		return DECODER_UNREACHABLE;
	}
	if (!pgoutput_check_version(p->conn, err, errlen))
		return DECODER_FATAL;
	if (!pgoutput_session_check(p->conn, why, sizeof(why)))
	{
		snprintf(err, errlen, "catalogue connection: %s", why);
		return DECODER_FATAL;
	}
	if ((p->cat = pgoutput_catalog_new(&pgoutput_catalog_pq, p->conn)) == NULL ||
		(p->rec = pgoutput_record_new(&p->opts, p->cat)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	return DECODER_OK;
}

/*
 * Every publication exists, or is created (when asked, and only before
 * the slot); missing ones are named.
 */
static enum decoder_status
pgoutput_publications(struct decoder_pgoutput *p, char *err, size_t errlen)
{
	const struct pgoutput_settings *s = p->settings;
	struct strbuf missing = {0};
	enum decoder_status st;

	st = pgoutput_publication_missing(p->conn, s->publication, &missing, err, errlen);
	if (st == DECODER_OK && missing.len > 0 && s->create_publication != NULL)
	{
		st = pgoutput_publication_create(p->conn, s->publication,
										 s->create_publication,
										 p->base.cfg->slot, err, errlen);
		if (st == DECODER_OK)
			log_info("created publication \"%s\" for %s%s", s->publication,
					 strcmp(s->create_publication, "all") == 0 ? "all tables" : "table(s) ",
					 strcmp(s->create_publication, "all") == 0 ? "" : s->create_publication);
		if (st == DECODER_OK && strcmp(s->create_publication, "all") == 0)
			log_warning("publication \"%s\" covers tables created later too: give each a primary key (or REPLICA IDENTITY FULL), or PostgreSQL refuses the application's UPDATE and DELETE on it",
						s->publication);
	}
	else if (st == DECODER_OK && missing.len > 0)
	{
		snprintf(err, errlen,
				 "publication%s %s %s not exist in database \"%s\" (create it with CREATE PUBLICATION ... FOR TABLE ..., before the slot, or let the agent do it: --create-publication all|SCHEMA.TABLE,...)",
				 strchr(missing.data, ',') ? "s" : "", missing.data,
				 strchr(missing.data, ',') ? "do" : "does", PQdb(p->conn));
		st = DECODER_FATAL;
	}
	free(missing.data);
	return st;
}

/*
 * Once per process: the published tables whose UPDATE and DELETE the
 * application cannot run, with the fix (docs/managed-postgres.md).
 */
static enum decoder_status
pgoutput_warn_identity(struct decoder_pgoutput *p, char *err, size_t errlen)
{
	struct strbuf tables = {0};
	enum decoder_status st;

	if (p->warned)
		return DECODER_OK;
	st = pgoutput_publication_unidentified(p->conn, p->settings->publication,
										   &tables, err, errlen);
	if (st == DECODER_OK && tables.len > 0)
		log_warning("published table(s) without a replica identity: %s; PostgreSQL refuses the application's UPDATE and DELETE on them while publication(s) %s publish updates or deletes: give each a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL (docs/managed-postgres.md, \"Replica identity\")",
					tables.data, p->settings->publication);
	p->warned = st == DECODER_OK;
	free(tables.data);
	return st;
}

static enum decoder_status
decoder_pgoutput_prepare_session(struct decoder *d, char *err, size_t errlen)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;
	enum decoder_status st;

	/* the last session's connection may be dead: one per session */
	pgoutput_close_catalog(p);
	if ((st = pgoutput_open_catalog(p, err, errlen)) != DECODER_OK ||
		(st = pgoutput_publications(p, err, errlen)) != DECODER_OK ||
		(st = pgoutput_warn_identity(p, err, errlen)) != DECODER_OK)
		pgoutput_close_catalog(p);
	return st;
}

/*
 * START_REPLICATION's options for this server: the highest protocol
 * version it speaks, the publications, logical messages from 14 (the
 * option does not exist on 13).  Never streaming, two_phase or binary:
 * the records come from committed transactions, as text.
 */
bool
decoder_pgoutput_options(struct decoder *d, int server_version)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;
	char		proto[8];

	for (int i = 0; i < d->options.count; i++)
	{
		free(d->options.items[i].name);
		free(d->options.items[i].value);
	}
	d->options.count = 0;
	snprintf(proto, sizeof(proto), "%d", pgoutput_session_proto_version(server_version));
	return decoder_add_option(d, "proto_version", proto) &&
		decoder_add_option(d, "publication_names", p->quoted_names) &&
		(!pgoutput_session_has_messages(server_version) ||
		 decoder_add_option(d, "messages", "true"));
}

static enum decoder_status
decoder_pgoutput_begin_session(struct decoder *d, PGconn *replication,
							   char *err, size_t errlen)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;
	char		why[512];

	if (p->rec == NULL)
	{
		snprintf(err, errlen, "pgoutput decoder: a session begun without its catalogue");
		return DECODER_FATAL;
	}
	if (!pgoutput_check_version(replication, err, errlen))
		return DECODER_FATAL;
	if (!pgoutput_session_check(replication, why, sizeof(why)))
	{
		/* a connection pooler or proxy that drops startup options */
		snprintf(err, errlen, "replication connection: %s (are the startup options reaching the server?)", why);
		return DECODER_FATAL;
	}
	if (!decoder_pgoutput_options(d, PQserverVersion(replication)))
	{
		snprintf(err, errlen, "out of memory");
		return DECODER_FATAL;
	}
	/* pgoutput sends every relation again in a new session */
	pgoutput_record_reset(p->rec);
	p->feed_err[0] = '\0';
	return DECODER_OK;
}

static void
decoder_pgoutput_feed(struct decoder *d, uint64_t data_start_lsn,
					  const char *data, size_t len)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;

	p->data_start = data_start_lsn;
	if (!pgoutput_record_feed(p->rec, data_start_lsn, data, len, p->feed_err,
							  sizeof(p->feed_err)) && p->feed_err[0] == '\0')
		snprintf(p->feed_err, sizeof(p->feed_err), "pgoutput decoder: feed refused");
}

static enum decoder_status
decoder_pgoutput_next(struct decoder *d, struct event *ev, char *err,
					  size_t errlen)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;
	const char *text;
	size_t		len;
	char		why[768];
	char		lsn[LSN_BUFLEN];

	if (p->feed_err[0] != '\0')
	{
		snprintf(err, errlen, "%s", p->feed_err);
		return DECODER_FATAL;
	}
	switch (pgoutput_record_next(p->rec, &text, &len, why, sizeof(why)))
	{
		case PGOUTPUT_RECORD_NEED_MORE:
			return DECODER_NEED_MORE;
		case PGOUTPUT_RECORD_ERROR:
			lsn_format(p->data_start, lsn, sizeof(lsn));
			snprintf(err, errlen, "pgoutput message at %s: %s", lsn, why);
			/* a catalogue query on a lost connection: a new session */
			return PQstatus(p->conn) == CONNECTION_OK ? DECODER_FATAL : DECODER_RETRY;
		case PGOUTPUT_RECORD_READY:
			break;
	}

	/*
	 * The text stays valid until the next call, which the loop makes only
	 * after it is done with the event (decoder.h).
	 */
	if (!walcast_record_parse(ev, text, len, why, sizeof(why)))
	{
		lsn_format(p->data_start, lsn, sizeof(lsn));
		snprintf(err, errlen, "a record rendered from pgoutput at %s does not parse: %s",
				 lsn, why);
		return DECODER_FATAL;
	}
	return DECODER_EVENT;
}

/* ---- the initial load ---- */

/*
 * The tables the publications publish (pg_publication_tables: leaf
 * partitions, or with publish_via_partition_root the partitioned table,
 * read whole), in the walcast extension's order; key columns, estimate
 * and readability as walcast.snapshot_tables() gives them.
 */
static const char pgoutput_tables_sql[] =
"SELECT " PGOUTPUT_LOAD_TABLE_COLUMNS ", c.relkind = 'p'"
" FROM (SELECT DISTINCT pt.schemaname, pt.tablename FROM pg_catalog.pg_publication_tables pt"
"  WHERE pt.pubname = ANY (pg_catalog.string_to_array($1, ','))) pt"
" JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
" JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
" ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"";

static enum decoder_status
decoder_pgoutput_load_tables(struct decoder *d, PGconn *conn,
							 struct decoder_table **tables, int *ntables,
							 char *err, size_t errlen)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;
	const char *params[1] = {p->settings->publication};
	struct strbuf found = {0};
	enum decoder_status st;
	PGresult   *res;

	*tables = NULL;
	*ntables = 0;
	if (!pgoutput_check_version(conn, err, errlen))
		return DECODER_FATAL;
	/* under the load's snapshot: the publications it sees */
	st = pgoutput_publication_missing(conn, p->settings->publication, &found, err, errlen);
	if (st == DECODER_OK && found.len > 0)
	{
		snprintf(err, errlen, "initial load: publication(s) %s do not exist", found.data);
		st = DECODER_FATAL;
	}
	free(found.data);
	memset(&found, 0, sizeof(found));
	if (st == DECODER_OK)
		st = pgoutput_publication_filtered(conn, p->settings->publication, &found, err, errlen);
	if (st == DECODER_OK && found.len > 0)
	{
		snprintf(err, errlen,
				 "initial load: table(s) %s are published with a row filter or a column list, which the load does not apply: publish them whole, or stream without a load (--snapshot=never)",
				 found.data);
		st = DECODER_FATAL;
	}
	free(found.data);
	if (st != DECODER_OK)
		return st;

	res = PQexecParams(conn, pgoutput_tables_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pqerr_result(err, errlen, "initial load: listing the published tables", res, conn);
		PQclear(res);
		return PQstatus(conn) == CONNECTION_OK ? DECODER_FATAL : DECODER_RETRY;
	}
	st = decoder_tables_read(res, tables, ntables, err, errlen);
	PQclear(res);
	if (st != DECODER_OK)
		return st;
	pgoutput_load_free(p->load);
	if ((p->load = pgoutput_load_new(conn, &p->opts, err, errlen)) == NULL)
	{
		decoder_tables_free(*tables, *ntables);
		*tables = NULL;
		*ntables = 0;
		return DECODER_FATAL;
	}
	return DECODER_OK;
}

static enum decoder_status
decoder_pgoutput_load_select(struct decoder *d, PGconn *conn,
							 const struct decoder_table *t, const char *lsn,
							 struct strbuf *sql, char *err, size_t errlen)
{
	(void) conn;
	(void) t;
	return pgoutput_load_select(((struct decoder_pgoutput *) d)->load, lsn,
								sql, err, errlen);
}

static enum decoder_status
decoder_pgoutput_load_row(struct decoder *d, const struct decoder_table *t,
						  const PGresult *res, int row, struct event *ev,
						  char *err, size_t errlen)
{
	return pgoutput_load_row(((struct decoder_pgoutput *) d)->load, t, res,
							 row, ev, err, errlen);
}

static void
decoder_pgoutput_load_end(struct decoder *d)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;

	pgoutput_load_free(p->load);
	p->load = NULL;
}

static void
decoder_pgoutput_free(struct decoder *d)
{
	struct decoder_pgoutput *p = (struct decoder_pgoutput *) d;

	pgoutput_load_free(p->load);
	pgoutput_close_catalog(p);
	free(p->options);
	free(p->quoted_names);
	free(p);
}

const struct decoder_ops decoder_pgoutput_ops = {
	.plugin = "pgoutput",
	.config = &pgoutput_config_section,
	.tables_hint = "the publication chooses them: ALTER PUBLICATION ... ADD TABLE / DROP TABLE",
	.check = decoder_pgoutput_check,
	.create = decoder_pgoutput_create,
	.prepare_session = decoder_pgoutput_prepare_session,
	.begin_session = decoder_pgoutput_begin_session,
	.feed = decoder_pgoutput_feed,
	.next = decoder_pgoutput_next,
	.load_tables = decoder_pgoutput_load_tables,
	.load_select = decoder_pgoutput_load_select,
	.load_row = decoder_pgoutput_load_row,
	.load_end = decoder_pgoutput_load_end,
	.free = decoder_pgoutput_free,
};
