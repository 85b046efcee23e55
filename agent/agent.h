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
 *						durable_* (small files replaced crash-safely)
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
 *						routing keys
 *	sinks/				sink_*: the interface, registry (sink_list.h,
 *						sink_registry.c) and helpers over enabled sinks
 *						(sink_set.c); one file group per sink, its settings
 *						beside it: sink_stdout, sink_file, sink_amqp*,
 *						sink_mongo*
 *	snapshot/			snapshot_*: the initial load: when (snapshot.c,
 *						snapshot_plan.c, snapshot_state.c), reading
 *						(snapshot_load.c), progress
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

/* Counters for the periodic stats: line. */
struct agent_stats
{
	uint64_t	records;		/* plugin records received */
	uint64_t	events;			/* events handed to the sink */
	uint64_t	txns;			/* commits seen */
	uint64_t	sessions;		/* replication sessions started */
	uint64_t	last_events;	/* events at the previous stats line */
	int64_t		last_ms;		/* time of the previous stats line */
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
