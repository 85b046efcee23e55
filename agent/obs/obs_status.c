/*
 * obs_status.c
 *		/status, /readyz and /healthz bodies as JSON (obs_status.h).
 *
 * /status shows what an operator asks first: which slot and plugin, where
 * the stream stands (positions as PostgreSQL prints them, lag), each
 * sink's state, the slot's health, heartbeats, the initial load per
 * table, and the version.  It shows nothing from the connection strings:
 * no host, user or password, and no row value.
 */
#include "obs_status.h"

#include <string.h>

#include "lsn.h"
#include "yyjson.h"

static const char *const obs_phase_names[] = {
	[AGENT_STARTING] = "starting",
	[AGENT_CONNECTING] = "connecting",
	[AGENT_LOADING] = "loading",
	[AGENT_STREAMING] = "streaming",
	[AGENT_STOPPING] = "stopping",
	[AGENT_SLOT_LOST] = "slot_lost",
};

/* An LSN as "X/X" (copied into the document), or null when 0. */
static yyjson_mut_val *
obs_status_lsn(yyjson_mut_doc *doc, uint64_t lsn)
{
	char		buf[LSN_BUFLEN];

	if (lsn == 0)
		return yyjson_mut_null(doc);
	lsn_format(lsn, buf, sizeof(buf));
	return yyjson_mut_strcpy(doc, buf);
}

static yyjson_mut_val *
obs_status_positions(yyjson_mut_doc *doc, const struct obs_view *v)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);

	yyjson_mut_obj_add_val(doc, o, "received", obs_status_lsn(doc, v->received_lsn));
	yyjson_mut_obj_add_val(doc, o, "confirmed", obs_status_lsn(doc, v->confirmed_lsn));
	yyjson_mut_obj_add_val(doc, o, "server_wal_end", obs_status_lsn(doc, v->server_wal_end));
	yyjson_mut_obj_add_uint(doc, o, "lag_bytes",
							v->server_wal_end > v->confirmed_lsn ?
							v->server_wal_end - v->confirmed_lsn : 0);
	return o;
}

static yyjson_mut_val *
obs_status_lag(yyjson_mut_doc *doc, const struct obs_view *v, int64_t now_us)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);
	double		secs;

	if (obs_view_lag(v, OBS_LAG_RECEIVED, now_us, &secs))
		yyjson_mut_obj_add_real(doc, o, "received", secs);
	else
		yyjson_mut_obj_add_null(doc, o, "received");
	if (obs_view_lag(v, OBS_LAG_CONFIRMED, now_us, &secs))
		yyjson_mut_obj_add_real(doc, o, "confirmed", secs);
	else
		yyjson_mut_obj_add_null(doc, o, "confirmed");
	return o;
}

static yyjson_mut_val *
obs_status_sink(yyjson_mut_doc *doc, const struct obs_sink_view *s)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);
	yyjson_mut_val *ops = yyjson_mut_obj(doc);
	static const enum event_op kinds[] = {
		EVENT_INSERT, EVENT_UPDATE, EVENT_DELETE, EVENT_TRUNCATE,
		EVENT_MESSAGE, EVENT_READ
	};

	yyjson_mut_obj_add_str(doc, o, "name", s->name);
	yyjson_mut_obj_add_str(doc, o, "state",
						   s->connected ? (s->blocked ? "blocked" : "connected") :
						   s->down ? "failed" : "disconnected");
	yyjson_mut_obj_add_bool(doc, o, "connected", s->connected);
	yyjson_mut_obj_add_bool(doc, o, "blocked", s->blocked);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		yyjson_mut_obj_add_uint(doc, ops, event_op_name(kinds[i]), s->by_op[kinds[i]]);
	yyjson_mut_obj_add_val(doc, o, "events", ops);
	yyjson_mut_obj_add_uint(doc, o, "messages", s->messages);
	yyjson_mut_obj_add_uint(doc, o, "bytes", s->bytes);
	yyjson_mut_obj_add_uint(doc, o, "confirms", s->confirms);
	yyjson_mut_obj_add_uint(doc, o, "nacks", s->nacks);
	yyjson_mut_obj_add_uint(doc, o, "returns", s->returns);
	yyjson_mut_obj_add_uint(doc, o, "inflight_events", s->inflight_events);
	yyjson_mut_obj_add_uint(doc, o, "inflight_bytes", s->inflight_bytes);
	yyjson_mut_obj_add_uint(doc, o, "reconnects", s->reconnects);
	/* a labelled figure shows its label ("node": "host:5672") */
	for (int i = 0; i < s->ncounters; i++)
		if (s->counters[i].label != NULL)
			yyjson_mut_obj_add_strcpy(doc, o, s->counters[i].label,
									  s->counters[i].label_value);
		else
			yyjson_mut_obj_add_uint(doc, o, s->counters[i].name, s->counters[i].value);
	return o;
}

