/*
 * test_config.c
 *		Unit tests of the configuration engine through the core's settings:
 *		defaults, file syntax, precedence file < env < CLI, every error
 *		message, masking, --print-config, --help, cross-option rules and
 *		SIGHUP reload.  Each sink's settings are tested with the sink
 *		(test_sink_*.c), through the same engine.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv, mkstemp, fileno, dup */

#include "config_harness.h"
#include "log.h"

static void
test_defaults(void **state)
{
	struct agent_config cfg;
	char		err[512];
	char	   *argv[] = {"walcast-agent", NULL};

	(void) state;
	assert_int_equal(config_load(&cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
	assert_string_equal(cfg.dbname, "");
	assert_string_equal(cfg.slot, "walcast");
	assert_false(cfg.create_slot);
	assert_false(cfg.if_not_exists);
	assert_int_equal(cfg.plugin_options.count, 0);
	assert_int_equal(cfg.status_interval, 10);
	assert_null(cfg.config_file);
	assert_int_equal(cfg.envelope, ENVELOPE_NATIVE);
	assert_int_equal(cfg.max_inflight_events, 10000);
	assert_int_equal(cfg.max_inflight_bytes, 64 * 1024 * 1024);
	assert_int_equal(cfg.shutdown_timeout, 30);
	assert_int_equal(cfg.stats_interval, 60);
	assert_int_equal(cfg.reconnect_max_delay, 30);
	assert_null(cfg.log_file);
	assert_int_equal(cfg.verbose, 0);
	assert_null(cfg.http_listen);
	assert_int_equal(cfg.slot_check_interval, 10);
	assert_int_equal(cfg.slot_retained_warn, 1024 * 1024 * 1024);
	assert_int_equal(cfg.heartbeat_interval, 60);
	assert_false(cfg.publish_heartbeats);
	assert_string_equal(cfg.state_dir, ".");
	config_free(&cfg);
	config_free(&cfg);			/* safe twice */
}

/*
 * --state-dir's default is systemd's $STATE_DIRECTORY (StateDirectory=)
 * when set and not empty; any source still overrides it.
 */
static void
test_state_dir_default(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	setenv("STATE_DIRECTORY", "/var/lib/walcast", 1);
	assert_int_equal(LOAD(&cfg, err, "-v"), CONFIG_OK);
	assert_string_equal(cfg.state_dir, "/var/lib/walcast");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--state-dir", "/srv/w"), CONFIG_OK);
	assert_string_equal(cfg.state_dir, "/srv/w");
	config_free(&cfg);
	setenv("STATE_DIRECTORY", "", 1);
	assert_int_equal(LOAD(&cfg, err, "-v"), CONFIG_OK);
	assert_string_equal(cfg.state_dir, ".");
	config_free(&cfg);
	unsetenv("STATE_DIRECTORY");
}

/* The monitoring options: values, and every way --http-listen is wrong. */
static void
test_monitoring_options(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--http-listen", "9187", "--slot-check-interval", "0",
						  "--slot-retained-warn", "0", "--heartbeat-interval", "5",
						  "--publish-heartbeats"), CONFIG_OK);
	assert_string_equal(cfg.http_listen, "9187");
	assert_int_equal(cfg.slot_check_interval, 0);
	assert_int_equal(cfg.slot_retained_warn, 0);
	assert_int_equal(cfg.heartbeat_interval, 5);
	assert_true(cfg.publish_heartbeats);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--http-listen", "[::1]:0"), CONFIG_OK);
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "--http-listen", "0.0.0.0:9187"), CONFIG_OK);
	config_free(&cfg);

	EXPECT_ERROR("--http-listen: \"70000\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", "70000");
	EXPECT_ERROR("--http-listen: \"host:\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", "host:");
	EXPECT_ERROR("--http-listen: \":9187\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", ":9187");
	EXPECT_ERROR("--http-listen: \"::1:9187\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", "::1:9187");
	EXPECT_ERROR("--http-listen: \"[::1:9187\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", "[::1:9187");
	EXPECT_ERROR("--http-listen: \"-1\" is not [ADDR:]PORT (e.g. 9187, 127.0.0.1:9187, [::1]:9187; port 0..65535)",
				 "--http-listen", "-1");
	EXPECT_ERROR("--http-listen: \"300.1.2.3:9187\": \"300.1.2.3\" is not a numeric IPv4 or IPv6 address (or localhost)",
				 "--http-listen", "300.1.2.3:9187");
	EXPECT_ERROR("--http-listen: \"metrics.example:9187\": \"metrics.example\" is not a numeric IPv4 or IPv6 address (or localhost)",
				 "--http-listen", "metrics.example:9187");
	assert_int_equal(LOAD(&cfg, err, "--http-listen", "localhost:9187"), CONFIG_OK);
	config_free(&cfg);
	EXPECT_ERROR("--slot-retained-warn: 2000GB is out of range (0B..1024GB)",
				 "--slot-retained-warn", "2000GB");
	EXPECT_ERROR("--heartbeat-interval: -1 is out of range (0..86400)",
				 "--heartbeat-interval", "-1");
}

