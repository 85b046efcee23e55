/*
 * sink_amqp.h
 *		Internals shared by the RabbitMQ sink's files: sink_amqp.c
 *		(publishing, batching, publisher confirms, partitions; the
 *		registry's kind), sink_amqp_conn.c (the brokers in turn, URI, TLS,
 *		login), sink_amqp_declare.c (the exchange and the queues: types,
 *		partitions) and sink_amqp_config.c (its settings).
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

/* --queue-type: x-queue-type of the queues the agent declares. */
enum sink_amqp_queue_type
{
	SINK_AMQP_QUEUE_CLASSIC,	/* declared without x-queue-type, as before */
	SINK_AMQP_QUEUE_QUORUM,
	SINK_AMQP_QUEUE_STREAM
};

/* Its settings block (sink_amqp_config.c); names are the setting keys. */
struct sink_amqp_settings
{
	char	   *amqp_uri;		/* NULL = the sink is not enabled; several
								 * brokers comma-separated (CONFIG_MULTI) */
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
	enum sink_amqp_queue_type queue_type;
	size_t		queue_max_length_bytes; /* streams: x-max-length-bytes, 0 unset */
	char	   *queue_max_age;	/* streams: x-max-age ("7D"), NULL unset */
	int			partitions;		/* 0 = off, else queues <queue>-0.. */
	enum sink_amqp_batch batch;
	int			batch_max_events;
	size_t		batch_max_bytes;
	enum sink_amqp_on_return on_return;
	char	   *alternate_exchange; /* set whenever on_return is ALTERNATE */
};

extern const struct config_section sink_amqp_config;
extern const struct sink_amqp_settings *sink_amqp_settings(const struct agent_config *cfg);

/*
 * The routing-key template in force: with partitions, the default
 * template becomes "{partition}" (each partition's queue is bound by its
 * number); otherwise routing_key as set.
 */
#define SINK_AMQP_PARTITION_TEMPLATE "{partition}"
extern const char *sink_amqp_route_template(const struct sink_amqp_settings *set);

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

/*
 * An AMQP field table being filled: a message's headers, a declaration's
 * arguments.  Keys and string values are borrowed: they must outlive the
 * call the table goes to.
 */
#define SINK_AMQP_TABLE_MAX 6
struct sink_amqp_table
{
	amqp_table_entry_t e[SINK_AMQP_TABLE_MAX];
	int			n;
};

/* A string entry; a NULL value is left out. */
static inline void
sink_amqp_table_str(struct sink_amqp_table *t, const char *key, const char *value)
{
	if (value == NULL)
		return;
	t->e[t->n].key = amqp_cstring_bytes(key);
	t->e[t->n].value.kind = AMQP_FIELD_KIND_UTF8;
	t->e[t->n].value.value.bytes = amqp_cstring_bytes(value);
	t->n++;
}

/* An integer entry: kind AMQP_FIELD_KIND_I64 or _I32, or a boolean. */
static inline void
sink_amqp_table_num(struct sink_amqp_table *t, const char *key, uint8_t kind,
					int64_t value)
{
	t->e[t->n].key = amqp_cstring_bytes(key);
	t->e[t->n].value.kind = kind;
	if (kind == AMQP_FIELD_KIND_I32)
		t->e[t->n].value.value.i32 = (int32_t) value;
	else if (kind == AMQP_FIELD_KIND_BOOLEAN)
		t->e[t->n].value.value.boolean = value != 0;
	else
		t->e[t->n].value.value.i64 = value;
	t->n++;
}

static inline amqp_table_t
sink_amqp_table_of(struct sink_amqp_table *t)
{
	amqp_table_t out;

	out.num_entries = t->n;
	out.entries = t->n > 0 ? t->e : NULL;
	return out;
}

/* A message id: an event's, and a TRUNCATE copy's ":p<partition>". */
#define SINK_AMQP_ID_BUFLEN (EVENT_MESSAGE_ID_BUFLEN + 8)

/* An AMQP short string (a queue's name, a routing key) holds this many bytes. */
#define SINK_AMQP_SHORTSTR_MAX 255

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
	 * The brokers of amqp_uri, in order (sink_amqp_conn.c): the next
	 * connection tries node first, then the others in turn.  A node that
	 * failed hands over to the next one; ever_connected tells a broker
	 * list that never worked (a configuration error, exit 1) from an
	 * outage.
	 */
	char	  **uris;
	int			nuris;
	int			node;
	bool		ever_connected;

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
	uint32_t	batch_count;	/* entries in the array */
	uint32_t	batch_events;	/* events they count: a TRUNCATE's copy to
								 * another partition counts none */
	char		batch_key[ROUTE_KEY_BUFLEN];
	char		batch_id[SINK_AMQP_ID_BUFLEN];
	struct sink_amqp_batch_meta batch_meta;
};

/*
 * sink_amqp_conn.c: connect to the first broker of the list that takes
 * the connection, from as->node on; close, and after a failure of the
 * node, make the next one first.
 */
extern enum sink_status sink_amqp_connect(struct sink_amqp *as, char *err,
										  size_t errlen);
extern void sink_amqp_disconnect(struct sink_amqp *as, bool graceful);
extern void sink_amqp_node_failed(struct sink_amqp *as);

/* "HOST:PORT" of the connection, "[HOST]:PORT" for an IPv6 address. */
extern void sink_amqp_node_name(const struct sink_amqp *as, char *buf,
								size_t len);

/*
 * sink_amqp_declare.c: the exchange and the queues, with their types and
 * the partitions' layout, on the open channel.  A refusal by the broker
 * is SINK_CONFIG (its words quoted); a lost connection SINK_RETRY.
 */
extern enum sink_status sink_amqp_declare(struct sink_amqp *as, char *err,
										  size_t errlen);

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
