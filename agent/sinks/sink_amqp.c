/*
 * sink_amqp.c
 *		The RabbitMQ sink: persistent messages on a topic exchange, mandatory
 *		routing, publisher confirms over a sliding window, and optional
 *		batching (per transaction, or across transactions for a bounded
 *		time).
 *
 * rabbitmq-c 0.11 has no helper to wait for confirms, so service() reads
 * the frames itself: basic.ack (maybe `multiple`), basic.nack, basic.return
 * (always sent before the ack of the same message), connection.blocked and
 * unblocked, and the broker closing the channel or connection.  Reading
 * frames is also what services heartbeats, so the loop calls service() at
 * least once a second.
 *
 * Batching (--batch transaction, --batch window): events go into an open
 * message, a JSON array for one routing key (sink_amqp_batch.c says when
 * it closes and how it keeps the acknowledgement rule), with the id
 * "<first event's id>+<count>".
 *
 * Partitions (--partitions N, docs/partitioning.md): each event goes to
 * its partition's routing key (format/partition.c), so a batch, which
 * holds one routing key, never spans partitions: the next event's
 * partition differing closes it.  A TRUNCATE goes to every partition,
 * one message each with the id "<id>:p<i>", so that every partition's
 * consumer sees it in order with its keys; the transaction is confirmed
 * once all of them are (they are messages like any other for ack.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "config_table.h"
#include "partition.h"
#include "sink_amqp.h"

/* Fields of one outgoing message besides its body. */
struct sink_amqp_out
{
	const char *key;
	const char *message_id;
	const char *schema;			/* NULL: header left out */
	const char *table;
	const char *op;
	uint64_t	lsn;
	int64_t		xid;			/* < 0: header left out */
	uint64_t	ts;
	uint32_t	count;			/* entries in the message; header only if batch */
	uint32_t	events;			/* events it counts for (a TRUNCATE's copy
								 * to another partition: none) */
	uint64_t	held;			/* bytes it counts in flight */
	bool		batch;
};

static bool
sink_amqp_track(struct sink_amqp *as, uint32_t events, uint64_t bytes)
{
	struct sink_amqp_pending *p;

	if (as->count == as->cap)
	{
		size_t		newcap = as->cap ? as->cap * 2 : 1024;
		struct sink_amqp_pending *ring = malloc(newcap * sizeof(*ring));
		size_t		i;

		if (ring == NULL)
			return false;
		for (i = 0; i < as->count; i++)
			ring[i] = as->ring[(as->head + i) & (as->cap - 1)];
		free(as->ring);
		as->ring = ring;
		as->cap = newcap;
		as->head = 0;
	}
	p = &as->ring[(as->head + as->count) & (as->cap - 1)];
	p->events = events;
	p->bytes = bytes;
	p->acked = 0;
	as->count++;
	return true;
}

static enum sink_status
sink_amqp_send(struct sink_amqp *as, const struct sink_amqp_out *o,
			   const char *body, size_t len, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	amqp_basic_properties_t props;
	struct sink_amqp_table h = {0};
	amqp_bytes_t payload;
	char		lsn[LSN_BUFLEN];
	int			rc;
	enum sink_status room;

	lsn_format(o->lsn, lsn, sizeof(lsn));
	sink_amqp_table_str(&h, "schema", o->schema);
	sink_amqp_table_str(&h, "table", o->table);
	sink_amqp_table_str(&h, "op", o->op);
	sink_amqp_table_str(&h, "lsn", lsn);
	if (o->xid >= 0)
		sink_amqp_table_num(&h, "xid", AMQP_FIELD_KIND_I64, o->xid);
	if (o->batch)
		sink_amqp_table_num(&h, "count", AMQP_FIELD_KIND_I32, o->count);

	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
		AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = 2;	/* persistent: survives a broker restart */
	props.message_id = amqp_cstring_bytes(o->message_id);
	props.timestamp = o->ts;
	props.headers = sink_amqp_table_of(&h);
	payload.len = len;
	payload.bytes = (void *) body;

	/* rabbitmq-c's write has no deadline: see sink_amqp_room.c. */
	if ((room = sink_amqp_make_room(as, len, err, errlen)) != SINK_OK)
		return room;

	/*
	 * mandatory: a message no queue takes comes back as basic.return
	 * instead of vanishing, and on_return decides (service()).
	 */
	rc = amqp_basic_publish(as->conn, SINK_AMQP_CHANNEL,
							amqp_cstring_bytes(set->exchange),
							amqp_cstring_bytes(o->key), 1, 0, &props, payload);
	if (rc != AMQP_STATUS_OK)
	{
		snprintf(err, errlen, "lost the RabbitMQ connection while publishing: %s",
				 amqp_error_string2(rc));
		as->healthy = false;
		return SINK_RETRY;
	}
	sink_amqp_update_full(as);
	if (!sink_amqp_track(as, o->events, o->held))
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	/* A batch's events counted in flight when held; the batch counts it. */
	if (!o->batch)
		sink_count_published(&as->base, o->events, len);
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("published %s (%u event%s, %zu bytes) to \"%s\" with key \"%s\": %.*s",
				  o->message_id, o->count, o->count == 1 ? "" : "s", len,
				  set->exchange, o->key, (int) (len > 2000 ? 2000 : len), body);
	return SINK_OK;
}

