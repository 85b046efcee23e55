/*
 * obs_metrics.c
 *		The Prometheus text exposition format 0.0.4 of a view (see
 *		obs_metrics.h; every metric is listed in docs/operations.md).
 *
 * Each family is written once, HELP and TYPE first, then its samples
 * (one per label set); names follow Prometheus's conventions: walcast_
 * prefix, base units, _total for counters.  Labels carry sink kinds,
 * targets, ops, stages, wal_status values and table names: never a
 * connection string, a password or a row value.  A figure that is not
 * known yet (lag before anything was received, the slot before its first
 * check, safe_wal_size while the server reports NULL) has no sample.
 */
#include "obs_metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "event.h"

struct obs_label
{
	const char *name;
	const char *value;
};

/* The ops of walcast_events_total, in their order of appearance. */
static const enum event_op obs_metrics_ops[] = {
	EVENT_INSERT, EVENT_UPDATE, EVENT_DELETE, EVENT_TRUNCATE, EVENT_MESSAGE,
	EVENT_READ
};

void
obs_metrics_escape(struct strbuf *out, const char *value)
{
	for (const char *p = value; *p; p++)
	{
		if (*p == '\\')
			strbuf_puts(out, "\\\\");
		else if (*p == '"')
			strbuf_puts(out, "\\\"");
		else if (*p == '\n')
			strbuf_puts(out, "\\n");
		else
			strbuf_add(out, p, 1);
	}
}

static void
obs_family(struct strbuf *out, const char *name, const char *type,
		   const char *help)
{
	strbuf_puts(out, "# HELP ");
	strbuf_puts(out, name);
	strbuf_puts(out, " ");
	strbuf_puts(out, help);
	strbuf_puts(out, "\n# TYPE ");
	strbuf_puts(out, name);
	strbuf_puts(out, " ");
	strbuf_puts(out, type);
	strbuf_puts(out, "\n");
}

/* name{labels} value, the value already text. */
static void
obs_sample(struct strbuf *out, const char *name, const struct obs_label *labels,
		   int nlabels, const char *value)
{
	strbuf_puts(out, name);
	for (int i = 0; i < nlabels; i++)
	{
		strbuf_puts(out, i == 0 ? "{" : ",");
		strbuf_puts(out, labels[i].name);
		strbuf_puts(out, "=\"");
		obs_metrics_escape(out, labels[i].value);
		strbuf_puts(out, "\"");
	}
	if (nlabels > 0)
		strbuf_puts(out, "}");
	strbuf_puts(out, " ");
	strbuf_puts(out, value);
	strbuf_puts(out, "\n");
}

static void
obs_sample_u64(struct strbuf *out, const char *name,
			   const struct obs_label *labels, int nlabels, uint64_t v)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	obs_sample(out, name, labels, nlabels, buf);
}

static void
obs_sample_double(struct strbuf *out, const char *name,
				  const struct obs_label *labels, int nlabels, double v)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "%.6f", v);
	obs_sample(out, name, labels, nlabels, buf);
}

/* A family without labels and its one sample. */
static void
obs_single(struct strbuf *out, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	obs_family(out, name, type, help);
	obs_sample_u64(out, name, NULL, 0, v);
}

/*
 * The families with one sample per sink, from a figure of struct
 * obs_sink_view (a uint64_t, or a bool for the 0/1 gauges).
 */
#define SINKF(f) offsetof(struct obs_sink_view, f)

static const struct
{
	const char *name;
	const char *type;
	const char *help;
	size_t		field;
	bool		is_bool;
}			obs_sink_families[] = {
	{"walcast_messages_total", "counter",
	"Messages (or documents, or lines) written to the sink.", SINKF(messages), false},
	{"walcast_bytes_total", "counter",
	"Payload bytes written to the sink.", SINKF(bytes), false},
	{"walcast_confirms_total", "counter",
	"Messages the destination confirmed.", SINKF(confirms), false},
	{"walcast_nacks_total", "counter",
	"Messages the destination refused (RabbitMQ basic.nack).", SINKF(nacks), false},
	{"walcast_returns_total", "counter",
	"Unroutable messages returned by the destination.", SINKF(returns), false},
	{"walcast_inflight_events", "gauge",
	"Events written to the sink and not yet confirmed.", SINKF(inflight_events), false},
	{"walcast_inflight_bytes", "gauge",
	"Bytes of the events in flight.", SINKF(inflight_bytes), false},
	{"walcast_sink_connected", "gauge",
	"1 while the sink's connection is open and has not failed.", SINKF(connected), true},
	{"walcast_sink_blocked", "gauge",
	"1 while the destination asks the agent to stop sending (RabbitMQ connection.blocked).",
	SINKF(blocked), true},
};

