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
	assert_int_equal(AMQP(&cfg)->batch_linger_ms, 5);
	assert_int_equal(AMQP(&cfg)->on_return, SINK_AMQP_ON_RETURN_FAIL);
	assert_null(AMQP(&cfg)->alternate_exchange);
	assert_int_equal(AMQP(&cfg)->queue_type, SINK_AMQP_QUEUE_CLASSIC);
	assert_int_equal(AMQP(&cfg)->queue_max_length_bytes, 0);
	assert_null(AMQP(&cfg)->queue_max_age);
	assert_int_equal(AMQP(&cfg)->partitions, 0);
	assert_string_equal(sink_amqp_route_template(AMQP(&cfg)), "{schema}.{table}.{op}");
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
						  "--batch", "window", "--batch-max-bytes", "512kB", "--batch-linger-ms=20",
						  "--on-return", "alternate", "--alternate-exchange", "ae",
						  "--max-inflight-bytes", "1 GB", "-vvv", "--log-file", "/tmp/x.log"),
					 CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqps://u:p@h/v");
	assert_false(AMQP(&cfg)->amqp_verify_peer);
	assert_true(AMQP(&cfg)->exchange_passive);
	assert_string_equal(AMQP(&cfg)->queue, "q");
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_WINDOW);
	assert_int_equal(AMQP(&cfg)->batch_max_bytes, 512 * 1024);
	assert_int_equal(AMQP(&cfg)->batch_linger_ms, 20);
	assert_int_equal(AMQP(&cfg)->on_return, SINK_AMQP_ON_RETURN_ALTERNATE);
	assert_string_equal(AMQP(&cfg)->alternate_exchange, "ae");
	config_free(&cfg);
}

/* Queue types, stream retention, partitions and their routing key. */
static void
test_amqp_scaling_options(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--amqp-uri", "amqp://h/", "--queue", "q",
						  "--queue-type", "stream", "--queue-max-length-bytes", "20GB",
						  "--queue-max-age", "7D", "--partitions", "4"), CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->queue_type, SINK_AMQP_QUEUE_STREAM);
	assert_int_equal(AMQP(&cfg)->queue_max_length_bytes, 20 * CONFIG_GB);
	assert_string_equal(AMQP(&cfg)->queue_max_age, "7D");
	assert_int_equal(AMQP(&cfg)->partitions, 4);
	/* with partitions the default template is the partition */
	assert_string_equal(sink_amqp_route_template(AMQP(&cfg)), "{partition}");
	config_free(&cfg);

	/* a template of literals around {partition} is kept; 1024 is the most */
	assert_int_equal(LOAD(&cfg, err, "--queue", "q", "--queue-type", "quorum",
						  "--partitions", "1024", "--routing-key", "cdc.{partition}"),
					 CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->queue_type, SINK_AMQP_QUEUE_QUORUM);
	assert_string_equal(sink_amqp_route_template(AMQP(&cfg)), "cdc.{partition}");
	config_free(&cfg);

	/*
	 * Unset is off: an empty value (what --print-config writes for it)
	 * also on the command line; the file and environment take them
	 */
	write_conf("queue = q\nqueue_type = quorum\npartitions = \"\"\n");
	setenv("WALCAST_PARTITIONS", "2", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--partitions", ""), CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->partitions, 0);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path), CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->partitions, 2);
	config_free(&cfg);
	unsetenv("WALCAST_PARTITIONS");
}