/*
 * RabbitMQ closes the channel on a message larger than its max_message_size
 * ("PRECONDITION_FAILED - message size N is larger than [configured] max
 * size M", rabbit_channel's check_msg_size), and AMQP has no other way to
 * learn that size.  Remember M: the replay then stops at the change
 * itself (sink_amqp_publish) instead of reconnecting forever.
 */
bool
sink_amqp_max_size_of(const char *text, size_t *max)
{
	const char *p = strstr(text, "max size ");
	unsigned long long v;

	if (strstr(text, "message size ") == NULL || p == NULL ||
		sscanf(p, "max size %llu", &v) != 1 || v == 0)
		return false;
	*max = (size_t) v;
	return true;
}

static void
sink_amqp_learn_max_size(struct sink_amqp *as, const char *text)
{
	if (!sink_amqp_max_size_of(text, &as->max_message_size))
		return;
	log_warning("RabbitMQ takes messages of at most %zu bytes (max_message_size): a change whose message is larger stops the agent, named",
				as->max_message_size);
}

/* Whether a message of len bytes is one the broker already said it refuses. */
static bool
sink_amqp_too_large(const struct sink_amqp *as, size_t len, char *err,
					size_t errlen)
{
	if (as->max_message_size == 0 || len <= as->max_message_size)
		return false;
	snprintf(err, errlen,
			 "its message is %zu bytes, more than RabbitMQ's max_message_size (%zu bytes); the slot stays before it: raise max_message_size on the broker",
			 len, as->max_message_size);
	return true;
}

/* The open batch's message to the broker (sink_amqp_send_fn). */
static enum sink_status
sink_amqp_send_batch(void *ctx, const struct sink_amqp_msg *m, char *err,
					 size_t errlen)
{
	struct sink_amqp *as = ctx;
	const struct sink_amqp_batch_meta *meta = m->meta;
	struct sink_amqp_out o;

	/* each event alone fits (sink_amqp_publish): the batch is too large */
	if (sink_amqp_too_large(as, m->len, err, errlen))
	{
		char		at[LSN_BUFLEN];

		lsn_format(meta->lsn, at, sizeof(at));
		snprintf(err + strlen(err), errlen - strlen(err),
				 ", or lower batch_max_bytes below it (a batch of %u events from LSN %s)",
				 m->count, at);
		return SINK_FATAL;
	}
	memset(&o, 0, sizeof(o));
	o.key = m->key;
	o.message_id = m->id;
	o.schema = meta->has_schema ? meta->schema : NULL;
	o.table = meta->has_table ? meta->table : NULL;
	o.op = meta->same_op ? meta->op : NULL;
	o.lsn = meta->lsn;
	o.xid = meta->xid;
	o.ts = meta->ts;
	o.count = m->count;
	o.events = m->events;
	o.held = m->held;
	o.batch = true;
	return sink_amqp_send(as, &o, m->body, m->len, err, errlen);
}

