/*
 * snapshot_load.c
 *		Reading the tables of an initial load (or of --reload-table) and
 *		publishing their rows, confirmed by every sink (see snapshot.h and
 *		docs/snapshot.md; when to load is snapshot.c's).
 *
 * A second, ordinary connection adopts the load's snapshot (SET
 * TRANSACTION SNAPSHOT in a REPEATABLE READ transaction) and reads every
 * table.  Which tables, and how a row becomes a "read" event, is the
 * decoder's (decode/decoder.h: load_tables, load_select, load_row): the
 * walcast decoder has the plugin's own code render rows in the database,
 * with the very options the stream uses.  Here they are read through a
 * cursor in key order in chunks of --snapshot-chunk-rows and published to
 * every sink with the stream's confirm rules, waiting for room in the
 * in-flight window between rows; the load is done when every sink
 * confirmed every row.
 */
#include "snapshot_int.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "event.h"
#include "log.h"
#include "obs.h"
#include "pqconn.h"
#include "pqerr.h"
#include "snapshot_progress.h"
#include "strbuf.h"

/* Sleep at most this long while waiting for confirms (heartbeats). */
#define SNAPSHOT_MAX_SLEEP_MS 1000

/* One load: its connection, tables, and where rows go. */
struct snapshot_load
{
	struct agent *a;
	PGconn	   *conn;
	const char *only;			/* --reload-table's list, or NULL: all */
	char		lsn[LSN_BUFLEN];	/* consistent point (or read position) */
	struct decoder_table *tables;	/* listed by the decoder */
	int			ntables;
	uint64_t	rows;
	struct snapshot_progress progress;
};

/* ---- small helpers ---- */

