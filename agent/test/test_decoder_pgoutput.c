/*
 * test_decoder_pgoutput.c
 *		Unit tests of the pgoutput decoder's wiring (decode/decoder_pgoutput.c,
 *		pgoutput_config.c): --plugin and the decoder table, the rules of
 *		--publication and --create-publication, the -o options it reads and
 *		the ones it refuses with their counterpart, START_REPLICATION's
 *		options by server version (the version gates: no older server is
 *		at hand), publication_names quoting, and the connections' pinned
 *		settings with the user's own options kept.  What needs a server is
 *		in regress/e2e/test_pgoutput_agent*.py.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv */

#include "config_harness.h"
#include "decoder_harness.h"
#include "decoder_pgoutput.h"
#include "pgoutput_config.h"
#include "pgoutput_publication.h"
#include "pgoutput_session.h"

static const struct event_needs no_needs = {false, false, NULL, NULL};
static const struct event_needs mirror_needs = {true, true, "mongo_uri",
"the mirror's _id is the key"};

/* The options as "name=value name=value ...". */
static void
options_text(const struct decoder *d, char *buf, size_t len)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (int i = 0; i < d->options.count; i++)
		n += (size_t) snprintf(buf + n, len - n, "%s%s=%s", i ? " " : "",
							   d->options.items[i].name,
							   d->options.items[i].value);
}

