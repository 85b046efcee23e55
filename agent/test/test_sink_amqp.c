/*
 * test_sink_amqp.c
 *		Unit tests of the RabbitMQ sink's settings (sinks/sink_amqp_config.c)
 *		through the configuration engine: defaults, command line, config
 *		file, precedence, every error message, cross-option rules, the
 *		masked URI in --print-config and ps, --help, and a reload checked
 *		against its rules; and the broker's max_message_size read from its
 *		refusal.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv, mkstemp, fileno, dup */

#include "config_harness.h"
#include "log.h"
#include "sink_amqp.h"

#define AMQP(cfg) sink_amqp_settings(cfg)

static void
test_amqp_defaults(void **state)
{
	struct agent_config cfg;
	char		err[512];
	char	   *argv[] = {"walcast-agent", NULL};

	(void) state;
	assert_int_equal(config_load(&cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
	assert_null(AMQP(&cfg)->amqp_uri);
	assert_null(AMQP(&cfg)->amqp_cacert);
	assert_null(AMQP(&cfg)->amqp_cert);
	assert_null(AMQP(&cfg)->amqp_key);
	assert_true(AMQP(&cfg)->amqp_verify_peer);
	assert_true(AMQP(&cfg)->amqp_verify_hostname);
	assert_int_equal(AMQP(&cfg)->amqp_heartbeat, 30);
	assert_string_equal(AMQP(&cfg)->exchange, "walcast");
	assert_false(AMQP(&cfg)->exchange_passive);
	assert_string_equal(AMQP(&cfg)->routing_key, "{schema}.{table}.{op}");
	assert_null(AMQP(&cfg)->queue);
	assert_string_equal(AMQP(&cfg)->queue_binding_key, "#");
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_CHANGE);
	assert_int_equal(AMQP(&cfg)->batch_max_events, 1000);
	assert_int_equal(AMQP(&cfg)->batch_max_bytes, 1024 * 1024);
	assert_int_equal(AMQP(&cfg)->on_return, SINK_AMQP_ON_RETURN_FAIL);
	assert_null(AMQP(&cfg)->alternate_exchange);
	config_free(&cfg);
}

static void
test_amqp_cli(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "-d", "dbname=app", "-S", "s1", "--create-slot", "--if-not-exists",
						  "-o", "include-pk=true", "--option=filter-tables=a.b,c.d", "-s", "5",
						  "--amqp-uri", "amqps://u:p@h/v", "--amqp-verify-peer=off",
						  "--amqp-cert", "c.pem", "--amqp-key", "k.pem",
						  "--exchange-passive", "--queue", "q", "--envelope", "flat",
						  "--batch", "transaction", "--batch-max-bytes", "512kB",
						  "--on-return", "alternate", "--alternate-exchange", "ae",
						  "--max-inflight-bytes", "1 GB", "-vvv", "--log-file", "/tmp/x.log"),
					 CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqps://u:p@h/v");
	assert_false(AMQP(&cfg)->amqp_verify_peer);
	assert_true(AMQP(&cfg)->exchange_passive);
	assert_string_equal(AMQP(&cfg)->queue, "q");
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_TRANSACTION);
	assert_int_equal(AMQP(&cfg)->batch_max_bytes, 512 * 1024);
	assert_int_equal(AMQP(&cfg)->on_return, SINK_AMQP_ON_RETURN_ALTERNATE);
	assert_string_equal(AMQP(&cfg)->alternate_exchange, "ae");
	config_free(&cfg);
}

