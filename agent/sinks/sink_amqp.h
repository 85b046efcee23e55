/*
 * sink_amqp.h
 *		Internals shared by the RabbitMQ sink's files: sink_amqp.c
 *		(publishing, publisher confirms, partitions; the registry's kind),
 *		sink_amqp_batch.c (the open batched message: --batch transaction
 *		and window), sink_amqp_conn.c (the brokers in turn, URI, TLS,
 *		login), sink_amqp_declare.c (the exchange and the queues: types,
 *		partitions) and sink_amqp_config.c (its settings).
 */
#ifndef WALCAST_SINK_AMQP_H
#define WALCAST_SINK_AMQP_H

#include <amqp.h>
#include <time.h>

#include "event.h"
#include "route.h"
#include "sink.h"

/*
 * --batch: one message per event, a transaction's events per message, or
 * consecutive transactions' events per message for at most
 * batch_linger_ms (both capped by batch_max_events/bytes).
 */
enum sink_amqp_batch_mode
{
	SINK_AMQP_BATCH_CHANGE,
	SINK_AMQP_BATCH_TRANSACTION,
	SINK_AMQP_BATCH_WINDOW
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
	enum sink_amqp_batch_mode batch;
	int			batch_max_events;
	size_t		batch_max_bytes;
	int			batch_linger_ms;	/* window: the longest an event is held */
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

/* An event's commit time in Unix seconds (the record's "ts"). */
static inline uint64_t
sink_amqp_event_time(const struct event *ev)
{
	if (ev->ts_us > 0)
		return (uint64_t) (ev->ts_us / 1000000);
	/* non-transactional messages carry no commit time */
	return (uint64_t) time(NULL);
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

/*
 * What a batched message's headers say about all of its entries: schema,
 * table and op only when every entry has the same; the first entry's LSN
 * and commit time; the xid when every entry has the same (-1: left out).
 */
struct sink_amqp_batch_meta
{
	char		schema[128];
	char		table[128];
	const char *op;				/* static string from event_op_name */
	bool		has_schema;		/* every entry so far had this schema... */
	bool		has_table;
	bool		same_op;
	uint64_t	lsn;
	int64_t		xid;
	uint64_t	ts;				/* commit time, Unix seconds */
};

/*
 * One part of the open message (sink_amqp_batch.c): the entries of
 * complete units (transactions, standalone messages, a load's chunks), or
 * those of the unit still being read.
 */
struct sink_amqp_part
{
	size_t		start;			/* offset of its first entry in the body */
	uint32_t	count;			/* entries */
	uint32_t	events;			/* events they count: a TRUNCATE's copy to
								 * another partition counts none */
	uint64_t	held;			/* bytes they count in flight */
	int64_t		since_ms;		/* when its first entry was held */
	char		id[SINK_AMQP_ID_BUFLEN];	/* its first entry's id */
	struct sink_amqp_batch_meta meta;
};

/* A message the open batch hands to be sent. */
struct sink_amqp_msg
{
	const char *key;
	const char *id;				/* "<first entry's id>+<count>" */
	const char *body;			/* the JSON array */
	size_t		len;
	uint32_t	count;
	uint32_t	events;
	uint64_t	held;			/* bytes counted in flight since held */
	const struct sink_amqp_batch_meta *meta;
};

/*
 * Hands m to the broker and tracks its confirm (the batch counts it in
 * the sink's figures once sent); ctx is the batch's.  A pointer so that
 * the batching is tested without a broker (test/test_sink_amqp_batch.c).
 */
typedef enum sink_status (*sink_amqp_send_fn) (void *ctx,
											   const struct sink_amqp_msg *m,
											   char *err, size_t errlen);

/*
 * The open batched message: a JSON array being filled ('[' and the
 * entries joined by ','; the ']' is added when it is sent) for one
 * routing key.  done is the part of complete units, cur the unit being
 * read, which follows it in the body.
 */
struct sink_amqp_batch
{
	struct sink *sink;			/* whose counters it keeps */
	const struct sink_amqp_settings *set;
	sink_amqp_send_fn send;
	void	   *ctx;
	char	   *body;
	size_t		len;
	size_t		cap;
	char		key[ROUTE_KEY_BUFLEN];
	struct sink_amqp_part done;
	struct sink_amqp_part cur;

	/*
	 * done's message has taken its sequence number (st.published): the
	 * units it holds were reported to the tracker with it, so they are
	 * confirmed only once it is sent and confirmed.
	 */
	bool		reserved;
	bool		load;			/* cur holds rows of the initial load */
};

/* sink_amqp_batch.c: the open message of --batch transaction and window. */
extern void sink_amqp_batch_init(struct sink_amqp_batch *b, struct sink *s,
								 const struct sink_amqp_settings *set,
								 sink_amqp_send_fn send, void *ctx);
extern void sink_amqp_batch_free(struct sink_amqp_batch *b);

/* Forget what is held (a closed session: the slot sends it again). */
extern void sink_amqp_batch_drop(struct sink_amqp_batch *b);

/*
 * Hold ev's body (len bytes, already rendered) for key; id is its message
 * id, events what it counts.  Sends first what the caps or the key close.
 */
extern enum sink_status sink_amqp_batch_add(struct sink_amqp_batch *b,
											const struct event *ev,
											const char *key, const char *id,
											uint32_t events, const char *body,
											size_t len, int64_t now_ms,
											char *err, size_t errlen);

/* The unit ended: send, or keep it open with its sequence number taken. */
extern enum sink_status sink_amqp_batch_end(struct sink_amqp_batch *b,
											int64_t now_ms, char *err,
											size_t errlen);

/* When the open message's linger ends (clock_now_ms), or -1. */
extern int64_t sink_amqp_batch_deadline(const struct sink_amqp_batch *b);

/* Send the complete units once their linger has ended. */
extern enum sink_status sink_amqp_batch_expire(struct sink_amqp_batch *b,
											   int64_t now_ms, char *err,
											   size_t errlen);

/*
 * The in-flight window is full, or the agent stops: send the complete
 * units, and the unit being read if it alone fills the window.
 */
extern enum sink_status sink_amqp_batch_flush(struct sink_amqp_batch *b,
											  char *err, size_t errlen);

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

	/* --batch transaction and window: the open message. */
	struct sink_amqp_batch batch;
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