/* The value of a connection keyword, or NULL. */
static const char *
conn_value(const struct pqconn_params *p, const char *key)
{
	for (int i = 0; p->keys[i] != NULL; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

static void
test_table_and_plugin(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	/* --plugin's names are the decoders' plugins, in the table's order */
	for (int i = 0; i < decoder_count(); i++)
	{
		assert_string_equal(decoder_plugin_names[i].name, decoder_at(i)->plugin);
		assert_int_equal(decoder_plugin_names[i].value, i);
	}
	assert_null(decoder_plugin_names[decoder_count()].name);
	assert_ptr_equal(decoder_find("pgoutput"), &decoder_pgoutput_ops);

	assert_int_equal(LOAD(&cfg, err, "-S", "s"), CONFIG_OK);
	assert_ptr_equal(decoder_choose(&cfg), decoder_find("walcast"));
	config_free(&cfg);
	assert_int_equal(LOAD(&cfg, err, "-P", "pgoutput", "--publication", "p"), CONFIG_OK);
	assert_ptr_equal(decoder_choose(&cfg), &decoder_pgoutput_ops);
	assert_string_equal(pgoutput_config_get(&cfg)->publication, "p");
	assert_null(pgoutput_config_get(&cfg)->create_publication);
	config_free(&cfg);

	assert_int_equal(LOAD(&cfg, err, "--plugin", "wal2json"), CONFIG_ERROR);
	assert_string_equal(err, "--plugin: \"wal2json\" is not one of walcast, pgoutput");
	config_free(&cfg);
}

static void
test_config_rules(void **state)
{
	struct agent_config cfg;
	char		err[512];

	(void) state;
	EXPECT_ERROR("publication: --plugin pgoutput reads the changes a publication publishes: name it with --publication NAME (and create it with --create-publication all|SCHEMA.TABLE,... if it does not exist)",
					"--plugin", "pgoutput");
	EXPECT_ERROR("publication: only with --plugin pgoutput", "--publication", "p");
	EXPECT_ERROR("create_publication: only with --plugin pgoutput", "--create-publication", "all");
	EXPECT_ERROR("create_publication: creates one publication; --publication names several (\"p,q\")",
					"-P", "pgoutput", "--publication", "p,q", "--create-publication", "all");
	EXPECT_ERROR("--publication: an empty publication name", "-P", "pgoutput", "--publication", "p,,q");
	EXPECT_ERROR("--publication: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 63 bytes",
					"-P", "pgoutput", "--publication",
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	EXPECT_ERROR("--create-publication: \"all\" is not a table name as schema.table",
					"-P", "pgoutput", "--publication", "p", "--create-publication", "all,public");

	/* the environment form, and a list of tables */
	setenv("WALCAST_PLUGIN", "pgoutput", 1);
	setenv("WALCAST_PUBLICATION", "a,My Pub", 1);
	setenv("WALCAST_CREATE_PUBLICATION", "public.t1,s.t2", 1);
	assert_int_equal(LOAD(&cfg, err, "-S", "s"), CONFIG_ERROR);
	assert_string_equal(err, "create_publication: creates one publication; --publication names several (\"a,My Pub\")");
	config_free(&cfg);
	unsetenv("WALCAST_PUBLICATION");
	assert_int_equal(LOAD(&cfg, err, "--publication", "p"), CONFIG_OK);
	assert_ptr_equal(decoder_choose(&cfg), &decoder_pgoutput_ops);
	assert_string_equal(pgoutput_config_get(&cfg)->create_publication, "public.t1,s.t2");
	config_free(&cfg);
	unsetenv("WALCAST_PLUGIN");
	unsetenv("WALCAST_CREATE_PUBLICATION");
}

/* The arguments before each expect_refused/expect_accepted option. */
static const char *const decoder_args[] = {"walcast-agent", "-P", "pgoutput", "--publication", "p"};

static void
test_plugin_options(void **state)
{
	static const char *const walcast_only[][2] = {
		{"add-tables=public.*", "the publication chooses the tables (--publication; CREATE/ALTER PUBLICATION ... FOR TABLE)"},
		{"filter-tables=public.x", "the publication chooses the tables (--publication; CREATE/ALTER PUBLICATION ... FOR TABLE)"},
		{"actions=insert", "the publication chooses the actions (CREATE PUBLICATION ... WITH (publish = 'insert, update, delete, truncate'))"},
		{"exclude-columns=*.*.pw", "a publication's column list leaves columns out (PostgreSQL 15: FOR TABLE t (col, ...))"},
		{"add-msg-prefixes=a", "pgoutput sends every logical message"},
		{"filter-msg-prefixes=a", "pgoutput sends every logical message"},
		{"only-local=true", "pgoutput sends every origin's changes (PostgreSQL 16 subscriptions have origin = none)"},
		{"filter-origins=o", "pgoutput sends every origin's changes"},
		{"include-empty-xacts=true", "empty transactions write no record"},
		{"batch-bytes=65536", "pgoutput sends one message per change (the records are the same)"},
		{"batch-across-transactions=true", "pgoutput sends one message per change (the records are the same)"},
		{"stream-changes=false", "the agent publishes committed transactions only"},
		{"two-phase=true", "the agent publishes committed transactions only"},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(walcast_only) / sizeof(walcast_only[0]); i++)
	{
		char		want[512];
		char		name[64];

		snprintf(name, sizeof(name), "%.*s", (int) strcspn(walcast_only[i][0], "="),
				 walcast_only[i][0]);
		snprintf(want, sizeof(want),
				 "option: %s is an option of the walcast plugin, not of pgoutput (--plugin pgoutput): %s",
				 name, walcast_only[i][1]);
		expect_refused(&no_needs, walcast_only[i][0], want);
	}
	expect_refused(&no_needs, "include-lsn=false",
				   "option: include-lsn=false is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)");
	expect_refused(&no_needs, "include-transaction=off",
				   "option: include-transaction=off is not possible with walcast-agent (it needs commit records and LSNs to acknowledge, and sequence numbers for message ids)");
	/* numbers are kept as their text (issue 12): any numeric fits */
	expect_accepted(&no_needs, "numeric-data-types-as-string=false");
	expect_refused(&no_needs, "bytea-encoding=base85", "option: bytea-encoding must be base64 or hex");
	expect_refused(&no_needs, "include-types=maybe", "option: include-types: \"maybe\" is not a boolean");
	expect_refused(&no_needs, "no-such-option=1", "option: unknown plugin option \"no-such-option\"");
	expect_refused(&mirror_needs, "include-pk=false",
				   "option: include-pk=false is not possible with mongo_uri (the mirror's _id is the key)");

	expect_accepted(&no_needs, "include-pk=false");
	expect_accepted(&no_needs, "include-types=true");
	expect_accepted(&no_needs, "include-type-oids=on");
	expect_accepted(&no_needs, "bytea-encoding=hex");
	expect_accepted(&no_needs, "include-xids=true");
	expect_accepted(&no_needs, "include-seq=yes");
	expect_accepted(&mirror_needs, "numeric-data-types-as-string=true");
}

static struct decoder *
new_decoder(struct agent_config *cfg, const char *publication)
{
	char		err[512];
	struct decoder *d;

	assert_int_equal(LOAD(cfg, err, "-P", "pgoutput", "--publication", publication,
						  "-d", "host=h dbname=db options='-c search_path=app'"),
					 CONFIG_OK);
	d = decoder_create(cfg, &no_needs, err, sizeof(err));
	if (d == NULL)
		fail_msg("%s", err);
	return d;
}

/* The version gates: one server version of each protocol. */
static void
test_options_by_server_version(void **state)
{
	static const struct
	{
		int			version;
		const char *want;
	}			cases[] = {
		{130012, "proto_version=1 publication_names=\"p\""},
		{140009, "proto_version=2 publication_names=\"p\" messages=true"},
		{150020, "proto_version=3 publication_names=\"p\" messages=true"},
		{160004, "proto_version=4 publication_names=\"p\" messages=true"},
		{170000, "proto_version=4 publication_names=\"p\" messages=true"},
	};
	struct agent_config cfg;
	struct decoder *d = new_decoder(&cfg, "p");
	char		text[512];

	(void) state;
	/* nothing until the server is known (begin_session) */
	assert_int_equal(d->options.count, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		assert_true(decoder_pgoutput_options(d, cases[i].version));
		options_text(d, text, sizeof(text));
		assert_string_equal(text, cases[i].want);
	}
	/* below 13 the decoder reads no pgoutput: the version it refuses */
	assert_int_equal(pgoutput_session_proto_version(120015), 0);
	assert_false(pgoutput_session_has_messages(130012));
	decoder_free(d);
	config_free(&cfg);
}

static void
test_publication_names(void **state)
{
	struct agent_config cfg;
	struct decoder *d = new_decoder(&cfg, "a,My Pub,q\"uote");
	char		text[512];
	char	   *q;

	(void) state;
	assert_true(decoder_pgoutput_options(d, 150000));
	options_text(d, text, sizeof(text));
	/* quoted: pgoutput would fold My Pub to lower case, and split on , */
	assert_string_equal(text, "proto_version=3 publication_names=\"a\",\"My Pub\",\"q\"\"uote\" messages=true");
	decoder_free(d);
	config_free(&cfg);

	assert_non_null(q = pgoutput_publication_quoted("p"));
	assert_string_equal(q, "\"p\"");
	free(q);
}

/*
 * Every connection pins the settings; the user's own options stay, in
 * front, so that the pins win.
 */
static void
test_connection_settings(void **state)
{
	struct agent_config cfg;
	struct decoder *d;
	char		want[512];
	char		err[512];

	(void) state;
	d = new_decoder(&cfg, "p");
	snprintf(want, sizeof(want), "-c search_path=app %s", pgoutput_session_options());
	assert_string_equal(conn_value(&d->stream_conn, "options"), want);
	assert_string_equal(conn_value(&d->load_conn, "options"), want);
	assert_string_equal(conn_value(&d->stream_conn, "client_encoding"), "UTF8");
	decoder_free(d);
	config_free(&cfg);

	/* no options in the conninfo: PGOPTIONS, as libpq would take it */
	setenv("PGOPTIONS", "-c statement_timeout=5s", 1);
	assert_int_equal(LOAD(&cfg, err, "-P", "pgoutput", "--publication", "p", "-d", "dbname=db"), CONFIG_OK);
	d = decoder_create(&cfg, &no_needs, err, sizeof(err));
	assert_non_null(d);
	snprintf(want, sizeof(want), "-c statement_timeout=5s %s", pgoutput_session_options());
	assert_string_equal(conn_value(&d->stream_conn, "options"), want);
	decoder_free(d);
	config_free(&cfg);
	unsetenv("PGOPTIONS");

	/* walcast: the plugin pins its own output; the load's connection not */
	assert_int_equal(LOAD(&cfg, err, "-d", "dbname=db"), CONFIG_OK);
	d = decoder_create(&cfg, &no_needs, err, sizeof(err));
	assert_non_null(d);
	assert_null(d->stream_conn.keys[0]);
	assert_string_equal(conn_value(&d->load_conn, "options"), pgoutput_session_options());
	decoder_free(d);
	config_free(&cfg);
}

static void
test_config_name(void **state)
{
	char		buf[64];

	(void) state;
	assert_true(pgoutput_config_name("a,bb,c", 1, buf, sizeof(buf)));
	assert_string_equal(buf, "bb");
	assert_true(pgoutput_config_name("a,bb,c", 2, buf, sizeof(buf)));
	assert_string_equal(buf, "c");
	assert_false(pgoutput_config_name("a,bb,c", 3, buf, sizeof(buf)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_plugin),
		cmocka_unit_test(test_config_rules),
		cmocka_unit_test(test_plugin_options),
		cmocka_unit_test(test_options_by_server_version),
		cmocka_unit_test(test_publication_names),
		cmocka_unit_test(test_connection_settings),
		cmocka_unit_test(test_config_name),
	};

	/* the environment must not configure the agent under test */
	unsetenv("PGOPTIONS");
	return cmocka_run_group_tests(tests, setup, teardown);
}
