/*
 * test_obs.c
 *		Unit tests of the HTTP endpoint's pure parts (obs/): the Prometheus
 *		text of a view, readiness, health, lag, the /status JSON, /proc
 *		parsing, and --http-listen's addresses and socket.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs_listen.h"
#include "obs_metrics.h"
#include "obs_process.h"
#include "obs_status.h"
#include "obs_view.h"
#include "yyjson.h"

#define NOW_US ((int64_t) 1800000000 * 1000000)

/* A view of two sinks, streaming, with every figure set. */
static void
sample_view(struct obs_view *v)
{
	memset(v, 0, sizeof(*v));
	v->version = "9.9.9";
	strcpy(v->slot, "s1");
	strcpy(v->plugin, "pgoutput");
	v->phase = AGENT_STREAMING;
	v->received_lsn = 0x3000;
	v->confirmed_lsn = 0x2000;
	v->server_wal_end = 0x3800;
	v->transactions = 7;
	v->pg_reconnects = 2;
	v->nsinks = 2;
	v->sinks[0].name = "amqp";
	v->sinks[0].by_op[EVENT_INSERT] = 10;
	v->sinks[0].by_op[EVENT_READ] = 4;
	v->sinks[0].messages = 14;
	v->sinks[0].bytes = 1400;
	v->sinks[0].confirms = 13;
	v->sinks[0].nacks = 1;
	v->sinks[0].inflight_events = 1;
	v->sinks[0].reconnects = 3;
	v->sinks[0].connected = true;
	v->sinks[0].ncounters = 1;
	v->sinks[0].counters[0].name = "walcast_amqp_connected_node";
	v->sinks[0].counters[0].help = "node";
	v->sinks[0].counters[0].value = 1;
	v->sinks[0].counters[0].type = "gauge";
	v->sinks[0].counters[0].label = "node";
	strcpy(v->sinks[0].counters[0].label_value, "[::1]:5672");
	v->sinks[1].name = "mongo";
	v->sinks[1].connected = true;
	v->sinks[1].ncounters = 1;
	v->sinks[1].counters[0].name = "walcast_mirror_skipped_no_key_total";
	v->sinks[1].counters[0].help = "skipped";
	v->sinks[1].counters[0].value = 5;
	v->watch.slot_found = true;
	v->watch.retained_known = true;
	v->watch.retained_bytes = 4096;
	v->watch.wal_status = OBS_WAL_EXTENDED;
	v->watch.heartbeats = 6;
	v->watch.heartbeat_on = true;
	v->lag.caught_up = true;
	v->lag.caught_up_at = NOW_US - 5000000;
}

static char *
render(const struct obs_view *v)
{
	struct strbuf out = {0};
	struct obs_process p = {true, 1000, 1.5, 1700000000.25};

	obs_metrics_render(v, &p, NOW_US, &out);
	assert_false(out.failed);
	return strbuf_finish(&out);
}