static void
test_amqp_file(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	write_conf("# walcast-agent test\n"
			   "\n"
			   "   slot=fromfile   \n"
			   "status_interval = 7   # seconds\n"
			   "\tdbname = host=db port=5433 password=p#ss\n"
			   "amqp_uri = \"amqp://u:p w@h/v\"  # quoted\n"
			   "routing_key = 'cdc.{table}.#'\n"
			   "queue_binding_key = \"a\\\"b\\\\c # not a comment\"\n"
			   "create_slot = yes\n"
			   "amqp_verify_hostname = OFF\n"
			   "option = include-pk=true\n"
			   "option = filter-tables=a b\n"
			   "batch-max-bytes = 2MB\n"
			   "queue =\n"
			   "exchange = ex # comment\n");
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path), CONFIG_OK);
	assert_string_equal(cfg.config_file, conf_path);
	assert_string_equal(cfg.slot, "fromfile");
	assert_int_equal(cfg.status_interval, 7);
	assert_string_equal(cfg.dbname, "host=db port=5433 password=p#ss");
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqp://u:p w@h/v");
	assert_string_equal(AMQP(&cfg)->routing_key, "cdc.{table}.#");
	assert_string_equal(AMQP(&cfg)->queue_binding_key, "a\"b\\c # not a comment");
	assert_true(cfg.create_slot);
	assert_false(AMQP(&cfg)->amqp_verify_hostname);
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[1].value, "a b");
	assert_int_equal(AMQP(&cfg)->batch_max_bytes, 2 * 1024 * 1024);
	assert_null(AMQP(&cfg)->queue);
	assert_string_equal(AMQP(&cfg)->exchange, "ex");
	config_free(&cfg);
}

static void
test_amqp_example_file(void **state)
{
	struct agent_config cfg;
	char		err[512] = "";

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "-c", "walcast-agent.conf.example"), CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->queue_binding_key, "#");
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqp://walcast:change-me@localhost:5672/%2F");
	assert_null(cfg.log_file);
	config_free(&cfg);
}

