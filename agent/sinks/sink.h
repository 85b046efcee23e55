/*
 * sink.h
 *		Where events go: one interface every sink implements, the registry
 *		of sink kinds (sink_list.h), and the helpers the loop and the
 *		initial load use over all enabled sinks (sink_set).
 *
 * A sink numbers every message it publishes 1, 2, 3... within one open()
 * and reports the contiguous prefix its destination has confirmed
 * (st.published, st.confirmed); ack.c turns those numbers into the flush
 * LSN.  A sink keeps no copy of what it published: a message that is lost
 * or refused is replayed from the replication slot, which is why a failed
 * sink ends the whole replication session (loop.c).
 *
 * Adding a sink is its file group in sinks/ (a struct sink_kind, its ops,
 * its settings section) and one line in sink_list.h; nothing in generic
 * code names a sink (docs/architecture.md, "How to add a sink").
 */
#ifndef WALCAST_SINK_H
#define WALCAST_SINK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "strbuf.h"

struct config_section;
struct sink_kind;

enum sink_status
{
	SINK_OK,
	SINK_RETRY,					/* lost connection, nack...: reconnect and replay */
	SINK_UNREACHABLE,			/* could not connect or log in */
	SINK_FATAL,					/* retrying cannot help (bad exchange, fail policy) */
	SINK_CONFIG,				/* retrying cannot help, and the configuration
								 * is why (the broker refused a declaration,
								 * none of the brokers was ever reached):
								 * exit 1 */
	SINK_REFUSED				/* retrying cannot help, because of one change
								 * (st.refused_lsn, 0 for a load's row): the
								 * slot would send it again after every
								 * restart (--skip-lsn) */
};

struct sink_stats
{
	uint64_t	published;		/* last sequence number handed out */
	uint64_t	confirmed;		/* every message <= this is confirmed */
	uint64_t	inflight_events;	/* events in published, unconfirmed messages */
	uint64_t	inflight_bytes;
	uint64_t	events;			/* totals since the agent started */
	uint64_t	messages;
	uint64_t	bytes;			/* payload bytes of those messages */
	uint64_t	nacks;			/* messages the destination refused */
	uint64_t	returned;		/* unroutable messages dropped (policy drop) */
	bool		blocked;		/* the destination asked us to stop sending */
	bool		full;			/* its connection cannot take another message
								 * now without waiting on the network */
	uint64_t	refused_lsn;	/* with SINK_REFUSED: the change's LSN */

	/*
	 * Kept by sink_set.c, not by the sinks: events handed over per kind
	 * (enum event_op), messages confirmed since the agent started (the
	 * session's confirmed prefixes summed), and the connection's state:
	 * connected between a successful open and close or a failure; down
	 * from a failure (or a failed open) until an open succeeds.
	 */
	uint64_t	by_op[EVENT_OTHER + 1];
	uint64_t	confirms;
	uint64_t	confirms_counted;	/* confirmed as of the last count */
	bool		connected;
	bool		down;
	uint64_t	reconnects;		/* sessions lost to its failure (run.c) */
};

struct sink;

/*
 * A figure of a sink's own, beyond struct sink_stats, for /metrics: its
 * full Prometheus name (a counter: ..._total), help, and value; a gauge
 * says so in type, and may carry one label (the RabbitMQ node in use),
 * whose value is copied here because the endpoint renders a copy of it
 * after the sink may have moved on.
 */
#define SINK_COUNTER_LABEL_MAX 300
struct sink_counter
{
	const char *name;
	const char *help;
	uint64_t	value;
	const char *type;			/* NULL: "counter"; or "gauge" */
	const char *label;			/* NULL: none */
	char		label_value[SINK_COUNTER_LABEL_MAX];
};

/* At most this many per sink. */
#define SINK_MAX_COUNTERS 4

struct sink_ops
{
	enum sink_status (*open) (struct sink *s, char *err, size_t errlen);

	/*
	 * Hand over one event (not BEGIN/COMMIT).  Events may be held back for
	 * batching; held events count in flight (st.inflight_*).
	 */
	enum sink_status (*publish) (struct sink *s, const struct event *ev,
								 char *err, size_t errlen);
	/*
	 * The transaction (or standalone message) is complete: send what is
	 * held, or keep holding it with st.published already counting the
	 * message that will carry it (the tracker records the unit with that
	 * number: it must not be confirmed before that message is).
	 */
	enum sink_status (*end_txn) (struct sink *s, char *err, size_t errlen);

	/*
	 * Read whatever the destination sent (confirms, returns, flow control)
	 * and write what is queued, without waiting longer than a bounded
	 * write; st is up to date afterwards.  Called at least once a second.
	 */
	enum sink_status (*service) (struct sink *s, char *err, size_t errlen);

	/*
	 * The descriptor to poll for service(), or -1; with st.full, events
	 * include POLLOUT, so the loop wakes when the connection drains.
	 */
	int			(*pollfd) (struct sink *s, short *events);

	/*
	 * Optional (NULL: none).  The time (clock_now_ms) by which service()
	 * must run because something held is due then (a batched message's
	 * linger, an object's age), or -1: the loop's poll() wakes by then.
	 */
	int64_t		(*deadline) (struct sink *s);

	/*
	 * Optional (NULL: nothing is held across a turn of the loop).  The
	 * in-flight window is full, or the agent is stopping: send what is
	 * held of complete units now (and anything held that alone fills the
	 * window; nothing while the destination asked to stop sending), since
	 * held events count in flight and only their confirms make room: the
	 * loop reads nothing until then.
	 */
	enum sink_status (*flush) (struct sink *s, char *err, size_t errlen);

