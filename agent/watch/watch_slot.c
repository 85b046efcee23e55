/*
 * watch_slot.c
 *		The slot's health, every --slot-check-interval, and its alarms in
 *		the log (watch.h).
 *
 * What operators alert on for a logical slot (pg_replication_slots):
 * how much WAL it retains (pg_current_wal_lsn() - restart_lsn), its
 * wal_status (reserved, extended, unreserved: past max_slot_wal_keep_size
 * and removable at the next checkpoint; lost: invalidated) and
 * safe_wal_size.  Each alarm is logged once when it starts and once when
 * it ends, not at every check.  A lost slot is the stream's to report
 * (exit code 4, docs/agent-operations.md): here it is only a warning.
 */
#include "watch_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "pqerr.h"

static const char *const watch_slot_sql =
"SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::bigint,"
" wal_status, safe_wal_size"
" FROM pg_catalog.pg_replication_slots WHERE slot_name = $1";

int
watch_alarm_update(const struct obs_watch_view *before,
				   const struct obs_watch_view *now, uint64_t retained_warn,
				   bool *over)
{
	int			say = WATCH_ALARM_NONE;

	if (!now->slot_found)
		return say;
	if (now->retained_known)
	{
		bool		above = retained_warn > 0 &&
			now->retained_bytes > (int64_t) retained_warn;

		if (above && !*over)
			say |= WATCH_ALARM_RETAINED;
		else if (!above && *over)
			say |= WATCH_ALARM_RETAINED_OK;
		*over = above;
	}
	if (now->wal_status != before->wal_status || !before->slot_found)
	{
		if (now->wal_status == OBS_WAL_UNRESERVED)
			say |= WATCH_ALARM_UNRESERVED;
		else if (now->wal_status == OBS_WAL_LOST)
			say |= WATCH_ALARM_LOST;
		else if (before->wal_status == OBS_WAL_UNRESERVED && before->slot_found &&
				 (now->wal_status == OBS_WAL_RESERVED ||
				  now->wal_status == OBS_WAL_EXTENDED))
			say |= WATCH_ALARM_RESERVED;
	}
	return say;
}

/* "1080 bytes", "1234567 bytes (1.2 MB)" */
static void
watch_bytes(int64_t n, char *buf, size_t len)
{
	if (n < 1024 * 1024)
		snprintf(buf, len, "%" PRId64 " bytes", n);
	else
		snprintf(buf, len, "%" PRId64 " bytes (%.1f MB)", n, (double) n / (1024.0 * 1024.0));
}

static void
watch_slot_log(const struct watch *w, int say)
{
	char		retained[64];
	char		limit[64];
	char		safe[64];

	watch_bytes(w->view.retained_bytes, retained, sizeof(retained));
	watch_bytes((int64_t) w->retained_warn, limit, sizeof(limit));
	if (w->view.safe_known)
		watch_bytes(w->view.safe_wal_size, safe, sizeof(safe));
	else
		snprintf(safe, sizeof(safe), "unknown");
	if (say & WATCH_ALARM_RETAINED)
		log_warning("replication slot \"%s\" retains %s of WAL, more than slot_retained_warn (%s): the agent or a sink is behind, or the slot does not advance (walcast_slot_retained_wal_bytes; docs/operations.md)",
					w->slot, retained, limit);
	if (say & WATCH_ALARM_RETAINED_OK)
		log_info("replication slot \"%s\" retains %s of WAL, back below slot_retained_warn (%s)",
				 w->slot, retained, limit);
	if (say & WATCH_ALARM_UNRESERVED)
		log_warning("replication slot \"%s\" has wal_status \"unreserved\": it retains more WAL than max_slot_wal_keep_size allows (retained %s, safe_wal_size %s), and the next checkpoint may remove it and invalidate the slot",
					w->slot, retained, safe);
	if (say & WATCH_ALARM_RESERVED)
		log_info("replication slot \"%s\" has wal_status \"%s\" again", w->slot,
				 obs_wal_status_name(w->view.wal_status));
	if (say & WATCH_ALARM_LOST)
		log_warning("replication slot \"%s\" has wal_status \"lost\": PostgreSQL invalidated it and removed WAL it needed (docs/agent-operations.md, \"Slot lost\")",
					w->slot);
}

/* The figures of one row of watch_slot_sql into v. */
static void
watch_slot_read(const PGresult *res, struct obs_watch_view *v)
{
	v->slot_found = PQntuples(res) == 1;
	if (!v->slot_found)
		return;
	v->retained_known = !PQgetisnull(res, 0, 0);
	v->retained_bytes = v->retained_known ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	v->wal_status = PQgetisnull(res, 0, 1) ? OBS_WAL_UNKNOWN :
		obs_wal_status_parse(PQgetvalue(res, 0, 1));
	v->safe_known = !PQgetisnull(res, 0, 2);
	v->safe_wal_size = v->safe_known ? strtoll(PQgetvalue(res, 0, 2), NULL, 10) : 0;
}

void
watch_slot_check(struct watch *w)
{
	char		err[512];
	PGconn	   *conn = watch_conn(w, err, sizeof(err));
	PGresult   *res = NULL;
	struct obs_watch_view before = w->view;
	const char *params[1] = {w->slot};

	if (conn != NULL)
	{
		res = PQexecParams(conn, watch_slot_sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			pqerr_result(err, sizeof(err), "slot check", res, conn);
			PQclear(res);
			res = NULL;
			watch_conn_check(w);
		}
	}
	if (res == NULL)
	{
		w->view.check_errors++;
		if (!w->check_failing)
			log_warning("%s (tried again every %d s; walcast_slot_check_errors_total counts them)",
						err, w->check_interval);
		w->check_failing = true;
		return;
	}
	if (w->check_failing)
		log_info("slot check: works again");
	w->check_failing = false;
	watch_slot_read(res, &w->view);
	PQclear(res);
	watch_slot_log(w, watch_alarm_update(&before, &w->view, w->retained_warn,
										 &w->over_warn));
}
