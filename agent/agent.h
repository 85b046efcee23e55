/*-------------------------------------------------------------------------
 *
 * agent.h
 *		The state of one walcast-agent process, passed explicitly to every
 *		part of the main loop (no hidden globals: only the signal flags live
 *		in main.c, where the handlers that set them are).
 *
 * Data flows one way (docs/architecture.md): slot -> stream -> decoder ->
 * events -> envelope/route -> sinks -> confirms -> ack -> flush LSN.
 * Files, by folder and prefix:
 *
 *	main.c				main: configuration, checks, signals; the only exit
 *	run.c				agent_run, run_*: sessions, reconnects, exit codes
 *	loop.c				loop_*: one session's poll loop, status, drain, stats
 *	ack.c				ack_*: the LSN tracker (the acknowledgement rule)
 *	backoff.c			backoff_*: reconnect delays
 *	position.c			position_*: the newest flush position reported, kept
 *						durably in the state dir (a recreated slot is refused)
 *	util/				log_*, strbuf_*, lsn_* (X/X positions), pqerr_* (libpq
 *						errors on one line), pqconn_* (connections),
 *						durable_* (small files replaced crash-safely), kv_split
 *						("key = value" lines)
 *	config/				config_*: the option engine (config.c, config_value.c,
 *						config_file.c, config_print.c), the core's options
 *						(config_core.c), secrets (config_mask.c, config_scrub.c)
 *	stream/				stream_*: the replication protocol (stream.c) and the
 *						slot (stream_slot.c); no plugin, no records
 *	decode/				decoder_*: the decoder interface and table (decoder.h,
 *						decoder_list.h), the walcast plugin's decoder
 *						(decoder_walcast.c), its record parser
 *						(walcast_record.c), struct event (event.h);
 *						pgoutput's decoder (decoder_pgoutput.c) and its
 *						pgoutput_* modules (docs/pgoutput.md)
 *	format/				envelope_*: native/debezium/flat bodies; route_*:
 *						routing keys; partition_*: an event's partition
 *						(FNV-1a, docs/partitioning.md)
 *	sinks/				sink_*: the interface, registry (sink_list.h,
 *						sink_registry.c) and helpers over enabled sinks
 *						(sink_set.c); one file group per sink, its settings
 *						beside it: sink_stdout, sink_file, sink_amqp*
 *						(publishing, batching, brokers and failover,
 *						declarations),
 *						sink_mongo*
 *	snapshot/			snapshot_*: the initial load: when (snapshot.c,
 *						snapshot_plan.c, snapshot_state.c), reading
 *						(snapshot_load.c), progress
 *	obs/				obs_*: the HTTP endpoint (obs_http.c, obs_listen.c):
 *						a copy of the agent's state the loop publishes
 *						(obs_collect.c, obs_view.c: readiness, lag),
 *						rendered as Prometheus text (obs_metrics.c) and
 *						JSON (obs_status.c), process figures (obs_process.c)
 *	watch/				watch_*: a thread with an ordinary connection: slot
 *						health and its alarms (watch_slot.c), heartbeats
 *						(watch_heartbeat.c), the schedule (watch.c)
 *	vendor/				third-party code, unmodified (yyjson)
 *
 *-------------------------------------------------------------------------
 */
#ifndef WALCAST_AGENT_H
#define WALCAST_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ack.h"
#include "backoff.h"
#include "config.h"
#include "decoder.h"
#include "position.h"
#include "sink.h"
#include "stream.h"

struct obs;

/* Exit codes (docs/agent-operations.md); only main.c exits. */
enum agent_exit
{
	AGENT_EXIT_STOP = 0,		/* SIGTERM/SIGINT: stopped after draining */
	AGENT_EXIT_CONFIG = 1,		/* usage or configuration error */
	AGENT_EXIT_RUNTIME = 2,		/* unrecoverable runtime error */
	AGENT_EXIT_BUSY = 3,		/* another agent is loading the slot */
	AGENT_EXIT_SLOT_LOST = 4	/* the slot lost changes: invalidated, or
								 * recreated after what the agent confirmed */
};