/* A sink's setting follows the same precedence (the rest: test_config). */
static void
test_amqp_precedence(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	write_conf("exchange = file\nqueue = file\nbatch = transaction\n");
	setenv("WALCAST_EXCHANGE", "env", 1);
	setenv("WALCAST_QUEUE", "env", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--exchange", "cli"), CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_TRANSACTION);	/* file only */
	assert_string_equal(AMQP(&cfg)->queue, "env");	/* env over file */
	assert_string_equal(AMQP(&cfg)->exchange, "cli");	/* CLI over env */
	config_free(&cfg);
}

static void
test_amqp_value_errors(void **state)
{
	(void) state;
	EXPECT_ERROR("--amqp-heartbeat: -1 is out of range (0..3600)", "--amqp-heartbeat", "-1");
	EXPECT_ERROR("--batch-max-bytes: \"1TB\" is not a size (1kB..128MB)", "--batch-max-bytes", "1TB");
	EXPECT_ERROR("--batch-max-bytes: \"-1kB\" is not a size (1kB..128MB)", "--batch-max-bytes", "-1kB");
	EXPECT_ERROR("--batch-max-bytes: 129MB is out of range (1kB..128MB)", "--batch-max-bytes", "129MB");
	EXPECT_ERROR("--batch-max-bytes: 1023 is out of range (1kB..128MB)", "--batch-max-bytes", "1023");
	EXPECT_ERROR("--batch-max-bytes: 99999999999G is out of range (1kB..128MB)", "--batch-max-bytes", "99999999999G");
	EXPECT_ERROR("--amqp-verify-peer: \"maybe\" is not a boolean (true/false, on/off, yes/no, 1/0)",
				 "--amqp-verify-peer", "maybe");
	EXPECT_ERROR("--batch: \"tx\" is not one of change, transaction", "--batch", "tx");
	EXPECT_ERROR("--on-return: \"ignore\" is not one of fail, drop, alternate", "--on-return", "ignore");
	EXPECT_ERROR("--exchange: must not be empty", "--exchange", "");
	EXPECT_ERROR("--routing-key: unknown placeholder \"{tbl}\" (use {schema}, {table}, {op} or {xid})",
				 "--routing-key", "{schema}.{tbl}");
	EXPECT_ERROR("--routing-key: unbalanced \"{\" at offset 0", "--routing-key", "{schema");
	EXPECT_ERROR("--amqp-uri: not a valid amqp:// or amqps:// URI", "--amqp-uri", "http://u:secret@h");
}

static void
test_amqp_file_errors(void **state)
{
	(void) state;
	expect_file_error("amqp_uri = ftp://x\n", "1: amqp_uri: not a valid amqp:// or amqps:// URI");
}

static void
test_amqp_cross_option(void **state)
{
	(void) state;
	EXPECT_ERROR("on_return = alternate requires alternate_exchange", "--on-return", "alternate");
	EXPECT_ERROR("amqp_cert and amqp_key must be set together", "--amqp-cert", "c.pem");
	EXPECT_ERROR("amqp_cert and amqp_key must be set together", "--amqp-key", "k.pem");
	EXPECT_ERROR("batch_max_events (20000) exceeds max_inflight_events (10000)",
				 "--batch-max-events", "20000");
	EXPECT_ERROR("batch_max_bytes (16MB) exceeds max_inflight_bytes (8MB)",
				 "--batch-max-bytes", "16MB", "--max-inflight-bytes", "8MB");
}

static void
test_amqp_mask(void **state)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			cases[] = {
		{"amqp://user:secret@broker:5673/prod", "amqp://user:****@broker:5673/prod"},
		{"amqps://user:secret@broker/", "amqps://user:****@broker:5671/"},
		{"amqp://broker", "amqp://guest:****@broker:5672/%2F"},
		{"amqp://us%40er:pa%2Fss@[::1]:5672/v%2Fh", "amqp://us%40er:****@[::1]:5672/v%2Fh"},
		{"amqp://u:p@h:notaport/", "****"},
		/* bytes from 0x80 raw, as rabbitmq-c reads them (test/fuzz_uri) */
		{"amqp://j\xc3\xb6rg:secret@h/v\xc3\xa9", "amqp://j\xc3\xb6rg:****@h:5672/v\xc3\xa9"},
		/* a host rabbitmq-c decodes is encoded again (test/fuzz_uri) */
		{"amqp://us%40e", "amqp://guest:****@us%40e:5672/%2F"},
		/* and inside an IPv6 literal's brackets, colons kept (test/fuzz_uri) */
		{"amqp://u:p@[::%2F1]:5672/v", "amqp://u:****@[::%2F1]:5672/v"},
		{"amqp://us@[]", "amqp://us:****@[]:5672/%2F"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *m = sink_amqp_mask_uri(cases[i].in);

		assert_non_null(m);
		assert_string_equal(m, cases[i].out);
		free(m);
	}
}

static void
test_amqp_print_config(void **state)
{
	char		out[8192];

	(void) state;
	assert_int_equal(LOAD_CAPTURED(out, "--print-config", "-d", "host=db password=hunter2",
								   "--amqp-uri", "amqp://u:hunter2@h/v",
								   "--queue", "q q"),
					 CONFIG_DONE);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "\namqp_uri = amqp://u:****@h:5672/v  # --amqp-uri\n"));
	assert_non_null(strstr(out, "\nqueue = q q  # --queue\n"));
	assert_non_null(strstr(out, "\nqueue_binding_key = \"#\"\n"));
	assert_non_null(strstr(out, "\nbatch_max_bytes = 1MB\n"));
	assert_non_null(strstr(out, "\nalternate_exchange = \"\"\n"));
}

static void
test_amqp_help(void **state)
{
	char		out[16384];

	(void) state;
	assert_int_equal(LOAD_CAPTURED(out, "--help"), CONFIG_DONE);
	assert_non_null(strstr(out, "\nRabbitMQ:\n"));
	assert_non_null(strstr(out, "(default: {schema}.{table}.{op})"));
}

/* Its URI is a secret: ps does not show the password. */
static void
test_amqp_scrub(void **state)
{
	const char *in[] = {"walcast-agent", "--amqp-uri", "amqp://u:secret@h:5672/%2f",
	"--amqp-uri=amqps://u:p@ss@h/v", "--", "--amqp-uri", "amqp://u:p@h/"};
	const char *want[] = {"walcast-agent", "--amqp-uri", "amqp://u:******@h:5672/%2f",
	"--amqp-uri=amqps://u:****@h/v", "--", "--amqp-uri", "amqp://u:p@h/"};
	char	   *argv[8];

	(void) state;
	for (int i = 0; i < 7; i++)
		argv[i] = strdup(in[i]);
	config_scrub_argv(7, argv);
	for (int i = 0; i < 7; i++)
	{
		assert_string_equal(argv[i], want[i]);
		free(argv[i]);
	}
}