/* Several brokers: repeated on the command line, or comma-separated. */
static void
test_amqp_several_uris(void **state)
{
	struct agent_config cfg;
	char		err[512];
	char	  **items;
	int			n = 0;

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--amqp-uri", "amqp://u:p@a:5672/", "--amqp-uri",
						  "amqp://u:p@b:5673/ , amqp://u:p@c/"), CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri,
						"amqp://u:p@a:5672/,amqp://u:p@b:5673/ , amqp://u:p@c/");
	items = config_multi_split(AMQP(&cfg)->amqp_uri, &n);
	assert_int_equal(n, 3);
	assert_string_equal(items[0], "amqp://u:p@a:5672/");
	assert_string_equal(items[1], "amqp://u:p@b:5673/");
	assert_string_equal(items[2], "amqp://u:p@c/");
	config_multi_free(items, n);
	config_free(&cfg);

	/* a higher source replaces the list; only the command line adds */
	write_conf("amqp_uri = amqp://file1/,amqp://file2/\n");
	setenv("WALCAST_AMQP_URI", "amqp://env/", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path), CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqp://env/");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--amqp-uri", "amqp://cli1/",
						  "--amqp-uri", "amqp://cli2/"), CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqp://cli1/,amqp://cli2/");
	config_free(&cfg);
	unsetenv("WALCAST_AMQP_URI");
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path), CONFIG_OK);
	assert_string_equal(AMQP(&cfg)->amqp_uri, "amqp://file1/,amqp://file2/");
	config_free(&cfg);

	/* one value alone splits to itself */
	items = config_multi_split("amqp://h/", &n);
	assert_int_equal(n, 1);
	assert_string_equal(items[0], "amqp://h/");
	config_multi_free(items, n);
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
			   "batch_linger_ms = 0\n"
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
	assert_int_equal(AMQP(&cfg)->batch_linger_ms, 0);
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
	write_conf("exchange = file\nqueue = file\nbatch = transaction\nbatch_linger_ms = 7\n");
	setenv("WALCAST_EXCHANGE", "env", 1);
	setenv("WALCAST_QUEUE", "env", 1);
	setenv("WALCAST_BATCH_LINGER_MS", "9", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--exchange", "cli"), CONFIG_OK);
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_TRANSACTION);	/* file only */
	assert_int_equal(AMQP(&cfg)->batch_linger_ms, 9);	/* env over file */
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
	EXPECT_ERROR("--batch: \"tx\" is not one of change, transaction, window", "--batch", "tx");
	EXPECT_ERROR("--batch-linger-ms: -1 is out of range (0..60000)", "--batch-linger-ms", "-1");
	EXPECT_ERROR("--batch-linger-ms: 60001 is out of range (0..60000)", "--batch-linger-ms", "60001");
	EXPECT_ERROR("--batch-linger-ms: \"5ms\" is not an integer (0..60000)", "--batch-linger-ms", "5ms");
	EXPECT_ERROR("--on-return: \"ignore\" is not one of fail, drop, alternate", "--on-return", "ignore");
	EXPECT_ERROR("--exchange: must not be empty", "--exchange", "");
	EXPECT_ERROR("--routing-key: unknown placeholder \"{tbl}\" (use {schema}, {table}, {op}, {xid} or {partition})",
				 "--routing-key", "{schema}.{tbl}");
	EXPECT_ERROR("--routing-key: unbalanced \"{\" at offset 0", "--routing-key", "{schema");
	EXPECT_ERROR("--amqp-uri: not a valid amqp:// or amqps:// URI", "--amqp-uri", "http://u:secret@h");
	/* each broker of a list is checked, and named by its place */
	EXPECT_ERROR("--amqp-uri: value 2 of 2: not a valid amqp:// or amqps:// URI",
				 "--amqp-uri", "amqp://h/,http://u:secret@h");
	EXPECT_ERROR("--amqp-uri: value 2 of 3: is empty", "--amqp-uri", "amqp://a/,,amqp://b/");
	EXPECT_ERROR("--amqp-uri: value 2 of 2: not a valid amqp:// or amqps:// URI",
				 "--amqp-uri", "amqp://a/", "--amqp-uri", "ftp://b/");
	EXPECT_ERROR("--queue-type: \"bogus\" is not one of classic, quorum, stream",
				 "--queue-type", "bogus");
	EXPECT_ERROR("--partitions: 0 is out of range (1..1024)", "--partitions", "0");
	EXPECT_ERROR("--partitions: -1 is out of range (1..1024)", "--partitions", "-1");
	EXPECT_ERROR("--partitions: 1025 is out of range (1..1024)", "--partitions", "1025");
	EXPECT_ERROR("--partitions: \"four\" is not an integer (1..1024)", "--partitions", "four");
	EXPECT_ERROR("--partitions: \"4x\" is not an integer (1..1024)", "--partitions", "4x");
	EXPECT_ERROR("--queue-max-age: \"7 days\" is not an age: a number and one unit of Y, M, D, h, m, s (e.g. 7D)",
				 "--queue-max-age", "7 days");
	EXPECT_ERROR("--queue-max-age: \"D\" is not an age: a number and one unit of Y, M, D, h, m, s (e.g. 7D)",
				 "--queue-max-age", "D");
	EXPECT_ERROR("--queue-max-age: \"0h\" is not an age: a number and one unit of Y, M, D, h, m, s (e.g. 7D)",
				 "--queue-max-age", "0h");
	EXPECT_ERROR("--queue-max-age: \"12hm\" is not an age: a number and one unit of Y, M, D, h, m, s (e.g. 7D)",
				 "--queue-max-age", "12hm");
	EXPECT_ERROR("--queue-max-length-bytes: \"-1\" is not a size (0B..1048576GB)",
				 "--queue-max-length-bytes", "-1");
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
	/* queue types and retention */
	EXPECT_ERROR("queue_type = quorum needs queue: it is the type of the queue(s) the agent declares",
				 "--queue-type", "quorum");
	EXPECT_ERROR("queue_max_age is a stream's retention: it needs queue_type = stream",
				 "--queue", "q", "--queue-max-age", "7D");
	EXPECT_ERROR("queue_max_length_bytes is a stream's retention: it needs queue_type = stream",
				 "--queue", "q", "--queue-type", "quorum", "--queue-max-length-bytes", "1GB");
	/* partitions */
	EXPECT_ERROR("partitions needs queue: the partitions are the queues <queue>-0 .. <queue>-3",
				 "--partitions", "4");
	EXPECT_ERROR("routing_key: {partition} needs partitions", "--routing-key", "{partition}");
	EXPECT_ERROR("routing_key \"{table}.{partition}\" with partitions: use {partition} and literal text only (each partition's queue is bound by one key)",
				 "--queue", "q", "--partitions", "2", "--routing-key", "{table}.{partition}");
	EXPECT_ERROR("routing_key \"fixed\" with partitions: use {partition} and literal text only (each partition's queue is bound by one key)",
				 "--queue", "q", "--partitions", "2", "--routing-key", "fixed");
	EXPECT_ERROR("queue_binding_key does not apply with partitions: each partition's queue is bound by its routing key",
				 "--queue", "q", "--partitions", "2", "--queue-binding-key", "a.#");
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
	assert_non_null(strstr(out, "\nqueue_type = classic\n"));
	assert_non_null(strstr(out, "\npartitions = \"\"\n"));

	/* each broker of a list masked on its own */
	assert_int_equal(LOAD_CAPTURED(out, "--print-config", "--amqp-uri", "amqp://u:hunter2@h1/v",
								   "--amqp-uri", "amqp://u:hunter3@h2:5673/v,amqp://h3/"),
					 CONFIG_DONE);
	assert_null(strstr(out, "hunter"));
	assert_non_null(strstr(out, "\namqp_uri = amqp://u:****@h1:5672/v,amqp://u:****@h2:5673/v,amqp://guest:****@h3:5672/  # --amqp-uri\n"));
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

