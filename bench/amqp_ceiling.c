/*
 * amqp_ceiling.c: the broker's publish ceiling with publisher confirms,
 * measured with rabbitmq-c exactly as walcast-agent publishes (persistent,
 * mandatory, durable topic exchange bound to a durable queue, a sliding
 * window of unconfirmed messages, the same properties and headers as the
 * agent's messages: content type, message id, timestamp, and the five
 * headers schema, table, op, lsn, xid).  bench/agent_bench.py runs it beside the
 * agent so that the agent's rate can be given as a fraction of this one;
 * bench/queue_bench.py runs it into each queue type (QUEUE_TYPE: classic,
 * quorum or stream; classic when left out), with WINDOW 1 for the confirm
 * latency of a lone message.
 *
 * Usage: amqp_ceiling HOST PORT COUNT SIZE WINDOW [QUEUE_TYPE]
 * Prints: "published N messages of S bytes in T s: R msg/s", then
 * "confirm latency ms p50 X p90 X p99 X max X" (from each message's
 * publish to the ack that covers it).
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static int
check(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
	{
		fprintf(stderr, "amqp_ceiling: %s failed\n", what);
		return 0;
	}
	return 1;
}

/* Wait for one ack/nack frame; returns the highest tag it confirms. */
static uint64_t
wait_confirm(amqp_connection_state_t conn, uint64_t confirmed)
{
	amqp_frame_t frame;

	if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK)
	{
		fprintf(stderr, "amqp_ceiling: connection lost\n");
		exit(2);
	}
	if (frame.frame_type == AMQP_FRAME_METHOD &&
		frame.payload.method.id == AMQP_BASIC_ACK_METHOD)
	{
		amqp_basic_ack_t *ack = frame.payload.method.decoded;

		return ack->multiple ? ack->delivery_tag :
			(ack->delivery_tag == confirmed + 1 ? ack->delivery_tag : confirmed);
	}
	if (frame.frame_type == AMQP_FRAME_METHOD &&
		frame.payload.method.id == AMQP_BASIC_NACK_METHOD)
	{
		fprintf(stderr, "amqp_ceiling: broker nacked a message\n");
		exit(2);
	}
	return confirmed;
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_basic_properties_t props;
	char	   *body;
	amqp_table_t qargs = amqp_empty_table;
	amqp_table_entry_t qtype;
	uint64_t	count, size, window, published = 0, confirmed = 0;
	double		t0, secs, *sent, *lat;

	if (argc != 6 && argc != 7)
	{
		fprintf(stderr, "usage: amqp_ceiling HOST PORT COUNT SIZE WINDOW [QUEUE_TYPE]\n");
		return 1;
	}
	count = strtoull(argv[3], NULL, 10);
	size = strtoull(argv[4], NULL, 10);
	window = strtoull(argv[5], NULL, 10);
	if (count == 0 || window == 0)
	{
		fprintf(stderr, "amqp_ceiling: COUNT and WINDOW must be positive\n");
		return 1;
	}
	if (argc == 7)
	{
		qtype.key = amqp_cstring_bytes("x-queue-type");
		qtype.value.kind = AMQP_FIELD_KIND_UTF8;
		qtype.value.value.bytes = amqp_cstring_bytes(argv[6]);
		qargs.num_entries = 1;
		qargs.entries = &qtype;
	}
	sent = calloc(count + 1, sizeof(double));
	lat = calloc(count, sizeof(double));

	conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(conn);
	if (!sock || amqp_socket_open(sock, argv[1], atoi(argv[2])) != AMQP_STATUS_OK)
	{
		fprintf(stderr, "amqp_ceiling: cannot connect to %s:%s\n", argv[1], argv[2]);
		return 2;
	}
	if (!check(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login"))
		return 2;
	amqp_channel_open(conn, 1);
	if (!check(amqp_get_rpc_reply(conn), "channel.open"))
		return 2;
	amqp_confirm_select(conn, 1);
	if (!check(amqp_get_rpc_reply(conn), "confirm.select"))
		return 2;
	amqp_exchange_declare(conn, 1, amqp_cstring_bytes("walcast_ceiling"),
						  amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
	if (!check(amqp_get_rpc_reply(conn), "exchange.declare"))
		return 2;
	/* Deleted and declared again rather than purged: a stream cannot be
	 * purged, and the type may differ from the last run's. */
	amqp_queue_delete(conn, 1, amqp_cstring_bytes("walcast_ceiling"), 0, 0);
	if (!check(amqp_get_rpc_reply(conn), "queue.delete"))
		return 2;
	amqp_queue_declare(conn, 1, amqp_cstring_bytes("walcast_ceiling"), 0, 1, 0, 0, qargs);
	if (!check(amqp_get_rpc_reply(conn), "queue.declare"))
		return 2;
	amqp_queue_bind(conn, 1, amqp_cstring_bytes("walcast_ceiling"), amqp_cstring_bytes("walcast_ceiling"),
					amqp_cstring_bytes("#"), amqp_empty_table);
	if (!check(amqp_get_rpc_reply(conn), "queue.bind"))
		return 2;

	body = malloc(size);
	memset(body, 'x', size);
	memset(&props, 0, sizeof(props));
	{
		static amqp_table_entry_t headers[5];
		static const char *const names[5] = {"schema", "table", "op", "lsn", "xid"};
		static const char *const values[4] = {"public", "bench_mixed", "insert", "0/1A2B3C4D"};

		for (int i = 0; i < 5; i++)
		{
			headers[i].key = amqp_cstring_bytes(names[i]);
			if (i < 4)
			{
				headers[i].value.kind = AMQP_FIELD_KIND_UTF8;
				headers[i].value.value.bytes = amqp_cstring_bytes(values[i]);
			}
			else
			{
				headers[i].value.kind = AMQP_FIELD_KIND_I64;
				headers[i].value.value.i64 = 123456;
			}
		}
		props.headers.num_entries = 5;
		props.headers.entries = headers;
	}
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = 2;
	props.timestamp = (uint64_t) time(NULL);

	t0 = now();
	while (confirmed < count)
	{
		while (published < count && published - confirmed < window)
		{
			char		id[32];

			snprintf(id, sizeof(id), "0/0:%llu", (unsigned long long) published);
			props.message_id = amqp_cstring_bytes(id);
			if (amqp_basic_publish(conn, 1, amqp_cstring_bytes("walcast_ceiling"),
								   amqp_cstring_bytes("public.bench.insert"), 1, 0,
								   &props, (amqp_bytes_t) {size, body}) != AMQP_STATUS_OK)
			{
				fprintf(stderr, "amqp_ceiling: publish failed\n");
				return 2;
			}
			published++;
			sent[published] = now();	/* delivery tags count from 1 */
		}
		{
			uint64_t	upto = wait_confirm(conn, confirmed);
			double		t = now();

			for (uint64_t tag = confirmed + 1; tag <= upto; tag++)
				lat[tag - 1] = (t - sent[tag]) * 1000.0;
			confirmed = upto;
		}
	}
	secs = now() - t0;
	printf("published %llu messages of %llu bytes in %.2f s: %.0f msg/s\n",
		   (unsigned long long) count, (unsigned long long) size, secs, count / secs);
	qsort(lat, count, sizeof(double), cmp_double);
	printf("confirm latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
		   lat[count * 50 / 100], lat[count * 90 / 100], lat[count * 99 / 100], lat[count - 1]);
	amqp_queue_delete(conn, 1, amqp_cstring_bytes("walcast_ceiling"), 0, 0);
	amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	free(body);
	free(sent);
	free(lat);
	return 0;
}