static void
test_cli(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "-d", "dbname=app", "-S", "s1", "--create-slot", "--if-not-exists",
						  "-o", "include-pk=true", "--option=filter-tables=a.b,c.d", "-s", "5",
						  "--envelope", "flat",
						  "--max-inflight-bytes", "1 GB", "-vvv", "--log-file", "/tmp/x.log"),
					 CONFIG_OK);
	assert_string_equal(cfg.dbname, "dbname=app");
	assert_string_equal(cfg.slot, "s1");
	assert_true(cfg.create_slot && cfg.if_not_exists);
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[0].name, "include-pk");
	assert_string_equal(cfg.plugin_options.items[0].value, "true");
	assert_string_equal(cfg.plugin_options.items[1].name, "filter-tables");
	assert_string_equal(cfg.plugin_options.items[1].value, "a.b,c.d");
	assert_int_equal(cfg.status_interval, 5);
	assert_int_equal(cfg.envelope, ENVELOPE_FLAT);
	assert_int_equal(cfg.max_inflight_bytes, 1024 * 1024 * 1024);
	assert_int_equal(cfg.verbose, 2);	/* capped */
	assert_string_equal(cfg.log_file, "/tmp/x.log");
	config_free(&cfg);

	assert_int_equal(LOAD(&cfg, err, "-v"), CONFIG_OK);
	assert_int_equal(cfg.verbose, 1);
	assert_null(cfg.reload_table);
	config_free(&cfg);

	/* command line only: the environment does not set it */
	setenv("WALCAST_RELOAD_TABLE", "s.a", 1);
	assert_int_equal(LOAD(&cfg, err, "--reload-table", "public.a,s.b.c"), CONFIG_OK);
	assert_string_equal(cfg.reload_table, "public.a,s.b.c");
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "-v"), CONFIG_OK);
	assert_null(cfg.reload_table);
	config_free(&cfg);
	unsetenv("WALCAST_RELOAD_TABLE");
}

static void
test_file(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	write_conf("# walcast-agent test\n"
			   "\n"
			   "   slot=fromfile   \n"
			   "status_interval = 7   # seconds\n"
			   "\tdbname = host=db port=5433 password=p#ss\n"
			   "state_dir = \"/var/lib/wal cast\"  # quoted\n"
			   "envelope = 'flat'\n"
			   "log_file = \"a\\\"b\\\\c # not a comment\"\n"
			   "create_slot = yes\n"
			   "if_not_exists = ON\n"
			   "option = include-pk=true\n"
			   "option = filter-tables=a b\n"
			   "max-inflight-bytes = 2MB\n"
			   "file_path =\n"
			   "snapshot = never # comment\n");
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path), CONFIG_OK);
	assert_string_equal(cfg.config_file, conf_path);
	assert_string_equal(cfg.slot, "fromfile");
	assert_int_equal(cfg.status_interval, 7);
	assert_string_equal(cfg.dbname, "host=db port=5433 password=p#ss");
	assert_string_equal(cfg.state_dir, "/var/lib/wal cast");
	assert_int_equal(cfg.envelope, ENVELOPE_FLAT);
	assert_string_equal(cfg.log_file, "a\"b\\c # not a comment");
	assert_true(cfg.create_slot);
	assert_true(cfg.if_not_exists);
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[1].value, "a b");
	assert_int_equal(cfg.max_inflight_bytes, 2 * 1024 * 1024);
	assert_int_equal(cfg.snapshot, CONFIG_SNAPSHOT_NEVER);
	config_free(&cfg);
}