static void
obs_metrics_sinks(const struct obs_view *v, struct strbuf *out)
{
	obs_family(out, "walcast_events_total", "counter",
			   "Events handed to the sink, by operation (read: initial-load rows).");
	for (int i = 0; i < v->nsinks; i++)
		for (size_t k = 0; k < sizeof(obs_metrics_ops) / sizeof(obs_metrics_ops[0]); k++)
		{
			struct obs_label l[2] = {
				{"sink", v->sinks[i].name},
				{"op", event_op_name(obs_metrics_ops[k])}
			};

			obs_sample_u64(out, "walcast_events_total", l, 2,
						   v->sinks[i].by_op[obs_metrics_ops[k]]);
		}
	for (size_t f = 0; f < sizeof(obs_sink_families) / sizeof(obs_sink_families[0]); f++)
	{
		obs_family(out, obs_sink_families[f].name, obs_sink_families[f].type,
				   obs_sink_families[f].help);
		for (int i = 0; i < v->nsinks; i++)
		{
			const char *base = (const char *) &v->sinks[i] + obs_sink_families[f].field;
			struct obs_label l = {"sink", v->sinks[i].name};

			obs_sample_u64(out, obs_sink_families[f].name, &l, 1,
						   obs_sink_families[f].is_bool ? *(const bool *) base :
						   *(const uint64_t *) base);
		}
	}

	obs_family(out, "walcast_reconnects_total", "counter",
			   "Replication sessions lost to a failure of the target.");
	{
		struct obs_label l = {"target", "postgres"};

		obs_sample_u64(out, "walcast_reconnects_total", &l, 1, v->pg_reconnects);
	}
	for (int i = 0; i < v->nsinks; i++)
	{
		struct obs_label l = {"target", v->sinks[i].name};

		obs_sample_u64(out, "walcast_reconnects_total", &l, 1, v->sinks[i].reconnects);
	}
}

static void
obs_metrics_replication(const struct obs_view *v, int64_t now_us,
						struct strbuf *out)
{
	static const struct
	{
		enum obs_lag_stage stage;
		const char *name;
	}			stages[] = {
		{OBS_LAG_RECEIVED, "received"}, {OBS_LAG_CONFIRMED, "confirmed"}
	};

	obs_single(out, "walcast_received_lsn", "gauge",
			   "Newest WAL position received from PostgreSQL, as a number.",
			   v->received_lsn);
	obs_single(out, "walcast_confirmed_lsn", "gauge",
			   "Newest flush position reported to PostgreSQL (every sink confirmed it), as a number.",
			   v->confirmed_lsn);
	obs_single(out, "walcast_server_wal_end_lsn", "gauge",
			   "The server's WAL end from its last message, as a number.",
			   v->server_wal_end);
	obs_single(out, "walcast_lag_bytes", "gauge",
			   "Server WAL end minus the confirmed position.",
			   v->server_wal_end > v->confirmed_lsn ?
			   v->server_wal_end - v->confirmed_lsn : 0);
	obs_single(out, "walcast_transactions_total", "counter",
			   "Transactions received.", v->transactions);

	obs_family(out, "walcast_lag_seconds", "gauge",
			   "Seconds behind: now minus the commit time up to which everything was received / confirmed by every sink; 0 while nothing is pending and the stream is caught up.");
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
	{
		struct obs_label l = {"stage", stages[i].name};
		double		secs;

		if (obs_view_lag(v, stages[i].stage, now_us, &secs))
			obs_sample_double(out, "walcast_lag_seconds", &l, 1, secs);
	}
}