/* line is one whole line of text. */
static void
assert_line(const char *text, const char *line)
{
	const char *p = text;
	size_t		n = strlen(line);

	while ((p = strstr(p, line)) != NULL)
	{
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static int
count(const char *text, const char *needle)
{
	int			n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
test_metrics_samples(void **state)
{
	struct obs_view v;
	char	   *text;

	(void) state;
	sample_view(&v);
	text = render(&v);
	assert_line(text, "walcast_build_info{version=\"9.9.9\",plugin=\"pgoutput\"} 1");
	assert_line(text, "walcast_events_total{sink=\"amqp\",op=\"insert\"} 10");
	assert_line(text, "walcast_events_total{sink=\"amqp\",op=\"read\"} 4");
	assert_line(text, "walcast_events_total{sink=\"mongo\",op=\"truncate\"} 0");
	assert_line(text, "walcast_messages_total{sink=\"amqp\"} 14");
	assert_line(text, "walcast_bytes_total{sink=\"amqp\"} 1400");
	assert_line(text, "walcast_confirms_total{sink=\"amqp\"} 13");
	assert_line(text, "walcast_nacks_total{sink=\"amqp\"} 1");
	assert_line(text, "walcast_inflight_events{sink=\"amqp\"} 1");
	assert_line(text, "walcast_sink_connected{sink=\"mongo\"} 1");
	assert_line(text, "walcast_sink_blocked{sink=\"amqp\"} 0");
	assert_line(text, "walcast_reconnects_total{target=\"postgres\"} 2");
	assert_line(text, "walcast_reconnects_total{target=\"amqp\"} 3");
	assert_line(text, "walcast_received_lsn 12288");
	assert_line(text, "walcast_confirmed_lsn 8192");
	assert_line(text, "walcast_server_wal_end_lsn 14336");
	assert_line(text, "walcast_lag_bytes 6144");
	assert_line(text, "walcast_transactions_total 7");
	assert_line(text, "walcast_lag_seconds{stage=\"received\"} 0.000000");
	assert_line(text, "walcast_slot_retained_wal_bytes 4096");
	assert_line(text, "walcast_slot_wal_status{status=\"extended\"} 1");
	assert_line(text, "walcast_slot_wal_status{status=\"reserved\"} 0");
	assert_line(text, "walcast_heartbeats_total 6");
	assert_line(text, "walcast_mirror_skipped_no_key_total 5");
	assert_line(text, "# TYPE walcast_mirror_skipped_no_key_total counter");
	assert_line(text, "walcast_amqp_connected_node{node=\"[::1]:5672\"} 1");
	assert_line(text, "# TYPE walcast_amqp_connected_node gauge");
	assert_line(text, "walcast_ready 1");
	assert_line(text, "process_resident_memory_bytes 1000");
	assert_line(text, "process_cpu_seconds_total 1.500000");
	assert_line(text, "process_start_time_seconds 1700000000.250000");
	/* unknown: no sample, but the family is declared */
	assert_int_equal(count(text, "\nwalcast_slot_safe_wal_size_bytes "), 0);
	assert_line(text, "# TYPE walcast_slot_safe_wal_size_bytes gauge");
	free(text);
}

/* Every family is declared once, HELP before TYPE, before its samples. */
static void
test_metrics_families(void **state)
{
	struct obs_view v;
	char	   *text;
	char	   *save = NULL;
	char		seen[64][96];
	int			nseen = 0;
	char		current[96] = "";

	(void) state;
	sample_view(&v);
	text = render(&v);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char		name[96];

		if (strncmp(line, "# HELP ", 7) == 0)
		{
			sscanf(line + 7, "%95s", name);
			for (int i = 0; i < nseen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("%s declared twice", name);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], name);
			strcpy(current, name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0)
		{
			char		type[16];

			sscanf(line + 7, "%95s %15s", name, type);
			assert_string_equal(name, current);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			/* counters end in _total, and only counters */
			if ((strcmp(type, "counter") == 0) !=
				(strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0))
				fail_msg("%s is a %s", name, type);
			continue;
		}
		/* a sample of the family declared last */
		assert_int_equal(strncmp(line, current, strlen(current)), 0);
		assert_true(line[strlen(current)] == '{' || line[strlen(current)] == ' ');
	}
	assert_true(nseen >= 30);
	free(text);
}

static void
test_metrics_escape(void **state)
{
	struct strbuf out = {0};
	struct obs_view v;
	char	   *text;

	(void) state;
	obs_metrics_escape(&out, "a\"b\\c\nd");
	assert_string_equal(strbuf_finish(&out), "a\\\"b\\\\c\\nd");
	free(out.data);

	sample_view(&v);
	v.ntables = 1;
	v.tables = calloc(1, sizeof(*v.tables));
	v.tables[0].name = strdup("we\"ird.ta\\ble");
	v.tables[0].rows_total = 12;
	text = render(&v);
	assert_line(text, "walcast_load_rows_total{table=\"we\\\"ird.ta\\\\ble\"} 12");
	assert_line(text, "walcast_load_tables 1");
	free(text);
	obs_view_free(&v);
}

static void
test_not_ready(void **state)
{
	struct obs_view v;

	(void) state;
	sample_view(&v);
	assert_null(obs_view_not_ready(&v));
	v.sinks[0].blocked = true;
	assert_string_equal(obs_view_not_ready(&v), "broker_blocked");
	v.sinks[1].connected = false;
	assert_string_equal(obs_view_not_ready(&v), "sink_disconnected");
	sample_view(&v);
	v.phase = AGENT_LOADING;
	assert_string_equal(obs_view_not_ready(&v), "loading");
	v.phase = AGENT_STARTING;
	assert_string_equal(obs_view_not_ready(&v), "starting");
	v.phase = AGENT_CONNECTING;
	assert_string_equal(obs_view_not_ready(&v), "connecting");
	/* a sink whose failure ended the session says so while reconnecting */
	v.sinks[0].down = true;
	assert_string_equal(obs_view_not_ready(&v), "sink_disconnected");
	v.phase = AGENT_STOPPING;
	assert_string_equal(obs_view_not_ready(&v), "stopping");
	v.phase = AGENT_SLOT_LOST;
	assert_string_equal(obs_view_not_ready(&v), "slot_lost");

	/* walcast_ready says the same */
	{
		char	   *text = render(&v);

		assert_line(text, "walcast_ready 0");
		free(text);
	}
}

static void
test_healthy(void **state)
{
	struct obs_view v;

	(void) state;
	sample_view(&v);
	v.published_ms = 1000;
	assert_true(obs_view_healthy(&v, 1000 + OBS_STALL_MS));
	assert_false(obs_view_healthy(&v, 1001 + OBS_STALL_MS));
	/* creating a slot may wait for old transactions: not a stall */
	v.phase = AGENT_CONNECTING;
	assert_true(obs_view_healthy(&v, 1001 + OBS_STALL_MS));
}

static void
test_lag(void **state)
{
	struct obs_view v;
	double		s;

	(void) state;
	memset(&v, 0, sizeof(v));
	v.phase = AGENT_STREAMING;
	assert_false(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));	/* unknown */
	assert_false(obs_view_lag(&v, OBS_LAG_CONFIRMED, NOW_US, &s));

	/* caught up: 0, however old the last commit */
	v.lag.newest_received = NOW_US - 3600 * 1000000LL;
	v.lag.caught_up_at = NOW_US - 100000;
	v.lag.caught_up = true;
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s == 0);
	assert_true(obs_view_lag(&v, OBS_LAG_CONFIRMED, NOW_US, &s));
	assert_true(s == 0);

	/* reading: since the newer of the last catch-up and the newest commit */
	v.lag.caught_up = false;
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s > 0.0999 && s < 0.1001);
	v.lag.newest_received = NOW_US - 20000;
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s > 0.0199 && s < 0.0201);

	/* confirmed: since the oldest unconfirmed commit, never below received */
	v.lag.oldest_pending = NOW_US - 2 * 1000000;
	assert_true(obs_view_lag(&v, OBS_LAG_CONFIRMED, NOW_US, &s));
	assert_true(s > 1.999 && s < 2.001);
	v.lag.caught_up = true;		/* caught up, waiting for the broker */
	assert_true(obs_view_lag(&v, OBS_LAG_CONFIRMED, NOW_US, &s));
	assert_true(s > 1.999 && s < 2.001);
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s == 0);

	/* not streaming: "caught up" no longer holds, the lag grows */
	v.phase = AGENT_CONNECTING;
	v.lag.oldest_pending = 0;
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s > 0.0199 && s < 0.0201);

	/* a server clock ahead of ours reads as 0, not negative */
	v.lag.newest_received = NOW_US + 5000000;
	assert_true(obs_view_lag(&v, OBS_LAG_RECEIVED, NOW_US, &s));
	assert_true(s == 0);
}

