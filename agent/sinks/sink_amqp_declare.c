/*
 * sink_amqp_declare.c
 *		What the RabbitMQ sink declares on every connection: its exchange
 *		(with the alternate exchange of on_return=alternate) and its
 *		queue, or with --partitions the super-stream layout: a direct
 *		exchange and the queues <queue>-0 .. <queue>-(N-1), each bound by
 *		its partition's routing key (docs/partitioning.md).
 *
 * Declarations are idempotent, so they run again on every connection (to
 * whichever node of the cluster): a queue deleted meanwhile comes back.
 * The queue type is x-queue-type (quorum, stream); classic queues are
 * declared without it, as before the option existed, so that queues
 * declared by earlier versions stay equivalent.
 *
 * A declaration the broker refuses (an existing queue of another type:
 * "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'", a type it does
 * not know, a missing permission) is the configuration's fault: the
 * broker's words go into the error and the agent exits 1.  A connection
 * lost meanwhile is the node's: the next broker is tried.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sink_amqp.h"

static const char *
sink_amqp_type_name(enum sink_amqp_queue_type t)
{
	switch (t)
	{
		case SINK_AMQP_QUEUE_QUORUM:
			return "quorum";
		case SINK_AMQP_QUEUE_STREAM:
			return "stream";
		case SINK_AMQP_QUEUE_CLASSIC:
			break;
	}
	return "classic";
}

/*
 * A declaration failed: a channel closed by the broker, or a hard
 * connection error other than a node going away, is a refusal
 * (SINK_CONFIG); anything else (the connection lost, no answer in time,
 * the node shutting down) is the node's failure (SINK_RETRY).
 */
static enum sink_status
sink_amqp_declare_failed(struct sink_amqp *as, amqp_rpc_reply_t r,
						 const char *what, char *err, size_t errlen)
{
	sink_amqp_reply_error(r, what, err, errlen);
	as->healthy = false;
	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION)
		return SINK_RETRY;
	if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
	{
		amqp_connection_close_t *c = r.reply.decoded;

		if (c->reply_code == AMQP_CONNECTION_FORCED ||
			c->reply_code == AMQP_INTERNAL_ERROR)
			return SINK_RETRY;
	}
	return SINK_CONFIG;
}

/*
 * The exchange: a durable topic exchange, or with partitions a direct
 * one (each partition has one key), marked x-super-stream for streams as
 * RabbitMQ's own add_super_stream does.  Passive only checks that it
 * exists, for setups where the agent's user may not configure.
 */