/* Its URI is a secret: ps does not show the password, of any broker. */
static void
test_amqp_scrub(void **state)
{
	const char *in[] = {"walcast-agent", "--amqp-uri", "amqp://u:secret@h:5672/%2f",
		"--amqp-uri=amqps://u:p@ss@h/v",
		"--amqp-uri", "amqp://u:one@h1/, amqp://u:two@h2:5673/,amqp://h3/",
		"--amqp-uri", "amqp://u:pa,ss@h/",
	"--", "--amqp-uri", "amqp://u:p@h/"};
	const char *want[] = {"walcast-agent", "--amqp-uri", "amqp://u:******@h:5672/%2f",
		"--amqp-uri=amqps://u:****@h/v",
		"--amqp-uri", "amqp://u:***@h1/, amqp://u:***@h2:5673/,amqp://h3/",
		"--amqp-uri", "amqp://u:*****@h/",
	"--", "--amqp-uri", "amqp://u:p@h/"};
	enum
	{
	N = sizeof(in) / sizeof(in[0])};
	char	   *argv[N + 1];

	(void) state;
	for (int i = 0; i < N; i++)
		argv[i] = strdup(in[i]);
	config_scrub_argv(N, argv);
	for (int i = 0; i < N; i++)
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
			   "shutdown_timeout = 99\nlog_file = /tmp/walcast-test.log\n"
			   "batch = window\nbatch_linger_ms = 50\n");
	assert_true(config_reload(&cfg, err, sizeof(err)));
	/* batching is the session's shape: a change needs a restart */
	assert_int_equal(AMQP(&cfg)->batch, SINK_AMQP_BATCH_CHANGE);
	assert_int_equal(AMQP(&cfg)->batch_linger_ms, 5);
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

	/* partitions hash the key: the decoder must send it */
	assert_int_equal(LOAD(&cfg, err, "--amqp-uri", "amqp://h/", "--queue", "q",
						  "--partitions", "3"), CONFIG_OK);
	sink_needs(&cfg, &needs);
	assert_true(needs.key);
	assert_false(needs.types);
	assert_string_equal(needs.key_setting, "partitions");
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
		cmocka_unit_test_setup_teardown(test_amqp_scaling_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amqp_several_uris, setup, teardown),
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