/* The shipped example must stay loadable (tests run from agent/). */
static void
test_example_file(void **state)
{
	struct agent_config cfg;
	char		err[512] = "";

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "-c", "walcast-agent.conf.example"), CONFIG_OK);
	assert_string_equal(cfg.slot, "walcast");
	assert_null(cfg.log_file);
	config_free(&cfg);
}

static void
test_precedence(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	write_conf("slot = file\nstatus_interval = 2\nstate_dir = file\noption = a=file\noption = b=file\n");
	setenv("WALCAST_STATUS_INTERVAL", "3", 1);
	setenv("WALCAST_STATE_DIR", "env", 1);
	setenv("WALCAST_OPTION", "c=env  d=env", 1);
	setenv("WALCAST_CREATE_SLOT", "true", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--state-dir", "cli"), CONFIG_OK);
	assert_string_equal(cfg.slot, "file");	/* file only */
	assert_int_equal(cfg.status_interval, 3);	/* env over file */
	assert_string_equal(cfg.state_dir, "cli");	/* CLI over env */
	assert_true(cfg.create_slot);
	/* a list from a higher source replaces the lower one */
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[0].name, "c");
	assert_string_equal(cfg.plugin_options.items[1].name, "d");
	config_free(&cfg);

	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "-o", "e=cli", "-s", "4"), CONFIG_OK);
	assert_int_equal(cfg.plugin_options.count, 1);
	assert_string_equal(cfg.plugin_options.items[0].name, "e");
	assert_int_equal(cfg.status_interval, 4);
	config_free(&cfg);

	/* WALCAST_CONFIG names the file; an empty env value clears a list */
	setenv("WALCAST_CONFIG", conf_path, 1);
	setenv("WALCAST_OPTION", "", 1);
	assert_int_equal(LOAD(&cfg, err, "-S", "x"), CONFIG_OK);
	assert_string_equal(cfg.config_file, conf_path);
	assert_string_equal(cfg.slot, "x");
	assert_int_equal(cfg.plugin_options.count, 0);
	config_free(&cfg);
}

static void
test_value_errors(void **state)
{
	(void) state;
	EXPECT_ERROR("--status-interval: \"abc\" is not an integer (1..3600)", "-s", "abc");
	EXPECT_ERROR("--status-interval: 0 is out of range (1..3600)", "-s", "0");
	EXPECT_ERROR("--status-interval: 3601 is out of range (1..3600)", "--status-interval=3601");
	EXPECT_ERROR("--status-interval: \"5s\" is not an integer (1..3600)", "-s", "5s");
	EXPECT_ERROR("--status-interval: \" 5\" is not an integer (1..3600)", "-s", " 5");
	EXPECT_ERROR("--status-interval: 99999999999999999999 is out of range (1..3600)", "-s", "99999999999999999999");
	EXPECT_ERROR("--envelope: \"xml\" is not one of native, debezium, flat", "--envelope", "xml");
	EXPECT_ERROR("--option: \"include-pk\" is not NAME=VALUE", "-o", "include-pk");
	EXPECT_ERROR("--option: \"=x\" is not NAME=VALUE", "-o", "=x");
	EXPECT_ERROR("--option: \"a\" given twice", "-o", "a=1", "-o", "a=2");
	EXPECT_ERROR("--slot: must not be empty", "-S", "");
	EXPECT_ERROR("--dbname: not a valid connection string", "-d", "host=x password");
	EXPECT_ERROR("--reload-table: \"orders\" is not a table name as schema.table", "--reload-table", "orders");
	EXPECT_ERROR("--reload-table: \".orders\" is not a table name as schema.table", "--reload-table", ".orders");
	EXPECT_ERROR("--reload-table: \"public.\" is not a table name as schema.table", "--reload-table", "public.");
	EXPECT_ERROR("--reload-table: \"\" is not a table name as schema.table", "--reload-table", "a.b,");
	EXPECT_ERROR("--reload-table: \"c\" is not a table name as schema.table", "--reload-table", "a.b,c,d.e");

}