/* Counters for the periodic stats: line (and /metrics, obs/). */
struct agent_stats
{
	uint64_t	records;		/* plugin records received */
	uint64_t	events;			/* events handed to the sink */
	uint64_t	txns;			/* commits seen */
	uint64_t	sessions;		/* replication sessions started */
	uint64_t	last_events;	/* events at the previous stats line */
	int64_t		last_ms;		/* time of the previous stats line */
	uint64_t	heartbeats;		/* walcast.heartbeat messages received */
	uint64_t	pg_reconnects;	/* sessions lost to a PostgreSQL failure
								 * (a sink's are in its sink_stats) */
};

/* Where the agent is in its life: /readyz and /status (obs/). */
enum agent_phase
{
	AGENT_STARTING,				/* no session has begun yet */
	AGENT_CONNECTING,			/* a session is being set up, or awaited */
	AGENT_LOADING,				/* the initial load runs */
	AGENT_STREAMING,
	AGENT_STOPPING,				/* a stop was requested: draining */
	AGENT_SLOT_LOST				/* exiting with code 4 */
};

/*
 * What lag in seconds is computed from (loop.c keeps it; obs/ defines the
 * figure): commit times and the wall clock, in microseconds since the
 * epoch, 0 when not known yet.
 */
struct agent_lag
{
	int64_t		newest_received;	/* commit time of the newest transaction
									 * received (a message without one: when
									 * it arrived) */
	int64_t		caught_up_at;	/* when the loop last had read everything
								 * the server sent, outside a transaction */
	bool		caught_up;		/* and it still has */
	int64_t		oldest_pending; /* commit time of the oldest transaction
								 * not confirmed by every sink */
};

/*
 * The initial load's progress per table (snapshot_load.c fills it, obs/
 * shows it).  version grows at every change, so that a copy is made only
 * then.
 */
struct agent_load
{
	int			ntables;
	int			done;			/* tables finished */
	char	  **names;			/* schema.table, owned */
	int64_t    *estimated;		/* rows, pg_class.reltuples; 0 unknown */
	uint64_t   *rows;			/* read by this load */
	uint64_t   *rows_total;		/* read by every load of this process */
	uint64_t	version;
};

struct agent
{
	struct agent_config cfg;
	struct stream stream;
	struct decoder *decoder;	/* the stream's messages -> events */
	struct ack_tracker ack;
	/* The enabled sinks, in registry order, which is the ack tracker's. */
	struct sink_set sinks;
	struct pollfd *pfd;			/* room for the replication socket and
								 * every sink's */
	struct backoff backoff;
	struct agent_stats stats;

	/* Set by the signal handlers in main.c, read and cleared by loop.c. */
	volatile sig_atomic_t *stop_requested;
	volatile sig_atomic_t *reload_requested;

	/*
	 * Before every sink and PostgreSQL were reached once, failing to reach
	 * a server is a configuration problem (wrong port, wrong password):
	 * exit with a clear error.  Afterwards it is an outage: retry with
	 * backoff, also when the first session failed during its initial load.
	 */
	bool		ever_connected;
	bool		load_done;		/* a load completed in this process */
	uint64_t	skip_lsn;		/* --skip-lsn, 0 when unset */
	bool		skip_met;		/* and it was met (and left out) */
	uint64_t	reported_flush; /* last flush LSN sent to PostgreSQL */
	struct position position;	/* its durable copy (position.h) */

	/* For the HTTP endpoint (obs/): NULL without --http-listen. */
	struct obs *obs;
	enum agent_phase phase;
	struct agent_lag lag;
	struct agent_load load;
};

/* Run until stopped; returns an enum agent_exit. */
extern int	agent_run(struct agent *a);

/*
 * Would the slot, starting at start (or, with creating, about to be
 * created: it will start at or after start), lose changes after the
 * newest position this agent confirmed (position.h)?  Logs the gap and
 * returns false with a->stream.slot_lost set (exit 4), unless
 * --accept-slot-gap; err for a state-directory failure.  run.c.
 */
extern bool agent_slot_gap_ok(struct agent *a, uint64_t start, bool creating,
							  char *err, size_t errlen);

#endif							/* WALCAST_AGENT_H */