static void
obs_metrics_slot(const struct obs_view *v, struct strbuf *out)
{
	const struct obs_watch_view *w = &v->watch;

	obs_family(out, "walcast_slot_retained_wal_bytes", "gauge",
			   "WAL the slot retains: pg_current_wal_lsn() - restart_lsn, read every --slot-check-interval.");
	if (w->slot_found && w->retained_known)
		obs_sample_u64(out, "walcast_slot_retained_wal_bytes", NULL, 0,
					   (uint64_t) (w->retained_bytes > 0 ? w->retained_bytes : 0));
	obs_family(out, "walcast_slot_wal_status", "gauge",
			   "The slot's wal_status: 1 for the current one.");
	if (w->slot_found && w->wal_status != OBS_WAL_UNKNOWN)
		for (int s = 0; s < OBS_WAL_NSTATUS; s++)
		{
			struct obs_label l = {"status", obs_wal_status_name((enum obs_wal_status) s)};

			obs_sample_u64(out, "walcast_slot_wal_status", &l, 1, w->wal_status == s);
		}
	obs_family(out, "walcast_slot_safe_wal_size_bytes", "gauge",
			   "The slot's safe_wal_size: WAL that can still be written before the slot is in danger of losing WAL.");
	if (w->slot_found && w->safe_known)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%" PRId64, w->safe_wal_size);
		obs_sample(out, "walcast_slot_safe_wal_size_bytes", NULL, 0, buf);
	}
	obs_single(out, "walcast_slot_check_errors_total", "counter",
			   "Slot checks that failed.", w->check_errors);
	obs_single(out, "walcast_heartbeats_total", "counter",
			   "Heartbeats emitted (pg_logical_emit_message).", w->heartbeats);
	obs_single(out, "walcast_heartbeat_errors_total", "counter",
			   "Heartbeats that failed.", w->heartbeat_errors);
}

static void
obs_metrics_load(const struct obs_view *v, struct strbuf *out)
{
	obs_family(out, "walcast_load_rows_total", "counter",
			   "Rows read by the initial load, per table.");
	for (int i = 0; i < v->ntables; i++)
	{
		struct obs_label l = {"table", v->tables[i].name};

		obs_sample_u64(out, "walcast_load_rows_total", &l, 1, v->tables[i].rows_total);
	}
	obs_single(out, "walcast_load_tables_done", "gauge",
			   "Tables the initial load has finished.", (uint64_t) v->tables_done);
	/*
	 * The contract named this walcast_load_tables_total; Prometheus keeps
	 * _total for counters (promtool check metrics refuses a gauge with
	 * it), so the gauge of all tables is walcast_load_tables.
	 */
	obs_single(out, "walcast_load_tables", "gauge",
			   "Tables the initial load reads.", (uint64_t) v->ntables);
}

/*
 * The sinks' own figures: the mirror's skipped changes, the RabbitMQ
 * node in use (a gauge with its label).
 */
static void
obs_metrics_sink_counters(const struct obs_view *v, struct strbuf *out)
{
	for (int i = 0; i < v->nsinks; i++)
		for (int k = 0; k < v->sinks[i].ncounters; k++)
		{
			const struct sink_counter *c = &v->sinks[i].counters[k];
			struct obs_label l = {c->label, c->label_value};

			obs_family(out, c->name, c->type != NULL ? c->type : "counter", c->help);
			obs_sample_u64(out, c->name, &l, c->label != NULL ? 1 : 0, c->value);
		}
}

static void
obs_metrics_process(const struct obs_process *p, struct strbuf *out)
{
	if (!p->known)
		return;
	obs_single(out, "process_resident_memory_bytes", "gauge",
			   "Resident memory size in bytes.", p->rss_bytes);
	obs_family(out, "process_cpu_seconds_total", "counter",
			   "Total user and system CPU time spent in seconds.");
	obs_sample_double(out, "process_cpu_seconds_total", NULL, 0, p->cpu_seconds);
	obs_family(out, "process_start_time_seconds", "gauge",
			   "Start time of the process since unix epoch in seconds.");
	obs_sample_double(out, "process_start_time_seconds", NULL, 0, p->start_time);
}

void
obs_metrics_render(const struct obs_view *v, const struct obs_process *p,
				   int64_t now_us, struct strbuf *out)
{
	struct obs_label build[2] = {{"version", v->version}, {"plugin", v->plugin}};

	obs_family(out, "walcast_build_info", "gauge",
			   "The agent's version and the slot's output plugin (always 1).");
	obs_sample(out, "walcast_build_info", build, 2, "1");
	obs_metrics_sinks(v, out);
	obs_metrics_replication(v, now_us, out);
	obs_metrics_slot(v, out);
	obs_metrics_load(v, out);
	obs_metrics_sink_counters(v, out);
	obs_single(out, "walcast_ready", "gauge",
			   "1 when /readyz answers 200: streaming with every sink connected and not blocked.",
			   obs_view_not_ready(v) == NULL);
	obs_metrics_process(p, out);
}
