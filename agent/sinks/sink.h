/*
 * sink.h
 *		Where events go: a small interface so that RabbitMQ (sink_amqp.c),
 *		stdout (sink_stdout.c) and the MongoDB mirror (sink_mongo.c) look
 *		alike to the main loop, which feeds every enabled sink each event.
 *
 * A sink numbers every message it publishes 1, 2, 3... within one open()
 * and reports the contiguous prefix its destination has confirmed
 * (st.published, st.confirmed); ack.c turns those numbers into the flush LSN.
 * A sink keeps no copy of what it published: a message that is lost or
 * refused is replayed from the replication slot, which is why a failed sink
 * ends the whole replication session (see loop.c).
 */
#ifndef WALCAST_SINK_H
#define WALCAST_SINK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

enum sink_status
{
	SINK_OK,
	SINK_RETRY,					/* lost connection, nack...: reconnect and replay */
	SINK_UNREACHABLE,			/* could not connect or log in */
	SINK_FATAL					/* retrying cannot help (bad exchange, fail policy) */
};

struct sink_stats
{
	uint64_t	published;		/* last sequence number handed out */
	uint64_t	confirmed;		/* every message <= this is confirmed */
	uint64_t	inflight_events;	/* events in published, unconfirmed messages */
	uint64_t	inflight_bytes;
	uint64_t	events;			/* totals since the agent started */
	uint64_t	messages;
	uint64_t	returned;		/* unroutable messages dropped (policy drop) */
	bool		blocked;		/* the destination asked us to stop sending */
};

struct sink;

struct sink_ops
{
	const char *name;
	enum sink_status (*open) (struct sink *s, char *err, size_t errlen);

	/*
	 * Hand over one event (not BEGIN/COMMIT).  Events of a transaction may
	 * be held back for batching until end_txn.
	 */
	enum sink_status (*publish) (struct sink *s, const struct event *ev,
								 char *err, size_t errlen);
	/* The transaction (or standalone message) is complete: send what is held. */
	enum sink_status (*end_txn) (struct sink *s, char *err, size_t errlen);

	/*
	 * Read whatever the destination sent (confirms, returns, flow control)
	 * without blocking; st is up to date afterwards.
	 */
	enum sink_status (*service) (struct sink *s, char *err, size_t errlen);

	/* The descriptor to poll for service(), or -1. */
	int			(*pollfd) (struct sink *s, short *events);

	/* Drop held (unpublished) events and disconnect. */
	void		(*close) (struct sink *s);
	void		(*destroy) (struct sink *s);
};

struct sink
{
	const struct sink_ops *ops;
	const struct agent_config *cfg;
	struct sink_stats st;
};

/* Constructors: nothing is connected until open(). */
extern struct sink *sink_amqp_new(const struct agent_config *cfg,
								  char *err, size_t errlen);
extern struct sink *sink_stdout_new(const struct agent_config *cfg,
									char *err, size_t errlen);
extern struct sink *sink_mongo_new(const struct agent_config *cfg,
								   char *err, size_t errlen);
/* What the enabled sinks need events to carry (the decoder asks for it). */
extern void sink_needs(const struct agent_config *cfg, struct event_needs *needs);

/* Changes of tables without a key that the mirror skipped (policy skip). */
extern uint64_t sink_mongo_skipped(const struct sink *s);

#endif							/* WALCAST_SINK_H */
