/*
 * stream.c
 *		Logical replication client over libpq (see stream.h): the protocol;
 *		the slot itself is stream_slot.c's.
 *
 * Followed in spirit: pg_recvlogical.c's StreamLogicalLog (message
 * parsing, sendFeedback, the keepalive reply) and walsender.c for what the
 * server does with our status updates.
 */
#include "stream_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "lsn.h"
#include "log.h"
#include "pqerr.h"
#include "strbuf.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define STREAM_PG_EPOCH_OFFSET INT64_C(946684800)

/* XLogData: 'w', dataStart, walEnd, sendTime. */
#define STREAM_XLOGDATA_HDR (1 + 8 + 8 + 8)
/* Primary keepalive: 'k', walEnd, sendTime, replyRequested. */
#define STREAM_KEEPALIVE_LEN (1 + 8 + 8 + 1)

/* SQLSTATEs that decide what a failed command means. */
#define SQLSTATE_OBJECT_IN_USE "55006"
#define SQLSTATE_UNDEFINED_OBJECT "42704"
#define SQLSTATE_NOT_IN_PREREQUISITE_STATE "55000"

void
stream_init(struct stream *s, const struct agent_config *cfg,
			const char *plugin, const struct config_plugin_options *options,
			const struct pqconn_params *conn_params)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->plugin = plugin;
	s->options = options;
	s->conn_params = conn_params;
}

static bool
stream_sqlstate_is(PGresult *res, const char *state)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s != NULL && strcmp(s, state) == 0;
}

/*
 * Quote with q ('"' for names, '\'' for values) by doubling it: the
 * replication command scanner (repl_scanner.l) knows no backslash escapes,
 * so PQescapeLiteral's E'' form would not parse.
 */
void
stream_append_quoted(struct strbuf *b, const char *src, char q)
{
	strbuf_add(b, &q, 1);
	for (const char *p = src; *p; p++)
	{
		if (*p == q)
			strbuf_add(b, &q, 1);
		strbuf_add(b, p, 1);
	}
	strbuf_add(b, &q, 1);
}

static void
stream_append_option(struct strbuf *b, bool first, const char *name,
					 const char *value)
{
	strbuf_puts(b, first ? " (" : ", ");
	stream_append_quoted(b, name, '"');
	if (value == NULL)
		return;
	strbuf_add(b, " ", 1);
	stream_append_quoted(b, value, '\'');
}

/*
 * START_REPLICATION SLOT s LOGICAL X/X ("name" 'value', ...).  Position
 * 0/0 means "from the slot's confirmed_flush_lsn": the server, not the
 * agent, remembers what was acknowledged, so a restarted agent resumes
 * exactly after the last transaction every sink confirmed.  A later
 * position (ack_resume: what this process knows was confirmed, when the
 * server never heard it) makes the server skip the transactions that
 * commit before it; an earlier one is moved up to the slot's.
 */
static char *
stream_start_command(const struct stream *s, uint64_t start_lsn)
{
	struct strbuf b = {NULL, 0, 0, false};
	char		pos[LSN_BUFLEN];

	lsn_format(start_lsn, pos, sizeof(pos));
	strbuf_puts(&b, "START_REPLICATION SLOT ");
	stream_append_quoted(&b, s->cfg->slot, '"');
	strbuf_puts(&b, " LOGICAL ");
	strbuf_puts(&b, pos);
	for (int i = 0; i < s->options->count; i++)
		stream_append_option(&b, i == 0, s->options->items[i].name,
							 s->options->items[i].value);
	if (s->options->count > 0)
		strbuf_puts(&b, ")");
	return strbuf_finish(&b);
}

static enum stream_status
stream_connect(struct stream *s, char *err, size_t errlen)
{
	/* replication=database comes last: nothing can turn it off */
	s->conn = pqconn_open(s->cfg->dbname, s->conn_params, "database",
						  "walcast-agent");
	if (s->conn == NULL)
	{
		snprintf(err, errlen, "could not connect to PostgreSQL: out of memory");
		return STREAM_UNREACHABLE;
	}
	if (PQstatus(s->conn) != CONNECTION_OK)
	{
		pqerr_oneline(err, errlen, "could not connect to PostgreSQL: ",
					  PQerrorMessage(s->conn));
		return STREAM_UNREACHABLE;
	}
	return STREAM_OK;
}