static yyjson_mut_val *
obs_status_slot(yyjson_mut_doc *doc, const struct obs_watch_view *w)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);
	const char *status = obs_wal_status_name(w->wal_status);

	yyjson_mut_obj_add_int(doc, o, "check_interval", w->slot_check_interval);
	yyjson_mut_obj_add_bool(doc, o, "found", w->slot_found);
	if (w->slot_found && w->retained_known)
		yyjson_mut_obj_add_int(doc, o, "retained_wal_bytes", w->retained_bytes);
	else
		yyjson_mut_obj_add_null(doc, o, "retained_wal_bytes");
	if (w->slot_found && status != NULL)
		yyjson_mut_obj_add_str(doc, o, "wal_status", status);
	else
		yyjson_mut_obj_add_null(doc, o, "wal_status");
	if (w->slot_found && w->safe_known)
		yyjson_mut_obj_add_int(doc, o, "safe_wal_size_bytes", w->safe_wal_size);
	else
		yyjson_mut_obj_add_null(doc, o, "safe_wal_size_bytes");
	yyjson_mut_obj_add_uint(doc, o, "check_errors", w->check_errors);
	return o;
}

static yyjson_mut_val *
obs_status_heartbeats(yyjson_mut_doc *doc, const struct obs_view *v)
{
	const struct obs_watch_view *w = &v->watch;
	yyjson_mut_val *o = yyjson_mut_obj(doc);

	yyjson_mut_obj_add_int(doc, o, "interval", w->heartbeat_interval);
	yyjson_mut_obj_add_bool(doc, o, "enabled", w->heartbeat_on);
	yyjson_mut_obj_add_uint(doc, o, "emitted", w->heartbeats);
	yyjson_mut_obj_add_uint(doc, o, "errors", w->heartbeat_errors);
	yyjson_mut_obj_add_val(doc, o, "last_lsn", obs_status_lsn(doc, w->last_heartbeat_lsn));
	yyjson_mut_obj_add_uint(doc, o, "received", v->heartbeats_received);
	return o;
}

static yyjson_mut_val *
obs_status_load(yyjson_mut_doc *doc, const struct obs_view *v)
{
	yyjson_mut_val *o = yyjson_mut_obj(doc);
	yyjson_mut_val *tables = yyjson_mut_arr(doc);

	yyjson_mut_obj_add_int(doc, o, "tables_total", v->ntables);
	yyjson_mut_obj_add_int(doc, o, "tables_done", v->tables_done);
	for (int i = 0; i < v->ntables; i++)
	{
		const struct obs_table_view *t = &v->tables[i];
		yyjson_mut_val *e = yyjson_mut_arr_add_obj(doc, tables);

		yyjson_mut_obj_add_strcpy(doc, e, "table", t->name);
		yyjson_mut_obj_add_uint(doc, e, "rows", t->rows);
		yyjson_mut_obj_add_int(doc, e, "estimated", t->estimated);
		yyjson_mut_obj_add_bool(doc, e, "done", t->done);
	}
	yyjson_mut_obj_add_val(doc, o, "tables", tables);
	return o;
}

char *
obs_status_render(const struct obs_view *v, int64_t now_us, int64_t now_ms,
				  size_t *len)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root;
	yyjson_mut_val *sinks;
	const char *reason;
	char	   *text;

	if (doc == NULL)
		return NULL;
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	reason = obs_view_not_ready(v);
	yyjson_mut_obj_add_str(doc, root, "version", v->version);
	yyjson_mut_obj_add_strcpy(doc, root, "slot", v->slot);
	yyjson_mut_obj_add_strcpy(doc, root, "plugin", v->plugin);
	yyjson_mut_obj_add_str(doc, root, "state", obs_phase_names[v->phase]);
	yyjson_mut_obj_add_bool(doc, root, "ready", reason == NULL);
	if (reason != NULL)
		yyjson_mut_obj_add_str(doc, root, "reason", reason);
	else
		yyjson_mut_obj_add_null(doc, root, "reason");
	yyjson_mut_obj_add_bool(doc, root, "healthy", obs_view_healthy(v, now_ms));
	yyjson_mut_obj_add_val(doc, root, "positions", obs_status_positions(doc, v));
	yyjson_mut_obj_add_val(doc, root, "lag_seconds", obs_status_lag(doc, v, now_us));
	yyjson_mut_obj_add_uint(doc, root, "transactions", v->transactions);
	yyjson_mut_obj_add_uint(doc, root, "postgres_reconnects", v->pg_reconnects);
	sinks = yyjson_mut_arr(doc);
	for (int i = 0; i < v->nsinks; i++)
		yyjson_mut_arr_append(sinks, obs_status_sink(doc, &v->sinks[i]));
	yyjson_mut_obj_add_val(doc, root, "sinks", sinks);
	yyjson_mut_obj_add_val(doc, root, "slot_health", obs_status_slot(doc, &v->watch));
	yyjson_mut_obj_add_val(doc, root, "heartbeats", obs_status_heartbeats(doc, v));
	yyjson_mut_obj_add_val(doc, root, "load", obs_status_load(doc, v));

	/* Table names may hold any bytes the catalog allows. */
	text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY | YYJSON_WRITE_ALLOW_INVALID_UNICODE, len);
	yyjson_mut_doc_free(doc);
	return text;
}

char *
obs_status_answer(const char *key, const char *reason, size_t *len)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root;
	char	   *text;

	if (doc == NULL)
		return NULL;
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_bool(doc, root, key, reason == NULL);
	if (reason != NULL)
		yyjson_mut_obj_add_str(doc, root, "reason", reason);
	text = yyjson_mut_write(doc, YYJSON_WRITE_NOFLAG, len);
	yyjson_mut_doc_free(doc);
	return text;
}