/* /status: valid JSON with the positions, sinks, slot and load. */
static void
test_status(void **state)
{
	struct obs_view v;
	size_t		len;
	char	   *text;
	yyjson_doc *doc;
	yyjson_val *root;

	(void) state;
	sample_view(&v);
	v.ntables = 1;
	v.tables = calloc(1, sizeof(*v.tables));
	v.tables[0].name = strdup("public.t\"x");
	v.tables[0].rows = 3;
	v.tables[0].estimated = 10;
	v.published_ms = 0;
	text = obs_status_render(&v, NOW_US, 0, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	doc = yyjson_read(text, len, 0);
	assert_non_null(doc);
	root = yyjson_doc_get_root(doc);
	assert_string_equal(yyjson_get_str(yyjson_obj_get(root, "slot")), "s1");
	assert_string_equal(yyjson_get_str(yyjson_obj_get(root, "plugin")), "pgoutput");
	assert_string_equal(yyjson_get_str(yyjson_obj_get(root, "version")), "9.9.9");
	assert_string_equal(yyjson_get_str(yyjson_obj_get(root, "state")), "streaming");
	assert_true(yyjson_get_bool(yyjson_obj_get(root, "ready")));
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/positions/received")), "0/3000");
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/positions/confirmed")), "0/2000");
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/positions/server_wal_end")), "0/3800");
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/sinks/0/name")), "amqp");
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/sinks/0/state")), "connected");
	assert_int_equal(yyjson_get_uint(yyjson_ptr_get(root, "/sinks/0/events/insert")), 10);
	assert_int_equal(yyjson_get_uint(yyjson_ptr_get(root, "/sinks/1/walcast_mirror_skipped_no_key_total")), 5);
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/sinks/0/node")), "[::1]:5672");
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/slot_health/wal_status")), "extended");
	assert_true(yyjson_is_null(yyjson_ptr_get(root, "/slot_health/safe_wal_size_bytes")));
	assert_string_equal(yyjson_get_str(yyjson_ptr_get(root, "/load/tables/0/table")), "public.t\"x");
	assert_int_equal(yyjson_get_uint(yyjson_ptr_get(root, "/load/tables/0/rows")), 3);
	yyjson_doc_free(doc);
	free(text);
	obs_view_free(&v);

	text = obs_status_answer("ready", "broker_blocked", &len);
	assert_string_equal(text, "{\"ready\":false,\"reason\":\"broker_blocked\"}");
	free(text);
	text = obs_status_answer("healthy", NULL, &len);
	assert_string_equal(text, "{\"healthy\":true}");
	free(text);
}

static void
test_view_copy(void **state)
{
	struct obs_view a;
	struct obs_view b;
	struct agent_load load;
	char	   *names[2] = {"public.a", "public.b"};
	int64_t		est[2] = {10, 20};
	uint64_t	rows[2] = {10, 5};
	uint64_t	total[2] = {30, 5};

	(void) state;
	sample_view(&a);
	memset(&b, 0, sizeof(b));
	memset(&load, 0, sizeof(load));
	load.ntables = 2;
	load.done = 1;
	load.names = names;
	load.estimated = est;
	load.rows = rows;
	load.rows_total = total;
	assert_true(obs_view_set_tables(&a, &load));
	assert_true(obs_view_copy(&b, &a));
	assert_true(obs_view_copy(&b, &a));	/* again: the old tables are freed */
	assert_int_equal(b.ntables, 2);
	assert_ptr_not_equal(b.tables, a.tables);
	assert_string_equal(b.tables[1].name, "public.b");
	assert_true(b.tables[0].done && !b.tables[1].done);
	assert_int_equal(b.tables[0].rows_total, 30);
	assert_int_equal(b.tables_done, 1);
	obs_view_free(&a);
	obs_view_free(&b);
}

static void
test_process_stat(void **state)
{
	double		cpu;
	double		boot;

	(void) state;
	/* a command name with spaces and parentheses */
	assert_true(obs_process_parse_stat(
									   "4242 (walcast (x) y) S 1 4242 4242 0 -1 4194560 300 0 0 0 250 50 0 0 20 0 3 0 12345 1000000 500",
									   100, &cpu, &boot));
	assert_true(cpu > 2.999 && cpu < 3.001);
	assert_true(boot > 123.449 && boot < 123.451);
	assert_false(obs_process_parse_stat("no parenthesis", 100, &cpu, &boot));
	assert_false(obs_process_parse_stat("1 (x) S 1 2", 100, &cpu, &boot));
}

static void
test_listen_parse(void **state)
{
	struct obs_listen_addr a;
	char		msg[256];

	(void) state;
	assert_true(obs_listen_parse("9187", &a, msg, sizeof(msg)));
	assert_string_equal(a.text, "127.0.0.1:9187");
	assert_true(obs_listen_parse("0.0.0.0:80", &a, msg, sizeof(msg)));
	assert_string_equal(a.text, "0.0.0.0:80");
	assert_true(obs_listen_parse("[::1]:9187", &a, msg, sizeof(msg)));
	assert_string_equal(a.text, "[::1]:9187");
	assert_false(obs_listen_parse("65536", &a, msg, sizeof(msg)));
	assert_false(obs_listen_parse("1.2.3.4:x", &a, msg, sizeof(msg)));
	assert_false(obs_listen_parse("", &a, msg, sizeof(msg)));
	assert_false(obs_listen_parse("1.2.3.999:80", &a, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "\"1.2.3.999\" is not a numeric IPv4 or IPv6 address"));
	assert_true(obs_listen_parse("localhost:80", &a, msg, sizeof(msg)));
	assert_string_equal(a.text, "127.0.0.1:80");
}

/* Port 0 is the kernel's choice; that port is then in use. */
static void
test_listen_bind(void **state)
{
	struct obs_listen_addr a;
	struct obs_listen_addr b;
	char		msg[256];
	int			fd;
	int			fd2;

	(void) state;
	assert_true(obs_listen_parse("127.0.0.1:0", &a, msg, sizeof(msg)));
	fd = obs_listen_bind(&a, msg, sizeof(msg));
	assert_true(fd >= 0);
	assert_string_not_equal(a.text, "127.0.0.1:0");
	assert_true(obs_listen_parse(a.text, &b, msg, sizeof(msg)));
	fd2 = obs_listen_bind(&b, msg, sizeof(msg));
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(msg, "could not listen on 127.0.0.1:"));
	assert_non_null(strstr(msg, "Address already in use"));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_samples),
		cmocka_unit_test(test_metrics_families),
		cmocka_unit_test(test_metrics_escape),
		cmocka_unit_test(test_not_ready),
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_view_copy),
		cmocka_unit_test(test_process_stat),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_listen_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
