/*
 * sink_amqp.h
 *		Internals shared by the RabbitMQ sink's files: sink_amqp.c
 *		(publishing, batching, publisher confirms; the registry's kind),
 *		sink_amqp_conn.c (URI, TLS, login, exchange/queue declarations) and
 *		sink_amqp_config.c (its settings).
 */
#ifndef WALCAST_SINK_AMQP_H
#define WALCAST_SINK_AMQP_H

#include <amqp.h>

#include "event.h"
#include "route.h"
#include "sink.h"

/* --batch: one message per event, or a transaction's events per message. */
enum sink_amqp_batch
{
	SINK_AMQP_BATCH_CHANGE,
	SINK_AMQP_BATCH_TRANSACTION	/* capped by batch_max_events/bytes */
};

/* --on-return: what an unroutable (returned) message does. */
enum sink_amqp_on_return
{
	SINK_AMQP_ON_RETURN_FAIL,	/* a fatal error */
	SINK_AMQP_ON_RETURN_DROP,	/* count it, warn, carry on */
	SINK_AMQP_ON_RETURN_ALTERNATE	/* the broker reroutes it (alternate-exchange) */
};

/* Its settings block (sink_amqp_config.c); names are the setting keys. */
struct sink_amqp_settings
{
	char	   *amqp_uri;		/* NULL = the sink is not enabled */
	char	   *amqp_cacert;	/* NULL when unset, likewise below */
	char	   *amqp_cert;
	char	   *amqp_key;
	bool		amqp_verify_peer;
	bool		amqp_verify_hostname;
	int			amqp_heartbeat; /* seconds, 0 = off */
	char	   *exchange;
	bool		exchange_passive;
	char	   *routing_key;	/* template, already checked by route_compile */
	char	   *queue;			/* NULL = declare no queue */
	char	   *queue_binding_key;
	enum sink_amqp_batch batch;
	int			batch_max_events;
	size_t		batch_max_bytes;
	enum sink_amqp_on_return on_return;
	char	   *alternate_exchange; /* set whenever on_return is ALTERNATE */
};

extern const struct config_section sink_amqp_config;
extern const struct sink_amqp_settings *sink_amqp_settings(const struct agent_config *cfg);

/*
 * A copy of an amqp(s):// URI with the password replaced by "****",
 * rebuilt from amqp_parse_url's fields; "****" alone when it does not
 * parse.  malloc'd.
 */
extern char *sink_amqp_mask_uri(const char *uri);

/*
 * The limit in RabbitMQ's refusal of a message larger than its
 * max_message_size (a channel.close text, "... message size N is larger
 * than [configured] max size M"): true and *max = M, or false for any
 * other text.
 */
extern bool sink_amqp_max_size_of(const char *text, size_t *max);

/* The one channel the agent publishes on. */
#define SINK_AMQP_CHANNEL 1

/* A published message awaiting its confirm. */
struct sink_amqp_pending
{
	uint32_t	events;
	uint32_t	acked;			/* bool; confirmed but an older one is not */
	uint64_t	bytes;
};

/* What the first event of a batch says about the whole batch. */
struct sink_amqp_batch_meta
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

struct sink_amqp
{
	struct sink base;
	const struct sink_amqp_settings *set;
	struct route_template *route;
	amqp_connection_state_t conn;
	bool		healthy;		/* no error since connecting: close politely */
	size_t		room;			/* send buffer bytes known free (a lower
								 * bound: sink_amqp_room.c) */
	char	   *host;			/* for messages: never the full URI */
	int			port;

	/*
	 * The broker's max_message_size, once it refused a message for it
	 * (0 = not known): kept across sessions, so that the replay refuses
	 * the change itself, named, instead of publishing it again forever.
	 */
	size_t		max_message_size;


	/*
	 * Published, unconfirmed messages, oldest first: entry i has delivery
	 * tag first_tag + i.  Confirms usually come in order, but each one is
	 * marked individually so an out-of-order ack is never lost.
	 */
	struct sink_amqp_pending *ring;
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
	struct sink_amqp_batch_meta batch_meta;
};

extern enum sink_status sink_amqp_connect(struct sink_amqp *as, char *err,
										  size_t errlen);
extern void sink_amqp_disconnect(struct sink_amqp *as, bool graceful);

/*
 * sink_amqp_room.c: wait (bounded) until a message of len bytes fits in the
 * socket's send buffer, so rabbitmq-c's unbounded write never waits; and
 * st.full after a publish or a read.
 */
extern enum sink_status sink_amqp_make_room(struct sink_amqp *as, size_t len,
											char *err, size_t errlen);
extern void sink_amqp_update_full(struct sink_amqp *as);

/* Describe a failed rabbitmq-c RPC in one line. */
extern void sink_amqp_reply_error(amqp_rpc_reply_t r, const char *what,
								  char *err, size_t errlen);

#endif							/* WALCAST_SINK_AMQP_H */