static enum stream_status
stream_identify(struct stream *s, char *err, size_t errlen)
{
	PGresult   *res = PQexec(s->conn, "IDENTIFY_SYSTEM");
	enum stream_status rc = STREAM_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		PQnfields(res) < 4)
	{
		pqerr_result(err, errlen, "IDENTIFY_SYSTEM failed", res, s->conn);
		rc = STREAM_RETRY;
	}
	else if (PQgetisnull(res, 0, 3))
	{
		/* A physical replication connection has no database. */
		snprintf(err, errlen,
				 "the replication connection is not bound to a database");
		rc = STREAM_FATAL;
	}
	else
	{
		snprintf(s->system_id, sizeof(s->system_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(s->timeline, sizeof(s->timeline), "%s", PQgetvalue(res, 0, 1));
		snprintf(s->database, sizeof(s->database), "%s", PQgetvalue(res, 0, 3));
		if (!lsn_parse(PQgetvalue(res, 0, 2), &s->identify_lsn))
			s->identify_lsn = 0;
		log_info("connected to PostgreSQL system %s, timeline %s, database \"%s\", WAL at %s",
				 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
				 PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return rc;
}

/*
 * Remember wal_sender_timeout to warn when the status interval is too long
 * to keep the connection alive.  SHOW works on replication connections.
 */
static void
stream_read_timeout(struct stream *s)
{
	PGresult   *res = PQexec(s->conn, "SHOW wal_sender_timeout");
	const char *v;
	char	   *end;
	long		n;

	s->wal_sender_timeout_ms = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
	{
		v = PQgetvalue(res, 0, 0);
		n = strtol(v, &end, 10);
		if (strcmp(end, "ms") == 0)
			s->wal_sender_timeout_ms = (int) n;
		else if (strcmp(end, "s") == 0)
			s->wal_sender_timeout_ms = (int) (n * 1000);
		else if (strcmp(end, "min") == 0)
			s->wal_sender_timeout_ms = (int) (n * 60000);
	}
	PQclear(res);
	if (s->wal_sender_timeout_ms > 0 &&
		(long) s->cfg->status_interval * 1000 >= s->wal_sender_timeout_ms)
		log_warning("status_interval (%d s) is not shorter than the server's wal_sender_timeout (%d ms): the server may drop the connection while the broker holds events back",
					s->cfg->status_interval, s->wal_sender_timeout_ms);
}

static enum stream_status
stream_start(struct stream *s, char *err, size_t errlen)
{
	char	   *cmd = stream_start_command(s, s->start_lsn);
	PGresult   *res;
	enum stream_status rc = STREAM_OK;

	if (cmd == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return STREAM_FATAL;
	}
	log_debug("%s", cmd);
	res = PQexec(s->conn, cmd);
	free(cmd);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		char		what[200];

		snprintf(what, sizeof(what),
				 "could not start replication from slot \"%s\"", s->cfg->slot);
		pqerr_result(err, errlen, what, res, s->conn);
		/* Taken between our look-up and now: the same as "active". */
		rc = stream_sqlstate_is(res, SQLSTATE_OBJECT_IN_USE) ? STREAM_RETRY :
			STREAM_FATAL;

		/*
		 * Invalidated between our look-up and now (or while an earlier
		 * session streamed): the server's own words are in err ("can no
		 * longer get changes from replication slot"); its SQLSTATE is a
		 * general one, so the slot's state decides.
		 */
		if (stream_sqlstate_is(res, SQLSTATE_NOT_IN_PREREQUISITE_STATE) &&
			stream_slot_invalidated(s))
			s->slot_lost = true;
	}
	PQclear(res);
	return rc;
}

void
stream_fail(struct stream *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

enum stream_status
stream_prepare(struct stream *s, char *err, size_t errlen)
{
	enum stream_status rc;

	s->copybuf = NULL;
	s->reply_requested = false;
	s->keepalive_end = 0;
	s->created = false;
	s->exists = false;
	s->snapshot_name[0] = '\0';
	s->consistent_point = 0;

	/*
	 * Lock before looking: what check_slot sees then stays true until this
	 * connection closes, as far as other agents are concerned.
	 */
	if ((rc = stream_connect(s, err, errlen)) != STREAM_OK ||
		(rc = stream_identify(s, err, errlen)) != STREAM_OK ||
		(rc = stream_lock_slot(s, err, errlen)) != STREAM_OK ||
		(rc = stream_check_slot(s, err, errlen)) != STREAM_OK)
		stream_fail(s);
	else if (s->exists)
		s->slot_used = true;
	return rc;
}

enum stream_status
stream_begin(struct stream *s, char *err, size_t errlen)
{
	enum stream_status rc;

	stream_read_timeout(s);
	if ((rc = stream_start(s, err, errlen)) != STREAM_OK)
	{
		stream_fail(s);
		return rc;
	}
	s->last_recv_ms = clock_now_ms();
	if (s->start_lsn != 0)
	{
		char		pos[LSN_BUFLEN];

		lsn_format(s->start_lsn, pos, sizeof(pos));
		log_info("streaming from replication slot \"%s\", after %s (confirmed by every sink before the reconnect)",
				 s->cfg->slot, pos);
	}
	else
		log_info("streaming from replication slot \"%s\"", s->cfg->slot);
	return STREAM_OK;
}

enum stream_status
stream_open(struct stream *s, char *err, size_t errlen)
{
	enum stream_status rc = stream_prepare(s, err, errlen);

	return rc == STREAM_OK ? stream_begin(s, err, errlen) : rc;
}

static uint64_t
stream_get_uint64(const char *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) p[i];
	return v;
}

static void
stream_put_uint64(char *p, uint64_t v)
{
	int			i;

	for (i = 7; i >= 0; i--)
	{
		p[i] = (char) (v & 0xff);
		v >>= 8;
	}
}

/* The server's clock format: microseconds since 2000-01-01 00:00 UTC. */
static int64_t
stream_now_pg(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec - STREAM_PG_EPOCH_OFFSET) * 1000000 +
		ts.tv_nsec / 1000;
}

static void
stream_release(struct stream *s)
{
	if (s->copybuf)
		PQfreemem(s->copybuf);
	s->copybuf = NULL;
}

/*
 * The COPY ended: say why, from the server's final result.  An object the
 * output plugin looks up while it decodes that does not exist (SQLSTATE
 * 42704, undefined_object) does not exist for the changes the slot holds
 * either, on any retry: pgoutput reads its publications as of each change,
 * so one created after the slot's position fails every session.
 */
static enum stream_status
stream_ended(struct stream *s, char *err, size_t errlen)
{
	PGresult   *res = PQgetResult(s->conn);
	enum stream_status rc = STREAM_RETRY;

	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
		snprintf(err, errlen, "the server ended replication");
	else if (stream_sqlstate_is(res, SQLSTATE_UNDEFINED_OBJECT))
	{
		char		what[256];

		snprintf(what, sizeof(what),
				 "the output plugin %s of slot \"%s\" needs an object that does not exist as of the changes it decodes (a publication created after the slot's position is one: create the publication first, then the slot)",
				 s->plugin, s->cfg->slot);
		pqerr_result(err, errlen, what, res, s->conn);
		rc = STREAM_FATAL;
	}
	else
		pqerr_result(err, errlen, "replication stream ended", res, s->conn);
	PQclear(res);
	return rc;
}

enum stream_status
stream_next(struct stream *s, struct stream_message *msg, char *err,
			size_t errlen)
{
	char	   *buf;
	int			r;
	uint64_t	start;
	uint64_t	walend;

	/* The caller is done with the message handed out last. */
	stream_release(s);

	r = PQgetCopyData(s->conn, &buf, 1);
	if (r == 0)
		return STREAM_AGAIN;
	if (r > 0)
		s->last_recv_ms = clock_now_ms();
	if (r == -1)
		return stream_ended(s, err, errlen);
	if (r < 0)
	{
		pqerr_oneline(err, errlen, "lost the replication connection: ",
					  PQerrorMessage(s->conn));
		return STREAM_RETRY;
	}

	if (buf[0] == 'k')
	{
		if (r < STREAM_KEEPALIVE_LEN)
		{
			PQfreemem(buf);
			snprintf(err, errlen, "malformed keepalive message from the server");
			return STREAM_RETRY;
		}
		s->keepalive_end = stream_get_uint64(buf + 1);
		if (s->keepalive_end > s->server_wal_end)
			s->server_wal_end = s->keepalive_end;
		if (buf[17])
			s->reply_requested = true;
		PQfreemem(buf);
		return STREAM_KEEPALIVE;
	}
	if (buf[0] != 'w' || r < STREAM_XLOGDATA_HDR)
	{
		snprintf(err, errlen,
				 "unexpected replication message type \"%c\" (%d bytes)",
				 buf[0], r);
		PQfreemem(buf);
		return STREAM_RETRY;
	}

	/*
	 * dataStart is where the first change of this message was decoded;
	 * walEnd is the sender's current end of WAL.  Neither is ever reported
	 * as flushed: only the ends of transactions are, once confirmed
	 * (ack.c).
	 */
	start = stream_get_uint64(buf + 1);
	walend = stream_get_uint64(buf + 9);
	if (start > s->received_lsn)
		s->received_lsn = start;
	if (walend > s->server_wal_end)
		s->server_wal_end = walend;
	s->copybuf = buf;
	msg->data_start = start;
	msg->data = buf + STREAM_XLOGDATA_HDR;
	msg->len = (size_t) (r - STREAM_XLOGDATA_HDR);
	return STREAM_MESSAGE;
}

bool
stream_input_pending(const struct stream *s)
{
	int			n = 0;

	return s->conn != NULL && ioctl(PQsocket(s->conn), FIONREAD, &n) == 0 && n > 0;
}

bool
stream_consume(struct stream *s, char *err, size_t errlen)
{
	if (PQconsumeInput(s->conn) == 0)
	{
		pqerr_oneline(err, errlen, "lost the replication connection: ",
					  PQerrorMessage(s->conn));
		return false;
	}
	return true;
}

bool
stream_send_status(struct stream *s, uint64_t flush, bool reply_requested,
				   char *err, size_t errlen)
{
	char		msg[1 + 8 + 8 + 8 + 8 + 1];
	uint64_t	write = stream_written(s, flush);

	/* As pg_recvlogical's sendFeedback: 'r', write, flush, apply, clock. */
	msg[0] = 'r';
	stream_put_uint64(msg + 1, write);
	stream_put_uint64(msg + 9, flush);
	stream_put_uint64(msg + 17, flush);
	stream_put_uint64(msg + 25, (uint64_t) stream_now_pg());
	msg[33] = reply_requested ? 1 : 0;

	if (PQputCopyData(s->conn, msg, sizeof(msg)) <= 0 || PQflush(s->conn) != 0)
	{
		pqerr_oneline(err, errlen, "could not send status to PostgreSQL: ",
					  PQerrorMessage(s->conn));
		return false;
	}
	s->reply_requested = false;
	return true;
}

int
stream_socket(const struct stream *s)
{
	return s->conn ? PQsocket(s->conn) : -1;
}

void
stream_close(struct stream *s, bool graceful)
{
	stream_release(s);
	if (s->conn == NULL)
		return;

	/*
	 * Ending the COPY lets the walsender exit on its own and release the
	 * slot, so a quick reconnect does not meet "slot is active".  Bounded:
	 * a server that does not answer within two seconds is just dropped.
	 */
	if (graceful && PQstatus(s->conn) == CONNECTION_OK &&
		PQputCopyEnd(s->conn, NULL) > 0 && PQflush(s->conn) == 0)
	{
		struct timespec t0;
		struct timespec t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;)
		{
			char	   *buf;
			int			r = PQgetCopyData(s->conn, &buf, 1);
			struct pollfd pfd;
			long		left;

			if (r > 0)
			{
				PQfreemem(buf);
				continue;
			}
			if (r < 0)
			{
				PGresult   *res;

				while ((res = PQgetResult(s->conn)) != NULL)
					PQclear(res);
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = 2000 - ((t1.tv_sec - t0.tv_sec) * 1000 +
						   (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0)
				break;
			pfd.fd = PQsocket(s->conn);
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int) left) < 0 || PQconsumeInput(s->conn) == 0)
				break;
		}
	}
	PQfinish(s->conn);
	s->conn = NULL;
}
