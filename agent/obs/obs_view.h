/*
 * obs_view.h
 *		The view the HTTP endpoint renders: a copy of the agent's figures,
 *		owned by whoever holds it (the shared one in struct obs, or a
 *		request's copy), and the decisions made from it: readiness, health
 *		and lag (obs_view.c).  Rendering (obs_metrics.c, obs_status.c) and
 *		the decisions are pure functions of a view and the time, so that
 *		unit tests can feed them any state.
 */
#ifndef WALCAST_OBS_VIEW_H
#define WALCAST_OBS_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "sink.h"

/* Sinks in a view: at most one of each kind (sink_list.h). */
#define OBS_MAX_SINKS 8

/* PostgreSQL's wal_status of the slot (pg_replication_slots). */
enum obs_wal_status
{
	OBS_WAL_UNKNOWN = -1,		/* not checked yet, or no such slot */
	OBS_WAL_RESERVED,
	OBS_WAL_EXTENDED,
	OBS_WAL_UNRESERVED,
	OBS_WAL_LOST,
	OBS_WAL_NSTATUS
};

/* "reserved", "extended", "unreserved", "lost", or NULL. */
extern const char *obs_wal_status_name(enum obs_wal_status s);
extern enum obs_wal_status obs_wal_status_parse(const char *name);

/* What the side connection's thread (watch/) found. */
struct obs_watch_view
{
	/* the slot, every --slot-check-interval */
	int			slot_check_interval;	/* seconds, 0 = off */
	bool		slot_found;		/* the last check found the slot */
	int64_t		retained_bytes; /* pg_current_wal_lsn() - restart_lsn */
	bool		retained_known; /* restart_lsn was not NULL */
	enum obs_wal_status wal_status;
	bool		safe_known;		/* safe_wal_size was not NULL */
	int64_t		safe_wal_size;
	uint64_t	check_errors;

	/* heartbeats, every --heartbeat-interval */
	int			heartbeat_interval; /* seconds, 0 = off */
	bool		heartbeat_on;	/* still on (a missing privilege ends them) */
	uint64_t	heartbeats;
	uint64_t	heartbeat_errors;
	uint64_t	last_heartbeat_lsn; /* where the last one was written, 0 */
};

struct obs_sink_view
{
	const char *name;			/* the kind's name, static */
	uint64_t	by_op[EVENT_OTHER + 1];
	uint64_t	messages;
	uint64_t	bytes;
	uint64_t	confirms;
	uint64_t	nacks;
	uint64_t	returns;
	uint64_t	inflight_events;
	uint64_t	inflight_bytes;
	uint64_t	reconnects;
	bool		connected;
	bool		blocked;
	bool		down;			/* failed, not open again since */
	struct sink_counter counters[SINK_MAX_COUNTERS];	/* names static */
	int			ncounters;
};

struct obs_table_view
{
	char	   *name;			/* owned */
	int64_t		estimated;
	uint64_t	rows;
	uint64_t	rows_total;
	bool		done;
};

struct obs_view
{
	/* fixed at start */
	const char *version;		/* static */
	char		slot[64];
	char		plugin[64];

	/* the loop's, through obs_publish */
	enum agent_phase phase;
	int64_t		published_ms;	/* monotonic clock of the last publish */
	uint64_t	received_lsn;
	uint64_t	confirmed_lsn;
	uint64_t	server_wal_end;
	uint64_t	transactions;
	uint64_t	heartbeats_received;
	uint64_t	pg_reconnects;
	struct agent_lag lag;
	int			nsinks;
	struct obs_sink_view sinks[OBS_MAX_SINKS];

	/* the load's: tables owned by the view */
	uint64_t	load_version;	/* of struct agent_load, as copied */
	int			ntables;
	int			tables_done;
	struct obs_table_view *tables;

	/* the watch thread's, through obs_publish_watch */
	struct obs_watch_view watch;
};

/*
 * dst = a deep copy of src (dst's tables freed first); false when out of
 * memory (dst keeps no tables then).
 */
extern bool obs_view_copy(struct obs_view *dst, const struct obs_view *src);
extern void obs_view_free(struct obs_view *v);

/* Replace v's tables by copies of the load's; false when out of memory. */
extern bool obs_view_set_tables(struct obs_view *v,
								const struct agent_load *load);

/*
 * Why the agent is not ready (a /readyz reason: starting, connecting,
 * loading, sink_disconnected, broker_blocked, slot_lost, stopping), or
 * NULL when it is: streaming with every sink connected and not blocked.
 */
extern const char *obs_view_not_ready(const struct obs_view *v);

/*
 * While streaming, the loop publishes at least every second: when it has
 * not for this long, /healthz says it is stalled.
 */
#define OBS_STALL_MS 60000

/*
 * Whether the main thread still runs its loop, at now_ms (monotonic):
 * always while a session is set up (which may rightly wait long).
 */
extern bool obs_view_healthy(const struct obs_view *v, int64_t now_ms);

/* The two stages of walcast_lag_seconds. */
enum obs_lag_stage
{
	OBS_LAG_RECEIVED,
	OBS_LAG_CONFIRMED
};

/*
 * Lag in seconds at now_us (wall clock): how long ago the newest moment
 * lies up to which every committed transaction was received (confirmed by
 * every sink).  false while unknown (nothing received and never caught
 * up).  See docs/operations.md and obs_view.c for the definition.
 */
extern bool obs_view_lag(const struct obs_view *v, enum obs_lag_stage stage,
						 int64_t now_us, double *seconds);

#endif							/* WALCAST_OBS_VIEW_H */