static void
test_cli_errors(void **state)
{
	(void) state;
	EXPECT_ERROR("unknown option \"--bogus\" (try --help)", "--bogus");
	EXPECT_ERROR("unknown option \"--bogus=1\" (try --help)", "--bogus=1");
	EXPECT_ERROR("unknown option \"-x\" (try --help)", "-x");
	EXPECT_ERROR("option \"-d\" requires a value (try --help)", "-d");
	EXPECT_ERROR("option \"--slot\" requires a value (try --help)", "--slot");
	EXPECT_ERROR("option \"--create-slot\" takes no value (try --help)", "--create-slot=yes");
	EXPECT_ERROR("unexpected argument \"extra\" (try --help)", "-S", "s", "extra");
}

static void
test_env_errors(void **state)
{
	(void) state;
	setenv("WALCAST_STATUS_INTERVAL", "abc", 1);
	EXPECT_ERROR("WALCAST_STATUS_INTERVAL: \"abc\" is not an integer (1..3600)");
	unsetenv("WALCAST_STATUS_INTERVAL");
	setenv("WALCAST_CREATE_SLOT", "", 1);
	EXPECT_ERROR("WALCAST_CREATE_SLOT: \"\" is not a boolean (true/false, on/off, yes/no, 1/0)");
	unsetenv("WALCAST_CREATE_SLOT");
	setenv("WALCAST_OPTION", "a=1 b", 1);
	EXPECT_ERROR("WALCAST_OPTION: \"b\" is not NAME=VALUE");
	unsetenv("WALCAST_OPTION");
	/* actions are command-line only */
	setenv("WALCAST_HELP", "1", 1);
	{
		struct agent_config cfg;
		char		err[512];

		assert_int_equal(LOAD(&cfg, err, "-S", "x"), CONFIG_OK);
		config_free(&cfg);
	}
	unsetenv("WALCAST_HELP");
}

static void
test_file_errors(void **state)
{
	char		want[600];

	(void) state;
	expect_file_error("# ok\n\nstatus_interval = abc\n",
					  "3: status_interval: \"abc\" is not an integer (1..3600)");
	expect_file_error("bogus = 1\n", "1: unknown setting \"bogus\"");
	expect_file_error("slot walcast\n", "1: syntax error (expected \"key = value\")");
	expect_file_error("= walcast\n", "1: syntax error (expected \"key = value\")");
	expect_file_error("slot.x = 1\n", "1: syntax error (expected \"key = value\")");
	expect_file_error("slot = \"walcast\n", "1: unterminated quoted value");
	expect_file_error("slot = 'walcast\n", "1: unterminated quoted value");
	expect_file_error("slot = \"a\" b\n", "1: unexpected text after quoted value");
	expect_file_error("slot = a\nslot = b\n", "2: slot: duplicate setting (first set at line 1)");
	expect_file_error("status-interval = 5\nstatus_interval = 6\n",
					  "2: status_interval: duplicate setting (first set at line 1)");
	expect_file_error("config = /etc/x\n", "1: config cannot be set in a config file");
	expect_file_error("help = 1\n", "1: help cannot be set in a config file");
	expect_file_error("print_config = true\n", "1: print_config cannot be set in a config file");
	/* a daemon's file naming tables would reload them on every start */
	expect_file_error("reload_table = public.a\n", "1: reload_table cannot be set in a config file");
	expect_file_error("envelope = \"\"\n", "1: envelope: \"\" is not one of native, debezium, flat");
	expect_file_error("option = a=1\noption = a=2\n", "2: option: \"a\" given twice");

	EXPECT_ERROR("could not open config file \"/nonexistent/walcast.conf\": No such file or directory",
				 "-c", "/nonexistent/walcast.conf");
	/* the error names the file given on the command line */
	write_conf("verbose = 3\n");
	snprintf(want, sizeof(want), "%s:1: verbose: 3 is out of range (0..2)", conf_path);
	EXPECT_ERROR(want, "--config", conf_path);
}

static void
test_cross_option(void **state)
{
	(void) state;
	EXPECT_ERROR("if_not_exists requires create_slot", "--if-not-exists");

}