	/* Drop held (unpublished) events and disconnect. */
	void		(*close) (struct sink *s);
	void		(*destroy) (struct sink *s);
};

struct sink
{
	const struct sink_ops *ops;
	const struct sink_kind *kind;
	const struct agent_config *cfg;
	struct sink_stats st;
};

/* One kind of sink: a line of the registry (sink_list.h). */
struct sink_kind
{
	const char *name;			/* "amqp": the startup line, messages */
	const struct config_section *config;	/* its settings, or NULL */

	/*
	 * Whether the configuration enables it.  A fallback kind (stdout) has
	 * none: it is enabled when no other kind is.
	 */
	bool		(*configured) (const struct agent_config *cfg);
	bool		fallback;

	/* A new sink; nothing is connected until open(). */
	struct sink *(*create) (const struct agent_config *cfg, char *err,
							size_t errlen);

	/* What it needs events to carry (the decoder asks its plugin). */
	struct event_needs needs;

	/*
	 * Or, when its settings decide (RabbitMQ needs the key only with
	 * partitions): fills *needs for cfg; NULL: needs above.
	 */
	void		(*needs_for) (const struct agent_config *cfg,
							  struct event_needs *needs);

	/*
	 * Its own counters for the stats: line, appended as " name=value"
	 * (NULL: none beyond the common ones).
	 */
	void		(*stats) (const struct sink *s, struct strbuf *line);

	/*
	 * Its own counters for /metrics (obs/): fills out[0..max-1] and
	 * returns how many (NULL: none beyond the common ones).
	 */
	int			(*counters) (const struct sink *s, struct sink_counter *out,
							 int max);
};

/*
 * For sinks: one message carrying events events and bytes bytes was
 * handed to the destination (the next sequence number, unconfirmed).
 */
static inline void
sink_count_published(struct sink *s, uint64_t events, uint64_t bytes)
{
	s->st.published++;
	s->st.messages++;
	s->st.bytes += bytes;
	s->st.events += events;
	s->st.inflight_events += events;
	s->st.inflight_bytes += bytes;
}

/*
 * For sinks: the change at lsn (its record's "lsn") cannot be taken now
 * nor on any replay (a body that cannot be rendered, a document the
 * server refuses).
 */
static inline enum sink_status
sink_refuse(struct sink *s, uint64_t lsn)
{
	s->st.refused_lsn = lsn;
	return SINK_REFUSED;
}

/* The registry: every kind, in sink_list.h's order (also the ack order). */
extern int	sink_kind_count(void);
extern const struct sink_kind *sink_kind_at(int i);

/* Whether cfg enables kind (a fallback: when it enables no other kind). */
extern bool sink_kind_enabled(const struct sink_kind *kind,
							  const struct agent_config *cfg);

/* What the enabled sinks need events to carry, together. */
extern void sink_needs(const struct agent_config *cfg,
					   struct event_needs *needs);

/* The enabled kinds' names joined by " and " ("amqp and mongo"). */
extern void sink_describe(const struct agent_config *cfg, char *buf,
						  size_t len);

/* ---- the enabled sinks, as one (sink_set.c) ---- */

struct sink_set
{
	struct sink **sinks;		/* in registry order */
	int			n;
	uint64_t   *published;		/* per sink, after sink_set_end_txn */
	uint64_t   *confirmed;		/* per sink, after sink_set_confirmed */
	uint64_t	refused_lsn;	/* after SINK_REFUSED: the sink's refused_lsn */
};

/* Create every enabled sink (none connected); false with err set. */
extern bool sink_set_create(struct sink_set *set,
							const struct agent_config *cfg, char *err,
							size_t errlen);
extern void sink_set_destroy(struct sink_set *set);

/* Open every sink; on failure the ones opened are closed again. */
extern enum sink_status sink_set_open(struct sink_set *set, char *err,
									  size_t errlen);
extern void sink_set_close(struct sink_set *set);

/* To every sink, in order; the first failure stops it. */
extern enum sink_status sink_set_publish(struct sink_set *set,
										 const struct event *ev, char *err,
										 size_t errlen);

/* Every sink ends the unit; set->published holds their sequence numbers. */
extern enum sink_status sink_set_end_txn(struct sink_set *set, char *err,
										 size_t errlen);
extern enum sink_status sink_set_service(struct sink_set *set, char *err,
										 size_t errlen);

/*
 * wait (ms from now, clock_now_ms), shortened so that a poll() wakes when
 * something a sink holds falls due (ops.deadline); never below 0.
 */
extern int64_t sink_set_wait(struct sink_set *set, int64_t now, int64_t wait);

/* Every sink sends what it holds (ops.flush): the window is full, or a stop. */
extern enum sink_status sink_set_flush(struct sink_set *set, char *err,
									   size_t errlen);

/* The sinks' descriptors into pfd[*nfd...] (room for set->n entries). */
extern void sink_set_pollfds(struct sink_set *set, struct pollfd *pfd,
							 int *nfd);

/* Every sink has room (one full or blocked sink holds everything back). */
extern bool sink_set_have_room(const struct sink_set *set,
							   uint64_t max_events, uint64_t max_bytes);

/* Published but not yet confirmed, over all sinks. */
extern uint64_t sink_set_unconfirmed(const struct sink_set *set);

/* The sinks' confirmed prefixes, in order (set->confirmed). */
extern const uint64_t *sink_set_confirmed(struct sink_set *set);

/* Every sink's own counters for the stats: line. */
extern void sink_set_stats(const struct sink_set *set, struct strbuf *line);

#endif							/* WALCAST_SINK_H */
