/*
 * amqp_drain.c: one consumer of a partition queue, for the consumer
 * throughput of bench/queue_bench.py (1, 2 or 4 partitions, one consumer
 * each, in parallel).  Consumes QUEUE with manual acks (a prefetch of
 * 1000, acks of 100 at a time with `multiple`), spends WORK_US
 * microseconds per message asleep (what a consumer that writes each change
 * somewhere waits for; 0 for none), and stops after IDLE_SECONDS without a
 * message.  For a stream it attaches at its first offset.
 *
 * Usage: amqp_drain HOST PORT QUEUE WORK_US IDLE_SECONDS [stream]
 * Prints: "drained N messages first T0 last T1 events E" (wall-clock
 * seconds of the first and last message, so that the driver can add up
 * parallel consumers; E counts the events: a batched message of
 * walcast-agent counts for its "count" header, any other message for one).
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static double
wall(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* The events a message carries: its integer header "count", else 1. */
static unsigned long
message_events(const amqp_message_t *m)
{
	const amqp_table_t *h = &m->properties.headers;
	int			i;

	if (!(m->properties._flags & AMQP_BASIC_HEADERS_FLAG))
		return 1;
	for (i = 0; i < h->num_entries; i++)
	{
		const amqp_table_entry_t *e = &h->entries[i];

		if (e->key.len != 5 || memcmp(e->key.bytes, "count", 5) != 0)
			continue;
		switch (e->value.kind)
		{
			case AMQP_FIELD_KIND_I32:
				return (unsigned long) e->value.value.i32;
			case AMQP_FIELD_KIND_U32:
				return e->value.value.u32;
			case AMQP_FIELD_KIND_I64:
				return (unsigned long) e->value.value.i64;
			default:
				return 1;
		}
	}
	return 1;
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_table_t args = amqp_empty_table;
	amqp_table_entry_t offset;
	struct timeval idle;
	struct timespec work;
	long		work_us;
	unsigned long n = 0,
				events = 0;
	uint64_t	unacked_tag = 0;
	int			unacked = 0;
	double		first = 0,
				last = 0;

	if (argc != 6 && argc != 7)
	{
		fprintf(stderr, "usage: amqp_drain HOST PORT QUEUE WORK_US IDLE_SECONDS [stream]\n");
		return 1;
	}
	work_us = atol(argv[4]);
	work.tv_sec = work_us / 1000000;
	work.tv_nsec = (work_us % 1000000) * 1000;
	idle.tv_sec = atol(argv[5]);
	idle.tv_usec = 0;
	if (argc == 7 && strcmp(argv[6], "stream") == 0)
	{
		offset.key = amqp_cstring_bytes("x-stream-offset");
		offset.value.kind = AMQP_FIELD_KIND_UTF8;
		offset.value.value.bytes = amqp_cstring_bytes("first");
		args.num_entries = 1;
		args.entries = &offset;
	}

	conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(conn);
	if (!sock || amqp_socket_open(sock, argv[1], atoi(argv[2])) != AMQP_STATUS_OK)
	{
		fprintf(stderr, "amqp_drain: cannot connect to %s:%s\n", argv[1], argv[2]);
		return 2;
	}
	if (amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type != AMQP_RESPONSE_NORMAL)
		return 2;
	amqp_channel_open(conn, 1);
	amqp_basic_qos(conn, 1, 0, 1000, 0);
	if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL)
	{
		fprintf(stderr, "amqp_drain: basic.qos failed\n");
		return 2;
	}
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(argv[3]), amqp_empty_bytes, 0, 0, 0, args);
	if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL)
	{
		fprintf(stderr, "amqp_drain: basic.consume on %s failed\n", argv[3]);
		return 2;
	}
	for (;;)
	{
		amqp_envelope_t env;
		amqp_rpc_reply_t r;

		amqp_maybe_release_buffers(conn);
		r = amqp_consume_message(conn, &env, &idle, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			break;				/* idle: the queue is drained */
		if (n == 0)
			first = wall();
		n++;
		events += message_events(&env.message);
		if (work_us > 0)
			nanosleep(&work, NULL);
		last = wall();
		unacked_tag = env.delivery_tag;
		if (++unacked == 100)
		{
			amqp_basic_ack(conn, 1, unacked_tag, 1);
			unacked = 0;
		}
		amqp_destroy_envelope(&env);
	}
	if (unacked > 0)
		amqp_basic_ack(conn, 1, unacked_tag, 1);
	printf("drained %lu messages first %.6f last %.6f events %lu\n", n, first, last, events);
	amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	return 0;
}
