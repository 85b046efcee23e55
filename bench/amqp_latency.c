/*
 * amqp_latency.c: commit-to-consumer latency of walcast events, measured by
 * a consumer light enough not to become the bottleneck itself (a Python
 * consumer on the same 2 cores queues messages at 5,000/s and reports its
 * own delay).  Consumes QUEUE with auto-ack, and for each record with
 * "action":"I" and "table":"TABLE" takes the receive time minus the
 * record's commit timestamp "ts" (ISO 8601 UTC): a message holds one
 * record, or a JSON array of them when batched (--batch transaction or
 * window), each with its own commit time.  Stops after COUNT such events
 * or IDLE seconds without any message, and prints
 * "N events p50 X p90 X p99 X max X" in milliseconds.
 *
 * FORMAT debezium reads Debezium's JSON change events instead (one per
 * message, bench/peers_bench.py): "op":"c" and "table":"TABLE" in the body,
 * and the commit timestamp from the first "ts_us" (the "source" block's,
 * which comes before the envelope's own processing time; microseconds
 * since the epoch).  Both are the commit time of the transaction as
 * PostgreSQL wrote it in the commit record.
 *
 * Usage: amqp_latency HOST PORT QUEUE TABLE COUNT IDLE_SECONDS [walcast|debezium]
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* "2026-11-21T06:50:51.955937Z" -> seconds since the epoch. */
static double
parse_ts(const char *s, size_t len)
{
	struct tm	tm;
	char		buf[64];
	const char *frac;
	double		t;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&tm, 0, sizeof(tm));
	frac = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac == NULL)
		return -1;
	t = (double) timegm(&tm);
	if (*frac == '.')
		t += strtod(frac, NULL);
	return t;
}

/*
 * The events of one message body received at time received (seconds):
 * their latencies (ms) into d[n...], at most want in all; returns the new n.
 * walcast: a record starts with {"action":, each an insert into the table
 * of table_pat with its own "ts" (a batch holds several).  debezium: one
 * event, "op":"c", its commit time the first "ts_us" (the source block's).
 */
static long
take_events(const char *body, size_t len, int debezium, const char *table_pat,
			double received, double *d, long n, long want)
{
	static const char start[] = "{\"action\":";
	const char *end = body + len;
	const char *rec;

	if (debezium)
	{
		const char *ts = memmem(body, len, "\"ts_us\":", 8);

		if (ts != NULL && n < want && memmem(body, len, "\"op\":\"c\"", 8) != NULL &&
			memmem(body, len, table_pat, strlen(table_pat)) != NULL)
			d[n++] = (received - strtod(ts + 8, NULL) / 1e6) * 1000.0;
		return n;
	}
	rec = memmem(body, len, start, sizeof(start) - 1);
	while (rec != NULL && n < want)
	{
		const char *next = memmem(rec + 1, (size_t) (end - rec - 1), start, sizeof(start) - 1);
		size_t		rlen = (size_t) ((next ? next : end) - rec);
		const char *ts = memmem(rec, rlen, "\"ts\":\"", 6);

		if (ts != NULL && memmem(rec, rlen, "\"action\":\"I\"", 12) != NULL &&
			memmem(rec, rlen, table_pat, strlen(table_pat)) != NULL)
		{
			const char *q = memchr(ts + 6, '"', rlen - (size_t) (ts + 6 - rec));
			double		t = q ? parse_ts(ts + 6, (size_t) (q - ts - 6)) : -1;

			if (t > 0)
				d[n++] = (received - t) * 1000.0;
		}
		rec = next;
	}
	return n;
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	char		table_pat[256];
	long		want;
	double	   *d;
	long		n = 0;
	struct timeval idle;
	int			debezium;

	if (argc != 7 && argc != 8)
	{
		fprintf(stderr, "usage: amqp_latency HOST PORT QUEUE TABLE COUNT IDLE_SECONDS [walcast|debezium]\n");
		return 1;
	}
	debezium = argc == 8 && strcmp(argv[7], "debezium") == 0;
	want = atol(argv[5]);
	idle.tv_sec = atol(argv[6]);
	idle.tv_usec = 0;
	snprintf(table_pat, sizeof(table_pat), "\"table\":\"%s\"", argv[4]);
	d = malloc(sizeof(double) * (size_t) (want > 0 ? want : 1));

	conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(conn);
	if (amqp_socket_open(sock, argv[1], atoi(argv[2])) != AMQP_STATUS_OK)
	{
		fprintf(stderr, "amqp_latency: cannot connect\n");
		return 2;
	}
	if (amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type != AMQP_RESPONSE_NORMAL)
		return 2;
	amqp_channel_open(conn, 1);
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(argv[3]), amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
	if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL)
	{
		fprintf(stderr, "amqp_latency: basic.consume failed\n");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while (n < want)
	{
		amqp_envelope_t env;
		amqp_rpc_reply_t r;
		struct timeval now;

		amqp_maybe_release_buffers(conn);
		r = amqp_consume_message(conn, &env, &idle, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			break;				/* idle timeout or connection trouble */
		gettimeofday(&now, NULL);
		n = take_events(env.message.body.bytes, env.message.body.len, debezium, table_pat,
						now.tv_sec + now.tv_usec / 1e6, d, n, want);
		amqp_destroy_envelope(&env);
	}
	if (n == 0)
	{
		printf("0 events\n");
		return 1;
	}
	qsort(d, (size_t) n, sizeof(double), cmp_double);
	printf("%ld events p50 %.2f p90 %.2f p99 %.2f max %.2f\n", n,
		   d[n * 50 / 100], d[n * 90 / 100], d[n * 99 / 100], d[n - 1]);
	return 0;
}