static bool
snapshot_exec(struct snapshot_load *l, const char *sql, char *err,
			  size_t errlen)
{
	PGresult   *res = PQexec(l->conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		pqerr_result(err, errlen, "initial load", res, l->conn);
	PQclear(res);
	return ok;
}

/* ---- sinks ---- */

static enum snapshot_status
snapshot_sink_status(enum sink_status st)
{
	switch (st)
	{
		case SINK_OK:
			return SNAPSHOT_STREAM;
		case SINK_RETRY:
			return SNAPSHOT_RETRY;
		case SINK_UNREACHABLE:
			return SNAPSHOT_UNREACHABLE;
		case SINK_FATAL:
		case SINK_CONFIG:		/* only open() says it, before any load */
		case SINK_REFUSED:		/* a row: the table has it, --skip-lsn cannot */
			break;
	}
	return SNAPSHOT_FATAL;
}

/* Every sink has room in the in-flight window. */
static bool
snapshot_have_room(const struct agent *a)
{
	return sink_set_have_room(&a->sinks, (uint64_t) a->cfg.max_inflight_events,
							  (uint64_t) a->cfg.max_inflight_bytes);
}

/*
 * Service every sink until the window has room (all_confirmed: until
 * everything published is confirmed).  What sinks hold counts in flight,
 * so they send it first (sink_set_flush).  Polls the sinks' sockets, so
 * the confirms are read as they come; a stop request ends the wait.
 */
static enum snapshot_status
snapshot_wait(struct agent *a, bool all_confirmed, char *err, size_t errlen)
{
	enum sink_status st = sink_set_flush(&a->sinks, err, errlen);

	if (st != SINK_OK)
		return snapshot_sink_status(st);
	for (;;)
	{
		int			nfd = 0;

		if ((st = sink_set_service(&a->sinks, err, errlen)) != SINK_OK)
			return snapshot_sink_status(st);
		if (all_confirmed ? sink_set_unconfirmed(&a->sinks) == 0 : snapshot_have_room(a))
			return SNAPSHOT_STREAM;
		if (*a->stop_requested)
			return SNAPSHOT_STOP;
		obs_publish(a, false);
		sink_set_pollfds(&a->sinks, a->pfd, &nfd);
		(void) poll(a->pfd, (nfds_t) nfd, nfd > 0 ?
					(int) sink_set_wait(&a->sinks, clock_now_ms(), SNAPSHOT_MAX_SLEEP_MS) : 10);
	}
}

/* The end of a chunk: sinks send what they batched (a unit, as a transaction). */
static enum snapshot_status
snapshot_end_chunk(struct agent *a, char *err, size_t errlen)
{
	return snapshot_sink_status(sink_set_end_txn(&a->sinks, err, errlen));
}

static enum snapshot_status
snapshot_decoder_status(enum decoder_status st)
{
	switch (st)
	{
		case DECODER_OK:
		case DECODER_EVENT:
			return SNAPSHOT_STREAM;
		case DECODER_RETRY:
			return SNAPSHOT_RETRY;
		default:
			return SNAPSHOT_FATAL;
	}
}

/*
 * One fetched row: rendered by the decoder as a read event, identified by
 * "snapshot:<consistent point>:<schema>.<table>:<n>" (n counts the table's
 * rows in key order from 1: the same row gets the same id however often
 * this load is repeated with this snapshot), and handed to every sink.
 */
static enum snapshot_status
snapshot_publish_row(struct snapshot_load *l, const struct decoder_table *t,
					 uint64_t n, const PGresult *res, int row, char *err,
					 size_t errlen)
{
	struct agent *a = l->a;
	struct event ev;
	char		id[EVENT_MESSAGE_ID_BUFLEN];
	enum snapshot_status r = SNAPSHOT_STREAM;
	enum decoder_status ds;

	ds = a->decoder->ops->load_row(a->decoder, t, res, row, &ev, err, errlen);
	if (ds != DECODER_EVENT)
		return snapshot_decoder_status(ds);
	snprintf(id, sizeof(id), "snapshot:%s:%s:%" PRIu64, l->lsn, t->name, n);
	ev.message_id = id;
	r = snapshot_sink_status(sink_set_publish(&a->sinks, &ev, err, errlen));
	event_free(&ev);
	if (r == SNAPSHOT_STREAM && !snapshot_have_room(a))
		r = snapshot_wait(a, false, err, errlen);
	return r;
}

/* ---- reading ---- */

static void
snapshot_free_tables(struct snapshot_load *l)
{
	decoder_tables_free(l->tables, l->ntables);
	l->tables = NULL;
	l->ntables = 0;
}

/* name is one of the comma-separated names of list. */
static bool
snapshot_listed(const char *list, const char *name, size_t namelen)
{
	for (const char *p = list;;)
	{
		size_t		n = strcspn(p, ",");

		if (n == namelen && strncmp(p, name, n) == 0)
			return true;
		if (p[n] == '\0')
			return false;
		p += n + 1;
	}
}

/*
 * --reload-table: every name must be a table the stream includes (else a
 * typo, or a table the filters leave out, would reload nothing quietly).
 */
static enum snapshot_status
snapshot_check_listed(struct snapshot_load *l, char *err, size_t errlen)
{
	struct strbuf missing = {0};

	for (const char *p = l->only;;)
	{
		size_t		n = strcspn(p, ",");
		bool		found = false;

		for (int i = 0; i < l->ntables && !found; i++)
			found = strlen(l->tables[i].name) == n &&
				strncmp(l->tables[i].name, p, n) == 0;
		if (!found)
		{
			strbuf_add(&missing, missing.len ? ", " : "", missing.len ? 2 : 0);
			strbuf_add(&missing, p, n);
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (missing.failed)
	{
		free(missing.data);
		snprintf(err, errlen, "out of memory");
		return SNAPSHOT_FATAL;
	}
	if (missing.len > 0)
	{
		snprintf(err, errlen,
				 "--reload-table: %s %s not among the tables the stream includes (a permanent table, spelled schema.table as in the log; %s)",
				 missing.data, strchr(missing.data, ',') ? "are" : "is",
				 l->a->decoder->ops->tables_hint);
		free(missing.data);
		return SNAPSHOT_FATAL;
	}
	return SNAPSHOT_STREAM;
}

/*
 * The tables the decoder lists, in its stable order (only --reload-table's
 * when given); unreadable ones are fatal.
 */
static enum snapshot_status
snapshot_list_tables(struct snapshot_load *l, char *err, size_t errlen)
{
	struct decoder *d = l->a->decoder;
	struct strbuf denied = {0};
	enum decoder_status ds;
	int			n;

	ds = d->ops->load_tables(d, l->conn, &l->tables, &n, err, errlen);
	if (ds != DECODER_OK)
		return snapshot_decoder_status(ds);
	for (int i = 0; i < n; i++)
	{
		struct decoder_table *t = &l->tables[i];

		if (l->only != NULL && !snapshot_listed(l->only, t->name, strlen(t->name)))
		{
			decoder_table_clear(t);
			continue;
		}
		l->tables[l->ntables++] = *t;
		if (!t->readable)
		{
			strbuf_add(&denied, denied.len ? ", " : "", denied.len ? 2 : 0);
			strbuf_add(&denied, t->name, strlen(t->name));
		}
	}
	if (denied.len > 0)
	{
		snprintf(err, errlen,
				 "initial load: role \"%s\" may not read table(s) %s (GRANT SELECT on them to the agent's role, or leave them out of the stream: %s)",
				 PQuser(l->conn), denied.data, d->ops->tables_hint);
		free(denied.data);
		return SNAPSHOT_FATAL;
	}
	free(denied.data);
	return l->only != NULL ? snapshot_check_listed(l, err, errlen) : SNAPSHOT_STREAM;
}

/*
 * One table through a cursor: key order when the table has a key (the
 * primary key, else its replica identity index), else heap order.
 */
static enum snapshot_status
snapshot_table(struct snapshot_load *l, struct decoder_table *t, char *err,
			   size_t errlen)
{
	struct agent *a = l->a;
	struct strbuf sql = {0};
	char		fetch[64];
	enum snapshot_status r = SNAPSHOT_STREAM;
	enum decoder_status ds;
	uint64_t	n = 0;
	bool		ok;

	/* The decoder renders the rows; the cursor, order and chunks are ours. */
	strbuf_puts(&sql, "DECLARE walcast_snapshot NO SCROLL CURSOR FOR SELECT ");
	ds = a->decoder->ops->load_select(a->decoder, l->conn, t, l->lsn, &sql,
									  err, errlen);
	if (ds != DECODER_OK)
	{
		free(sql.data);
		return snapshot_decoder_status(ds);
	}
	/*
	 * ONLY: inheritance children are tables of their own; a partitioned
	 * table whose changes name it (pgoutput's publish_via_partition_root)
	 * is read with its partitions.
	 */
	strbuf_puts(&sql, t->with_partitions ? " FROM " : " FROM ONLY ");
	strbuf_puts(&sql, t->qualified);
	strbuf_puts(&sql, " AS t");
	if (t->order_by != NULL)
	{
		strbuf_puts(&sql, " ORDER BY ");
		strbuf_puts(&sql, t->order_by);
	}
	if (sql.failed)
	{
		free(sql.data);
		snprintf(err, errlen, "out of memory");
		return SNAPSHOT_FATAL;
	}
	ok = snapshot_exec(l, sql.data, err, errlen);
	free(sql.data);
	if (!ok)
		return SNAPSHOT_FATAL;

	snapshot_progress_table(&l->progress, t->name, t->estimated);
	snprintf(fetch, sizeof(fetch), "FETCH %d FROM walcast_snapshot",
			 a->cfg.snapshot_chunk_rows);
	for (;;)
	{
		PGresult   *res = PQexec(l->conn, fetch);
		int			rows;

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			char		what[256];

			snprintf(what, sizeof(what), "initial load: reading %s", t->name);
			pqerr_result(err, errlen, what, res, l->conn);
			PQclear(res);
			return PQstatus(l->conn) == CONNECTION_OK ? SNAPSHOT_FATAL : SNAPSHOT_RETRY;
		}
		rows = PQntuples(res);
		for (int i = 0; i < rows && r == SNAPSHOT_STREAM; i++)
			r = snapshot_publish_row(l, t, ++n, res, i, err, errlen);
		PQclear(res);
		if (r == SNAPSHOT_STREAM)
			r = snapshot_end_chunk(a, err, errlen);
		if (r == SNAPSHOT_STREAM && *a->stop_requested)
			r = SNAPSHOT_STOP;
		if (r != SNAPSHOT_STREAM)
			return r;
		snapshot_progress_rows(&l->progress, n);
		obs_publish(a, false);
		if (rows < a->cfg.snapshot_chunk_rows)
			break;
	}
	l->rows += n;
	snapshot_progress_table_done(&l->progress);
	obs_publish(a, true);
	return snapshot_exec(l, "CLOSE walcast_snapshot", err, errlen) ?
		SNAPSHOT_STREAM : SNAPSHOT_FATAL;
}

static enum snapshot_status
snapshot_connect(struct snapshot_load *l, char *err, size_t errlen)
{
	/* under the settings the decoder's rendering depends on */
	l->conn = pqconn_open(l->a->cfg.dbname, &l->a->decoder->load_conn, NULL,
						  "walcast-agent snapshot");
	if (l->conn == NULL || PQstatus(l->conn) != CONNECTION_OK)
	{
		pqerr_result(err, errlen, "initial load: could not connect to PostgreSQL", NULL, l->conn);
		return SNAPSHOT_UNREACHABLE;
	}
	return SNAPSHOT_STREAM;
}

/*
 * Read everything under snapshot_name (an exported snapshot, consistent
 * with the slot), or, when it is NULL, under a snapshot of its own (no
 * consistency with the slot: --snapshot=always/only on an existing slot).
 * Returns when every sink confirmed every row.
 */
enum snapshot_status
snapshot_load(struct agent *a, const char *snapshot_name, uint64_t lsn,
			  struct snapshot_state *st, char *err, size_t errlen)
{
	struct snapshot_load l;
	enum snapshot_status r;
	const char *what;
	double		secs;
	double		rate;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.only = a->cfg.reload_table;	/* set only without a slot (snapshot_prepare) */
	if ((r = snapshot_connect(&l, err, errlen)) != SNAPSHOT_STREAM)
		goto done;
	r = SNAPSHOT_FATAL;
	if (!snapshot_exec(&l, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err, errlen))
		goto done;
	if (snapshot_name != NULL)
	{
		char		sql[128];

		/* exported snapshot names are hex digits and dashes */
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", snapshot_name);
		if (!snapshot_exec(&l, sql, err, errlen))
			goto done;
	}
	if (snapshot_name == NULL)
	{
		/* the position the snapshot of its own was taken at, for ids */
		PGresult   *res = PQexec(l.conn, "SELECT pg_catalog.pg_current_wal_lsn()");

		if (PQresultStatus(res) != PGRES_TUPLES_OK ||
			!lsn_parse(PQgetvalue(res, 0, 0), &lsn))
		{
			pqerr_result(err, errlen, "initial load", res, l.conn);
			PQclear(res);
			r = SNAPSHOT_FATAL;
			goto done;
		}
		PQclear(res);
	}
	lsn_format(lsn, l.lsn, sizeof(l.lsn));
	if ((r = snapshot_list_tables(&l, err, errlen)) != SNAPSHOT_STREAM)
		goto done;

	what = l.only != NULL ? "reload" : "initial load";
	log_info("%s: %d table(s) at %s%s, chunks of %d rows", what,
			 l.ntables, l.lsn,
			 snapshot_name ? " (the slot's consistent point)" : " (not consistent with the slot: duplicates possible)",
			 a->cfg.snapshot_chunk_rows);
	a->phase = AGENT_LOADING;
	if (!snapshot_progress_init(&l.progress,
								isatty(STDERR_FILENO) && a->cfg.log_file == NULL,
								l.tables, l.ntables, &a->load))
		log_warning("%s: out of memory for the per-table figures of /status; loading without them", what);
	obs_publish(a, true);
	for (int i = 0; i < l.ntables && r == SNAPSHOT_STREAM; i++)
		r = snapshot_table(&l, &l.tables[i], err, errlen);
	if (r == SNAPSHOT_STREAM && !snapshot_exec(&l, "COMMIT", err, errlen))
		r = SNAPSHOT_FATAL;
	if (r == SNAPSHOT_STREAM)
	{
		log_info("%s: %" PRIu64 " rows read, waiting for every sink to confirm them",
				 what, l.rows);
		r = snapshot_wait(a, true, err, errlen);
	}
	if (r == SNAPSHOT_STREAM)
	{
		rate = snapshot_progress_rate(&l.progress, &secs);
		log_info("%s complete: %d table(s), %" PRIu64 " rows in %.1f s (%.0f rows/s), confirmed by every sink; %s %s",
				 what, l.ntables, l.rows, secs, rate,
				 snapshot_name ? "consistent point" : "snapshot at", l.lsn);
		if (st != NULL)
		{
			st->tables = l.ntables;
			st->rows = l.rows;
		}
	}

done:
	if (a->decoder->ops->load_end != NULL)
		a->decoder->ops->load_end(a->decoder);
	if (l.conn != NULL)
		PQfinish(l.conn);
	snapshot_free_tables(&l);
	return r;
}