/*
 * ev's message to partition part (< 0: partitions are off), or with
 * fanout one of a TRUNCATE's copies: its id names the partition, and only
 * the first counts the event.
 */
static enum sink_status
sink_amqp_publish_to(struct sink_amqp *as, const struct event *ev, int part,
					 bool fanout, const char *body, size_t len, char *err,
					 size_t errlen)
{
	char		key[ROUTE_KEY_BUFLEN];
	char		id[SINK_AMQP_ID_BUFLEN];
	uint32_t	events = !fanout || part == 0 ? 1 : 0;
	struct sink_amqp_out o;

	event_message_id(ev, id, sizeof(id));
	if (!route_render(as->route, ev, part, key, sizeof(key)))
	{
		snprintf(err, errlen,
				 "routing key for event %s is longer than %d bytes (routing_key template \"%s\")",
				 id, ROUTE_KEY_MAX, as->set->routing_key);
		return SINK_FATAL;
	}
	if (fanout)
		snprintf(id + strlen(id), sizeof(id) - strlen(id), ":p%d", part);
	if (as->set->batch != SINK_AMQP_BATCH_CHANGE)
		return sink_amqp_batch_add(&as->batch, ev, key, id, events, body, len,
								   clock_now_ms(), err, errlen);

	memset(&o, 0, sizeof(o));
	o.key = key;
	o.message_id = id;
	o.schema = ev->schema;
	o.table = ev->table;
	o.op = event_op_name(ev->op);
	o.lsn = ev->lsn;
	o.xid = ev->xid;
	o.ts = sink_amqp_event_time(ev);
	o.count = 1;
	o.events = events;
	o.held = len;
	return sink_amqp_send(as, &o, body, len, err, errlen);
}

/*
 * ev's body.  A window message's boundaries depend on timing, so a replay
 * may put an event in a message with another id: each event carries its
 * own (envelope_render_id) for consumers to deduplicate on.
 */
static char *
sink_amqp_render(const struct sink_amqp *as, const struct event *ev,
				 size_t *len, char *err, size_t errlen)
{
	char		id[EVENT_MESSAGE_ID_BUFLEN];

	if (as->set->batch != SINK_AMQP_BATCH_WINDOW)
		return envelope_render(as->base.cfg->envelope, ev, len, err, errlen);
	event_message_id(ev, id, sizeof(id));
	return envelope_render_id(as->base.cfg->envelope, ev, id, len, err, errlen);
}

static enum sink_status
sink_amqp_publish(struct sink *s, const struct event *ev, char *err,
				  size_t errlen)
{
	struct sink_amqp *as = (struct sink_amqp *) s;
	int			n = as->set->partitions;
	int			part = n > 0 ? partition_of(ev, n) : -1;
	bool		every = n > 0 && part == PARTITION_ALL;
	enum sink_status rc = SINK_OK;
	size_t		len;
	char	   *body;

	body = sink_amqp_render(as, ev, &len, err, errlen);
	if (body == NULL)
		return sink_refuse(s, ev->lsn);
	if (sink_amqp_too_large(as, len, err, errlen))
	{
		free(body);
		return sink_refuse(s, ev->lsn);
	}
	if (!every)
		rc = sink_amqp_publish_to(as, ev, part, false, body, len, err, errlen);
	for (int i = 0; every && i < n && rc == SINK_OK; i++)
		rc = sink_amqp_publish_to(as, ev, i, true, body, len, err, errlen);
	free(body);
	return rc;
}

static enum sink_status
sink_amqp_end_txn(struct sink *s, char *err, size_t errlen)
{
	return sink_amqp_batch_end(&((struct sink_amqp *) s)->batch,
							   clock_now_ms(), err, errlen);
}

/* The loop wakes by then for service() to close a window message. */
static int64_t
sink_amqp_deadline(struct sink *s)
{
	return sink_amqp_batch_deadline(&((struct sink_amqp *) s)->batch);
}

static enum sink_status
sink_amqp_flush(struct sink *s, char *err, size_t errlen)
{
	return sink_amqp_batch_flush(&((struct sink_amqp *) s)->batch, err, errlen);
}

