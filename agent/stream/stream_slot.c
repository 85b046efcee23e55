/*
 * stream_slot.c
 *		The replication slot, on the replication connection: its lock (one
 *		agent per slot), the look-up that decides whether it may be used,
 *		and its creation and drop (see stream.h).
 *
 * Look first, then act: the slot is looked up in pg_replication_slots
 * under the lock, never "created and the error caught".
 */
#include "stream_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lsn.h"
#include "pqerr.h"
#include "strbuf.h"

/*
 * The slot's lock: pg_try_advisory_lock(STREAM_LOCK_CLASS, hashtext(slot)),
 * "walc" in ASCII as the first key, so that it shows in pg_locks as
 * classid 2002873443, objid hashtext(slot), objsubid 2.  A session whose
 * agent died ends within moments of its socket closing: wait that long
 * before calling the holder another agent.
 */
#define STREAM_LOCK_CLASS "2002873443"
#define STREAM_LOCK_WAIT_MS 5000
#define STREAM_LOCK_POLL_MS 100

enum stream_status
stream_create_slot(struct stream *s, char *err, size_t errlen)
{
	struct strbuf b = {NULL, 0, 0, false};
	char	   *cmd;
	PGresult   *res;
	enum stream_status rc = STREAM_OK;

	/*
	 * The pre-15 spelling, still accepted by 15-17, so one command works on
	 * every supported server.  EXPORT_SNAPSHOT (as pg_dump's consumers and
	 * logical replication's table sync use it) when an initial load
	 * follows: the snapshot shows exactly the rows committed before the
	 * slot's consistent point, and lives while this connection runs no
	 * other command.  Otherwise none: the agent streams from now on.
	 */
	strbuf_puts(&b, "CREATE_REPLICATION_SLOT ");
	stream_append_quoted(&b, s->cfg->slot, '"');
	strbuf_puts(&b, " LOGICAL ");
	stream_append_quoted(&b, s->plugin, '"');
	strbuf_puts(&b, s->for_load ? " EXPORT_SNAPSHOT" : " NOEXPORT_SNAPSHOT");
	if ((cmd = strbuf_finish(&b)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		stream_fail(s);
		return STREAM_FATAL;
	}
	res = PQexec(s->conn, cmd);
	free(cmd);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		char		what[200];

		snprintf(what, sizeof(what), "could not create replication slot \"%s\"",
				 s->cfg->slot);
		pqerr_result(err, errlen, what, res, s->conn);
		rc = STREAM_FATAL;
	}
	else
	{
		/* slot_name, consistent_point, snapshot_name, output_plugin */
		s->created = true;
		s->exists = true;
		s->slot_used = true;
		if (PQnfields(res) > 1 && !PQgetisnull(res, 0, 1) &&
			!lsn_parse(PQgetvalue(res, 0, 1), &s->consistent_point))
			s->consistent_point = 0;
		if (PQnfields(res) > 2 && !PQgetisnull(res, 0, 2))
			snprintf(s->snapshot_name, sizeof(s->snapshot_name), "%s",
					 PQgetvalue(res, 0, 2));
		s->slot_confirmed_lsn = s->consistent_point;
		log_info("created replication slot \"%s\" (plugin %s) at %s%s%s",
				 s->cfg->slot, s->plugin,
				 PQnfields(res) > 1 ? PQgetvalue(res, 0, 1) : "?",
				 s->snapshot_name[0] ? ", exported snapshot " : "",
				 s->snapshot_name);
	}
	PQclear(res);
	if (rc != STREAM_OK)
		stream_fail(s);
	return rc;
}

void
stream_missing_slot_error(const struct stream *s, char *err, size_t errlen)
{
	/*
	 * Also the message when a slot disappears while we run: recreating it
	 * silently would start from "now" and lose every change the agent had
	 * not yet confirmed.
	 */
	if (s->slot_used)
		snprintf(err, errlen,
				 "replication slot \"%s\" no longer exists: this agent used it in an earlier session, so it was dropped since, and changes after its last confirmed position may be lost; the agent will not create it again (resynchronise, then start with --create-slot)",
				 s->cfg->slot);
	else
		snprintf(err, errlen,
				 "replication slot \"%s\" does not exist (create it with --create-slot; if it was dropped, changes since its last confirmed position are lost)",
				 s->cfg->slot);
}

