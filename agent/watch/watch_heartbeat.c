/*
 * watch_heartbeat.c
 *		Heartbeats: a non-transactional logical message
 *		pg_logical_emit_message(false, 'walcast.heartbeat', <slot>) every
 *		--heartbeat-interval (watch.h).
 *
 * A slot advances only as far as its client confirms, and the client
 * confirms what it receives.  When the watched tables are idle while
 * other databases (or RDS's own rdsadmin) write, the slot's walsender
 * reads that WAL and sends nothing: the agent confirms keepalive
 * positions (ack.h), but only when the walsender sends one.  A heartbeat
 * is a record of this database that the slot decodes and sends, which the
 * agent acknowledges like a transaction with no events (loop.c): the
 * slot's confirmed_flush_lsn and restart_lsn move at least once per
 * interval, whatever the server's keepalive habits.  The agent recognises
 * its heartbeats by the prefix and leaves them out of the sinks unless
 * --publish-heartbeats.
 *
 * EXECUTE on pg_logical_emit_message(boolean, text, text) is granted to
 * PUBLIC by default; where it was revoked, the first refusal logs one
 * warning naming the grant, and heartbeats stop: not an error of the
 * agent.  Other failures (the server restarting) are counted and retried.
 */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lsn.h"
#include "pqerr.h"

/* SQLSTATE insufficient_privilege */
#define WATCH_NO_PRIVILEGE "42501"

static const char *const watch_heartbeat_sql =
"SELECT pg_catalog.pg_logical_emit_message(false, '" WATCH_HEARTBEAT_PREFIX "', $1)::text";

void
watch_heartbeat(struct watch *w)
{
	char		err[512];
	PGconn	   *conn = watch_conn(w, err, sizeof(err));
	PGresult   *res;
	const char *params[1] = {w->slot};
	const char *state;
	uint64_t	lsn = 0;

	if (conn == NULL)
		goto failed;
	res = PQexecParams(conn, watch_heartbeat_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		lsn_parse(PQgetvalue(res, 0, 0), &lsn))
	{
		PQclear(res);
		w->view.heartbeats++;
		w->view.last_heartbeat_lsn = lsn;
		if (w->beat_failing)
			log_info("heartbeats work again");
		w->beat_failing = false;
		return;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, WATCH_NO_PRIVILEGE) == 0)
	{
		const char *user = PQuser(conn);

		PQclear(res);
		w->view.heartbeat_errors++;
		w->view.heartbeat_on = false;
		log_warning("heartbeats are off: role \"%s\" may not execute pg_logical_emit_message; the slot then advances only when PostgreSQL sends keepalives (GRANT EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) TO \"%s\", or set heartbeat_interval = 0 to silence this)",
					user, user);
		return;
	}
	pqerr_result(err, sizeof(err), "heartbeat", res, conn);
	PQclear(res);
	watch_conn_check(w);

failed:
	w->view.heartbeat_errors++;
	if (!w->beat_failing)
		log_warning("%s (tried again every %d s; walcast_heartbeat_errors_total counts them)",
					err, w->heartbeat_interval);
	w->beat_failing = true;
}