/* Mark delivery tags confirmed, then release the confirmed prefix. */
static enum sink_status
sink_amqp_confirm(struct sink_amqp *as, uint64_t tag, bool multiple,
				  char *err, size_t errlen)
{
	struct sink_stats *st = &as->base.st;

	if (tag >= as->first_tag + as->count)
	{
		snprintf(err, errlen,
				 "RabbitMQ confirmed delivery tag %llu, which was never published",
				 (unsigned long long) tag);
		return SINK_RETRY;
	}
	if (tag >= as->first_tag)
	{
		uint64_t	from = multiple ? as->first_tag : tag;
		uint64_t	t;

		for (t = from; t <= tag; t++)
			as->ring[(as->head + (t - as->first_tag)) & (as->cap - 1)].acked = 1;
	}
	/* else: a tag already released (a repeated ack): nothing to do */

	while (as->count > 0 && as->ring[as->head].acked)
	{
		struct sink_amqp_pending *p = &as->ring[as->head];

		st->confirmed = as->first_tag;
		st->inflight_events -= p->events;
		st->inflight_bytes -= p->bytes;
		as->head = (as->head + 1) & (as->cap - 1);
		as->count--;
		as->first_tag++;
	}
	return SINK_OK;
}

static enum sink_status
sink_amqp_returned(struct sink_amqp *as, const amqp_frame_t *frame,
				   char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	amqp_basic_return_t *ret = frame->payload.method.decoded;
	char		key[ROUTE_KEY_BUFLEN];
	char		text[200];
	char		id[128] = "?";
	amqp_message_t msg;
	amqp_rpc_reply_t r;

	/* Copy before reading on: the method's memory may be reused. */
	snprintf(key, sizeof(key), "%.*s", (int) ret->routing_key.len,
			 (char *) ret->routing_key.bytes);
	snprintf(text, sizeof(text), "%.*s", (int) ret->reply_text.len,
			 (char *) ret->reply_text.bytes);

	/* The returned message's header and body frames follow the method. */
	r = amqp_read_message(as->conn, frame->channel, &msg, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		sink_amqp_reply_error(r, "reading a returned message", err, errlen);
		return SINK_RETRY;
	}
	if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
		snprintf(id, sizeof(id), "%.*s", (int) msg.properties.message_id.len,
				 (char *) msg.properties.message_id.bytes);
	amqp_destroy_message(&msg);

	if (set->on_return == SINK_AMQP_ON_RETURN_DROP)
	{
		/* Its ack follows, so it is confirmed like any other. */
		as->base.st.returned++;
		log_warning("message %s with routing key \"%s\" was unroutable (%s) and is dropped (on_return=drop)",
					id, key, text);
		return SINK_OK;
	}
	snprintf(err, errlen,
			 "message %s with routing key \"%s\" could not be routed by exchange \"%s\"%s (%s): bind a queue that takes it, or set on_return",
			 id, key, set->exchange,
			 set->on_return == SINK_AMQP_ON_RETURN_ALTERNATE ?
			 " nor by its alternate exchange" : "", text);
	return SINK_FATAL;
}