static enum sink_status
sink_amqp_declare_exchange(struct sink_amqp *as, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	struct sink_amqp_table args = {0};
	amqp_rpc_reply_t r;
	char		what[400];

	if (set->on_return == SINK_AMQP_ON_RETURN_ALTERNATE && !set->exchange_passive)
	{
		/*
		 * on_return=alternate uses RabbitMQ's own alternate exchange: the
		 * broker reroutes what our exchange cannot route, inside the same
		 * publish, so the publisher confirm still covers the message.  A
		 * fanout exchange takes everything whatever the routing key.
		 */
		amqp_exchange_declare(as->conn, SINK_AMQP_CHANNEL,
							  amqp_cstring_bytes(set->alternate_exchange),
							  amqp_cstring_bytes("fanout"), 0, 1, 0, 0,
							  amqp_empty_table);
		r = amqp_get_rpc_reply(as->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
		{
			snprintf(what, sizeof(what),
					 "could not declare alternate exchange \"%s\"",
					 set->alternate_exchange);
			return sink_amqp_declare_failed(as, r, what, err, errlen);
		}
		sink_amqp_table_str(&args, "alternate-exchange", set->alternate_exchange);
	}
	if (set->partitions > 0 && set->queue_type == SINK_AMQP_QUEUE_STREAM)
		sink_amqp_table_num(&args, "x-super-stream", AMQP_FIELD_KIND_BOOLEAN, 1);

	amqp_exchange_declare(as->conn, SINK_AMQP_CHANNEL,
						  amqp_cstring_bytes(set->exchange),
						  amqp_cstring_bytes(set->partitions > 0 ? "direct" : "topic"),
						  set->exchange_passive ? 1 : 0, 1, 0, 0,
						  sink_amqp_table_of(&args));
	r = amqp_get_rpc_reply(as->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		snprintf(what, sizeof(what), "%s exchange \"%s\" failed",
				 set->exchange_passive ? "checking" : "declaring",
				 set->exchange);
		return sink_amqp_declare_failed(as, r, what, err, errlen);
	}
	return SINK_OK;
}

/*
 * One queue of the configured type, bound to the exchange with key;
 * order >= 0 is a stream partition's place (x-stream-partition-order,
 * as add_super_stream binds them).
 */
static enum sink_status
sink_amqp_declare_queue(struct sink_amqp *as, const char *name, const char *key,
						int order, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	struct sink_amqp_table qargs = {0};
	struct sink_amqp_table bargs = {0};
	amqp_rpc_reply_t r;
	char		what[600];

	if (set->queue_type != SINK_AMQP_QUEUE_CLASSIC)
		sink_amqp_table_str(&qargs, "x-queue-type", sink_amqp_type_name(set->queue_type));
	if (set->queue_max_length_bytes > 0)
		sink_amqp_table_num(&qargs, "x-max-length-bytes", AMQP_FIELD_KIND_I64,
							(int64_t) set->queue_max_length_bytes);
	sink_amqp_table_str(&qargs, "x-max-age", set->queue_max_age);
	if (order >= 0 && set->queue_type == SINK_AMQP_QUEUE_STREAM)
		sink_amqp_table_num(&bargs, "x-stream-partition-order", AMQP_FIELD_KIND_I64, order);

	/* durable, not exclusive, not auto-delete: what quorum and stream need */
	amqp_queue_declare(as->conn, SINK_AMQP_CHANNEL, amqp_cstring_bytes(name),
					   0, 1, 0, 0, sink_amqp_table_of(&qargs));
	r = amqp_get_rpc_reply(as->conn);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
	{
		amqp_queue_bind(as->conn, SINK_AMQP_CHANNEL, amqp_cstring_bytes(name),
						amqp_cstring_bytes(set->exchange), amqp_cstring_bytes(key),
						sink_amqp_table_of(&bargs));
		r = amqp_get_rpc_reply(as->conn);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		snprintf(what, sizeof(what), "declaring %s queue \"%s\" failed",
				 sink_amqp_type_name(set->queue_type), name);
		return sink_amqp_declare_failed(as, r, what, err, errlen);
	}
	return SINK_OK;
}

/* <queue>-i, bound by the routing key of partition i. */
static enum sink_status
sink_amqp_declare_partitions(struct sink_amqp *as, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	enum sink_status rc = SINK_OK;

	for (int i = 0; i < set->partitions && rc == SINK_OK; i++)
	{
		char		name[SINK_AMQP_SHORTSTR_MAX + 1];
		char		key[ROUTE_KEY_BUFLEN];

		snprintf(name, sizeof(name), "%s-%d", set->queue, i);
		/* the template holds {partition} and literals only (config) */
		if (!route_render(as->route, NULL, i, key, sizeof(key)))
		{
			snprintf(err, errlen, "routing_key: the key of partition %d is longer than %d bytes",
					 i, ROUTE_KEY_MAX);
			return SINK_CONFIG;
		}
		rc = sink_amqp_declare_queue(as, name, key, i, err, errlen);
	}
	if (rc == SINK_OK)
		log_debug("declared %d %s queues \"%s-0\" .. \"%s-%d\" on exchange \"%s\"",
				  set->partitions, sink_amqp_type_name(set->queue_type),
				  set->queue, set->queue, set->partitions - 1, set->exchange);
	return rc;
}

enum sink_status
sink_amqp_declare(struct sink_amqp *as, char *err, size_t errlen)
{
	const struct sink_amqp_settings *set = as->set;
	enum sink_status rc;

	if ((rc = sink_amqp_declare_exchange(as, err, errlen)) != SINK_OK)
		return rc;
	if (set->queue == NULL || set->queue[0] == '\0')
		return SINK_OK;
	if (set->partitions > 0)
		return sink_amqp_declare_partitions(as, err, errlen);
	return sink_amqp_declare_queue(as, set->queue,
								   set->queue_binding_key ? set->queue_binding_key : "#",
								   -1, err, errlen);
}
