/*
 * decoder.h
 *		The seam between the replication protocol and the events: a decoder
 *		turns one output plugin's replication messages into events, and
 *		renders the initial load's rows as that plugin would.
 *
 * stream/ knows the protocol only: it hands over whole XLogData messages
 * with their start LSN.  Everything that depends on the plugin is here:
 * the plugin's name (the slot must use it), the START_REPLICATION options
 * the agent sends and the ones it refuses, what a message contains, and
 * how the load reads a table.  Decoders are chosen by plugin name from
 * decoder_list.h, the one place the choice is made.
 *
 * Decoding is an iterator, so that the loop can stop between any two
 * events when its in-flight window is full:
 *
 *		decoder_feed(d, data_start_lsn, data, len);	one XLogData message
 *		while ((st = decoder_next(d, &ev, err, errlen)) == DECODER_EVENT)
 *			{ use ev; event_free(&ev); }
 *		st == DECODER_NEED_MORE: feed the next message
 *
 * The decoder may borrow data until it has returned every event of that
 * message (the stream keeps the message alive until the loop asks for the
 * next one); events borrow it too (ev->raw).  Some messages produce no
 * event at all (a pgoutput Relation message): next answers NEED_MORE at
 * once.
 *
 * Memory: a decoder owns its options and whatever it caches; events own
 * their parsed record (event_free); tables listed for the load are owned
 * by the caller (decoder_tables_free).  A decoder never exits and never
 * logs errors: it returns a status and fills err, and the loop decides.
 */
#ifndef WALCAST_DECODER_H
#define WALCAST_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "config_table.h"
#include "event.h"
#include "pqconn.h"
#include "strbuf.h"

enum decoder_status
{
	DECODER_EVENT,				/* next: *ev holds one event (event_free it) */
	DECODER_BAD_RECORD,			/* next: a record that cannot be decoded; *ev
								 * names it as far as it can (lsn, schema,
								 * table, raw; event_free it), err says why.
								 * The loop stops, or skips it (--skip-lsn) */
	DECODER_NEED_MORE,			/* next: the message is used up, feed another */
	DECODER_OK,					/* prepare/begin_session, load_tables,
								 * load_select */
	DECODER_RETRY,				/* a connection failed: a new session may work */
	DECODER_UNREACHABLE,		/* could not connect: a configuration mistake
								 * before any session reached the server, an
								 * outage after */
	DECODER_FATAL				/* err says why; retrying cannot help */
};

/* One table of the initial load, as the decoder lists it. */
struct decoder_table
{
	char	   *id;				/* the decoder's own handle (walcast: the oid) */
	char	   *name;			/* schema.table, as events and --reload-table
								 * spell it */
	char	   *qualified;		/* quoted for SQL */
	char	   *order_by;		/* quoted key columns, or NULL: heap order */
	int64_t		estimated;		/* rows, for the progress display */
	bool		readable;		/* the agent's role may SELECT it */
	bool		with_partitions;	/* a partitioned table whose changes name
									 * it: read with its partitions (no ONLY) */
};

struct decoder;

struct decoder_ops
{
	/* The output plugin: the slot is created with it and must use it. */
	const char *plugin;

	/*
	 * Its own settings (config_table.h), a section like a sink's; NULL
	 * when it has none beyond -o.
	 */
	const struct config_section *config;

	/*
	 * How a user chooses the tables the stream includes, for the load's
	 * messages about a table it may not read or that the stream leaves
	 * out ("-o add-tables/filter-tables").
	 */
	const char *tables_hint;

	/*
	 * Refuse, at startup, settings this decoder cannot honour (plugin
	 * options, needs of the enabled sinks); false with err set.
	 */
	bool		(*check) (const struct agent_config *cfg,
						  const struct event_needs *needs,
						  char *err, size_t errlen);

	/* A decoder with its START_REPLICATION options in d->options. */
	struct decoder *(*create) (const struct agent_config *cfg,
							   const struct event_needs *needs,
							   char *err, size_t errlen);

	/*
	 * A session starts, before the slot is looked at (or created, or
	 * loaded): what must exist before a slot of this plugin can decode
	 * (pgoutput: its publications).  NULL when nothing.
	 */
	enum decoder_status (*prepare_session) (struct decoder *d, char *err,
											size_t errlen);

	/*
	 * The replication connection is ready (slot prepared, load done),
	 * START_REPLICATION is next: forget whatever the last session left (a
	 * half-decoded message, cached relations), open what a session needs,
	 * set the options that depend on the server (d->options).
	 * replication is the stream's connection, for SHOW and the server's
	 * version; it must be left idle.
	 */
	enum decoder_status (*begin_session) (struct decoder *d,
										  PGconn *replication, char *err,
										  size_t errlen);
	void		(*feed) (struct decoder *d, uint64_t data_start_lsn,
						 const char *data, size_t len);
	enum decoder_status (*next) (struct decoder *d, struct event *ev,
								 char *err, size_t errlen);