static void
test_mask(void **state)
{
	static const struct
	{
		const char *in;
		const char *out;
	}			cases[] = {
		{"host=db user=app password=secret dbname=x", "user='app' password='****' dbname='x' host='db'"},
		{"host=db password='it\\'s' application_name='a\\'b'",
		"password='****' host='db' application_name='a\\'b'"},
		{"postgresql://app:secret@db:5433/x", "user='app' password='****' dbname='x' host='db' port='5433'"},
		{"host=db user=app", "host=db user=app"},
		{"postgresql://db/x", "postgresql://db/x"},
		{"", ""},
		{"host=db password", "****"},
		{"postgresql://a:b@db/x?bogus=1", "****"},
	};

	(void) state;
	assert_null(config_mask_conninfo(NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *m = config_mask_conninfo(cases[i].in);

		assert_non_null(m);
		assert_string_equal(m, cases[i].out);
		free(m);
	}
}

static void
test_print_config(void **state)
{
	char		out[8192];

	(void) state;
	write_conf("status_interval = 5\n");
	setenv("WALCAST_STATS_INTERVAL", "0", 1);
	assert_int_equal(LOAD_CAPTURED(out, "--print-config", "-c", conf_path,
								   "-d", "host=db password=hunter2",
								   "-o", "include-pk=true", "-o", "x=a # b",
								   "--state-dir", "q q"),
					 CONFIG_DONE);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "# walcast-agent 0.1.0 effective configuration\n"));
	assert_non_null(strstr(out, "\ndbname = \"password='****' host='db'\"  # --dbname\n"));
	assert_non_null(strstr(out, "\noption = include-pk=true  # --option\n"));
	assert_non_null(strstr(out, "\noption = x=\"a # b\"  # --option\n"));
	assert_non_null(strstr(out, "\nslot = walcast\n"));
	assert_non_null(strstr(out, "\nstate_dir = q q  # --state-dir\n"));
	assert_non_null(strstr(out, "\nmax_inflight_bytes = 64MB\n"));
	assert_non_null(strstr(out, "\nenvelope = native\n"));
	assert_non_null(strstr(out, "\ncreate_slot = false\n"));
	assert_non_null(strstr(out, "\nstats_interval = 0  # WALCAST_STATS_INTERVAL\n"));
	assert_non_null(strstr(out, "\nlog_file = \"\"\n"));
	{
		char		want[200];

		snprintf(want, sizeof(want), "\n# config = %s  # --config\n", conf_path);
		assert_non_null(strstr(out, want));
		snprintf(want, sizeof(want), "\nstatus_interval = 5  # %s:1\n", conf_path);
		assert_non_null(strstr(out, want));
	}
	assert_null(strstr(out, "help"));

	/* errors win over --print-config */
	EXPECT_ERROR("--status-interval: 0 is out of range (1..3600)", "--print-config", "-s", "0");
}

static void
test_help_version(void **state)
{
	char		out[16384];

	(void) state;
	assert_int_equal(LOAD_CAPTURED(out, "--version"), CONFIG_DONE);
	assert_string_equal(out, "walcast-agent " WALCAST_VERSION "\n");
	assert_int_equal(LOAD_CAPTURED(out, "-V"), CONFIG_DONE);
	assert_string_equal(out, "walcast-agent " WALCAST_VERSION "\n");
	/* --help needs no valid settings */
	assert_int_equal(LOAD_CAPTURED(out, "-s", "0", "--help"), CONFIG_DONE);
	/* every option of the table is in the help */
	for (int i = 0; i < config_count(); i++)
	{
		char		flag[CONFIG_NAME_MAX + 4];

		snprintf(flag, sizeof(flag), "--%s", config_option_at(i)->name);
		assert_non_null(strstr(out, flag));
	}
	assert_non_null(strstr(out, "  -s, --status-interval=SECS"));
	assert_non_null(strstr(out, "logical replication slot to stream (default: walcast)"));
}

static void
test_reload(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	/* "needs a restart" warnings are expected: keep them out of the output */
	assert_true(log_open("/dev/null", err, sizeof(err)));
	write_conf("status_interval = 5\nstats_interval = 10\nslot = a\nverbose = 0\n");
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--shutdown-timeout", "7"),
					 CONFIG_OK);

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
	config_free(&cfg);
	log_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitoring_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