static void
test_amqp_reload(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	/*
	 * The engine's reload, with a rule between a sink's setting and a
	 * reloadable core one.  "needs a restart" warnings are expected: keep
	 * them out of the output.
	 */
	assert_true(log_open("/dev/null", err, sizeof(err)));
	write_conf("status_interval = 5\nstats_interval = 10\nslot = a\nverbose = 0\n");
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--shutdown-timeout", "7",
						  "--batch-max-bytes", "2MB"), CONFIG_OK);

	/* reloadable settings change, others keep the running value, CLI still wins */
	write_conf("status_interval = 6\nstats_interval = 11\nslot = b\nverbose = 1\n"
			   "shutdown_timeout = 99\nlog_file = /tmp/walcast-test.log\n");
	assert_true(config_reload(&cfg, err, sizeof(err)));
	assert_int_equal(cfg.status_interval, 6);
	assert_int_equal(cfg.stats_interval, 11);
	assert_int_equal(cfg.verbose, 1);
	assert_string_equal(cfg.log_file, "/tmp/walcast-test.log");
	assert_string_equal(cfg.slot, "a");
	assert_int_equal(cfg.shutdown_timeout, 7);

	/* an error keeps everything as it was */
	write_conf("status_interval = 0\n");
	assert_false(config_reload(&cfg, err, sizeof(err)));
	{
		char		want[600];

		snprintf(want, sizeof(want), "%s:1: status_interval: 0 is out of range (1..3600)", conf_path);
		assert_string_equal(err, want);
	}
	assert_int_equal(cfg.status_interval, 6);
	assert_string_equal(cfg.log_file, "/tmp/walcast-test.log");

	/* cross-option rules apply to the merged result */
	write_conf("max_inflight_bytes = 1MB\n");
	assert_false(config_reload(&cfg, err, sizeof(err)));
	assert_string_equal(err, "batch_max_bytes (2MB) exceeds max_inflight_bytes (1MB)");
	assert_int_equal(cfg.max_inflight_bytes, 64 * 1024 * 1024);
	config_free(&cfg);
	log_close();
}

/* With another sink, in registry order; stdout only when none is set. */
static void
test_amqp_registry(void **state)
{
	struct agent_config cfg;
	struct event_needs needs;
	char		err[512];
	char		names[128];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--amqp-uri", "amqp://h/", "--file-path", "/tmp/x"),
					 CONFIG_OK);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "amqp and file");
	sink_needs(&cfg, &needs);
	assert_false(needs.types || needs.key);
	config_free(&cfg);

	assert_int_equal(LOAD(&cfg, err, "--amqp-uri", "amqp://h/"), CONFIG_OK);
	sink_describe(&cfg, names, sizeof(names));
	assert_string_equal(names, "amqp");
	config_free(&cfg);
}

/* RabbitMQ 3.10's two texts (rabbit_channel's check_msg_size), and others. */
static void
test_amqp_max_size_of(void **state)
{
	size_t		max = 7;

	(void) state;
	assert_true(sink_amqp_max_size_of("RabbitMQ closed the channel: PRECONDITION_FAILED - message size 2560194 is larger than configured max size 1048576", &max));
	assert_int_equal(max, 1048576);
	assert_true(sink_amqp_max_size_of("PRECONDITION_FAILED - message size 134217729 is larger than max size 134217728", &max));
	assert_int_equal(max, 134217728);
	max = 7;
	assert_false(sink_amqp_max_size_of("PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x'", &max));
	assert_false(sink_amqp_max_size_of("PRECONDITION_FAILED - message size 5 is larger than max size 0", &max));
	assert_false(sink_amqp_max_size_of("PRECONDITION_FAILED - max size unknown", &max));
	assert_int_equal(max, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_amqp_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_cross_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_print_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_scrub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_registry, setup, teardown),
		cmocka_unit_test(test_amqp_max_size_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
