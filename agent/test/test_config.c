/*
 * test_config.c
 *		Unit tests of the configuration: defaults, file syntax, precedence
 *		file < env < CLI, every error message, masking, --print-config,
 *		cross-option rules and SIGHUP reload.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv, mkstemp, fileno, dup */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_int.h"
#include "log.h"

static char conf_path[64];

/* Write the config file every test may point at with -c. */
static void
write_conf(const char *text)
{
	FILE	   *f = fopen(conf_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static enum config_result
load_argv(struct agent_config *cfg, char *err, int argc, const char **argv)
{
	char	   *args[64];

	/* config_load (getopt) may permute argv: hand it a mutable copy. */
	for (int i = 0; i < argc; i++)
		args[i] = (char *) argv[i];
	args[argc] = NULL;
	return config_load(cfg, argc, args, err, 512);
}

#define LOAD(cfg, err, ...) \
	load_argv((cfg), (err), \
			  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
			  (const char *[]) {"walcast-agent", __VA_ARGS__})

static void
clear_env(void)
{
	for (int i = 0; i < config_noptions; i++)
	{
		char		key[CONFIG_NAME_MAX];
		char		name[CONFIG_NAME_MAX + 8];

		config_key_name(&config_options[i], key, sizeof(key));
		snprintf(name, sizeof(name), "WALCAST_%s", key);
		for (char *p = name; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char) (*p - 'a' + 'A');
		unsetenv(name);
	}
}

static int
setup(void **state)
{
	int			fd;

	(void) state;
	clear_env();
	strcpy(conf_path, "/tmp/walcast-test-XXXXXX");
	fd = mkstemp(conf_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	unlink(conf_path);
	clear_env();
	return 0;
}

/* Expect an error with exactly this message. */
static void
expect_error_argv(const char *want, int argc, const char **argv)
{
	struct agent_config cfg;
	char		err[512] = "";

	assert_int_equal(load_argv(&cfg, err, argc, argv), CONFIG_ERROR);
	assert_string_equal(err, want);
	config_free(&cfg);
}

#define EXPECT_ERROR(want, ...) \
	expect_error_argv((want), \
					  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
					  (const char *[]) {"walcast-agent", __VA_ARGS__})

/* Run config_load with stdout captured into out (for --help etc.). */
static enum config_result
load_captured(char *out, size_t outlen, int argc, const char **argv)
{
	struct agent_config cfg;
	char		err[512];
	enum config_result r;
	FILE	   *tmp = tmpfile();
	int			saved;
	size_t		n;

	fflush(stdout);
	saved = dup(fileno(stdout));
	dup2(fileno(tmp), fileno(stdout));
	r = load_argv(&cfg, err, argc, argv);
	fflush(stdout);
	dup2(saved, fileno(stdout));
	close(saved);
	rewind(tmp);
	n = fread(out, 1, outlen - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	config_free(&cfg);
	return r;
}

#define LOAD_CAPTURED(out, ...) \
	load_captured((out), sizeof(out), \
				  (int) (sizeof((const char *[]) {"walcast-agent", __VA_ARGS__}) / sizeof(const char *)), \
				  (const char *[]) {"walcast-agent", __VA_ARGS__})

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
	assert_null(cfg.amqp_uri);
	assert_null(cfg.amqp_cacert);
	assert_null(cfg.amqp_cert);
	assert_null(cfg.amqp_key);
	assert_true(cfg.amqp_verify_peer);
	assert_true(cfg.amqp_verify_hostname);
	assert_int_equal(cfg.amqp_heartbeat, 30);
	assert_null(cfg.mongo_uri);
	assert_string_equal(cfg.mongo_database, "walcast");
	assert_string_equal(cfg.mongo_collection, "{table}");
	assert_string_equal(cfg.mongo_write_concern, "w=majority,j=true");
	assert_int_equal(cfg.mongo_numeric, CONFIG_MONGO_NUMERIC_DECIMAL128);
	assert_int_equal(cfg.mongo_nested_arrays, CONFIG_MONGO_NATIVE);
	assert_int_equal(cfg.mongo_nonfinite, CONFIG_MONGO_NATIVE);
	assert_false(cfg.mongo_entry_id);
	assert_int_equal(cfg.mongo_no_key, CONFIG_MONGO_NO_KEY_SKIP);
	assert_null(cfg.mongo_tls_ca_file);
	assert_null(cfg.mongo_tls_cert_key_file);
	assert_string_equal(cfg.exchange, "walcast");
	assert_false(cfg.exchange_passive);
	assert_string_equal(cfg.routing_key, "{schema}.{table}.{op}");
	assert_null(cfg.queue);
	assert_string_equal(cfg.queue_binding_key, "#");
	assert_int_equal(cfg.envelope, ENVELOPE_NATIVE);
	assert_int_equal(cfg.batch, CONFIG_BATCH_CHANGE);
	assert_int_equal(cfg.batch_max_events, 1000);
	assert_int_equal(cfg.batch_max_bytes, 1024 * 1024);
	assert_int_equal(cfg.on_return, CONFIG_ON_RETURN_FAIL);
	assert_null(cfg.alternate_exchange);
	assert_int_equal(cfg.max_inflight_events, 10000);
	assert_int_equal(cfg.max_inflight_bytes, 64 * 1024 * 1024);
	assert_int_equal(cfg.shutdown_timeout, 30);
	assert_int_equal(cfg.stats_interval, 60);
	assert_int_equal(cfg.reconnect_max_delay, 30);
	assert_null(cfg.log_file);
	assert_int_equal(cfg.verbose, 0);
	config_free(&cfg);
	config_free(&cfg);			/* safe twice */
}

static void
test_cli(void **state)
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
	assert_string_equal(cfg.dbname, "dbname=app");
	assert_string_equal(cfg.slot, "s1");
	assert_true(cfg.create_slot && cfg.if_not_exists);
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[0].name, "include-pk");
	assert_string_equal(cfg.plugin_options.items[0].value, "true");
	assert_string_equal(cfg.plugin_options.items[1].name, "filter-tables");
	assert_string_equal(cfg.plugin_options.items[1].value, "a.b,c.d");
	assert_int_equal(cfg.status_interval, 5);
	assert_string_equal(cfg.amqp_uri, "amqps://u:p@h/v");
	assert_false(cfg.amqp_verify_peer);
	assert_true(cfg.exchange_passive);
	assert_string_equal(cfg.queue, "q");
	assert_int_equal(cfg.envelope, ENVELOPE_FLAT);
	assert_int_equal(cfg.batch, CONFIG_BATCH_TRANSACTION);
	assert_int_equal(cfg.batch_max_bytes, 512 * 1024);
	assert_int_equal(cfg.on_return, CONFIG_ON_RETURN_ALTERNATE);
	assert_string_equal(cfg.alternate_exchange, "ae");
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
	assert_string_equal(cfg.amqp_uri, "amqp://u:p w@h/v");
	assert_string_equal(cfg.routing_key, "cdc.{table}.#");
	assert_string_equal(cfg.queue_binding_key, "a\"b\\c # not a comment");
	assert_true(cfg.create_slot);
	assert_false(cfg.amqp_verify_hostname);
	assert_int_equal(cfg.plugin_options.count, 2);
	assert_string_equal(cfg.plugin_options.items[1].value, "a b");
	assert_int_equal(cfg.batch_max_bytes, 2 * 1024 * 1024);
	assert_null(cfg.queue);
	assert_string_equal(cfg.exchange, "ex");
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
	assert_string_equal(cfg.queue_binding_key, "#");
	assert_string_equal(cfg.amqp_uri, "amqp://walcast:change-me@localhost:5672/%2F");
	assert_null(cfg.log_file);
	config_free(&cfg);
}

static void
test_precedence(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	write_conf("slot = file\nstatus_interval = 2\nexchange = file\noption = a=file\noption = b=file\n");
	setenv("WALCAST_STATUS_INTERVAL", "3", 1);
	setenv("WALCAST_EXCHANGE", "env", 1);
	setenv("WALCAST_OPTION", "c=env  d=env", 1);
	setenv("WALCAST_CREATE_SLOT", "true", 1);
	assert_int_equal(LOAD(&cfg, err, "-c", conf_path, "--exchange", "cli"), CONFIG_OK);
	assert_string_equal(cfg.slot, "file");	/* file only */
	assert_int_equal(cfg.status_interval, 3);	/* env over file */
	assert_string_equal(cfg.exchange, "cli");	/* CLI over env */
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
	EXPECT_ERROR("--amqp-heartbeat: -1 is out of range (0..3600)", "--amqp-heartbeat", "-1");
	EXPECT_ERROR("--batch-max-bytes: \"1TB\" is not a size (1kB..128MB)", "--batch-max-bytes", "1TB");
	EXPECT_ERROR("--batch-max-bytes: \"-1kB\" is not a size (1kB..128MB)", "--batch-max-bytes", "-1kB");
	EXPECT_ERROR("--batch-max-bytes: 129MB is out of range (1kB..128MB)", "--batch-max-bytes", "129MB");
	EXPECT_ERROR("--batch-max-bytes: 1023 is out of range (1kB..128MB)", "--batch-max-bytes", "1023");
	EXPECT_ERROR("--batch-max-bytes: 99999999999G is out of range (1kB..128MB)", "--batch-max-bytes", "99999999999G");
	EXPECT_ERROR("--amqp-verify-peer: \"maybe\" is not a boolean (true/false, on/off, yes/no, 1/0)",
				 "--amqp-verify-peer", "maybe");
	EXPECT_ERROR("--envelope: \"xml\" is not one of native, debezium, flat", "--envelope", "xml");
	EXPECT_ERROR("--batch: \"tx\" is not one of change, transaction", "--batch", "tx");
	EXPECT_ERROR("--on-return: \"ignore\" is not one of fail, drop, alternate", "--on-return", "ignore");
	EXPECT_ERROR("--option: \"include-pk\" is not NAME=VALUE", "-o", "include-pk");
	EXPECT_ERROR("--option: \"=x\" is not NAME=VALUE", "-o", "=x");
	EXPECT_ERROR("--option: \"a\" given twice", "-o", "a=1", "-o", "a=2");
	EXPECT_ERROR("--slot: must not be empty", "-S", "");
	EXPECT_ERROR("--exchange: must not be empty", "--exchange", "");
	EXPECT_ERROR("--routing-key: unknown placeholder \"{tbl}\" (use {schema}, {table}, {op} or {xid})",
				 "--routing-key", "{schema}.{tbl}");
	EXPECT_ERROR("--routing-key: unbalanced \"{\" at offset 0", "--routing-key", "{schema");
	EXPECT_ERROR("--amqp-uri: not a valid amqp:// or amqps:// URI", "--amqp-uri", "http://u:secret@h");
	EXPECT_ERROR("--dbname: not a valid connection string", "-d", "host=x password");
	EXPECT_ERROR("--mongo-uri: not a valid mongodb:// URI", "--mongo-uri", "mongodb://u:secret@");
	EXPECT_ERROR("--reload-table: \"orders\" is not a table name as schema.table", "--reload-table", "orders");
	EXPECT_ERROR("--reload-table: \".orders\" is not a table name as schema.table", "--reload-table", ".orders");
	EXPECT_ERROR("--reload-table: \"public.\" is not a table name as schema.table", "--reload-table", "public.");
	EXPECT_ERROR("--reload-table: \"\" is not a table name as schema.table", "--reload-table", "a.b,");
	EXPECT_ERROR("--reload-table: \"c\" is not a table name as schema.table", "--reload-table", "a.b,c,d.e");
	EXPECT_ERROR("--mongo-uri: not a valid mongodb:// URI", "--mongo-uri", "http://u:secret@h");
	EXPECT_ERROR("--mongo-collection: unknown placeholder at \"{op}\" (use {schema} and {table})",
				 "--mongo-collection", "{table}_{op}");
	EXPECT_ERROR("--mongo-collection: a collection name cannot contain '$'",
				 "--mongo-collection", "a$b");
	EXPECT_ERROR("--mongo-collection: must not be empty", "--mongo-collection", "");
	EXPECT_ERROR("--mongo-database: must not be empty", "--mongo-database", "");
	EXPECT_ERROR("--mongo-write-concern: \"j=maybe\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "w=1,j=maybe");
	EXPECT_ERROR("--mongo-write-concern: \"fsync=true\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "fsync=true");
	EXPECT_ERROR("--mongo-write-concern: \"wtimeout=-5\" is not a write concern item (w=N|majority|TAG, j=BOOL, wtimeout=MS)",
				 "--mongo-write-concern", "wtimeout=-5");
	EXPECT_ERROR("--mongo-numeric: \"float\" is not one of decimal128, string, double",
				 "--mongo-numeric", "float");
	EXPECT_ERROR("--mongo-nested-arrays: \"flat\" is not one of array, string",
				 "--mongo-nested-arrays", "flat");
	EXPECT_ERROR("--mongo-nonfinite: \"null\" is not one of double, string",
				 "--mongo-nonfinite", "null");
	EXPECT_ERROR("--mongo-no-key: \"log\" is not one of skip, fail", "--mongo-no-key", "log");
	EXPECT_ERROR("--mongo-entry-id: \"maybe\" is not a boolean (true/false, on/off, yes/no, 1/0)",
				 "--mongo-entry-id", "maybe");
}

static void
test_mongo_options(void **state)
{
	struct agent_config cfg;
	struct config_write_concern wc;
	char		err[512];

	(void) state;
	assert_int_equal(LOAD(&cfg, err, "--mongo-uri", "mongodb://u:p@h1,h2/?replicaSet=rs",
						  "--mongo-database", "mirror", "--mongo-collection", "{schema}_{table}",
						  "--mongo-write-concern", "w=2,j=false,wtimeout=5000",
						  "--mongo-numeric", "string", "--mongo-nested-arrays", "string",
						  "--mongo-nonfinite", "string", "--mongo-entry-id", "yes",
						  "--mongo-no-key", "fail", "--mongo-tls-ca-file", "ca.pem",
						  "--mongo-collection-map", "public.users=people",
						  "--mongo-collection-map", "my.schema.t=other"),
					 CONFIG_OK);
	assert_int_equal(cfg.mongo_collection_map.count, 2);
	assert_string_equal(cfg.mongo_collection_map.items[0].name, "public.users");
	assert_string_equal(cfg.mongo_collection_map.items[0].value, "people");
	assert_string_equal(cfg.mongo_collection_map.items[1].name, "my.schema.t");
	assert_string_equal(cfg.mongo_collection_map.items[1].value, "other");
	assert_string_equal(cfg.mongo_uri, "mongodb://u:p@h1,h2/?replicaSet=rs");
	assert_string_equal(cfg.mongo_database, "mirror");
	assert_string_equal(cfg.mongo_collection, "{schema}_{table}");
	assert_int_equal(cfg.mongo_numeric, CONFIG_MONGO_NUMERIC_STRING);
	assert_int_equal(cfg.mongo_nested_arrays, CONFIG_MONGO_STRING);
	assert_int_equal(cfg.mongo_nonfinite, CONFIG_MONGO_STRING);
	assert_true(cfg.mongo_entry_id);
	assert_int_equal(cfg.mongo_no_key, CONFIG_MONGO_NO_KEY_FAIL);
	assert_string_equal(cfg.mongo_tls_ca_file, "ca.pem");
	assert_true(config_parse_write_concern(cfg.mongo_write_concern, &wc, err, sizeof(err)));
	assert_int_equal(wc.w, 2);
	assert_true(wc.journal_set);
	assert_false(wc.journal);
	assert_int_equal(wc.wtimeout_ms, 5000);
	config_free(&cfg);

	/* The environment variable the issue names. */
	setenv("WALCAST_MONGO_URI", "mongodb://127.0.0.1:27017/", 1);
	assert_int_equal(LOAD(&cfg, err), CONFIG_OK);
	assert_string_equal(cfg.mongo_uri, "mongodb://127.0.0.1:27017/");
	config_free(&cfg);
	unsetenv("WALCAST_MONGO_URI");

	assert_true(config_parse_write_concern("majority", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, -1);
	assert_false(wc.journal_set);
	assert_true(config_parse_write_concern("dc1", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, -2);
	assert_string_equal(wc.tag, "dc1");
	assert_true(config_parse_write_concern("1", &wc, err, sizeof(err)));
	assert_int_equal(wc.w, 1);
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
expect_file_error(const char *text, const char *want_suffix)
{
	char		want[600];

	write_conf(text);
	snprintf(want, sizeof(want), "%s:%s", conf_path, want_suffix);
	EXPECT_ERROR(want, "-c", conf_path);
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
	expect_file_error("amqp_uri = ftp://x\n", "1: amqp_uri: not a valid amqp:// or amqps:// URI");

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
	EXPECT_ERROR("on_return = alternate requires alternate_exchange", "--on-return", "alternate");
	EXPECT_ERROR("if_not_exists requires create_slot", "--if-not-exists");
	EXPECT_ERROR("amqp_cert and amqp_key must be set together", "--amqp-cert", "c.pem");
	EXPECT_ERROR("amqp_cert and amqp_key must be set together", "--amqp-key", "k.pem");
	EXPECT_ERROR("mongo_tls_ca_file and mongo_tls_cert_key_file need mongo_uri",
				 "--mongo-tls-ca-file", "ca.pem");
	EXPECT_ERROR("batch_max_events (20000) exceeds max_inflight_events (10000)",
				 "--batch-max-events", "20000");
	EXPECT_ERROR("batch_max_bytes (16MB) exceeds max_inflight_bytes (8MB)",
				 "--batch-max-bytes", "16MB", "--max-inflight-bytes", "8MB");
	EXPECT_ERROR("mongo_collection_map: \"users=people\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "users=people");
	EXPECT_ERROR("mongo_collection_map: \"public.users=\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "public.users=");
	EXPECT_ERROR("mongo_collection_map: \"public.users=a$b\" is not SCHEMA.TABLE=COLLECTION (a collection name cannot be empty or contain '$')",
				 "--mongo-collection-map", "public.users=a$b");
	EXPECT_ERROR("--mongo-collection-map: \"public.users\" given twice",
				 "--mongo-collection-map", "public.users=a", "--mongo-collection-map", "public.users=b");
}

static void
test_mask(void **state)
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
		{"host=db user=app password=secret dbname=x", "user='app' password='****' dbname='x' host='db'"},
		{"host=db password='it\\'s' application_name='a\\'b'",
		"password='****' host='db' application_name='a\\'b'"},
		{"postgresql://app:secret@db:5433/x", "user='app' password='****' dbname='x' host='db' port='5433'"},
		{"host=db user=app", "host=db user=app"},
		{"postgresql://db/x", "postgresql://db/x"},
		{"", ""},
		{"host=db password", "****"},
		{"postgresql://a:b@db/x?bogus=1", "****"},
		{"mongodb://user:secret@db1:27017,db2/mirror?replicaSet=rs0",
		"mongodb://user:****@db1:27017,db2/mirror?replicaSet=rs0"},
		{"mongodb://us%40er:p%40ss@db/", "mongodb://us%40er:****@db/"},
		{"mongodb+srv://u:secret@cluster.example.com/?tls=true",
		"mongodb+srv://u:****@cluster.example.com/?tls=true"},
		{"mongodb://db/?tls=true&tlsCertificateKeyFilePassword=secret&appname=x",
		"mongodb://db/?tls=true&tlsCertificateKeyFilePassword=****&appname=x"},
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"},
		{"mongodb://u:secret@", "****"},
	};

	(void) state;
	assert_null(config_mask_secret_uri(NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *m = config_mask_secret_uri(cases[i].in);

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
								   "--amqp-uri", "amqp://u:hunter2@h/v",
								   "--mongo-uri", "mongodb://m:hunter2@mdb/",
								   "-o", "include-pk=true", "-o", "x=a # b",
								   "--queue", "q q"),
					 CONFIG_DONE);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "# walcast-agent 0.1.0 effective configuration\n"));
	assert_non_null(strstr(out, "\ndbname = \"password='****' host='db'\"  # --dbname\n"));
	assert_non_null(strstr(out, "\namqp_uri = amqp://u:****@h:5672/v  # --amqp-uri\n"));
	assert_non_null(strstr(out, "\nmongo_uri = mongodb://m:****@mdb/  # --mongo-uri\n"));
	assert_non_null(strstr(out, "\nmongo_write_concern = w=majority,j=true\n"));
	assert_non_null(strstr(out, "\noption = include-pk=true  # --option\n"));
	assert_non_null(strstr(out, "\noption = x=\"a # b\"  # --option\n"));
	assert_non_null(strstr(out, "\nslot = walcast\n"));
	assert_non_null(strstr(out, "\nqueue = q q  # --queue\n"));
	assert_non_null(strstr(out, "\nqueue_binding_key = \"#\"\n"));
	assert_non_null(strstr(out, "\nbatch_max_bytes = 1MB\n"));
	assert_non_null(strstr(out, "\nenvelope = native\n"));
	assert_non_null(strstr(out, "\ncreate_slot = false\n"));
	assert_non_null(strstr(out, "\nstats_interval = 0  # WALCAST_STATS_INTERVAL\n"));
	assert_non_null(strstr(out, "\nalternate_exchange = \"\"\n"));
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
	for (int i = 0; i < config_noptions; i++)
	{
		char		flag[CONFIG_NAME_MAX + 4];

		snprintf(flag, sizeof(flag), "--%s", config_options[i].name);
		assert_non_null(strstr(out, flag));
	}
	assert_non_null(strstr(out, "  -s, --status-interval=SECS"));
	assert_non_null(strstr(out, "(default: {schema}.{table}.{op})"));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mongo_options, setup, teardown),
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