	/*
	 * The initial load (snapshot/), on the load's own connection, inside
	 * its snapshot.  load_tables: every table the stream would include,
	 * in a stable order (first checking that rendering is possible at
	 * all), DECODER_OK with a malloc'd array the caller frees.
	 * load_select: appends to sql the select list that renders one row of
	 * t ("t" is the table's alias in the query), lsn being the load's
	 * position; DECODER_OK.  load_row: DECODER_EVENT with the read event
	 * (EVENT_READ) of row `row` of res, borrowing res.  Errors: RETRY when
	 * the connection failed, FATAL otherwise.
	 */
	enum decoder_status (*load_tables) (struct decoder *d, PGconn *conn,
										struct decoder_table **tables,
										int *ntables, char *err,
										size_t errlen);
	enum decoder_status (*load_select) (struct decoder *d, PGconn *conn,
										const struct decoder_table *t,
										const char *lsn, struct strbuf *sql,
										char *err, size_t errlen);
	enum decoder_status (*load_row) (struct decoder *d,
									 const struct decoder_table *t,
									 const PGresult *res, int row,
									 struct event *ev, char *err,
									 size_t errlen);

	/*
	 * The load's connection is about to close: drop whatever load_tables
	 * built on it.  NULL when nothing.
	 */
	void		(*load_end) (struct decoder *d);

	void		(*free) (struct decoder *d);
};

/* The part every decoder shares; a decoder's own struct starts with it. */
struct decoder
{
	const struct decoder_ops *ops;
	const struct agent_config *cfg;
	/* START_REPLICATION's options, in order (owned; also the load's). */
	struct config_plugin_options options;

	/*
	 * libpq keywords for the replication connection, and for the initial
	 * load's, after the user's conninfo (pqconn.h): the settings the
	 * decoder's text depends on.  The decoder owns the strings.
	 */
	struct pqconn_params stream_conn;
	struct pqconn_params load_conn;
};

/*
 * The decoder of a plugin (NULL: the default, walcast); NULL when no
 * decoder reads that plugin.
 */
extern const struct decoder_ops *decoder_find(const char *plugin);

/* The decoders, in decoder_list.h's order. */
extern int	decoder_count(void);
extern const struct decoder_ops *decoder_at(int i);

/*
 * The values of --plugin (config_core.c): every decoder's plugin name,
 * its value its place in decoder_list.h.
 */
extern const struct config_enum_value decoder_plugin_names[];

/* The decoder this configuration asks for (--plugin). */
extern const struct decoder_ops *decoder_choose(const struct agent_config *cfg);

extern bool decoder_check(const struct agent_config *cfg,
						  const struct event_needs *needs, char *err,
						  size_t errlen);
extern struct decoder *decoder_create(const struct agent_config *cfg,
									  const struct event_needs *needs,
									  char *err, size_t errlen);
extern void decoder_free(struct decoder *d);

static inline enum decoder_status
decoder_prepare_session(struct decoder *d, char *err, size_t errlen)
{
	return d->ops->prepare_session != NULL ?
		d->ops->prepare_session(d, err, errlen) : DECODER_OK;
}

static inline enum decoder_status
decoder_begin_session(struct decoder *d, PGconn *replication, char *err,
					  size_t errlen)
{
	return d->ops->begin_session(d, replication, err, errlen);
}

static inline void
decoder_feed(struct decoder *d, uint64_t data_start_lsn, const char *data,
			 size_t len)
{
	d->ops->feed(d, data_start_lsn, data, len);
}

static inline enum decoder_status
decoder_next(struct decoder *d, struct event *ev, char *err, size_t errlen)
{
	return d->ops->next(d, ev, err, errlen);
}

/* For decoders: the option list being built, and what the user set (-o). */
extern bool decoder_add_option(struct decoder *d, const char *name,
							   const char *value);
extern bool decoder_user_sets(const struct agent_config *cfg,
							  const char *name);
extern bool decoder_add_user_options(struct decoder *d);

/*
 * The conninfo's own value of a libpq keyword ("options"), else libpq's
 * default for it (PGOPTIONS...); malloc'd, "" when none, NULL when out of
 * memory.  A decoder that adds to "options" keeps the user's in front.
 */
extern char *decoder_conninfo_value(const char *conninfo, const char *keyword);

/* Free what a table owns (and zero it); free n tables and the array. */
extern void decoder_table_clear(struct decoder_table *t);
extern void decoder_tables_free(struct decoder_table *tables, int ntables);

/*
 * The tables of a result whose columns are: the decoder's id, schema.table,
 * the quoted name, the quoted key columns (NULL: none), estimated rows,
 * readable ("t"/"f"), and, when there is a seventh, with_partitions.
 * DECODER_OK or DECODER_FATAL (out of memory).
 */
extern enum decoder_status decoder_tables_read(const PGresult *res,
											   struct decoder_table **tables,
											   int *ntables, char *err,
											   size_t errlen);

#endif							/* WALCAST_DECODER_H */