static void
stream_active_error(const struct stream *s, const char *pid, char *err,
					size_t errlen)
{
	/*
	 * Typically our own previous walsender after a crash, until the server
	 * notices (wal_sender_timeout); or a second agent.
	 */
	snprintf(err, errlen,
			 "replication slot \"%s\" is active for PID %s (another consumer, or a stale connection; SELECT pg_terminate_backend(%s) ends it)",
			 s->cfg->slot, pid, pid);
}

/*
 * One session at a time decides about a slot (see stream.h): take its
 * lock, or say who holds it.  The look-up of the slot and of the holder
 * rides on the same query, so what is reported is what was seen when the
 * lock was refused.
 */
enum stream_status
stream_lock_slot(struct stream *s, char *err, size_t errlen)
{
	struct strbuf b = {NULL, 0, 0, false};
	char	   *sql;
	int			waited = 0;
	enum stream_status rc = STREAM_OK;

	strbuf_puts(&b, "SELECT pg_catalog.pg_try_advisory_lock(" STREAM_LOCK_CLASS ", pg_catalog.hashtext(k)), "
				"(SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = k), "
				"(SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
				" AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
				" AND classid = " STREAM_LOCK_CLASS " AND objid = pg_catalog.hashtext(k)::oid AND objsubid = 2 LIMIT 1) "
				"FROM (SELECT ");
	stream_append_quoted(&b, s->cfg->slot, '\'');
	strbuf_puts(&b, "::text AS k) AS slot");
	if ((sql = strbuf_finish(&b)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return STREAM_FATAL;
	}
	for (;;)
	{
		PGresult   *res = PQexec(s->conn, sql);

		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		{
			pqerr_result(err, errlen, "could not take the slot's lock",
						 res, s->conn);
			rc = STREAM_RETRY;
		}
		else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			rc = STREAM_OK;
		else if (!PQgetisnull(res, 0, 1))
		{
			stream_active_error(s, PQgetvalue(res, 0, 1), err, errlen);
			rc = STREAM_RETRY;
		}
		else if (waited < STREAM_LOCK_WAIT_MS)
			rc = STREAM_AGAIN;
		else
		{
			const char *pid = PQgetisnull(res, 0, 2) ? "?" : PQgetvalue(res, 0, 2);

			snprintf(err, errlen,
					 "another walcast-agent is loading slot \"%s\": the session of PID %s holds the slot's lock (docs/snapshot.md, \"One agent per slot\"; if no agent is running there, end that stale session: SELECT pg_terminate_backend(%s))",
					 s->cfg->slot, pid, pid);
			rc = STREAM_BUSY;
		}
		PQclear(res);
		if (rc != STREAM_AGAIN)
			break;
		if (waited == 0)
			log_info("replication slot \"%s\" is locked by another session while idle: waiting up to %d s for it",
					 s->cfg->slot, STREAM_LOCK_WAIT_MS / 1000);
		(void) poll(NULL, 0, STREAM_LOCK_POLL_MS);
		waited += STREAM_LOCK_POLL_MS;
	}
	free(sql);
	return rc;
}

/*
 * Look the slot up before using it (never "try and catch the error"):
 * absent -> create it if asked, else fatal; present -> it must be a logical
 * slot of this database decoded by the decoder's plugin, not invalidated,
 * not in use.
 */
enum stream_status
stream_check_slot(struct stream *s, char *err, size_t errlen)
{
	struct strbuf b = {NULL, 0, 0, false};
	char	   *sql;
	PGresult   *res;
	enum stream_status rc = STREAM_OK;
	const char *slot = s->cfg->slot;

	strbuf_puts(&b, "SELECT plugin, slot_type, database = current_database(), "
				"active_pid, wal_status, confirmed_flush_lsn, database "
				"FROM pg_catalog.pg_replication_slots WHERE slot_name = ");
	stream_append_quoted(&b, slot, '\'');
	if ((sql = strbuf_finish(&b)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return STREAM_FATAL;
	}
	res = PQexec(s->conn, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pqerr_result(err, errlen,
					 "could not read pg_replication_slots", res,
					 s->conn);
		PQclear(res);
		return STREAM_RETRY;
	}

	if (PQntuples(res) == 0)
	{
		PQclear(res);
		s->exists = false;
		if (s->for_load || (s->cfg->create_slot && !s->slot_used))
			return STREAM_OK;	/* snapshot.c decides, and creates */
		stream_missing_slot_error(s, err, errlen);
		return STREAM_FATAL;
	}

	s->exists = true;
	if (s->cfg->create_slot && !s->cfg->if_not_exists && !s->slot_used)
	{
		snprintf(err, errlen,
				 "replication slot \"%s\" already exists (add --if-not-exists to use it)",
				 slot);
		rc = STREAM_FATAL;
	}
	else if (strcmp(PQgetvalue(res, 0, 1), "logical") != 0)
	{
		snprintf(err, errlen,
				 "replication slot \"%s\" is a %s slot, not a logical one",
				 slot, PQgetvalue(res, 0, 1));
		rc = STREAM_FATAL;
	}
	else if (strcmp(PQgetvalue(res, 0, 0), s->plugin) != 0)
	{
		snprintf(err, errlen,
				 "replication slot \"%s\" uses output plugin \"%s\", but the agent reads \"%s\" (--plugin): start it with --plugin %s for this slot, or use another slot",
				 slot, PQgetvalue(res, 0, 0), s->plugin, PQgetvalue(res, 0, 0));
		rc = STREAM_FATAL;
	}
	else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
	{
		snprintf(err, errlen,
				 "replication slot \"%s\" belongs to database \"%s\", not to the one in the connection string",
				 slot, PQgetvalue(res, 0, 6));
		rc = STREAM_FATAL;
	}
	else if (strcmp(PQgetvalue(res, 0, 4), "lost") == 0)
	{
		snprintf(err, errlen,
				 "replication slot \"%s\" has been invalidated: the server reports wal_status \"lost\" in pg_replication_slots (the WAL it needed was removed, see max_slot_wal_keep_size): changes were lost; drop and recreate the slot and resynchronise (docs/agent-operations.md, \"Slot lost\")",
				 slot);
		s->slot_lost = true;
		rc = STREAM_FATAL;
	}
	else if (!PQgetisnull(res, 0, 3))
	{
		stream_active_error(s, PQgetvalue(res, 0, 3), err, errlen);
		rc = STREAM_RETRY;
	}
	else
	{
		if (!PQgetisnull(res, 0, 5) &&
			!lsn_parse(PQgetvalue(res, 0, 5), &s->slot_confirmed_lsn))
			s->slot_confirmed_lsn = 0;
		log_info("replication slot \"%s\": plugin %s, confirmed up to %s",
				 slot, s->plugin,
				 PQgetisnull(res, 0, 5) ? "(none)" : PQgetvalue(res, 0, 5));
	}
	PQclear(res);
	return rc;
}

bool
stream_slot_invalidated(struct stream *s)
{
	struct strbuf b = {NULL, 0, 0, false};
	char	   *sql;
	PGresult   *res;
	bool		lost;

	strbuf_puts(&b, "SELECT wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = ");
	stream_append_quoted(&b, s->cfg->slot, '\'');
	if ((sql = strbuf_finish(&b)) == NULL)
		return false;
	res = PQexec(s->conn, sql);
	free(sql);
	lost = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "lost") == 0;
	PQclear(res);
	return lost;
}

bool
stream_drop_slot(struct stream *s, char *err, size_t errlen)
{
	struct strbuf b = {NULL, 0, 0, false};
	char	   *cmd;
	PGresult   *res;
	bool		ok;

	strbuf_puts(&b, "DROP_REPLICATION_SLOT ");
	stream_append_quoted(&b, s->cfg->slot, '"');
	if ((cmd = strbuf_finish(&b)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		stream_fail(s);
		return false;
	}
	res = PQexec(s->conn, cmd);
	free(cmd);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
	{
		char		what[200];

		snprintf(what, sizeof(what), "could not drop replication slot \"%s\"",
				 s->cfg->slot);
		pqerr_result(err, errlen, what, res, s->conn);
	}
	else
	{
		log_info("dropped replication slot \"%s\"", s->cfg->slot);
		s->exists = false;
	}
	PQclear(res);
	if (!ok)
		stream_fail(s);
	return ok;
}
