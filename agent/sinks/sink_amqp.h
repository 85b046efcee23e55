/*
 * sink_amqp.h
 *		Internals shared by the RabbitMQ sink's two files: sink_amqp.c
 *		(publishing, batching, publisher confirms) and sink_amqp_conn.c
 *		(URI, TLS, login, exchange/queue declarations).
 */
#ifndef WALCAST_SINK_AMQP_H
#define WALCAST_SINK_AMQP_H

#include <amqp.h>

#include "event.h"
#include "route.h"
#include "sink.h"

/* The one channel the agent publishes on. */
#define SINK_AMQP_CHANNEL 1

/* A published message awaiting its confirm. */
struct amqp_pending
{
	uint32_t	events;
	uint32_t	acked;			/* bool; confirmed but an older one is not */
	uint64_t	bytes;
};

/* What the first event of a batch says about the whole batch. */
struct amqp_batch_meta
{
	char		schema[128];
	char		table[128];
	const char *op;				/* static string from event_op_name */
	bool		has_schema;		/* every event so far had this schema... */
	bool		has_table;
	bool		same_op;
	uint64_t	lsn;
	int64_t		xid;
	uint64_t	ts;				/* commit time, Unix seconds */
};

struct amqp_sink
{
	struct sink base;
	struct route_template *route;
	amqp_connection_state_t conn;
	bool		healthy;		/* no error since connecting: close politely */
	char	   *host;			/* for messages: never the full URI */
	int			port;

	/*
	 * Published, unconfirmed messages, oldest first: entry i has delivery
	 * tag first_tag + i.  Confirms usually come in order, but each one is
	 * marked individually so an out-of-order ack is never lost.
	 */
	struct amqp_pending *ring;
	size_t		cap;			/* a power of two */
	size_t		head;
	size_t		count;
	uint64_t	first_tag;

	/* --batch transaction: the JSON array being filled. */
	char	   *batch;
	size_t		batch_len;
	size_t		batch_cap;
	uint32_t	batch_count;
	char		batch_key[ROUTE_KEY_BUFLEN];
	char		batch_id[EVENT_MESSAGE_ID_BUFLEN];
	struct amqp_batch_meta batch_meta;
};

extern enum sink_status sink_amqp_connect(struct amqp_sink *as, char *err,
										  size_t errlen);
extern void sink_amqp_disconnect(struct amqp_sink *as, bool graceful);

/* Describe a failed rabbitmq-c RPC in one line. */
extern void sink_amqp_reply_error(amqp_rpc_reply_t r, const char *what,
								  char *err, size_t errlen);

#endif							/* WALCAST_SINK_AMQP_H */