static enum sink_status
sink_amqp_service(struct sink *s, char *err, size_t errlen)
{
	struct sink_amqp *as = (struct sink_amqp *) s;
	enum sink_status rc = SINK_OK;

	if (as->conn == NULL)
	{
		snprintf(err, errlen, "not connected to RabbitMQ");
		return SINK_RETRY;
	}
	while (rc == SINK_OK)
	{
		struct timeval zero = {0, 0};
		amqp_frame_t frame;
		int			r;

		r = amqp_simple_wait_frame_noblock(as->conn, &frame, &zero);
		if (r == AMQP_STATUS_TIMEOUT)
			break;
		if (r != AMQP_STATUS_OK)
		{
			snprintf(err, errlen, "lost the RabbitMQ connection: %s",
					 amqp_error_string2(r));
			as->healthy = false;
			return SINK_RETRY;
		}
		if (frame.frame_type != AMQP_FRAME_METHOD)
			continue;

		switch (frame.payload.method.id)
		{
			case AMQP_BASIC_ACK_METHOD:
				{
					amqp_basic_ack_t *ack = frame.payload.method.decoded;

					rc = sink_amqp_confirm(as, ack->delivery_tag,
										   ack->multiple != 0, err, errlen);
					break;
				}
			case AMQP_BASIC_NACK_METHOD:
				{
					amqp_basic_nack_t *nack = frame.payload.method.decoded;

					/*
					 * The broker could not take the message (a full queue
					 * with reject-publish, an internal error).  We hold no
					 * copy: reconnect and replay from the slot, which still
					 * has everything unconfirmed.  What was published after
					 * it may have been taken already: ahead of its replay
					 * (docs/agent-operations.md, "Flow control").
					 */
					s->st.nacks++;
					snprintf(err, errlen,
							 "RabbitMQ rejected delivery tag %llu (basic.nack): replaying from the slot",
							 (unsigned long long) nack->delivery_tag);
					rc = SINK_RETRY;
					break;
				}
			case AMQP_BASIC_RETURN_METHOD:
				rc = sink_amqp_returned(as, &frame, err, errlen);
				break;
			case AMQP_CONNECTION_BLOCKED_METHOD:
				{
					amqp_connection_blocked_t *b = frame.payload.method.decoded;

					s->st.blocked = true;
					log_warning("RabbitMQ blocked publishing (%.*s): reading from the slot pauses, status updates continue",
								(int) b->reason.len, (char *) b->reason.bytes);
					break;
				}
			case AMQP_CONNECTION_UNBLOCKED_METHOD:
				s->st.blocked = false;
				log_info("RabbitMQ unblocked publishing");
				break;
			case AMQP_CHANNEL_CLOSE_METHOD:
				{
					amqp_channel_close_t *c = frame.payload.method.decoded;
					amqp_channel_close_ok_t ok;

					snprintf(err, errlen, "RabbitMQ closed the channel: %.*s",
							 (int) c->reply_text.len, (char *) c->reply_text.bytes);
					if (c->reply_code == AMQP_PRECONDITION_FAILED)
						sink_amqp_learn_max_size(as, err);
					amqp_send_method(as->conn, frame.channel,
									 AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
					rc = SINK_RETRY;
					break;
				}
			case AMQP_CONNECTION_CLOSE_METHOD:
				{
					amqp_connection_close_t *c = frame.payload.method.decoded;
					amqp_connection_close_ok_t ok;

					snprintf(err, errlen, "RabbitMQ closed the connection: %.*s",
							 (int) c->reply_text.len, (char *) c->reply_text.bytes);
					amqp_send_method(as->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
									 &ok);
					rc = SINK_RETRY;
					break;
				}
			default:
				log_debug("ignoring AMQP method 0x%08X", (unsigned) frame.payload.method.id);
				break;
		}
	}
	amqp_maybe_release_buffers(as->conn);
	if (rc == SINK_OK)
		rc = sink_amqp_batch_expire(&as->batch, clock_now_ms(), err, errlen);
	if (rc != SINK_OK)
		as->healthy = false;
	else
		sink_amqp_update_full(as);
	return rc;
}

static int
sink_amqp_pollfd(struct sink *s, short *events)
{
	struct sink_amqp *as = (struct sink_amqp *) s;

	/* While full, wake when the kernel can take more (sink_amqp_room.c). */
	*events = s->st.full ? POLLIN | POLLOUT : POLLIN;
	if (as->conn == NULL)
		return -1;
	return amqp_socket_get_sockfd(amqp_get_socket(as->conn));
}

static void
sink_amqp_reset(struct sink_amqp *as)
{
	struct sink_stats *st = &as->base.st;

	/* Delivery tags restart at 1 on every new channel. */
	as->head = as->count = 0;
	as->first_tag = 1;
	sink_amqp_batch_drop(&as->batch);
	st->published = st->confirmed = 0;
	st->inflight_events = st->inflight_bytes = 0;
	st->blocked = false;
	st->full = false;
	as->room = 0;				/* a new socket: measure it */
}

static enum sink_status
sink_amqp_open(struct sink *s, char *err, size_t errlen)
{
	struct sink_amqp *as = (struct sink_amqp *) s;
	enum sink_status rc;

	sink_amqp_reset(as);
	rc = sink_amqp_connect(as, err, errlen);
	if (rc != SINK_OK)
		sink_amqp_disconnect(as, false);
	return rc;
}

static void
sink_amqp_close(struct sink *s)
{
	struct sink_amqp *as = (struct sink_amqp *) s;

	/* A node that failed: the next connection starts with the next one. */
	if (as->conn != NULL && !as->healthy)
		sink_amqp_node_failed(as);

	/*
	 * Closing politely only when nothing is unconfirmed and the broker is
	 * not blocking us: a blocked broker would not answer connection.close
	 * either, and unconfirmed messages are replayed anyway.
	 */
	sink_amqp_disconnect(as, as->count == 0 && !s->st.blocked);
	sink_amqp_reset(as);
}

static void
sink_amqp_destroy(struct sink *s)
{
	struct sink_amqp *as = (struct sink_amqp *) s;

	sink_amqp_disconnect(as, false);
	route_free(as->route);
	config_multi_free(as->uris, as->nuris);
	free(as->ring);
	sink_amqp_batch_free(&as->batch);
	free(as->host);
	free(as);
}

static const struct sink_ops sink_amqp_ops = {
	.open = sink_amqp_open,
	.publish = sink_amqp_publish,
	.end_txn = sink_amqp_end_txn,
	.service = sink_amqp_service,
	.deadline = sink_amqp_deadline,
	.flush = sink_amqp_flush,
	.pollfd = sink_amqp_pollfd,
	.close = sink_amqp_close,
	.destroy = sink_amqp_destroy,
};

static struct sink *
sink_amqp_new(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct sink_amqp *as = calloc(1, sizeof(*as));
	char		rerr[256];

	if (as == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	as->base.ops = &sink_amqp_ops;
	as->base.cfg = cfg;
	as->set = sink_amqp_settings(cfg);
	as->first_tag = 1;
	sink_amqp_batch_init(&as->batch, &as->base, as->set, sink_amqp_send_batch, as);
	as->route = route_compile(sink_amqp_route_template(as->set), rerr, sizeof(rerr));
	if (as->route == NULL)
	{
		snprintf(err, errlen, "routing_key: %s", rerr);
		free(as);
		return NULL;
	}
	/* checked by the configuration: every one parses */
	if ((as->uris = config_multi_split(as->set->amqp_uri, &as->nuris)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		route_free(as->route);
		free(as);
		return NULL;
	}
	return &as->base;
}

/* For /metrics: the node in use, while connected. */
static int
sink_amqp_counters(const struct sink *s, struct sink_counter *out, int max)
{
	const struct sink_amqp *as = (const struct sink_amqp *) s;

	if (max < 1 || as->conn == NULL || !as->healthy)
		return 0;
	out[0].name = "walcast_amqp_connected_node";
	out[0].help = "The RabbitMQ node the agent publishes to (1; one series, only while connected).";
	out[0].value = 1;
	out[0].type = "gauge";
	out[0].label = "node";
	sink_amqp_node_name(as, out[0].label_value, sizeof(out[0].label_value));
	return 1;
}

/* Partitions hash the key: the decoder must send it (include-pk). */
static void
sink_amqp_needs(const struct agent_config *cfg, struct event_needs *needs)
{
	memset(needs, 0, sizeof(*needs));
	if (sink_amqp_settings(cfg)->partitions > 0)
	{
		needs->key = true;
		needs->key_setting = "partitions";
		needs->key_why = "a change's partition is its key's hash";
	}
}

static bool
sink_amqp_configured(const struct agent_config *cfg)
{
	const struct sink_amqp_settings *set = sink_amqp_settings(cfg);

	return set->amqp_uri != NULL && set->amqp_uri[0] != '\0';
}

/* RabbitMQ: --amqp-uri enables it. */
const struct sink_kind sink_amqp_kind = {
	.name = "amqp",
	.config = &sink_amqp_config,
	.configured = sink_amqp_configured,
	.create = sink_amqp_new,
	.needs_for = sink_amqp_needs,
	.counters = sink_amqp_counters,
};
